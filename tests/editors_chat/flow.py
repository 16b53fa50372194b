"""Helpers: drive the editors' conversation through the sandbox like a person would."""

from __future__ import annotations

import re
from typing import Any

from sandbox import BOT_ID
from tests.chat.harness import Harness


def bot_messages(h: Harness, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in h.messages(chat_id) if m["sender_id"] == BOT_ID]


def last_id(h: Harness, chat_id: int) -> int:
    msgs = h.messages(chat_id)
    return msgs[-1]["message_id"] if msgs else 0


async def ask(h: Harness, user: int, chat: int, text: str | None, expect: str, **kw: Any) -> dict[str, Any]:
    """``user`` writes ``text`` in ``chat``; returns the bot's next message containing ``expect``."""
    after = last_id(h, chat)
    await h.say(user, chat, text, **kw)  # type: ignore[arg-type]
    return await h.wait_for_message(
        chat, lambda m: m["sender_id"] == BOT_ID and m["message_id"] > after and expect in m["plain_text"]
    )


async def press(h: Harness, user: int, chat: int, msg: dict[str, Any], data: str, expect: str) -> dict[str, Any]:
    """Press a button on ``msg``; returns the bot's message (edited or new) that then contains ``expect``."""
    await h.press(user, chat, msg["message_id"], data)
    return await h.wait_for_message(
        chat,
        lambda m: m["sender_id"] == BOT_ID and m["message_id"] >= msg["message_id"] and expect in m["plain_text"],
    )


def number_of(created: dict[str, Any]) -> int:
    m = re.search(r"(?:第 (\d+) 条|item (\d+))", created["plain_text"])
    assert m, created["plain_text"]
    return int(m.group(1) or m.group(2))


async def queue_item(
    h: Harness,
    editor: int,
    chat: int,
    text: str,
    *,
    slot: str = "morning",
    section: str = "services",
    first: str = "/skip",
    until: str = "/skip",
    entities: list[dict[str, Any]] | None = None,
) -> int:
    """The whole /new flow; returns the new item's number."""
    menu = await ask(h, editor, chat, "/new", "哪一期")
    await press(h, editor, chat, menu, f"ed:d:{slot}", "栏目")
    after = last_id(h, chat)
    await h.press(editor, chat, menu["message_id"], f"ed:s:{section}")
    await h.wait_for_message(
        chat, lambda m: m["sender_id"] == BOT_ID and m["message_id"] > after and "请发送正文" in m["plain_text"]
    )
    await ask(h, editor, chat, text, "链接", entities=entities)
    await ask(h, editor, chat, "/skip", "首发日期")
    await ask(h, editor, chat, first, "截止日期")
    created = await ask(h, editor, chat, until, "已加入队列")
    return number_of(created)
