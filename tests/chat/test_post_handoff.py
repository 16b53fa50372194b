"""`servicebot post` while `servicebot run` owns the data directory: the post is handed to the running bot."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from bot.chat.control import socket_path
from bot.store import Store
from bot.store.ledger import DeliveryKey, DeliveryLedger
from sandbox import GROUP_ID
from sandbox.server import SandboxThread

from .harness import ROOT, SHANGHAI, TOKEN, FeedServer
from .test_process import bot_messages, start_bot, wait_until, write_config


def test_post_while_the_bot_runs_is_sent_by_the_bot_through_its_ledger(tmp_path: Path) -> None:
    now = datetime.now(SHANGHAI)
    later = {"digests.morning.time": (now + timedelta(hours=3)).strftime("%H:%M"),  # never due during the test
             "digests.tea.time": (now + timedelta(hours=4)).strftime("%H:%M")}
    with SandboxThread(flood=False) as sb, FeedServer(now.date()) as feeds:
        config = write_config(tmp_path, sb, feeds, **later)
        sock = socket_path(tmp_path / "data")
        proc = start_bot(config, tmp_path / "bot.log")
        try:
            wait_until(sock.exists, timeout=60, what="the bot's control socket")

            def post(*extra: str) -> subprocess.CompletedProcess[str]:
                env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}  # the bot has the token
                return subprocess.run([sys.executable, "-m", "bot", "post", "morning", "--config", str(config),
                                       *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

            first = post()
            assert first.returncode == 0, first.stderr
            assert first.stdout == "main: sent\n"
            assert f"posted by the running bot, process {proc.pid}" in first.stderr
            sent = bot_messages(sb, GROUP_ID)
            assert sent and sent[0]["text"].startswith("☀️") and "有问题？" in sent[-1]["plain_text"]
            again = post()
            assert again.returncode == 1 and "already sent today" in again.stdout
            assert len(bot_messages(sb, GROUP_ID)) == len(sent), "the ledger kept it to one"
            unknown = post("--group", "nope")
            assert unknown.returncode == 2 and "no member group named 'nope'" in unknown.stderr
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    assert not sock.exists(), "the socket is removed when the bot stops"
    assert TOKEN not in (tmp_path / "bot.log").read_text(errors="replace")
    with Store.open(tmp_path / "data") as store:
        assert DeliveryLedger(store).outcome(DeliveryKey.of(GROUP_ID, now.date(), "morning")) == "sent"
