"""No "alive but dead" state (issue 11, item 3): `servicebot run` as a process, against the sandbox.

- SIGTERM with hundreds of questions queued ends within 10 s; every question is a ticket or waits in the
  inbox for the next start. The liveness signal: READY=1 and WATCHDOG=1 on $NOTIFY_SOCKET (as systemd's
  Type=notify/WatchdogSec= would read them), ``servicebot health`` ok while up and not after, STOPPING=1.
- A 401 on getUpdates (the token revoked mid-run) ends the process with status 1 and one line.
- A question the store cannot keep (the disk full: RLIMIT_FSIZE set on the running bot with prlimit) is not
  confirmed to Telegram; once writes succeed again it is fetched again and handled, once. The ops chat is
  told once that the store cannot write (however often it is retried) and once that it works again;
  ``servicebot health`` says so meanwhile; the asker gets no promise before the ticket is on disk.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from bot.store import Store
from bot.store.inbox import Inbox
from sandbox import GROUP_ID, OPS_CHAT_ID, STAFF_CHAT_ID
from sandbox.server import SandboxThread

from .harness import ROOT, SHANGHAI, TOKEN, FeedServer
from .test_process import bot_messages, wait_until, write_config

MEMBERS = (101, 102, 103)


def _popen(config: Path, env: dict[str, str] | None = None, **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        cwd=ROOT, env={**os.environ, "BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1", **(env or {})}, **kwargs,
    )


def _health(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "health"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={**os.environ})


def _ops(sb: SandboxThread, words: str) -> list[str]:
    return [m["plain_text"] for m in bot_messages(sb, OPS_CHAT_ID) if words in m["plain_text"]]


def _unconfirmed(sb: SandboxThread) -> list[dict[str, object]]:
    return sb._run(lambda: list(sb.sandbox.core.updates))


@contextlib.contextmanager
def _notify_socket() -> Iterator[tuple[socket.socket, str]]:
    directory = tempfile.mkdtemp(prefix="sbn", dir="/tmp")  # AF_UNIX paths are short
    path = os.path.join(directory, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(60)
    try:
        yield sock, path
    finally:
        sock.close()
        with contextlib.suppress(OSError):
            os.unlink(path)
            os.rmdir(directory)


def _until(sock: socket.socket, wanted: str, count: int = 1) -> list[str]:
    seen: list[str] = []
    while sum(wanted in m for m in seen) < count:
        seen.append(sock.recv(4096).decode())
    return seen


def test_sigterm_with_hundreds_of_questions_queued_stops_within_10_s_and_loses_none(tmp_path: Path) -> None:
    n = 300
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds, \
            _notify_socket() as (sock, address):
        config = write_config(tmp_path, sb, feeds)
        proc = _popen(config, {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "2000000"},
                      stdout=(tmp_path / "bot.log").open("ab"), stderr=subprocess.STDOUT)
        try:
            first = _until(sock, "READY=1")
            assert "READY=1" in first[-1]
            _until(sock, "WATCHDOG=1", 2)  # every second with WatchdogSec=2
            health = _health(config)
            assert health.returncode == 0 and health.stdout.startswith("ok:"), health
            sent = [sb.send_user_message(MEMBERS[i % 3], GROUP_ID, f"@servicebot 第{i}号问题：小区路灯什么时候修")
                    for i in range(n)]
            # all fetched and confirmed, i.e. on disk in the inbox; the bot works through them 20 a minute
            wait_until(lambda: not _unconfirmed(sb), timeout=60, what="every question fetched")
            wait_until(lambda: any(m["plain_text"].startswith("#1 ") for m in bot_messages(sb, STAFF_CHAT_ID)),
                       timeout=60, what="the first card")
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
            took = time.monotonic() - started
            assert code == 0
            assert took <= 10, f"SIGTERM took {took:.1f} s with {n} questions queued"
            _until(sock, "STOPPING=1")
        finally:
            if proc.poll() is None:
                proc.kill()
        after = _health(config)
        assert after.returncode == 1 and "not running" in after.stderr, after
    with Store.open(tmp_path / "data") as store:
        tickets = {d["source"] for d in store.table("tickets").all()}
        pending = {f"{u['message']['chat']['id']}:{u['message']['message_id']}" for _i, u in Inbox(store).pending()}
    asked = {f"{GROUP_ID}:{m['message_id']}" for m in sent}
    assert asked <= tickets | pending, f"{len(asked - tickets - pending)} question(s) lost"
    assert len(pending) >= n // 2, "the backlog was worked through instead of left to the inbox"
    print(f"SIGTERM with {n} queued: {took:.1f} s; {len(tickets)} ticket(s), {len(pending)} left in the inbox")


def test_a_401_on_get_updates_ends_the_process_with_one_line(tmp_path: Path) -> None:
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        config = write_config(tmp_path, sb, feeds)
        proc = _popen(config, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: len(sb.calls("getUpdates")) >= 1, timeout=60, what="polling")
            sb.inject_fault("getUpdates", 401, count=1000)  # the token revoked in @BotFather
            # a member's chatter ends the long poll in progress (as Telegram's does when an update comes), so
            # the next getUpdates, the one refused, comes now rather than after the poll's 10 s
            sb.send_user_message(101, GROUP_ID, "大家早上好")
            started = time.monotonic()
            out, _ = proc.communicate(timeout=60)
            print(f"401 on getUpdates: exit {proc.returncode} after {time.monotonic() - started:.1f} s")
        finally:
            if proc.poll() is None:
                proc.kill()
        text = out.decode(errors="replace")
        assert proc.returncode == 1, text[-2000:]
        assert "Traceback" not in text, text[-3000:]
        assert len([ln for ln in text.splitlines() if "rejected the bot token" in ln]) == 1, text[-2000:]


def test_a_question_the_store_cannot_keep_is_not_confirmed_and_is_handled_once_it_can(tmp_path: Path) -> None:
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        config = write_config(tmp_path, sb, feeds)
        # output through a pipe: a regular file would hit the file size limit too
        # WATCHDOG_USEC as systemd's WatchdogSec=2 sets it: a heartbeat (and health.json) every second
        # instead of every 10 s, so `servicebot health` shows the outage and the recovery within a second
        proc = _popen(config, {"WATCHDOG_USEC": "2000000"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(ln.decode(errors="replace") for ln in proc.stdout or ()),
                                  daemon=True)
        reader.start()
        try:
            sb.send_user_message(101, GROUP_ID, "@servicebot 第一个问题：垃圾分类的桶放在哪里")
            wait_until(lambda: any(m["plain_text"].startswith("#1 ") for m in bot_messages(sb, STAFF_CHAT_ID)),
                       timeout=60, what="the first card")
            segment = max((tmp_path / "data").glob("journal-[0-9]*.log"))
            # the disk is full: no file of the bot's may grow past the journal's present size
            resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (segment.stat().st_size, resource.RLIM_INFINITY))
            polls = len(sb.calls("getUpdates"))
            asked = sb.send_user_message(102, GROUP_ID, "@servicebot 第二个问题：停车证怎么办理")
            # PTB's loop fetches it, fails to keep it, backs off (1 s, 1.5 s, ...) and fetches it again
            wait_until(lambda: len(sb.calls("getUpdates")) >= polls + 3, timeout=60,
                       what="the bot to fetch the question again")
            assert any(u.get("message", {}).get("message_id") == asked["message_id"]  # type: ignore[union-attr]
                       for u in _unconfirmed(sb)), "confirmed to Telegram although it is not on disk"
            assert not any(m["plain_text"].startswith("#2 ") for m in bot_messages(sb, STAFF_CHAT_ID))
            wait_until(lambda: len(_ops(sb, "writes fail")) >= 1, timeout=30, what="the ops alert")
            # health.json is rewritten by each heartbeat (every second here): the outage shows in the next one
            wait_until(lambda: "the store cannot write" in _health(config).stderr, timeout=40,
                       what="servicebot health to say the store cannot write")
            assert not [m for m in bot_messages(sb, GROUP_ID) if m["reply_to_message_id"] == asked["message_id"]]
            resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            wait_until(lambda: any(m["plain_text"].startswith("#2 ") for m in bot_messages(sb, STAFF_CHAT_ID)),
                       timeout=90, what="the second question's card once space is back")
            promise = [m for m in bot_messages(sb, GROUP_ID) if m["reply_to_message_id"] == asked["message_id"]]
            assert len(promise) == 1
            wait_until(lambda: len(_ops(sb, "writes work again")) >= 1, timeout=30, what="the all-clear")
            wait_until(lambda: _health(config).returncode == 0, timeout=60, what="health ok again")
            assert len(_ops(sb, "writes fail")) == 1 and len(_ops(sb, "writes work again")) == 1, _ops(sb, "")
            assert not _ops(sb, "处理消息出错"), "an alert per failed update as well"
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        reader.join(timeout=10)
        assert any("not confirmed to Telegram" in ln for ln in lines), "the failure was not logged"
        cards = [m for m in bot_messages(sb, STAFF_CHAT_ID) if m["plain_text"].startswith("#2 ")]
        assert len(cards) == 1
