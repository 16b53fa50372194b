"""The durable inbox: a question fetched from Telegram survives a kill before it was handled (issues 4, 7).

PTB's Updater confirms fetched updates (next getUpdates offset) before the Application handles them; the
InboxBot keeps the questions among them on disk first, and the start-up replay hands them to the desk.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.chat.app import build_application
from bot.chat.inbox import InboxBot, InboxProcessor, replay_pending
from bot.clock import Clock
from bot.store import Store
from bot.store.inbox import Inbox
from bot.tickets.desk import Desk
from sandbox import GROUP_ID, STAFF_CHAT_ID, Sandbox

from .harness import SHANGHAI, TOKEN, FeedServer, config_for_tests, running_bot

BOT = 9000
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)  # a Friday, in service hours
PROMISE = re.compile(r"已受理 #(\d+)")


def _update(update_id: int, text: str = "问题") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": GROUP_ID, "type": "supergroup", "title": "g"},
            "from": {"id": 101, "is_bot": False, "first_name": "郭超"},
            "text": text,
        },
    }


# -- the store: add, done, pending ------------------------------------------------------------------


def test_kept_updates_survive_reopening_in_update_order(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        inbox = Inbox(store)
        assert inbox.add_many([(12, _update(12, "第二")), (7, _update(7, "第一")), (30, _update(30))]) == 3
        assert inbox.add_many([(7, _update(7, "again"))]) == 0  # already kept: not duplicated, not replaced
        assert inbox.done(30) is True
        assert inbox.done(999) is False  # most updates were never kept
    with Store.open(tmp_path / "data") as store:
        pending = Inbox(store).pending()
    assert [uid for uid, _ in pending] == [7, 12]
    assert pending[0][1]["message"]["text"] == "第一"


def test_a_bad_update_id_is_refused_and_nothing_of_the_batch_is_kept() -> None:
    inbox = Inbox(Store.in_memory())
    with pytest.raises(ValueError, match="update id"):
        inbox.add_many([(1, _update(1)), (-5, _update(2))])
    assert inbox.pending() == []


# -- the processor: done after the handlers ran, not when cancelled ------------------------------------


async def test_processor_marks_done_after_handling_even_on_error_but_not_when_cancelled() -> None:
    inbox = Inbox(Store.in_memory())
    inbox.add_many([(1, _update(1)), (2, _update(2)), (3, _update(3))])
    processor = InboxProcessor(inbox)
    assert processor.max_concurrent_updates == 1
    seen: list[int] = []

    async def handled(n: int) -> None:
        assert n in inbox  # still kept while the handlers run
        seen.append(n)

    async def failing() -> None:
        raise RuntimeError("handler bug")

    async def cancelled() -> None:
        raise asyncio.CancelledError

    def upd(n: int) -> Update:
        u = Update.de_json(_update(n), None)
        assert u is not None
        return u

    await processor.process_update(upd(1), handled(1))
    with pytest.raises(RuntimeError):
        await processor.process_update(upd(2), failing())
    with pytest.raises(asyncio.CancelledError):
        await processor.process_update(upd(3), cancelled())
    assert seen == [1]
    assert [uid for uid, _ in inbox.pending()] == [3]  # only the interrupted one is replayed


# -- fetching through the sandbox ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def fetching_bot(tmp_path: Path, sb: Sandbox) -> AsyncIterator[Callable[[], Awaitable[list[Update]]]]:
    """The real Application, initialised but not polling: ``fetch()`` is one getUpdates call as the Updater
    makes it (offset = one past the last fetched update, which confirms everything before it)."""
    with FeedServer(NOW.date()) as feeds:
        config = config_for_tests(tmp_path / "data", sb.api_base, feeds.url)
        store = Store.open(config.data_dir)
        clock = Clock(config.tz, allow_advance=True)
        clock.offset = NOW - datetime.now(config.tz)
        app = build_application(config, TOKEN, store=store, clock=clock)
        offset: list[int | None] = [None]

        async def fetch() -> list[Update]:
            updates = await app.bot.get_updates(offset=offset[0], timeout=0)
            if updates:
                offset[0] = updates[-1].update_id + 1
            return list(updates)

        try:
            async with app:
                yield fetch
        finally:
            store.close()


def kept_texts(tmp_path: Path) -> list[str]:
    with Store.open(tmp_path / "data") as store:
        return [data["message"]["text"] for _, data in Inbox(store).pending()]


async def test_only_questions_are_kept_never_chatter(tmp_path: Path) -> None:
    async with Sandbox(flood=False) as sb:
        hello = sb.send_user_message(101, GROUP_ID, "大家好，今天天气不错")  # chatter
        sb.send_user_message(102, GROUP_ID, "@servicebot 公积金怎么提取")  # a mention
        sb.send_user_message(103, GROUP_ID, "请问@servicebot医保怎么转")  # glued to Chinese: no entity
        sb.send_user_message(104, GROUP_ID, "/ask 子女入学要什么材料")
        sb.send_user_message(105, GROUP_ID, "你好呀", reply_to_message_id=hello["message_id"])  # to a member
        sb.send_user_message(106, GROUP_ID, "/help")  # a command, not a question
        sb.send_user_message(107, None, "私聊问一下户口迁移")  # private text
        sb.send_user_message(108, None, "/start")
        sb.send_user_message(301, None, "新闻线索：周末有招聘会")  # an editor in private: the editors' queue
        async with fetching_bot(tmp_path, sb) as fetch:
            fetched = await fetch()
            assert len(fetched) == 9
        kept = kept_texts(tmp_path)
    assert kept == [
        "@servicebot 公积金怎么提取",
        "请问@servicebot医保怎么转",
        "/ask 子女入学要什么材料",
        "私聊问一下户口迁移",
    ]


QUESTIONS = [
    (101, "@servicebot 公积金怎么提取"),
    (102, "@servicebot 医保怎么转到雄安"),
    (103, "/ask 子女入学要什么材料"),
    (104, "请问@servicebot 居住证怎么办"),
]


def promises(sb: Sandbox) -> list[dict[str, Any]]:
    return [m for m in sb.messages(GROUP_ID) if m["sender_id"] == BOT and PROMISE.search(m["plain_text"])]


def cards(sb: Sandbox) -> list[dict[str, Any]]:
    return [
        m for m in sb.messages(STAFF_CHAT_ID) if m["sender_id"] == BOT and re.match(r"#\d+ ", m["plain_text"])
    ]


async def wait_until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_questions_fetched_and_confirmed_before_a_kill_become_tickets_after_restart(
    tmp_path: Path,
) -> None:
    async with Sandbox(flood=False) as sb:
        asked = [sb.send_user_message(user, GROUP_ID, text) for user, text in QUESTIONS]
        async with fetching_bot(tmp_path, sb) as fetch:
            assert len(await fetch()) == len(QUESTIONS)  # fetched, never handled ...
            assert await fetch() == []  # ... and confirmed: Telegram will not deliver them again
        assert sb.core.updates == []
        assert promises(sb) == [] and cards(sb) == []  # the "killed" bot answered nobody

        async with running_bot(tmp_path, sandbox=sb) as h:
            inbox = h.app.bot.inbox
            kept = inbox.pending()
            assert len(kept) == len(QUESTIONS)
            assert await replay_pending(h.app) == len(QUESTIONS)
            await wait_until(lambda: len(cards(sb)) == len(QUESTIONS), "a card per question")
            await wait_until(lambda: len(inbox) == 0, "the inbox to empty")

            # every question is exactly one ticket, with one promise replying to it
            desk: Desk = h.services.desk
            tickets = [desk.repo.by_message(GROUP_ID, q["message_id"]) for q in asked]
            assert all(t is not None for t in tickets)
            assert len({t.number for t in tickets if t is not None}) == len(QUESTIONS)
            assert sorted(p["reply_to_message_id"] for p in promises(sb)) == sorted(
                q["message_id"] for q in asked
            )

            # replayed again (say the kill came after handling but before "done"): no second promise or card
            inbox.add_many(kept)
            assert await replay_pending(h.app) == len(QUESTIONS)
            await wait_until(lambda: len(inbox) == 0, "the inbox to empty again")
            await h.settle()
            assert len(promises(sb)) == len(QUESTIONS) and len(cards(sb)) == len(QUESTIONS)
            assert len(desk.repo) == len(QUESTIONS)

            # killed between the promise and the card: the replay posts the card only
            first = desk.repo.by_message(GROUP_ID, asked[0]["message_id"])
            assert first is not None
            first.card_message_id = None
            desk.repo.save(first)
            inbox.add_many(kept[:1])
            inbox.mark_promised(GROUP_ID, asked[0]["message_id"])
            assert inbox.promised(GROUP_ID, asked[0]["message_id"])
            await replay_pending(h.app)
            await wait_until(lambda: len(cards(sb)) == len(QUESTIONS) + 1, "the missing card")
            await wait_until(lambda: len(inbox) == 0, "the inbox to empty once more")
            await h.settle()
            assert len(promises(sb)) == len(QUESTIONS)
            again = desk.repo.by_message(GROUP_ID, asked[0]["message_id"])
            assert again is not None and again.card_message_id == cards(sb)[-1]["message_id"]


async def test_a_question_handled_normally_is_kept_while_fetched_and_forgotten_once_handled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    added: list[int] = []
    add_many = Inbox.add_many

    def spy(self: Inbox, updates: Any) -> int:
        updates = list(updates)
        added.extend(uid for uid, _ in updates)
        return add_many(self, updates)

    monkeypatch.setattr(Inbox, "add_many", spy)
    async with running_bot(tmp_path) as h:
        assert isinstance(h.app.bot, InboxBot)
        await h.say(101, GROUP_ID, "大家好")  # chatter first: never kept
        q = await h.say(102, GROUP_ID, "@servicebot 公积金怎么提取")
        await h.wait_for_message(GROUP_ID, lambda m: m["reply_to_message_id"] == q["message_id"])
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: "公积金怎么提取" in m["plain_text"])
        inbox = h.app.bot.inbox
        await wait_until(lambda: len(inbox) == 0, "the inbox to empty")
    assert len(added) == 1  # the question, and only it, was on disk before it was handled
    assert kept_texts(tmp_path) == []
