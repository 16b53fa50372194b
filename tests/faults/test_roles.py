"""Roles (issue 7, item 8): members, non-rostered users and editors trying staff actions (card buttons and
commands), forged callback data naming another ticket, staff who do not own a ticket trying to answer,
close or transfer it, and members / staff trying the editors' commands. Each attempt is refused, recorded
(a log line naming the user and the action), and changes nothing: every ticket's and the queue item's
``to_dict`` are the same before and after, the cards are not edited, and the group gets no message
except the refusals answering the attempts typed there.

Callback data is only what the client sends: a modified client (or a leaked card) can send any data for
any message, so "forged" presses are queued straight into the sandbox's update stream, bypassing its
check that the button exists and that the presser is in the chat.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.editorial.rules import create_item
from sandbox import DEFAULT_WORLD, EDITORS_CHAT_ID, GROUP_ID, STAFF_CHAT_ID, Sandbox
from sandbox.core import CallbackRecord
from sandbox.world import dump_world, parse_world
from tests.chat.harness import SHANGHAI, Harness, running_bot

from .conftest import Figures

BOT = 9000
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
INTERN = 250  # in the staff chat, the editors chat and the group, but on no roster
STRANGER = 999  # not even in the sandbox's world: only a forged update can carry this id
_forged = itertools.count(1)


def world_with_intern() -> Any:
    raw = yaml.safe_load(dump_world(DEFAULT_WORLD))
    raw["users"].append({"id": INTERN, "first_name": "小白", "username": "intern_bai"})
    for chat in raw["chats"]:
        if chat["id"] in (GROUP_ID, STAFF_CHAT_ID, EDITORS_CHAT_ID):
            chat["members"].append(INTERN)
    return parse_world(raw, "roles world")


def forge_press(h: Harness, user_id: int, chat_id: int, message_id: int, data: str) -> str:
    """A callback query as a modified client can send it: any data, on any message, from anyone."""
    core = h.sandbox.core
    rec = core._find(chat_id, message_id)
    assert rec is not None
    user = core.world.user(user_id)
    sender = user.to_api() if user is not None else {"id": user_id, "is_bot": False, "first_name": "路人"}
    qid = f"forged{next(_forged)}"
    core.callbacks[qid] = CallbackRecord(qid, user_id, chat_id, message_id, data)
    core._queue_update("callback_query", {"id": qid, "from": sender, "message": core.message_api(rec),
                                           "chat_instance": "ci", "data": data})
    return qid


def buttons(m: dict[str, Any]) -> list[str]:
    rows = (m.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b.get("callback_data") for row in rows for b in row]


async def card_of(h: Harness, number: int) -> dict[str, Any]:
    return await h.wait_for_message(
        STAFF_CHAT_ID, lambda m: m["sender_id"] == BOT and m["plain_text"].startswith(f"#{number} ")
    )


async def ask(h: Harness, user: int, text: str) -> dict[str, Any]:
    q = await h.say(user, GROUP_ID, text)
    await h.wait_for_message(GROUP_ID, lambda m: m["sender_id"] == BOT and m["reply_to_message_id"] == q["message_id"])
    return q


def state(h: Harness, item: int) -> dict[str, Any]:
    """Everything an attempt could change: every ticket, the queue item, the cards' text and buttons."""
    desk = h.services.desk
    tickets = {n: desk.get(n).to_dict() for n in range(1, desk.repo.next_number())}
    queued = h.services.queue.get(item)
    assert queued is not None
    cards = {m["message_id"]: (m["text"], m.get("reply_markup"), len(m.get("edits") or []))
             for m in h.messages(STAFF_CHAT_ID) if m["sender_id"] == BOT and m["plain_text"].startswith("#")}
    return {"tickets": tickets, "queue": queued.to_dict(), "cards": cards}


