"""Who is the active process: a lease row in PostgreSQL, renewed by a heartbeat, with a fencing epoch.

Two or more ``servicebot run`` processes share one PostgreSQL database; exactly one is active (polls or
takes the webhook, runs the jobs, handles the inbox), the others wait (docs/storage.md, "Hot standby").

Why a lease row and not a session advisory lock
-----------------------------------------------
``pg_try_advisory_lock`` is held by a database session: it goes the moment the server sees the session
end, which for a kill -9 is at once, but for a network cut or a machine that is gone is only when the
server's TCP keepalive gives up (``tcp_keepalives_idle``, two hours with Linux's defaults) — the standby
would wait that long. It also cannot pass through a pooler in transaction mode (PgBouncer), and it fences
nothing: a process that lost its session may still hold a transaction open on another connection. A lease
row is time-based on the database's own clock (``now()``/``clock_timestamp()``, so the machines' clocks
need not agree), is the same through any pooler, and carries the fencing token for free:

- ``servicebot_lease(name, holder, epoch, expires_at)``: one row. :meth:`Lease.acquire` takes it when
  ``expires_at`` has passed and bumps ``epoch``; :meth:`Lease.renew` pushes ``expires_at`` on (only for
  the current holder and epoch, only before it expired: once expired it is lost, even if nobody took it).
- Fencing: every write transaction of the store starts with :func:`fence` — ``SELECT … FOR SHARE`` of the
  row, checking holder, epoch and expiry with ``clock_timestamp()``. A process whose lease expired or was
  taken has every write refused (:class:`Fenced`). The row lock orders the two: a takeover's ``UPDATE``
  waits until the writes already checked have committed, and a write after it sees the new epoch. So
  there are never two writers, whatever the processes believe.
- A holder that cannot renew stops itself before the database would expire it (it counts from the moment
  it *sent* its last successful renewal, so its own view is never later than the server's), and so does
  not poll Telegram (a second poller gets 409) or send a digest part while another process is active.

The cost is the failover time: the standby takes over once the lease has run out, ``ttl`` seconds after
the active's last renewal at worst (a stopping process releases it at once, see :meth:`Lease.release`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.store.errors import StoreError

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_TTL", "Fenced", "Lease", "LeaseKeeper", "LeaseState", "connect", "ensure_schema", "fence"]

TABLE = "servicebot_lease"

#: seconds a lease lasts without renewal (the failover time at worst, plus the standby's start)
DEFAULT_TTL = 10.0

#: a fenced transaction left idle this long is ended by the server, releasing the row for a takeover
IDLE_IN_TRANSACTION_MS = 5000

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    name        text PRIMARY KEY,
    holder      text,
    epoch       bigint NOT NULL DEFAULT 0,
    expires_at  timestamptz NOT NULL DEFAULT '-infinity',
    acquired_at timestamptz
)"""

#: two processes creating the table at once would race on the catalog: one at a time
_SCHEMA_LOCK = 0x5E5B_0715


class Fenced(StoreError):
    """A write by a process that is not (or no longer) the lease holder: refused."""


@dataclass(frozen=True)
class LeaseState:
    """The row as the database has it."""

    holder: str | None
    epoch: int
    expires_in: float  # seconds from the database's now; negative once expired


