"""The liveness verdict (bot/chat/liveness.py): what stops the watchdog pings, and what `health` says."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.chat.liveness import (
    FETCH_STALE_AFTER,
    HEALTH_FILE,
    HEARTBEAT_STALE_AFTER,
    STUCK_AFTER,
    Liveness,
    heartbeat_interval,
    on_heartbeat,
    read_health,
)


@pytest.fixture
def notify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> socket.socket:
    path = f"/tmp/sbn-{os.getpid()}-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    yield sock
    sock.close()
    os.unlink(path)


def _received(sock: socket.socket) -> list[str]:
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


async def _beat(liveness: Liveness) -> None:
    await on_heartbeat(SimpleNamespace(application=SimpleNamespace(bot=SimpleNamespace(liveness=liveness))))


async def test_a_healthy_bot_pings_the_watchdog_and_says_ok(tmp_path: Path, notify: socket.socket) -> None:
    liveness = Liveness(health_dir=tmp_path)
    liveness.fetch_ok()
    await _beat(liveness)
    await _beat(liveness)
    got = _received(notify)
    assert got[0].startswith("READY=1") and got[1:] == ["WATCHDOG=1", "WATCHDOG=1"]
    healthy, line = read_health(tmp_path)
    assert healthy and line.startswith(f"ok: process {os.getpid()}, polling")


async def test_a_hung_handler_stops_the_pings(tmp_path: Path, notify: socket.socket) -> None:
    liveness = Liveness(health_dir=tmp_path, ready=True)
    liveness.fetch_ok()
    liveness.processing(True)
    liveness.processing_since = time.monotonic() - STUCK_AFTER - 1
    await _beat(liveness)
    assert _received(notify) == []
    healthy, line = read_health(tmp_path)
    assert not healthy and "in its handlers" in line


async def test_polling_that_keeps_failing_stops_the_pings_webhook_mode_does_not_poll(
    tmp_path: Path, notify: socket.socket
) -> None:
    liveness = Liveness(health_dir=tmp_path, ready=True, started=time.time() - FETCH_STALE_AFTER - 5)
    liveness.fetch_failed("NetworkError: httpx.ConnectError")
    await _beat(liveness)
    assert _received(notify) == []
    healthy, line = read_health(tmp_path)
    assert not healthy and "no successful getUpdates" in line and "ConnectError" in line
    liveness.mode = "webhook"
    await _beat(liveness)
    assert _received(notify) == ["WATCHDOG=1"]


async def test_a_store_that_cannot_write_is_unhealthy_but_keeps_the_watchdog_fed(
    tmp_path: Path, notify: socket.socket
) -> None:
    store = SimpleNamespace(write_error=None, write_failing_since=None)
    liveness = Liveness(health_dir=tmp_path, ready=True, store=store)
    liveness.fetch_ok()
    store.write_error, store.write_failing_since = "[Errno 28] No space left on device", time.time() - 30
    await _beat(liveness)
    healthy, line = read_health(tmp_path)
    assert not healthy and "the store cannot write for 30 s" in line and "No space left" in line
    assert _received(notify) == ["WATCHDOG=1"]  # a restart cannot free space; the bot heals when it can write
    store.write_error = store.write_failing_since = None
    await _beat(liveness)
    assert read_health(tmp_path)[0]


def test_health_says_not_running_for_a_dead_pid_and_stuck_for_an_old_heartbeat(tmp_path: Path) -> None:
    assert read_health(tmp_path)[1].endswith("the bot is not running (or has not started yet)")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    data = {"pid": int(dead.stdout), "heartbeat_at": time.time(), "status": "ok", "problems": []}
    (tmp_path / HEALTH_FILE).write_text(json.dumps(data))
    healthy, line = read_health(tmp_path)
    assert not healthy and line.startswith("not running")
    data |= {"pid": os.getpid(), "heartbeat_at": time.time() - HEARTBEAT_STALE_AFTER - 1}
    (tmp_path / HEALTH_FILE).write_text(json.dumps(data))
    healthy, line = read_health(tmp_path)
    assert not healthy and line.startswith("stuck")


def test_the_heartbeat_follows_systemds_watchdog_timeout() -> None:
    assert heartbeat_interval({}) == 10.0
    assert heartbeat_interval({"WATCHDOG_USEC": "6000000"}) == 3.0
    assert heartbeat_interval({"WATCHDOG_USEC": "6000000", "WATCHDOG_PID": "1"}) == 10.0  # meant for another
