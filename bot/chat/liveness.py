"""Is the bot alive *and working*? What a supervisor can read: systemd's watchdog, a health file, /healthz.

A process that is up but answers nothing is the worst state a service desk can be in, so "alive" here
means more than "the PID exists":

- the event loop turns: the heartbeat is a JobQueue job (:func:`on_heartbeat`), so a blocked loop or a
  dead scheduler stops it;
- no update has been in its handlers for more than :data:`STUCK_AFTER` (a handler hung on a call);
- in polling mode, getUpdates succeeded within :data:`FETCH_STALE_AFTER` (long polls return every 10 s);
- the store's durable writes work (``store.write_error``): while they fail (disk full, I/O error, read-only
  file system) the health file and /healthz say so, but the watchdog is still pinged: a restart cannot
  free space, every write is tried again, and the bot heals by itself once the disk takes writes (the
  ops chat is told when writes fail and when they work again: bot/chat/store_report.py).

The heartbeat (every :data:`HEARTBEAT_SECONDS`, or half of systemd's ``WatchdogSec=`` if shorter) then

- tells systemd ``READY=1`` once and ``WATCHDOG=1`` each time it is healthy (``Type=notify``; a pure-python
  sd_notify over ``$NOTIFY_SOCKET``: one datagram, no library needed). When the pings stop, systemd kills
  and restarts the bot;
- writes ``health.json`` next to the data directory's files (``servicebot health`` reads it: exit 0 when
  the heartbeat is fresh and healthy, 1 with one line saying what is wrong);
- in webhook mode, ``GET /healthz`` on the webhook server answers the same verdict (200 or 503).

What is written contains no token, no secret and no member's words: times, counts and error class names.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: how often the heartbeat runs (at most; shorter when systemd's watchdog asks for it)
HEARTBEAT_SECONDS = 10.0
#: an update in its handlers longer than this is a hung handler
STUCK_AFTER = 300.0
#: in polling mode, no successful getUpdates for this long is unhealthy (long polls return every ~10 s)
FETCH_STALE_AFTER = 120.0
#: ``servicebot health``: a heartbeat older than this means the bot is not running (or its loop is stuck)
HEARTBEAT_STALE_AFTER = 60.0
#: the health file, in the data directory
HEALTH_FILE = "health.json"


@dataclass
class Liveness:
    """What the bot's moving parts report; :meth:`verdict` says whether that is healthy."""

    mode: str = "polling"
    started: float = field(default_factory=time.time)
    last_fetch_ok: float | None = None
    fetch_error: str | None = None
    fetch_failing_since: float | None = None
    processing_since: float | None = None  # monotonic
    updates_handled: int = 0
    ready: bool = False
    health_dir: Path | None = None  # where health.json goes (the data directory), None: nowhere
    #: the store (anything with ``write_error`` and ``write_failing_since``), None: not watched
    store: Any = None

    def fetch_ok(self) -> None:
        self.last_fetch_ok = time.time()
        self.fetch_error = None
        self.fetch_failing_since = None

    def fetch_failed(self, error: str) -> None:
        self.fetch_error = error
        if self.fetch_failing_since is None:
            self.fetch_failing_since = time.time()

    def processing(self, busy: bool) -> None:
        if busy:
            self.processing_since = time.monotonic()
        else:
            self.processing_since = None
            self.updates_handled += 1

    def store_problem(self, now: float | None = None) -> str | None:
        """The store's writes failing, in one line (None while they work)."""
        error = getattr(self.store, "write_error", None)
        if error is None:
            return None
        now = time.time() if now is None else now
        since = getattr(self.store, "write_failing_since", None) or now
        return f"the store cannot write for {now - since:.0f} s ({error})"

    def problems(self, now: float | None = None, *, store: bool = True) -> list[str]:
        """What is wrong now (empty: healthy); ``store=False``: leave out the store's writes failing."""
        now = time.time() if now is None else now
        found: list[str] = []
        store_line = self.store_problem(now) if store else None
        if store_line is not None:
            found.append(store_line)
        if self.processing_since is not None and time.monotonic() - self.processing_since > STUCK_AFTER:
            found.append(f"one update has been in its handlers for {time.monotonic() - self.processing_since:.0f} s")
        if self.mode == "polling":
            since = self.last_fetch_ok or self.started
            if now - since > FETCH_STALE_AFTER:
                why = f" ({self.fetch_error})" if self.fetch_error else ""
                found.append(f"no successful getUpdates for {now - since:.0f} s{why}")
        return found

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        problems = self.problems(now)
        return {
            "status": "ok" if not problems else "unhealthy",
            "problems": problems,
            "pid": os.getpid(),
            "mode": self.mode,
            "heartbeat_at": now,
            "started_at": self.started,
            "last_fetch_ok_at": self.last_fetch_ok,
            "fetch_error": self.fetch_error,
            "updates_handled": self.updates_handled,
        }


