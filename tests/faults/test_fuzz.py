"""Random updates into the real Application: no unhandled error (the error handler's ops alert never
fires) and nothing written outside the data directory.

Seeded (``SEED``; set ``SERVICEBOT_FUZZ_SEED`` to explore others), so a failure repeats. Most updates are
aimed at the handlers: questions that @-mention the bot in the member group, replies to the bot, commands
with their ``bot_command`` entity in each role's chat, staff replies to cards, button presses in the real
data formats; the rest are arbitrary (unknown chats, huge texts, missing fields). Only updates that
python-telegram-bot parses count as injected (it would hand nothing else to us), and
``test_fuzz_catches_a_raising_group_handler`` proves the aim: with the member group's question handler
made to raise, the same run must report it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import ContextTypes, MessageHandler

from bot.chat import questions
from sandbox import EDITORS_CHAT_ID, GROUP_ID, OPS_CHAT_ID, STAFF_CHAT_ID
from tests.chat.harness import Harness, running_bot

from .conftest import Figures, only_soak, soak

EXAMPLES = 200  # make test
SOAK_EXAMPLES = 1000  # make soak
SEED = int(os.environ.get("SERVICEBOT_FUZZ_SEED", "20261201"))
BOT = {"id": 9000, "is_bot": True, "first_name": "服务助手", "username": "servicebot"}
MEMBERS = [101, 112, 999]
STAFF = [201, 204]
EDITORS = [301]

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
random_updates = st.one_of(
    st.fixed_dictionaries({"update_id": st.integers(1, 10**9), "message": messages}),
    st.fixed_dictionaries({"update_id": st.integers(1, 10**9), "edited_message": messages}),
    st.fixed_dictionaries({"update_id": st.integers(1, 10**9), "callback_query": callbacks}),
    st.fixed_dictionaries({"update_id": st.integers(1, 10**9), "channel_post": messages}),
    st.fixed_dictionaries({"update_id": st.integers(1, 10**9)}),
)

# -- aimed at the handlers: the shapes Telegram really sends to each of them ------------------------
known_user = st.builds(
    lambda uid, name: {"id": uid, "is_bot": False, "first_name": name},
    st.sampled_from(MEMBERS + STAFF + EDITORS), st.text(min_size=1, max_size=10),
)
member = st.builds(lambda uid: {"id": uid, "is_bot": False, "first_name": "居民"}, st.sampled_from(MEMBERS))
group_chat = st.just({"id": GROUP_ID, "type": "supergroup", "title": "雄安-疏解之友"})
role_chat = st.sampled_from([
    {"id": GROUP_ID, "type": "supergroup", "title": "雄安-疏解之友"},
    {"id": STAFF_CHAT_ID, "type": "supergroup", "title": "staff"},
    {"id": EDITORS_CHAT_ID, "type": "supergroup", "title": "editors"},
])
free_text = st.one_of(st.lists(st.sampled_from(WORDS) | st.text(max_size=12), max_size=6).map(" ".join),
                      st.text(max_size=200))
commands = st.sampled_from(["ask", "start", "help", "mytickets", "queue", "mine", "ticket", "stats", "reply",
                            "new", "item", "approve", "withdraw", "preview", "reload", "announce", "cancel",
                            "skip", "edit"])
numbers = st.integers(min_value=0, max_value=12)


def _message(mid: int, chat: dict[str, Any], user: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
    return {"message_id": mid, "date": 1_764_000_000, "chat": chat, "from": user, "text": text, **extra}


def _question(mid: int, user: dict[str, Any], text: str) -> dict[str, Any]:
    return _message(mid, {"id": GROUP_ID, "type": "supergroup", "title": "雄安-疏解之友"}, user,
                    "@servicebot " + text, entities=[{"type": "mention", "offset": 0, "length": 11}])


def _reply_to_bot(mid: int, chat: dict[str, Any], user: dict[str, Any], text: str, to: int) -> dict[str, Any]:
    replied = _message(to, chat, BOT, "工单 #1 …")
    return _message(mid, chat, user, text, reply_to_message=replied)


def _command(mid: int, chat: dict[str, Any], user: dict[str, Any], name: str, arg: str, private: bool) -> dict[str, Any]:
    word = f"/{name}" if private else f"/{name}@servicebot"
    where = {"id": user["id"], "type": "private", "first_name": user["first_name"]} if private else chat
    return _message(mid, where, user, f"{word} {arg}".rstrip(),
                    entities=[{"type": "bot_command", "offset": 0, "length": len(word)}])


def _press(qid: str, user: dict[str, Any], data: str, chat: dict[str, Any], mid: int) -> dict[str, Any]:
    return {"id": qid, "from": user, "chat_instance": "ci", "data": data, "message": _message(mid, chat, BOT, "卡片")}


mids = st.integers(min_value=1, max_value=500)
button_data = st.one_of(
    st.builds(lambda action, n: f"tk:{action}:{n}", st.sampled_from(["claim", "close", "transfer", "pick", "note",
                                                                     "card", "answer"]), numbers),
    st.builds(lambda kind, n: f"faq:{kind}:{n}", st.sampled_from(["ok", "human"]), numbers),
    st.builds(lambda n, r: f"rate:{n}:{r}", numbers, st.integers(0, 6)),
    st.text(max_size=20),
)
aimed_messages = st.one_of(
    st.builds(_question, mids, member, free_text),
    st.builds(_question, mids, known_user, free_text),
    st.builds(_reply_to_bot, mids, group_chat, member, free_text, mids),
    st.builds(_reply_to_bot, mids, st.just({"id": STAFF_CHAT_ID, "type": "supergroup", "title": "staff"}),
              known_user, free_text, mids),
    st.builds(_command, mids, role_chat, known_user, commands, st.one_of(numbers.map(str), free_text), st.booleans()),
    st.builds(lambda mid, user, text: _message(mid, {"id": user["id"], "type": "private", "first_name": "x"}, user,
                                               text), mids, known_user, free_text),
)
aimed = st.one_of(
    st.builds(lambda uid, m: {"update_id": uid, "message": m}, st.integers(1, 10**9), aimed_messages),
    st.builds(lambda uid, m: {"update_id": uid, "edited_message": {**m, "edit_date": 1_764_000_100}},
              st.integers(1, 10**9), aimed_messages),
    st.builds(lambda uid, q: {"update_id": uid, "callback_query": q}, st.integers(1, 10**9),
              st.builds(_press, st.text(min_size=1, max_size=8), known_user, button_data, role_chat, mids)),
)
updates = st.one_of(aimed, aimed, aimed, random_updates)


def test_fuzz_updates(bot: BotThread, figures: Figures) -> None:
    fuzz(bot, figures, EXAMPLES)


@soak
@only_soak
@pytest.mark.timeout(1800)
def test_fuzz_updates_soak(bot: BotThread, figures: Figures) -> None:
    fuzz(bot, figures, SOAK_EXAMPLES)


def test_fuzz_catches_a_raising_group_handler(bot: BotThread) -> None:
    """The aim: with the member group's question handler raising on every call, the run reports it."""
    h = bot.h
    assert h is not None
    handler = next(hd for hds in h.app.handlers.values() for hd in hds
                   if isinstance(hd, MessageHandler) and hd.callback is questions.on_group_message)
    calls = [0]

    async def always_raises(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        calls[0] += 1
        raise RuntimeError("planted by the fuzz test")

    handler.callback = always_raises
    try:
        parsed, alerts = inject(bot, EXAMPLES)
    finally:
        handler.callback = questions.on_group_message
    assert calls[0] > 0, f"no fuzzed update reached the group handler ({parsed} parsed)"
    assert any("planted by the fuzz test" in a for a in alerts), alerts[:3]


def fuzz(bot: BotThread, figures: Figures, examples: int) -> None:
    """``examples`` random updates; each one PTB parses counts as an injected fault, an unhandled error as lost."""
    h = bot.h
    assert h is not None
    data_dir = Path(h.config.data_dir)
    before = _tree(bot.tmp, data_dir)
    cwd_before = set(os.listdir(Path.cwd()))
    with figures.run(trace_memory=False) as run:
        parsed, alerts = inject(bot, examples)
        run.faults += parsed
        run.lost += len(alerts)
    assert parsed >= examples // 2, f"only {parsed} of {examples} updates parsed: the fuzz misses the handlers"
    assert alerts == [], f"unhandled errors: {alerts[:3]}"
    assert _tree(bot.tmp, data_dir) == before, "files written outside the data directory"
    assert set(os.listdir(Path.cwd())) == cwd_before


def inject(bot: BotThread, examples: int) -> tuple[int, list[str]]:
    """Feed ``examples`` seeded updates; (how many PTB parsed, the ops alerts of unhandled errors)."""
    h = bot.h
    assert h is not None
    ops_before = len(h.messages(OPS_CHAT_ID))
    parsed = [0]

    @seed(SEED)
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(updates)
    def one(data: dict[str, Any]) -> None:
        try:
            update = Update.de_json(data, h.app.bot)
        except (KeyError, TypeError, ValueError):
            return  # not even an Update: python-telegram-bot would not hand it to us
        parsed[0] += 1
        bot.run(h.app.process_update(update))

    one()
    bot.run(h.settle(0.5))
    alerts = [m["plain_text"] for m in h.messages(OPS_CHAT_ID)[ops_before:]
              if "处理消息出错" in (m["plain_text"] or "")]
    return parsed[0], alerts


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
