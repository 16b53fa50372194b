"""Issue 4, "Done when": SIGKILL while 200 questions arrive loses no acknowledged question, duplicates none.

The bot runs as a real process (`python -m bot run`) against the sandbox in a thread. Members send 200
@-questions, paced, from a second thread; the bot is killed with SIGKILL once some of them have their
promise ("已受理 #N") in the group, the questions keep arriving while it is down, and a second bot process
on the same data directory takes over. Then, from the store (`servicebot tickets --status all --json`
after the bot stopped): every question the bot acknowledged before the kill is its ticket with the same
number; every one of the 200 questions is exactly one ticket (a redelivered update finds its ticket by
(chat, message)); no number twice, no card posted twice.

Also the write-behind the desk uses for the card's message id (Store.unsynced): the record is in the
file at once (a kill loses nothing), and the next ordinary write's fdatasync makes it durable.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from sandbox import GROUP_ID, STAFF_CHAT_ID
from sandbox.server import SandboxThread
from tests.chat.harness import ROOT, SHANGHAI, TOKEN, FeedServer
from tests.chat.test_process import bot_messages, wait_until, write_config

QUESTIONS = 200
KILL_AFTER_PROMISES = 40
MEMBERS = list(range(101, 112))  # 112 too would do in a group; keep the roster's default members
PROMISE = re.compile(r"已受理 #(\d+)")
CARD = re.compile(r"#(\d+)")


# Telegram allows a bot 20 messages a minute in one group, and the bot's AIORateLimiter keeps to it: 200
# promises in the group and 200 cards in the staff chat would take 10 minutes each. Flood limits are not
# what this test is about, so the bot process runs with a generous limiter and group budget (the same code
# path otherwise: the budget never runs short, so every question gets its own promise).
_LAUNCH = """
import runpy
from telegram.ext import AIORateLimiter
_init = AIORateLimiter.__init__
def _generous(self, *args, **kwargs):
    _init(self, overall_max_rate=1000, overall_time_period=1, group_max_rate=1000, group_time_period=1)
AIORateLimiter.__init__ = _generous
from bot.chat import outbox
_budget = outbox.GroupBudget.__init__
outbox.GroupBudget.__init__ = lambda self: _budget(self, per_minute=100000, burst="100000/1 second")
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


