"""Footprint of `servicebot run`: RSS when idle (empty store; 100k tickets), peak RSS at start, and time
to ready, ours vs the code before the footprint work, in one run.

Each side is a real `python -m bot run` process long-polling the sandbox (in this process, flood control
off). "Ready" is the time from spawning the process to the bot's answer to a /help that was waiting in
the sandbox when it started. "Idle" is VmRSS a few seconds after that answer, nobody asking anything;
"peak" is VmHWM then (the high-water mark of start-up). "CPU to ready" is the process's user+system time
at that answer: on a loaded machine (2 cores shared by many) the wall-clock time to ready mostly measures
the queue for a core, the CPU time what start-up costs. Both checkouts are byte-compiled first, as an
install is. The 100k store is written by each side's own
code (bench/bench_intake.py's closed tickets, as a snapshot), so each reads its own format.

The peer is :data:`BASELINE` (the commit before issue 11's footprint work), checked out into a temporary
`git worktree` for the run and removed afterwards; it runs with this checkout's virtualenv. Goals
(issue 11): idle <= 100 MB empty, <= 250 MB with 100k tickets, ready <= 3 s with 100k; and peak <= 300 MB
with 100k (the store's own open peaks ~215 MB there: a start-up pass that decodes every ticket at once
adds ~220 MB, which a 512 MB VM does not survive; 300 MB shows such a pass, with headroom for noise).

Note: in a development virtualenv httpx imports its command-line extras (rich, click, pygments: ~7 MB)
because import-linter and pytest installed them; a production install (no ``[dev]``) has not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bench.common import Result
from sandbox import GROUP_ID
from sandbox.server import SandboxThread

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "64a355e2af078b0d33490645e2b48b1d811c6b99"
TICKETS = 100_000
TOKEN = "123456:BENCH-footprint"
IDLE_SECONDS = 4.0
READY_TIMEOUT = 180.0
TZ = ZoneInfo("Asia/Shanghai")

# run inside a checkout (its own code): write a snapshot of `n` closed tickets into `data_dir`
MAKE_STORE = """
import sys
from pathlib import Path
from bench.bench_intake import _docs
from bot.store.journal import TableState, write_snapshot
data_dir, n = Path(sys.argv[1]), int(sys.argv[2])
data_dir.mkdir(parents=True)
docs = _docs(n)
tables = {"tickets": TableState(docs, n + 1), "tickets_meta": TableState({1: {"next": n + 1}}, 2)}
try:  # as a running store's compaction writes it: with the indexes the desk declares (this side's code)
    from bot.store.tickets import TicketStore
    from bot.store import Store
    fields = {"tickets": TicketStore(Store.in_memory())._t.indexes}
    write_snapshot(data_dir, 1, tables, index_fields=fields)
except TypeError:  # code from before indexes were written with snapshots
    write_snapshot(data_dir, 1, tables)
"""


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time ``pid`` has used so far (what the machine's load does not stretch)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MB."""
    fields: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def _config(checkout: Path, data_dir: Path, api_base: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((checkout / "config.yaml").read_text(encoding="utf-8"))
    data["data_dir"] = str(data_dir)
    data["content_dir"] = str(checkout / "content")
    data["telegram"]["base_url"] = api_base
    data["digests"]["catch_up_minutes"] = 0
    now = datetime.now(TZ)
    # no slot falls inside the measurement, and no source could reach the internet anyway
    data["digests"]["morning"]["time"] = (now + timedelta(hours=6)).strftime("%H:%M")
    data["digests"]["tea"]["time"] = (now + timedelta(hours=7)).strftime("%H:%M")
    for source in data.get("sources", []):
        source["url"] = "http://127.0.0.1:9/" + source["name"]
    return data


def _answered(sb: SandboxThread) -> bool:
    return any("/ask" in (m.get("plain_text") or "") for m in sb.messages(GROUP_ID) if m["sender_id"] == 9000)


def measure(checkout: Path, tickets: int, tmp: Path) -> tuple[float, float, float, float]:
    """(seconds to ready, idle RSS MB, peak RSS MB, CPU seconds to ready) of `servicebot run` from
    ``checkout``."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    data_dir = tmp / "data"
    if tickets:
        subprocess.run([sys.executable, "-c", MAKE_STORE, str(data_dir), str(tickets)], cwd=checkout, env=env,
                       check=True, timeout=600)
    with SandboxThread(flood=False) as sb:
        config = tmp / "config.yaml"
        config.write_text(yaml.safe_dump(_config(checkout, data_dir, sb.api_base), allow_unicode=True),
                          encoding="utf-8")
        log = tmp / "bot.log"
        sb.send_user_message(101, GROUP_ID, "/help@servicebot")
        started = time.monotonic()
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=checkout,
                                    env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            while not _answered(sb):
                if proc.poll() is not None or time.monotonic() - started > READY_TIMEOUT:
                    tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
                    raise RuntimeError(f"{checkout}: the bot did not answer /help:\n{tail}")
                time.sleep(0.01)
            ready = time.monotonic() - started
            cpu = _cpu_seconds(proc.pid)
            time.sleep(IDLE_SECONDS)
            idle, peak = _memory(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return ready, idle, peak, cpu


def _compiled(checkout: Path) -> None:
    """Byte-compile the checkout's code, as an install does: with PYTHONDONTWRITEBYTECODE set (as here),
    each start would compile every module from source again, which no deployed bot does."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "bot", "digests"], cwd=checkout, check=False,
                   timeout=300, stdout=subprocess.DEVNULL)


def _baseline(tmp: Path) -> Path:
    where = tmp / "baseline"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(where), BASELINE],
                   check=True, timeout=120)
    return where


def run() -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="bench-footprint-") as name:
        tmp = Path(name)
        base = _baseline(tmp)
        try:
            figures: dict[tuple[str, int], tuple[float, float, float, float]] = {}
            for side, checkout in (("ours", ROOT), ("base", base)):
                _compiled(checkout)
                for tickets in (0, TICKETS):
                    work = tmp / f"{side}-{tickets}"
                    work.mkdir()
                    figures[side, tickets] = measure(checkout, tickets, work)
                    got = figures[side, tickets]
                    print(f"  {side:4s} {tickets:>6} tickets: ready {got[0]:.2f} s ({got[3]:.2f} s CPU), "
                          f"idle {got[1]:.0f} MB, peak {got[2]:.0f} MB", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False,
                           timeout=120)
    label = f"{TICKETS // 1000}k"
    ours, base_ = (lambda n: figures["ours", n]), (lambda n: figures["base", n])
    return [
        Result.time("servicebot run: idle RSS, empty store (goal <= 100) vs before", ours(0)[1], base_(0)[1], "MB"),
        Result.time(f"servicebot run: idle RSS, {label} tickets (goal <= 250) vs before", ours(TICKETS)[1],
                    base_(TICKETS)[1], "MB"),
        Result.time(f"servicebot run: peak RSS at start, {label} tickets (goal <= 300) vs before", ours(TICKETS)[2],
                    base_(TICKETS)[2], "MB"),
        Result.time("servicebot run: time to ready, empty store vs before", ours(0)[0], base_(0)[0], "s"),
        Result.time(f"servicebot run: time to ready, {label} tickets (goal <= 3) vs before", ours(TICKETS)[0],
                    base_(TICKETS)[0], "s"),
        Result.time("servicebot run: CPU time to ready, empty store vs before", ours(0)[3], base_(0)[3], "s"),
        Result.time(f"servicebot run: CPU time to ready, {label} tickets vs before (the machine's load does not "
                    "stretch it)", ours(TICKETS)[3], base_(TICKETS)[3], "s"),
    ]
