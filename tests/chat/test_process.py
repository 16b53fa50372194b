"""The bot as a real process: `servicebot run` against the sandbox, SIGTERM, and SIGKILL mid-digest.

Each test runs `python -m bot run` in a subprocess (so SIGKILL is real), with the sandbox in a thread
and the fixture feeds on a local HTTP server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.store import Store
from bot.store.ledger import DeliveryKey, DeliveryLedger
from bot.store.meta import Meta
from sandbox import GROUP_ID
from sandbox.server import SandboxThread

from .harness import ROOT, SHANGHAI, TOKEN, FeedServer, config_data

Message = dict[str, Any]


def write_config(tmp_path: Path, sb: SandboxThread, feeds: FeedServer, **overrides: Any) -> Path:
    data = config_data(tmp_path / "data", sb.api_base, feeds.url, **overrides)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def start_bot(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def bot_messages(sb: SandboxThread, chat_id: int) -> list[Message]:
    return [m for m in sb.messages(chat_id) if m["sender_id"] == 9000]


def test_run_answers_stops_cleanly_on_sigterm_and_never_logs_the_token(tmp_path: Path) -> None:
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        config = write_config(tmp_path, sb, feeds)
        log = tmp_path / "bot.log"
        proc = start_bot(config, log)
        try:
            sb.send_user_message(101, GROUP_ID, "/help@servicebot")
            wait_until(lambda: any("/ask" in m["plain_text"] for m in bot_messages(sb, GROUP_ID)), what="/help answer")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        text = log.read_text(encoding="utf-8", errors="replace")
        assert TOKEN not in text and TOKEN.split(":")[1] not in text
        assert "Application started" in text


def test_second_instance_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        config = write_config(tmp_path, sb, feeds)
        first = start_bot(config, tmp_path / "first.log")
        try:
            wait_until(lambda: "Application started" in (tmp_path / "first.log").read_text(errors="replace"),
                       what="the first bot to start")
            second = subprocess.run(
                [sys.executable, "-m", "bot", "--config", str(config), "run"],
                cwd=ROOT, env={**os.environ, "BOT_TOKEN": TOKEN}, capture_output=True, text=True, timeout=60,
            )
            assert second.returncode == 2
            assert str(tmp_path / "data") in second.stderr
        finally:
            first.send_signal(signal.SIGTERM)
            first.wait(timeout=20)


@pytest.mark.parametrize("kill_after_parts", [1, 2])
def test_sigkill_mid_digest_then_restart_sends_the_rest_and_nothing_twice(
    tmp_path: Path, kill_after_parts: int
) -> None:
    now = datetime.now(SHANGHAI)
    slot_time = (now - timedelta(minutes=2)).strftime("%H:%M")
    if (now - timedelta(minutes=2)).date() != now.date():
        pytest.skip("too close to midnight for a same-day slot")
    big = [
        {"key": "policy", "sources": ["xinhua-politics", "xinhua-finance"], "limit": 50, "max_age_hours": 87600},
        {"key": "jobs", "sources": ["jobs"], "limit": 50, "max_age_hours": 87600},
    ]
    # flood control on: parts go out about a second apart, so the kill lands mid-digest
    with SandboxThread(flood=True) as sb, FeedServer(now.date()) as feeds:
        config = write_config(
            tmp_path, sb, feeds,
            **{"digests.morning.time": slot_time, "digests.morning.sections": big, "digests.max_lines": 0,
               "digests.tea.time": "23:59"},
        )
        # the bot has run here before (a fresh install would not count a slot before its first start)
        with Store.open(tmp_path / "data") as store:
            Meta(store).set("first_started_at", (now - timedelta(days=1)).isoformat())
        log = tmp_path / "bot.log"
        proc = start_bot(config, log)
        try:
            wait_until(lambda: len(bot_messages(sb, GROUP_ID)) >= kill_after_parts, what="the first parts")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        before = len(bot_messages(sb, GROUP_ID))
        proc = start_bot(config, log)
        try:
            wait_until(
                lambda: any("有问题？" in m["plain_text"] for m in bot_messages(sb, GROUP_ID)),
                timeout=40, what="the closing part after restart",
            )
            time.sleep(1.0)  # anything more would show up now
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
        texts = [m["text"] for m in bot_messages(sb, GROUP_ID)]
        distinct = list(dict.fromkeys(texts))
        assert len(distinct) >= 3, f"expected a multi-part digest, got {len(distinct)} parts (killed after {before})"
        assert distinct[0].startswith("☀️"), "parts out of order"
        assert "有问题？" in distinct[-1]
        duplicates = len(texts) - len(distinct)
        # a kill between Telegram accepting a part and the ledger recording it repeats that part once
        assert duplicates <= 1, f"{duplicates} parts sent twice"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_webhook_mode_receives_updates_and_checks_the_secret(tmp_path: Path) -> None:
    port = _free_port()
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        config = write_config(
            tmp_path, sb, feeds,
            **{"telegram.mode": "webhook",
               "telegram.webhook": {"listen": "127.0.0.1", "port": port, "url_path": "hook",
                                    "public_url": f"http://127.0.0.1:{port}/hook"}},
        )
        log = tmp_path / "bot.log"
        env_secret = {"WEBHOOK_SECRET": "s3cret-token_123"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"],
            cwd=ROOT, env={**os.environ, "BOT_TOKEN": TOKEN, **env_secret},
            stdout=log.open("ab"), stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: any(c["method"] == "setWebhook" for c in sb.calls()), what="setWebhook")
            hook = next(c for c in sb.calls() if c["method"] == "setWebhook")
            assert hook["params"]["url"] == f"http://127.0.0.1:{port}/hook"
            assert hook["params"]["secret_token"] == "s3cret-token_123"
            sb.send_user_message(101, GROUP_ID, "/help@servicebot")
            wait_until(lambda: any("/ask" in m["plain_text"] for m in bot_messages(sb, GROUP_ID)),
                       what="the answer through the webhook")
            assert not any(c["method"] == "getUpdates" for c in sb.calls())
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        assert "s3cret-token_123" not in log.read_text(errors="replace")


def test_discover_prints_the_ids_of_chats_and_users_that_write(tmp_path: Path) -> None:
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        config = write_config(tmp_path, sb, feeds)
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "discover", "--seconds", "6"],
            cwd=ROOT, env={**os.environ, "BOT_TOKEN": TOKEN}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2.5)
        sb.send_user_message(101, GROUP_ID, "大家好")
        sb.send_user_message(201, None, "/start")  # a private chat with a staff member
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "-1001001" in out and "雄安-疏解之友" in out and "supergroup" in out
        assert "201" in out and "private" in out
        assert TOKEN not in out + err


def test_preview_prints_the_parts_and_post_goes_through_the_ledger_once(tmp_path: Path) -> None:
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        config = write_config(tmp_path, sb, feeds)
        env = {**os.environ, "BOT_TOKEN": TOKEN}

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "bot", "--config", str(config), *args],
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

        preview = cli("preview", "morning")
        assert preview.returncode == 0, preview.stderr
        assert "----- part 1/" in preview.stdout and "<b>服务早知道</b>" in preview.stdout
        assert bot_messages(sb, GROUP_ID) == [], "preview must not send"
        first = cli("post", "morning")
        assert first.returncode == 0, first.stderr
        assert "main: sent" in first.stdout
        sent = len(bot_messages(sb, GROUP_ID))
        assert sent >= 1
        again = cli("post", "morning")
        assert again.returncode == 1 and "already sent today" in again.stdout
        assert len(bot_messages(sb, GROUP_ID)) == sent
        forced = cli("post", "morning", "--force")
        assert forced.returncode == 0 and "main: sent" in forced.stdout
        assert len(bot_messages(sb, GROUP_ID)) > sent
        unknown = cli("post", "morning", "--group", "nope")
        assert unknown.returncode == 2 and "no member group named 'nope'" in unknown.stderr


def test_sigterm_during_the_start_up_catch_up_lets_the_digest_finish(tmp_path: Path) -> None:
    now = datetime.now(SHANGHAI)
    if (now - timedelta(minutes=2)).date() != now.date():
        pytest.skip("too close to midnight for a same-day slot")
    big = [
        {"key": "policy", "sources": ["xinhua-politics", "xinhua-finance"], "limit": 50, "max_age_hours": 87600},
        {"key": "jobs", "sources": ["jobs"], "limit": 50, "max_age_hours": 87600},
    ]
    with SandboxThread(flood=True) as sb, FeedServer(now.date()) as feeds:  # parts about a second apart
        config = write_config(
            tmp_path, sb, feeds,
            **{"digests.morning.time": (now - timedelta(minutes=2)).strftime("%H:%M"),
               "digests.morning.sections": big, "digests.max_lines": 0, "digests.tea.time": "23:59"},
        )
        with Store.open(tmp_path / "data") as store:
            Meta(store).set("first_started_at", (now - timedelta(days=1)).isoformat())
        proc = start_bot(config, tmp_path / "bot.log")
        try:
            wait_until(lambda: len(bot_messages(sb, GROUP_ID)) >= 1, what="the first part")
            proc.send_signal(signal.SIGTERM)  # a stop mid-digest: the running delivery finishes first
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        texts = [m["text"] for m in bot_messages(sb, GROUP_ID)]
        assert len(texts) >= 3 and len(set(texts)) == len(texts)
        assert "有问题？" in texts[-1], "the digest was cut short by the stop"
        with Store.open(tmp_path / "data") as store:
            assert DeliveryLedger(store).outcome(DeliveryKey.of(GROUP_ID, now.date(), "morning")) == "sent"


@pytest.mark.parametrize("method", ["deleteWebhook", "setMyCommands", "getUpdates"])
def test_sigterm_while_a_start_up_call_is_in_flight_is_a_clean_stop(tmp_path: Path, method: str) -> None:
    """systemd's stop (SIGTERM) while Telegram is slow to answer a call of the start: python-telegram-bot
    turns the cut-off request into a NetworkError on its way out, which ended the run with status 1 and
    "cannot reach Telegram" (seen under load: the updater's deleteWebhook). A stop asked for is a stop:
    status 0 within 10 s, one line saying so."""
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        sb.inject_fault(method, 0, delay=30.0)  # a slow Telegram: the call is held 30 s
        config = write_config(tmp_path, sb, feeds)
        log = tmp_path / "bot.log"
        proc = start_bot(config, log)
        try:
            wait_until(lambda: bool(sb.calls(method)), what=f"the bot's {method}")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0, log.read_text(encoding="utf-8")[-2000:]
            text = log.read_text(encoding="utf-8")
            assert "cannot reach Telegram" not in text and "Traceback" not in text
        finally:
            if proc.poll() is None:
                proc.kill()


STUCK_STOP = """
import asyncio, logging, sys, threading, time
import bot.cli as cli
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
class App:  # a run whose stop leaves a thread behind (a half-done shutdown)
    def run_polling(self, stop_signals=None):
        assert stop_signals is None
        threading.Thread(target=time.sleep, args=(3600,), name="stuck-worker").start()
        print("running", flush=True)
        asyncio.get_event_loop().run_forever()
cli.STOP_DEADLINE = 1.0
cli._run_polling(App())
"""


def test_a_stop_that_hangs_ends_at_the_deadline_naming_what_held_it(tmp_path: Path) -> None:
    """SIGTERM ends the process within the stop deadline even when something of the run is left behind
    (a non-daemon thread that would keep the interpreter from exiting): status 0, one line naming it."""
    proc = subprocess.Popen([sys.executable, "-c", STUCK_STOP], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "running"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        err = proc.stderr.read() if proc.stderr else ""
        assert "not done after 1 s; exiting now (threads still running: stuck-worker)" in err
    finally:
        if proc.poll() is None:
            proc.kill()
