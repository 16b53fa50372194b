"""Random updates (messages, edits, callbacks with random data, unknown chats, huge texts, missing
fields) into the real Application: no unhandled error (the error handler's ops alert never fires) and
nothing written outside the data directory."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from sandbox import EDITORS_CHAT_ID, GROUP_ID, OPS_CHAT_ID, STAFF_CHAT_ID
from tests.chat.harness import Harness, running_bot

from .conftest import Figures, only_soak, soak

EXAMPLES = 200  # make test
SOAK_EXAMPLES = 1000  # make soak

CHATS = [GROUP_ID, STAFF_CHAT_ID, EDITORS_CHAT_ID, OPS_CHAT_ID, -1009999, 101, 201, 301, 999]
USERS = [101, 112, 201, 204, 301, 999, 9000]
WORDS = ["@servicebot", "/ask", "/queue", "/claim", "/reply", "/reply 1", "/close 1", "/approve 1", "/new",
         "/ticket 1", "/mine", "/stats", "/start", "/help", "/edit 1", "/withdraw 1", "/announce", "/reload",
         "孩子入学", "<b>", "&", "\u202e", "😀", "#1", "\n"]


class BotThread:
    """The harness's running bot on its own loop in a thread, so hypothesis can drive it synchronously."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.done: asyncio.Event | None = None
        self.h: Harness | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        self.done = asyncio.Event()
        async with running_bot(self.tmp) as h:
            self.h = h
            self.ready.set()
            await self.done.wait()

    def run(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __enter__(self) -> BotThread:
        self.thread.start()
        assert self.ready.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.done is not None
        self.loop.call_soon_threadsafe(self.done.set)
        self.thread.join(30)


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotThread]:
    with BotThread(tmp_path_factory.mktemp("fuzz")) as b:
        yield b


def _tree(root: Path, skip: Path) -> set[str]:
    out = set()
    for dirpath, _dirs, files in os.walk(root):
        if Path(dirpath).is_relative_to(skip):
            continue
        out.update(str(Path(dirpath) / f) for f in files)
    return out


ids = st.integers(min_value=-(2**40), max_value=2**40)
texts = st.one_of(
    st.lists(st.sampled_from(WORDS) | st.text(max_size=20), max_size=8).map(" ".join),
    st.text(max_size=300),
    st.integers(min_value=4000, max_value=20_000).map(lambda n: "长" * n),
)
users = st.fixed_dictionaries(
    {"id": st.sampled_from(USERS) | ids, "is_bot": st.booleans(), "first_name": st.text(max_size=30)},
    optional={"username": st.text(max_size=40), "language_code": st.sampled_from(["zh", "en", "xx"])},
)
chats = st.fixed_dictionaries(
    {"id": st.sampled_from(CHATS) | ids, "type": st.sampled_from(["private", "group", "supergroup", "channel", "x"])},
    optional={"title": st.text(max_size=30), "is_forum": st.booleans()},
)
messages = st.fixed_dictionaries(
    {"message_id": st.integers(min_value=1, max_value=10**6), "date": st.integers(min_value=0, max_value=2**31),
     "chat": chats},
    optional={"from": users, "text": texts, "message_thread_id": st.integers(1, 100),
              "reply_to_message": st.fixed_dictionaries({"message_id": st.integers(1, 50), "date": st.just(0),
                                                         "chat": chats}, optional={"from": users, "text": texts}),
              "entities": st.lists(st.fixed_dictionaries({"type": st.sampled_from(["bot_command", "mention", "url"]),
                                                          "offset": st.integers(0, 30), "length": st.integers(0, 30)}),
                                   max_size=3),
              "edit_date": st.integers(0, 2**31)},
)
callbacks = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=10), "from": users, "chat_instance": st.just("ci")},
    optional={"data": st.sampled_from(["tk:claim:1", "tk:close:1", "tk:answer:999", "faq:1", "rate:1:5", "rate:x"])
              | st.text(max_size=64), "message": messages},
)
updates = st.one_of(
    st.fixed_dictionaries({"update_id": st.integers(1, 10**9), "message": messages}),
    st.fixed_dictionaries({"update_id": st.integers(1, 10**9), "edited_message": messages}),
    st.fixed_dictionaries({"update_id": st.integers(1, 10**9), "callback_query": callbacks}),
    st.fixed_dictionaries({"update_id": st.integers(1, 10**9), "channel_post": messages}),
    st.fixed_dictionaries({"update_id": st.integers(1, 10**9)}),
)


def test_fuzz_updates(bot: BotThread, figures: Figures) -> None:
    fuzz(bot, figures, EXAMPLES)


@soak
@only_soak
@pytest.mark.timeout(1800)
def test_fuzz_updates_soak(bot: BotThread, figures: Figures) -> None:
    fuzz(bot, figures, SOAK_EXAMPLES)


def fuzz(bot: BotThread, figures: Figures, examples: int) -> None:
    """``examples`` random updates; each one counts as an injected fault, an unhandled error as lost."""
    h = bot.h
    assert h is not None
    data_dir = Path(h.config.data_dir)
    before = _tree(bot.tmp, data_dir)
    cwd_before = set(os.listdir(Path.cwd()))

    ops_before = len(h.messages(OPS_CHAT_ID))
    with figures.run(trace_memory=False) as run:

        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(updates)
        def one(data: dict[str, Any]) -> None:
            run.faults += 1
            try:
                update = Update.de_json(data, h.app.bot)
            except (KeyError, TypeError, ValueError):
                return  # not even an Update: python-telegram-bot would not hand it to us
            bot.run(h.app.process_update(update))

        one()
        bot.run(h.settle(0.5))
        alerts = [m["plain_text"] for m in h.messages(OPS_CHAT_ID)[ops_before:]
                  if "处理消息出错" in (m["plain_text"] or "")]
        run.lost += len(alerts)
    assert alerts == [], f"unhandled errors: {alerts[:3]}"
    assert _tree(bot.tmp, data_dir) == before, "files written outside the data directory"
    assert set(os.listdir(Path.cwd())) == cwd_before


def test_stale_callback_does_not_alert_ops(bot: BotThread) -> None:
    h = bot.h
    assert h is not None
    before = len(h.messages(OPS_CHAT_ID))
    for data in ("tk:claim:1", "rate:1:5", "faq:1"):
        update = Update.de_json({"update_id": 1, "callback_query": {
            "id": "stale-1", "from": {"id": 201, "is_bot": False, "first_name": "王敏"}, "chat_instance": "ci",
            "data": data}}, h.app.bot)
        bot.run(h.app.process_update(update))
    bot.run(h.settle(0.3))
    alerts = [m["plain_text"] for m in h.messages(OPS_CHAT_ID)[before:] if "处理消息出错" in (m["plain_text"] or "")]
    assert alerts == []