def start_bot(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`python -m bot --config ... run` as a real process (SIGKILL is real), rate limiter relaxed."""
    env = {**os.environ, "BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, "--config", str(config), "run"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )


def _promises(sb: SandboxThread) -> dict[int, int]:
    """Question message id -> ticket number, from the bot's promise replies in the group."""
    out: dict[int, int] = {}
    for m in bot_messages(sb, GROUP_ID):
        found = PROMISE.search(m["plain_text"])
        if found and m.get("reply_to_message_id") is not None:
            out.setdefault(m["reply_to_message_id"], int(found.group(1)))
    return out


def _promise_replies(sb: SandboxThread) -> Counter[int]:
    return Counter(
        m["reply_to_message_id"]
        for m in bot_messages(sb, GROUP_ID)
        if PROMISE.search(m["plain_text"]) and m.get("reply_to_message_id") is not None
    )


def _card_numbers(sb: SandboxThread) -> list[int]:
    """The ticket number of every card the bot posted in the staff chat (first line: "#N ...")."""
    out = []
    for m in bot_messages(sb, STAFF_CHAT_ID):
        if m.get("reply_to_message_id") is None:  # lines under a card are replies to it
            found = CARD.search(m["plain_text"].split("\n", 1)[0])
            if found:
                out.append(int(found.group(1)))
    return out


def _tickets_json(config: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "tickets", "--status", "all", "--json"],
        cwd=ROOT, env={**os.environ, "BOT_TOKEN": TOKEN}, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def test_sigkill_while_200_questions_arrive_loses_no_acknowledged_question_and_duplicates_none(
    tmp_path: Path,
) -> None:
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        config = write_config(tmp_path, sb, feeds, **{"digests.morning.time": "23:58", "digests.tea.time": "23:59"})
        log = tmp_path / "bot.log"
        proc = start_bot(config, log)
        sent: list[int] = []  # the questions' message ids, in order
        sender_error: list[BaseException] = []

        def ask_all() -> None:
            try:
                for i in range(QUESTIONS):
                    user = MEMBERS[i % len(MEMBERS)]
                    msg = sb.send_user_message(user, GROUP_ID, f"@servicebot 公积金怎么提取？（第{i}问）")
                    sent.append(int(msg["message_id"]))
                    time.sleep(0.01)
            except BaseException as exc:  # surfaced in the test thread
                sender_error.append(exc)

        try:
            wait_until(lambda: "Application started" in log.read_text(errors="replace"), timeout=30,
                       what="the bot to start")
            sender = threading.Thread(target=ask_all, name="members")
            sender.start()
            wait_until(lambda: len(_promises(sb)) >= KILL_AFTER_PROMISES, timeout=30,
                       what=f"{KILL_AFTER_PROMISES} promises")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            acknowledged = _promises(sb)  # what the bot had promised when it died
            sender.join(timeout=30)
            assert not sender_error, sender_error
            assert len(sent) == QUESTIONS
            assert len(acknowledged) < QUESTIONS, "the kill came too late to test anything"

            proc = start_bot(config, log)
            wait_until(lambda: set(_promises(sb)) >= set(sent), timeout=60,
                       what="a promise for every question after the restart")
            time.sleep(0.5)  # a duplicate would show up now
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()

        tickets = _tickets_json(config)
        by_message = Counter(t["message_id"] for t in tickets if t["chat_id"] == GROUP_ID)
        numbers = [t["number"] for t in tickets]
        number_of = {t["message_id"]: t["number"] for t in tickets if t["chat_id"] == GROUP_ID}

        # nothing the bot acknowledged was lost, and it kept the number it was promised under
        lost = {m: n for m, n in acknowledged.items() if number_of.get(m) != n}
        assert not lost, f"acknowledged before the kill, missing or renumbered after restart: {lost}"
        # every question is exactly one ticket
        assert set(by_message) == set(sent), f"questions without a ticket: {sorted(set(sent) - set(by_message))}"
        assert all(c == 1 for c in by_message.values()), [m for m, c in by_message.items() if c > 1]
        assert len(numbers) == len(set(numbers)) == QUESTIONS
        assert sorted(numbers) == list(range(1, QUESTIONS + 1)), "numbers are sequential, none skipped or reused"
        # each question got its promise and each ticket its card. The Bot API cannot make a send happen
        # only once: a kill between Telegram accepting a message and the bot recording it repeats that one
        # message on restart (the one update in flight), so at most one duplicate for the one kill.
        replies = _promise_replies(sb)
        assert set(replies) == set(sent), "a question without its promise"
        cards = Counter(_card_numbers(sb))
        extra = sum(c - 1 for c in replies.values()) + sum(c - 1 for c in cards.values())
        assert extra <= 1, f"{extra} promises or cards sent twice for one kill"
        assert set(cards) == set(numbers)
        assert all(t.get("card_message_id") for t in tickets), "every ticket knows its card"
        text = log.read_text(errors="replace")
        assert "Traceback" not in text.split("Application started", 2)[-1], "the restarted bot hit an error"


def test_unsynced_write_is_in_the_file_at_once_and_made_durable_by_the_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fdatasync

    def counting(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counting)
    store = Store.open(tmp_path / "data")
    t = store.table("tickets")
    opened = len(synced)  # opening may make a fresh segment durable: count from here
    t.insert({"n": 1})
    assert len(synced) == opened + 1  # an ordinary write: fsynced before it returns
    with store.unsynced():
        t.update({"card": 55}, doc_ids=[1])
    assert len(synced) == opened + 1  # no fsync of its own ...
    journal = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("journal-[0-9]*.log"))
    assert b'"card":55' in journal  # ... but already written: a killed process loses nothing
    t.insert({"n": 2})
    assert len(synced) == opened + 2  # the next write's fdatasync covers both records
    with store.unsynced():
        t.update({"card": 56}, doc_ids=[2])
    store.close()
    assert len(synced) == opened + 3  # close makes the pending record durable
    with Store.open(tmp_path / "data") as again:
        assert [d["card"] for d in again.table("tickets").all()] == [55, 56]