# ---------------------------------------------------------------- systemd


def sd_notify(state: str) -> bool:
    """Send ``state`` (e.g. ``READY=1``) to systemd if it asked for notifications; False if not."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        log.warning("sd_notify %s failed: %s", state.split("=")[0], exc)
        return False
    return True


def heartbeat_interval(environ: dict[str, str] | None = None) -> float:
    """:data:`HEARTBEAT_SECONDS`, or half of systemd's watchdog timeout when that is shorter."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
        return max(0.5, min(HEARTBEAT_SECONDS, int(usec) / 1e6 / 2))
    return HEARTBEAT_SECONDS


# ---------------------------------------------------------------- the health file


def write_health(directory: Path, liveness: Liveness) -> dict[str, Any]:
    """Write ``health.json`` atomically; what was written."""
    data = liveness.snapshot()
    path = directory / HEALTH_FILE
    tmp = directory / (HEALTH_FILE + ".new")  # not *.tmp: the store reports leftover *.tmp files as its own
    try:
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # a full disk must not stop the heartbeat (the watchdog ping still goes out)
        log.warning("health file not written: %s", exc)
        with contextlib.suppress(OSError):
            tmp.unlink()
    return data


def stopping(liveness: Liveness) -> None:
    """The bot is stopping: tell systemd, and take the health file away (``health`` says "not running")."""
    sd_notify("STOPPING=1")
    if liveness.health_dir is not None:
        with contextlib.suppress(OSError):
            (liveness.health_dir / HEALTH_FILE).unlink()


def read_health(directory: Path, now: float | None = None) -> tuple[bool, str]:
    """``servicebot health``: (healthy, one line)."""
    now = time.time() if now is None else now
    path = directory / HEALTH_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pid, beat = int(data["pid"]), float(data["heartbeat_at"])
    except FileNotFoundError:
        return False, f"{path}: no health file: the bot is not running (or has not started yet)"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return False, f"{path}: unreadable ({exc})"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False, f"not running: process {pid} is gone (last heartbeat {now - beat:.0f} s ago)"
    except PermissionError:
        pass  # it exists, under another user
    if now - beat > HEARTBEAT_STALE_AFTER:
        return False, f"stuck: process {pid} has not sent a heartbeat for {now - beat:.0f} s"
    if data.get("status") != "ok":
        return False, "unhealthy: " + "; ".join(str(p) for p in data.get("problems") or ["?"])
    return True, (
        f"ok: process {pid}, {data.get('mode')}, up {now - float(data.get('started_at', beat)):.0f} s, "
        f"{data.get('updates_handled', 0)} update(s) handled, heartbeat {now - beat:.0f} s ago"
    )


# ---------------------------------------------------------------- the heartbeat job


async def on_heartbeat(context: Any) -> None:
    """JobQueue job: health file, READY=1 once, WATCHDOG=1 while healthy (see the module docstring)."""
    app = context.application
    liveness: Liveness | None = getattr(app.bot, "liveness", None)
    if liveness is None:
        return
    directory = liveness.health_dir
    data = write_health(directory, liveness) if directory is not None else liveness.snapshot()
    if not liveness.ready:
        liveness.ready = True
        sd_notify(f"READY=1\nSTATUS=answering ({liveness.mode})\nMAINPID={os.getpid()}")
    if data["status"] == "ok" or not liveness.problems(store=False):
        sd_notify("WATCHDOG=1")  # the store's writes failing alone: a restart would not help (see above)
    if data["status"] != "ok":
        pinged = " (the watchdog is still pinged: a restart would not help)" if not liveness.problems(store=False) else ""
        log.warning("unhealthy%s: %s", pinged or ", no watchdog ping", "; ".join(data["problems"]))


def schedule_heartbeat(app: Any) -> None:
    """The heartbeat every :func:`heartbeat_interval` seconds, the first at once."""
    if app.job_queue is None:
        return
    app.job_queue.run_repeating(
        on_heartbeat, interval=heartbeat_interval(), first=0, name="liveness:heartbeat"
    )
