"""The lease on a real PostgreSQL: one holder at a time, a fencing epoch, and a holder that stops itself.

Each test has a database of its own (fixture ``pg_dsn``, tests/pgcluster.py). Waits are for events the
database shows (a lease expired, a backend waiting on a lock), never for a fixed time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from bot.store import lease as lease_mod
from bot.store.lease import Fenced, Lease, LeaseKeeper, fence
from tests.netcut import NetCut


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def lease(dsn: str, ttl: float = 1.0) -> Lease:
    return Lease(lambda: lease_mod.connect(dsn), ttl=ttl)


def write(dsn: str, holder: Lease, value: str, *, epoch: int | None = None) -> None:
    """One fenced write transaction, as the store makes it."""
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS notes (v text)")
        conn.commit()
        with conn.transaction(), conn.cursor() as cur:
            if epoch is None:
                holder.fence(cur)
            else:
                fence(cur, holder.name, holder.holder, epoch)
            cur.execute("INSERT INTO notes VALUES (%s)", (value,))


def notes(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT v FROM notes ORDER BY v")]


def test_one_holder_at_a_time_and_the_old_holder_is_fenced_after_a_takeover(pg_dsn: str) -> None:
    a, b = lease(pg_dsn), lease(pg_dsn)
    assert a.acquire()
    assert not b.acquire()  # held and not expired
    write(pg_dsn, a, "a1")
    with pytest.raises(Fenced):
        write(pg_dsn, b, "b-before")  # b holds nothing
    first = a.epoch
    assert first is not None

    # a stops renewing (a kill -9): once the lease ran out, b takes it with the next epoch
    wait_for(lambda: b.state().expires_in < 0, "the lease to expire")
    with pytest.raises(Fenced):
        write(pg_dsn, a, "a-expired")  # expired: refused even before anyone took over
    assert b.acquire()
    assert b.epoch == first + 1
    assert not a.renew()  # a learns it lost
    with pytest.raises(Fenced):
        write(pg_dsn, a, "a-late", epoch=first)  # a write still carrying the old epoch: refused
    write(pg_dsn, b, "b1")
    assert notes(pg_dsn) == ["a1", "b1"]
    a.release(), b.release()


def test_a_release_hands_over_at_once(pg_dsn: str) -> None:
    a, b = lease(pg_dsn, ttl=60), lease(pg_dsn, ttl=60)
    assert a.acquire()
    assert not b.acquire()
    a.release()
    assert b.acquire()  # no 60 s wait
    b.release()


def test_a_takeover_waits_for_the_old_holders_write_in_flight(pg_dsn: str) -> None:
    """The row lock orders them: the write checked before the takeover commits before it."""
    a, b = lease(pg_dsn), lease(pg_dsn)
    assert a.acquire()
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("CREATE TABLE notes (v text)")
        conn.commit()
        tx = conn.transaction()
        tx.__enter__()
        cur = conn.cursor()
        a.fence(cur)
        cur.execute("INSERT INTO notes VALUES ('in flight')")
        wait_for(lambda: b.state().expires_in < 0, "the lease to expire")
        took: list[bool] = []
        taker = threading.Thread(target=lambda: took.append(b.acquire()))
        taker.start()
        with psycopg.connect(pg_dsn, autocommit=True) as watch:
            wait_for(lambda: watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone() == (1,), "the takeover to wait on the row lock")
        assert took == []
        tx.__exit__(None, None, None)  # the write commits ...
        taker.join(timeout=30)
        assert took == [True]  # ... and only then the takeover goes through
    assert notes(pg_dsn) == ["in flight"]
    b.release()


def test_the_keeper_renews_and_says_when_another_process_took_the_lease(pg_dsn: str) -> None:
    a = lease(pg_dsn, ttl=1.0)
    assert a.acquire()
    lost: list[str] = []
    keeper = LeaseKeeper(a, lost.append)
    keeper.start()
    try:
        # renewed past several ttls: still ours (wait for the database to show renewals, not for a time)
        first = a.renewed_at
        wait_for(lambda: a.renewed_at > first + 2 * a.ttl, "renewals over two lease lengths")
        assert lost == []
        write(pg_dsn, a, "still ours")
        with psycopg.connect(pg_dsn, autocommit=True) as conn:  # an operator (or a bug) takes it by force
            conn.execute("UPDATE servicebot_lease SET holder = 'intruder', epoch = epoch + 1")
        wait_for(lambda: bool(lost), "the keeper to notice")
        assert "another process" in lost[0]
        with pytest.raises(Fenced):
            write(pg_dsn, a, "after")
    finally:
        keeper.stop()


def test_cut_off_its_database_the_holder_stops_before_the_lease_runs_out(postgres: Any, pg_dsn: str) -> None:
    dbname = pg_dsn.rsplit("/", 1)[1]
    with NetCut(("127.0.0.1", postgres.port)) as net:
        proxied = f"postgresql://servicebot@127.0.0.1:{net.port}/{dbname}"
        a = lease(proxied, ttl=3.0)
        observer = lease(pg_dsn, ttl=3.0)
        assert a.acquire()
        verdicts: list[float] = []
        keeper = LeaseKeeper(a, lambda why: verdicts.append(observer.state().expires_in))
        keeper.start()
        try:
            wait_for(lambda: a.valid_for() > 0 and a.renewed_at > 0, "a first renewal")
            net.cut()
            wait_for(lambda: bool(verdicts), "the keeper to give up")
            # it gave up while the database still counted it as the holder: never two active
            assert verdicts[0] > 0, verdicts
            assert a.epoch is None
            wait_for(lambda: observer.state().expires_in < 0, "the lease to expire")
            assert observer.acquire()
            observer.release()
        finally:
            keeper.stop()


def test_the_postgres_store_refuses_every_write_once_its_process_lost_the_lease(pg_dsn: str) -> None:
    from bot.store import StoreError
    from bot.store.pg import PgStore

    a, b = lease(pg_dsn), lease(pg_dsn)
    with PgStore.connect(pg_dsn) as store:
        store.fence = a.fence
        notes_table = store.table("notes")
        with pytest.raises(Fenced):
            notes_table.insert({"v": "before the lease"})  # a standby writes nothing
        assert a.acquire()
        notes_table.insert({"v": "active"})
        with store.batch():
            notes_table.insert({"v": "batch 1"})
            notes_table.insert({"v": "batch 2"})
        wait_for(lambda: b.state().expires_in < 0, "the lease to expire")
        assert b.acquire()  # another process is active now
        with pytest.raises(StoreError):
            notes_table.insert({"v": "single write after the takeover"})
        with pytest.raises(StoreError), store.batch():
            notes_table.insert({"v": "batch after the takeover"})
        assert sorted(d["v"] for d in notes_table.all()) == ["active", "batch 1", "batch 2"]
    b.release()
