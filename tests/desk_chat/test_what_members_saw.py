"""Issue 10 §3, what members and staff saw: each text as a person reads it, through the sandbox."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sandbox import EDITORS_CHAT_ID, GROUP_ID, STAFF_CHAT_ID
from tests.chat.harness import SHANGHAI, Harness, running_bot

BOT = 9000
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


def buttons(m: dict[str, Any]) -> list[str]:
    rows = (m.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b.get("callback_data") for row in rows for b in row]


async def reply_to(h: Harness, chat_id: int, asked: dict[str, Any]) -> dict[str, Any]:
    """The bot's answer: a reply to it in a group; the next bot message in a private chat (PTB quotes only in groups)."""
    if chat_id > 0:
        return await h.wait_for_message(
            chat_id, lambda m: m["sender_id"] == BOT and m["message_id"] > asked["message_id"]
        )
    return await h.wait_for_message(
        chat_id, lambda m: m["sender_id"] == BOT and m["reply_to_message_id"] == asked["message_id"]
    )


async def command(h: Harness, user: int, chat_id: int | None, text: str) -> str:
    asked = await h.say(user, chat_id, text)
    return str((await reply_to(h, user if chat_id is None else chat_id, asked))["plain_text"])


# -- /help and the "/" menu: each role its own commands -----------------------------------------------


async def test_help_shows_each_role_its_own_commands(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        member = await command(h, 101, GROUP_ID, "/help")
        assert "/ask" in member and "@servicebot" in member and "@我" not in member
        for other in ("/queue", "/reply", "/approve", "/new", "/stats"):
            assert other not in member, other
        staff = await command(h, 201, STAFF_CHAT_ID, "/help")
        assert "/queue" in staff and "/reply" in staff and "/stats" in staff
        assert "/approve" not in staff and "/new" not in staff
        editors = await command(h, 301, EDITORS_CHAT_ID, "/help")
        assert "/approve" in editors and "/new" in editors and "/reply" not in editors
        private_staff = await command(h, 201, None, "/help")
        assert "/ask" in private_staff and "/reply" in private_staff and "/approve" not in private_staff
        private_member = await command(h, 102, None, "/help")
        assert "/ask" in private_member and "/reply" not in private_member and "/approve" not in private_member
        start = await command(h, 101, GROUP_ID, "/start")
        assert "@servicebot" in start and "@我" not in start


async def test_the_command_menu_has_a_scope_per_chat(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        await h.app.post_init(h.app)  # start-up work: the menus are set there

        def menu(chat: int, user: int) -> list[str]:
            return [c["command"] for c in h.sandbox.commands_menu(chat, user)]

        assert menu(GROUP_ID, 101) == ["ask", "help"]
        assert menu(101, 101) == ["ask", "mytickets", "help"]
        assert menu(STAFF_CHAT_ID, 201) == ["queue", "mine", "ticket", "reply", "stats", "help"]
        assert "approve" in menu(EDITORS_CHAT_ID, 301) and "reply" not in menu(EDITORS_CHAT_ID, 301)
        assert {"ask", "queue", "reply"} <= set(menu(201, 201)) and "approve" not in menu(201, 201)
        assert {"ask", "approve", "new"} <= set(menu(301, 301)) and "reply" not in menu(301, 301)
        staff_menu = h.sandbox.commands_menu(STAFF_CHAT_ID, 201)
        assert staff_menu[0]["description"] == "待办工单"  # in the configured language


# -- a bare mention is no question ---------------------------------------------------------------------


async def test_a_bare_mention_gets_the_ask_hint_and_no_ticket(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        for text in ("@servicebot", "@servicebot ？", "@servicebot  ?!"):
            asked = await h.say(101, GROUP_ID, text)
            hint = await reply_to(h, GROUP_ID, asked)
            assert "请在 /ask 后面写上您的问题" in hint["plain_text"], text
        asked = await h.say(101, GROUP_ID, "/ask ？")
        assert "请在 /ask 后面写上您的问题" in (await reply_to(h, GROUP_ID, asked))["plain_text"]
        assert h.services.desk.queue() == [] and h.services.desk.repo.by_asker(101) == []
        assert not [m for m in h.messages(STAFF_CHAT_ID) if m["sender_id"] == BOT]
        # a mention with a question still is one
        asked = await h.say(101, GROUP_ID, "@servicebot 公积金怎么提取")
        assert "已受理 #1" in (await reply_to(h, GROUP_ID, asked))["plain_text"]
