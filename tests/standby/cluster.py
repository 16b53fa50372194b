"""Two (or more) `servicebot run` processes on one PostgreSQL database and the sandbox: the hot standby.

Used by tests/standby/test_failover.py and bench (failover time). Each process has a config and data
directory of its own (control socket, logs) and the same ``store: {kind: postgres}``; which one is active
is read from the lease row (its holder is ``host:pid:…``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import yaml

from tests.chat.harness import ROOT, TOKEN, config_data


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Standby:
    """``count`` bot processes sharing ``dsn``; start, find the active one, kill it."""

    def __init__(self, root: Path, dsn: str, api_base: str, feeds_url: str, *, count: int = 2,
                 lease_seconds: float = 3.0, webhook_ports: list[int] | None = None, public_url: str = "",
                 env: dict[str, str] | None = None, **overrides: Any) -> None:
        """``webhook_ports``: webhook mode, process i listening on ``webhook_ports[i]``, every one of them
        giving ``public_url`` to setWebhook (the load balancer's address, as in production)."""
        self.dsn = dsn
        self.env = dict(env or {})
        self.configs: list[Path] = []
        self.logs: list[Path] = []
        for i in range(count):
            home = root / f"node{i}"
            home.mkdir(parents=True, exist_ok=True)
            data = config_data(home / "data", api_base, feeds_url, **overrides)
            data["store"] = {"kind": "postgres", "dsn_env": "DATABASE_URL", "lease_seconds": lease_seconds}
            if webhook_ports is not None:
                data["telegram"]["mode"] = "webhook"
                data["telegram"]["webhook"] = {"listen": "127.0.0.1", "port": webhook_ports[i], "url_path": "hook",
                                               "public_url": public_url}
            path = home / "config.yaml"
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
            self.configs.append(path)
            self.logs.append(home / "bot.log")
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * count

    def start(self, i: int, dsn: str | None = None) -> subprocess.Popen[bytes]:
        """Start process ``i`` (on ``dsn``, e.g. through a NetCut proxy; the shared one by default)."""
        env = {**{k: v for k, v in os.environ.items() if k != "WEBHOOK_SECRET"}, "BOT_TOKEN": TOKEN,
               "DATABASE_URL": dsn or self.dsn, "PYTHONUNBUFFERED": "1", **self.env}
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(self.configs[i]), "run"],
            cwd=ROOT, env=env, stdout=self.logs[i].open("ab"), stderr=subprocess.STDOUT,
        )
        self.procs[i] = proc
        return proc

    def restart_exited(self) -> list[int]:
        """Start again every process that exited by itself (Restart=on-failure); their indexes."""
        again = [i for i, proc in enumerate(self.procs) if proc is not None and proc.poll() is not None]
        for i in again:
            self.start(i)
        return again

    def lease(self) -> tuple[int | None, int, bool]:
        """(pid of the holder, epoch, whether the lease is live) as the database has it now."""
        try:
            with psycopg.connect(self.dsn, connect_timeout=5) as conn:
                row = conn.execute(
                    "SELECT holder, epoch, expires_at > clock_timestamp() FROM servicebot_lease WHERE name = 'active'"
                ).fetchone()
        except psycopg.Error:  # the table is made by the first process
            return None, 0, False
        if row is None or row[0] is None:
            return None, 0, False
        return int(str(row[0]).split(":")[1]), int(row[1]), bool(row[2])

    def active(self) -> int | None:
        """The index of the process holding a live lease, if any."""
        pid, _, live = self.lease()
        for i, proc in enumerate(self.procs):
            if live and proc is not None and proc.poll() is None and proc.pid == pid:
                return i
        return None

    def wait_active(self, *, other_than_epoch: int = 0, timeout: float = 60.0) -> int:
        found: list[int] = []

        def check() -> bool:
            i = self.active()
            if i is not None and self.lease()[1] > other_than_epoch:
                found.append(i)
                return True
            return False

        wait_until(check, timeout=timeout, what="an active process")
        return found[-1]

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        assert proc is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc is not None:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def log_tail(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {p}\n{p.read_text(errors='replace')[-chars:]}" for p in self.logs if p.exists())