class Attempts:
    """Attempts made, and the proof each was refused: a callback alert, or a reply to the command."""

    def __init__(self, h: Harness, caplog: pytest.LogCaptureFixture) -> None:
        self.h = h
        self.caplog = caplog
        self.count = 0
        self.typed: list[tuple[int, dict[str, Any]]] = []  # (chat, message) of typed attempts

    async def press(self, user: int, chat: int, message_id: int, data: str, *, refusal: str) -> None:
        self.count += 1
        mark = len(self.caplog.records)
        qid = forge_press(self.h, user, chat, message_id, data)
        cb = self.h.sandbox.core.callbacks[qid]
        await self.h.wait_for_message(chat, lambda m: m["message_id"] == message_id and cb.answered)
        assert cb.answer is not None and cb.answer["show_alert"] is True, f"{data} by {user}: no alert"
        assert refusal in (cb.answer["text"] or ""), f"{data} by {user}: {cb.answer['text']!r}"
        self.logged(mark, user, data)

    async def type(self, user: int, chat: int | None, text: str, *, refusal: str, **kw: Any) -> None:
        self.count += 1
        mark = len(self.caplog.records)
        msg = await self.h.say(user, chat, text, **kw)
        where = user if chat is None else chat
        self.typed.append((where, msg))
        reply = await self.h.wait_for_message(  # in a private chat reply_text does not quote
            where, lambda m: m["sender_id"] == BOT and (m["reply_to_message_id"] == msg["message_id"]
                                                        or (where > 0 and m["message_id"] > msg["message_id"]))
        )
        assert refusal in reply["plain_text"], f"{text!r} by {user}: {reply['plain_text']!r}"
        self.logged(mark, user, text.split()[0] if text.startswith("/") else "reply")

    def logged(self, mark: int, user: int, action: str) -> None:
        """A log line (INFO or above) since the attempt began names the user and the action."""
        lines = [r.getMessage() for r in self.caplog.records[mark:] if r.levelno >= logging.INFO]
        if not any(str(user) in line and action in line and "refused" in line for line in lines):
            raise AssertionError(f"refusal of {action!r} by {user} not logged; last: {lines[-3:]}")


@pytest.fixture
def intern_sandbox() -> Iterator[Sandbox]:
    yield Sandbox(world=world_with_intern(), flood=False)


async def test_roles_refused_recorded_nothing_changed(
    tmp_path: Path, figures: Figures, caplog: pytest.LogCaptureFixture, intern_sandbox: Sandbox
) -> None:
    caplog.set_level(logging.INFO)
    sb = intern_sandbox
    await sb.start()
    try:
        async with running_bot(tmp_path, now=FRIDAY_10, sandbox=sb) as h:
            await roles_scenario(h, figures, caplog)
    finally:
        await sb.stop()