def ensure_schema(conn: Any) -> None:
    """Create the lease table if missing (idempotent, safe from several processes at once)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        conn.execute(_SCHEMA)


def fence(cur: Any, name: str, holder: str, epoch: int) -> None:
    """Inside a write transaction, first: refuse it (:class:`Fenced`) unless we hold the lease now.

    ``cur`` is a psycopg cursor or connection (both have ``execute``).

    ``FOR SHARE`` keeps a takeover waiting until this transaction ends; ``SET LOCAL`` has the server end
    it if it is left idle (a process cut off mid-transaction), so the wait is bounded.
    """
    cur.execute(f"SET LOCAL idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_MS}")
    found = cur.execute(
        f"SELECT 1 FROM {TABLE} WHERE name = %s AND holder = %s AND epoch = %s "
        "AND expires_at > clock_timestamp() FOR SHARE",
        (name, holder, epoch),
    ).fetchone()
    if found is None:
        raise Fenced(
            f"this process no longer holds the lease {name!r} (epoch {epoch}): another one is active "
            "or the lease expired, so the write is refused"
        )


def connect(dsn: str) -> Any:
    """A connection for the lease: autocommit, and a cut network noticed within seconds, not hours
    (libpq's ``tcp_user_timeout`` and keepalives; https://www.postgresql.org/docs/current/libpq-connect.html)."""
    import psycopg

    return psycopg.connect(
        dsn, autocommit=True, connect_timeout=3, tcp_user_timeout=3000,
        keepalives=1, keepalives_idle=2, keepalives_interval=1, keepalives_count=2,
    )


def _holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """One process's view of the lease: acquire, renew, release, and the fence for its writes.

    ``connect`` makes a psycopg connection (autocommit); the lease keeps one of its own, apart from the
    store's, so a long store transaction never delays a renewal.
    """

    def __init__(
        self, connect: Callable[[], Any], *, name: str = "active", ttl: float = DEFAULT_TTL,
        holder: str | None = None,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"lease ttl must be positive, got {ttl}")
        self._connect = connect
        self.name = name
        self.ttl = ttl
        self.holder = holder or _holder_id()
        #: the epoch we hold, None when we hold nothing
        self.epoch: int | None = None
        #: time.monotonic() when the last successful acquire/renew was sent
        self.renewed_at = 0.0
        self._conn: Any = None
        self._mutex = threading.Lock()

    # -- the connection ----------------------------------------------------------------------------

    def _db(self) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
            self._conn.autocommit = True
            ensure_schema(self._conn)
            self._conn.execute(
                f"INSERT INTO {TABLE} (name) VALUES (%s) ON CONFLICT (name) DO NOTHING", (self.name,)
            )
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to release
                conn.close()

    def _run(self, sql: str, params: tuple[Any, ...]) -> Any:
        try:
            return self._db().execute(sql, params).fetchone()
        except Exception:
            self._drop_connection()  # the next call reconnects
            raise

    # -- the lease ---------------------------------------------------------------------------------

    def acquire(self) -> bool:
        """Take the lease if it is free or expired (one try); True if we hold it now."""
        with self._mutex:
            sent = time.monotonic()
            row = self._run(
                f"UPDATE {TABLE} SET holder = %s, epoch = epoch + 1, acquired_at = clock_timestamp(), "
                "expires_at = clock_timestamp() + make_interval(secs => %s) "
                "WHERE name = %s AND expires_at <= clock_timestamp() RETURNING epoch",
                (self.holder, self.ttl, self.name),
            )
            if row is None:
                return False
            self.epoch = int(row[0])
            self.renewed_at = sent
            log.info("lease %s: taken, epoch %d (holder %s)", self.name, self.epoch, self.holder)
            return True

    def renew(self) -> bool:
        """Push the expiry on; False (and we hold nothing) if the lease expired or was taken meanwhile.

        Raises on a database error (the caller retries until :meth:`valid_for` runs out).
        """
        with self._mutex:
            if self.epoch is None:
                return False
            sent = time.monotonic()
            row = self._run(
                f"UPDATE {TABLE} SET expires_at = clock_timestamp() + make_interval(secs => %s) "
                "WHERE name = %s AND holder = %s AND epoch = %s AND expires_at > clock_timestamp() "
                "RETURNING epoch",
                (self.ttl, self.name, self.holder, self.epoch),
            )
            if row is None:
                log.error("lease %s: lost (epoch %d expired or was taken)", self.name, self.epoch)
                self.epoch = None
                return False
            self.renewed_at = sent
            return True

    def valid_for(self) -> float:
        """Seconds our lease surely still runs by the database's clock (0 when we hold none)."""
        if self.epoch is None:
            return 0.0
        return max(0.0, self.ttl - (time.monotonic() - self.renewed_at))

    def release(self) -> None:
        """Give the lease up at once (a clean stop), so a standby need not wait for it to expire."""
        if not self._mutex.acquire(timeout=2):  # a renewal hangs on a cut network: it expires by itself
            self.epoch = None
            return
        try:
            if self.epoch is None:
                self._drop_connection()
                return
            epoch, self.epoch = self.epoch, None
            try:
                self._run(
                    f"UPDATE {TABLE} SET expires_at = clock_timestamp() "
                    "WHERE name = %s AND holder = %s AND epoch = %s RETURNING epoch",
                    (self.name, self.holder, epoch),
                )
                log.info("lease %s: released (epoch %d)", self.name, epoch)
            except Exception as exc:  # it expires by itself
                log.warning("lease %s: could not release (it expires in %.0f s): %s", self.name, self.ttl, exc)
            self._drop_connection()
        finally:
            self._mutex.release()

    def state(self) -> LeaseState:
        """The row as it is now."""
        with self._mutex:
            row = self._run(
                f"SELECT holder, epoch, EXTRACT(EPOCH FROM expires_at - clock_timestamp()) FROM {TABLE} "
                "WHERE name = %s",
                (self.name,),
            )
        if row is None:
            return LeaseState(None, 0, float("-inf"))
        expires_in = float(row[2]) if row[2] is not None else float("-inf")
        return LeaseState(row[0], int(row[1]), expires_in)

    def fence(self, cur: Any) -> None:
        """:func:`fence` with our holder and epoch; refuses everything once we hold none."""
        epoch = self.epoch
        if epoch is None:
            raise Fenced(f"this process does not hold the lease {self.name!r}: the write is refused")
        fence(cur, self.name, self.holder, epoch)


class LeaseKeeper:
    """A thread that renews the lease every ``ttl / 4`` s and calls ``on_lost`` once when it cannot.

    Lost means the database said so (expired or taken) or no renewal got through for long enough that the
    database may expire it: :meth:`Lease.valid_for` below ``margin`` seconds. The thread is apart from
    the event loop, so a busy or blocked loop does not delay the verdict.
    """

    def __init__(self, lease: Lease, on_lost: Callable[[str], None], *, margin: float | None = None) -> None:
        self.lease = lease
        self._on_lost = on_lost
        self._every = lease.ttl / 4
        self._margin = margin if margin is not None else lease.ttl / 4
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)
        self.lost: str | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=self.lease.ttl)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            outcome = self._renew_within(self.lease.valid_for() - self._margin)
            if outcome is False:
                self._lose("the lease expired or another process took it")
                return
            if outcome is None or self.lease.valid_for() < self._margin:
                self.lease.epoch = None  # our own writes are refused from now on, too
                self._lose("the database could not be reached to renew the lease in time")
                return

    def _renew_within(self, seconds: float) -> bool | None:
        """Renew, waiting at most ``seconds`` (a cut network may hang the call): True, False (lost), or
        None when no answer came in time; a database error is retried until then."""
        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            answer: list[bool | BaseException] = []
            worker = threading.Thread(target=self._renew_into, args=(answer,), name="lease-renew", daemon=True)
            worker.start()
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
            if not answer:
                return None
            if isinstance(answer[0], bool):
                return answer[0]
            log.warning("lease %s: renewal failed (%.1f s left): %s", self.lease.name, self.lease.valid_for(),
                        answer[0])
            if self._stop.wait(min(0.5, max(0.0, deadline - time.monotonic()))) or time.monotonic() >= deadline:
                return None if not self._stop.is_set() else True

    def _renew_into(self, answer: list[bool | BaseException]) -> None:
        try:
            answer.append(self.lease.renew())
        except Exception as exc:
            answer.append(exc)

    def _lose(self, why: str) -> None:
        if self.lost is None:
            self.lost = why
            log.error("lease %s: lost: %s; this process stops being active", self.lease.name, why)
            self._on_lost(why)
