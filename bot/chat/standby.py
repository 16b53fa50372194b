"""``servicebot run`` on PostgreSQL: wait as a standby until this process holds the lease, then be active.

Any number of processes (on one machine or several) run the same config against one database. Each one
connects, then tries the lease (bot/store/lease.py) every :data:`TRY_EVERY` seconds; the one that holds it
builds the application and runs it exactly as a single bot does — polls (or sets the webhook), runs the
jobs, replays the inbox at start — while a keeper thread renews the lease. The others do nothing else: no
getUpdates (Telegram would answer 409 to a second poller), no jobs, no sends.

- The active process dies (kill -9, machine gone): its lease runs out after ``store.lease_seconds`` and
  a standby takes over, catching up as any restarted bot does (missed digest parts from the ledger, kept
  questions from the inbox).
- It is cut off from the database: it cannot renew, so it stops itself before the lease runs out
  (SIGTERM to itself, a hard exit if that hangs) and exits 1; systemd's ``Restart=always`` starts it
  again, as a standby. Whatever it still tries to write is refused by the fence (every write transaction
  checks holder and epoch), so it can never write over the new active process's work.
- A clean stop (SIGTERM) releases the lease, so a standby takes over at once.

In webhook mode a standby also serves the webhook endpoint while it waits (bot/chat/webhook.py,
:class:`~bot.chat.webhook.StandbyEndpoint`): whatever the load balancer sends it is kept in the inbox —
the one write the fence lets through without the lease (``store.fence_exempt``) — and the active process
handles it. Once active, the process brings up its own endpoint on the same port and closes the standby's.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from bot.chat.liveness import sd_notify
from bot.config import Config
from bot.store import StoreError
from bot.store.inbox import TABLE as INBOX_TABLE
from bot.store.lease import Lease, LeaseKeeper
from bot.store.lease import connect as lease_connect

log = logging.getLogger(__name__)

#: seconds between a standby's tries for the lease
TRY_EVERY = 1.0

#: the one line ``servicebot run`` prints when it stopped because it lost the lease
LEASE_LOST = "lost the lease ({why}); another process is or will be active — start again to stand by"


#: ``serve(app, on_listening)``: run the bot; a webhook server calls ``on_listening`` once it listens
Serve = Callable[[Any, Callable[[], None] | None], None]


def run_on_postgres(
    config: Config, token: str, dsn: str, serve: Serve, *, webhook: dict[str, Any] | None = None
) -> int:
    """Stand by, then run the bot with ``serve(app, …)`` while holding the lease; the exit status.

    ``webhook`` (listen, port, url_path, secret): webhook mode, where the standby serves the endpoint too."""
    from bot.chat.app import build_application
    from bot.store.pg import PgStore

    try:
        store = PgStore.connect(dsn)
    except StoreError as exc:
        print(f"store: {exc}", file=sys.stderr)
        return 2
    lease = Lease(lambda: lease_connect(dsn), ttl=config.store.lease_seconds)
    store.fence = lease.fence  # every write of this process is refused unless it holds the lease
    store.fence_exempt = frozenset({INBOX_TABLE})  # but a webhook endpoint's inbox insert (bot/store/pg.py)
    endpoint = None
    try:
        if webhook is not None:
            endpoint = _standby_endpoint(config, token, store, webhook)
        if not _wait_for_lease(lease):
            return 0
        lost: list[str] = []
        keeper = LeaseKeeper(lease, lambda why: _stop_now(lost, why, lease.ttl))
        keeper.start()
        try:
            app = build_application(config, token, store=store)
            # data_dir keeps this machine's own files with PostgreSQL: health.json, the control socket
            config.data_dir.mkdir(parents=True, exist_ok=True)
            liveness = getattr(app.bot, "liveness", None)
            if liveness is not None:
                liveness.health_dir = config.data_dir
            # once the active server listens (on the same port), the standby's endpoint closes; not waited
            # for there (the event loop is the active one's), but below
            serve(app, (lambda: endpoint.stop(timeout=0)) if endpoint is not None else None)
        finally:
            if endpoint is not None:
                endpoint.stop()
            keeper.stop()
            lease.release()
        if lost:
            print(f"servicebot run: {LEASE_LOST.format(why=lost[0])}", file=sys.stderr)
            return 1
        fatal = getattr(app.bot, "fatal", None)
        if fatal:
            print(f"servicebot run: {fatal}", file=sys.stderr)
            return 1
        return 0
    finally:
        if endpoint is not None:
            endpoint.stop()
        lease.release()
        store.close()


def _standby_endpoint(config: Config, token: str, store: Any, webhook: dict[str, Any]) -> Any:
    """The webhook endpoint this process serves while it stands by (started; see the module docstring)."""
    from bot.chat.app import build_application
    from bot.chat.webhook import StandbyEndpoint

    receiving = build_application(config, token, store=store, standby=True)
    endpoint = StandbyEndpoint(receiving, **webhook)
    endpoint.start()
    return endpoint


def _wait_for_lease(lease: Lease) -> bool:
    """Try the lease until we hold it (True) or SIGINT/SIGTERM came first (False)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    said = 0.0
    # systemd (Type=notify): a standby is started and well, so READY=1 now and WATCHDOG=1 while it waits;
    # the active process's heartbeat takes over once it holds the lease (bot/chat/liveness.py)
    sd_notify(f"READY=1\nSTATUS=standby: waiting for the lease\nMAINPID={os.getpid()}")
    try:
        while not stop.is_set():
            sd_notify("WATCHDOG=1")
            try:
                if lease.acquire():
                    log.info("standby: this process is active now (lease epoch %s)", lease.epoch)
                    return True
                if time.monotonic() - said > 60:  # once a minute, not every try
                    state = lease.state()
                    log.info("standby: waiting; %s is active (lease runs %.0f s more unless renewed)",
                             state.holder, max(0.0, state.expires_in))
                    said = time.monotonic()
            except Exception as exc:  # the database is away: keep trying, it may come back
                log.warning("standby: cannot reach the database for the lease: %s", exc)
            stop.wait(TRY_EVERY)
        return False
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_now(lost: list[str], why: str, ttl: float) -> None:
    """The lease is lost (keeper thread): stop as on SIGTERM, and exit hard if that takes too long."""
    lost.append(why)
    os.kill(os.getpid(), signal.SIGTERM)
    timer = threading.Timer(ttl, _hard_exit, args=(why,))
    timer.daemon = True
    timer.start()


def _hard_exit(why: str) -> None:
    log.error("standby: the stop after losing the lease hangs; exiting now")
    print(f"servicebot run: {LEASE_LOST.format(why=why)}", file=sys.stderr, flush=True)
    os._exit(1)