async def roles_scenario(h: Harness, figures: Figures, caplog: pytest.LogCaptureFixture) -> None:
    svc = h.services
    # two tickets: #1 claimed by 王敏 (201), #2 by 李强 (202); one draft in the editors' queue
    await ask(h, 101, "@servicebot 孩子转学到雄安需要哪些材料")
    await ask(h, 103, "@servicebot 医保怎么异地备案")
    card1, card2 = await card_of(h, 1), await card_of(h, 2)
    await h.press(201, STAFF_CHAT_ID, card1["message_id"], "tk:claim:1")
    await h.press(202, STAFF_CHAT_ID, card2["message_id"], "tk:claim:2")
    await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["message_id"] == card1["message_id"] and "王敏" in m["plain_text"])
    await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["message_id"] == card2["message_id"] and "李强" in m["plain_text"])
    item = svc.queue.add(lambda n: create_item(
        svc.editorial, number=n, actor=301, digest="morning", section="policy", html="<b>停水通知</b> 容东片区",
        first_date=FRIDAY_10.date(), now=FRIDAY_10,
    )).number
    await h.settle(0.3)
    before = state(h, item)
    group_before = len(h.messages(GROUP_ID))
    tries = Attempts(h, caplog)

    with figures.run() as run:
        # -- card buttons from people who are not staff: a member, the unrostered intern, an editor, a stranger
        for user in (101, INTERN, 301, STRANGER):
            for data in ("tk:claim:1", "tk:xfer:1", "tk:to:1:203", "tk:note:1", "tk:close:1", "tk:card:1",
                         "tk:close:2", "tk:to:2:" + str(user)):
                await tries.press(user, STAFF_CHAT_ID, card1["message_id"], data, refusal="仅限工作人员")
        # -- staff who do not own the ticket; forged data naming another ticket on a card
        await tries.press(202, STAFF_CHAT_ID, card2["message_id"], "tk:close:1", refusal="首问负责")
        await tries.press(202, STAFF_CHAT_ID, card2["message_id"], "tk:xfer:1", refusal="首问负责")
        await tries.press(202, STAFF_CHAT_ID, card2["message_id"], "tk:to:1:202", refusal="首问负责")
        await tries.press(203, STAFF_CHAT_ID, card1["message_id"], "tk:claim:1", refusal="已由 王敏 认领")
        await tries.press(203, STAFF_CHAT_ID, card1["message_id"], "tk:claim:2", refusal="已由 李强 认领")
        await tries.press(201, STAFF_CHAT_ID, card1["message_id"], "tk:close:2", refusal="首问负责")
        await tries.press(201, STAFF_CHAT_ID, card1["message_id"], "tk:to:2:201", refusal="首问负责")

        # -- answering: a reply to someone else's card, /reply to someone else's ticket
        await tries.type(202, STAFF_CHAT_ID, "我来答：带户口本", reply_to_message_id=card1["message_id"],
                         refusal="首问负责")
        await tries.type(INTERN, STAFF_CHAT_ID, "我也来答", reply_to_message_id=card1["message_id"],
                         refusal="仅限工作人员")
        await tries.type(202, STAFF_CHAT_ID, "/reply 1 带户口本", refusal="首问负责")
        await tries.type(203, None, "/reply 2 去医保大厅", refusal="首问负责")

        # -- staff commands from members, the intern and editors (group, private, staff chat)
        for user, chat in ((101, None), (101, GROUP_ID), (INTERN, STAFF_CHAT_ID), (301, None), (112, None)):
            for text in ("/reply 1 随便答", "/mine", "/ticket 1", "/stats"):
                await tries.type(user, chat, text, refusal="工作人员")
        for user, chat in ((101, None), (102, GROUP_ID), (INTERN, STAFF_CHAT_ID)):
            await tries.type(user, chat, "/queue", refusal="工作人员")

        # -- the editors' commands from members and staff (private) and the intern (editors chat); the
        #    supervisor 赵刚 (204) is an admin, who has editor rights by design (docs/content.md)
        for user, chat in ((101, None), (201, None), (INTERN, EDITORS_CHAT_ID), (202, None)):
            for text in ("/new", f"/approve {item}", f"/withdraw {item} 不要了", "/preview morning", f"/item {item}"):
                await tries.type(user, chat, text, refusal="编辑")
        await tries.type(INTERN, EDITORS_CHAT_ID, "/queue", refusal="编辑")
        run.faults += tries.count

        await h.settle(0.5)
        after = state(h, item)
        changed = [k for k in before if before[k] != after[k]]
        run.lost += len(changed)
    assert after["tickets"] == before["tickets"], "a refused attempt changed a ticket"
    assert after["queue"] == before["queue"], "a refused attempt changed the queue item"
    assert after["cards"] == before["cards"], "a refused attempt edited a card"
    # the group saw only the refusals of what was typed there: no answer, no rating, no notice
    typed_here = {m["message_id"] for chat, m in tries.typed if chat == GROUP_ID}
    new = [m for m in h.messages(GROUP_ID)[group_before:] if m["sender_id"] == BOT]
    assert all(m["reply_to_message_id"] in typed_here and not buttons(m) for m in new), [m["plain_text"] for m in new]
    assert len(new) == len(typed_here)
    # no draft was started by a refused /new: the editors' next message is not taken as a draft's text
    assert svc.queue.next_number() == item + 1
    assert tries.count >= 80
