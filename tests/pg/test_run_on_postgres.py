"""`servicebot run` with `store.kind: postgres`: the real process against the sandbox keeps its tickets in
PostgreSQL (not in data_dir), writes its health file, and after a SIGKILL and a restart knows them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import yaml

from bot.store.pg import PgStore
from bot.store.tickets import TicketStore
from sandbox import GROUP_ID
from sandbox.server import SandboxThread
from tests.chat.harness import ROOT, SHANGHAI, TOKEN, FeedServer, config_data
from tests.chat.test_process import bot_messages, wait_until


def start(config: Path, log: Path, dsn: str) -> subprocess.Popen[bytes]:
    # WATCHDOG_USEC as systemd's WatchdogSec=2 sets it: the heartbeat, which writes health.json, every
    # second rather than every 10 s, so the wait for the health file below is not a 10 s wait
    env = {**os.environ, "BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1", "DATABASE_URL": dsn, "WATCHDOG_USEC": "2000000"}
    return subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=ROOT, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def tickets(dsn: str) -> list[str]:
    with PgStore.connect(dsn) as store:
        return [t.text for t in TicketStore(store).active()]


def test_the_bot_runs_on_postgres(tmp_path: Path, pg_dsn: str) -> None:
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        data = config_data(tmp_path / "data", sb.api_base, feeds.url)
        # a short lease, as tests/standby runs with: the start after the SIGKILL below waits for the dead
        # process's lease to run out (10 s by default) before it may write
        data["store"] = {"kind": "postgres", "dsn_env": "DATABASE_URL", "lease_seconds": 3}
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        log = tmp_path / "bot.log"
        proc = start(config, log, pg_dsn)
        try:
            sb.send_user_message(101, GROUP_ID, "@servicebot 孩子转学需要什么材料？")
            wait_until(lambda: len(tickets(pg_dsn)) == 1, what="the ticket in PostgreSQL")
            wait_until(lambda: (tmp_path / "data" / "health.json").exists(), what="the health file")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=20)
            assert not (tmp_path / "data" / "MANIFEST").exists()  # no journal store was made
            proc = start(config, log, pg_dsn)
            sb.send_user_message(102, GROUP_ID, "@servicebot 公积金怎么提取？")
            wait_until(lambda: len(tickets(pg_dsn)) == 2, what="the second ticket")
            first, second = tickets(pg_dsn)
            assert "孩子转学" in first and "公积金" in second
            # the restarted bot numbered the next ticket on from the database (the promise comes after the
            # ticket is stored: wait for it)
            wait_until(lambda: any("#2" in m["plain_text"] for m in bot_messages(sb, GROUP_ID)), what="promise #2")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
