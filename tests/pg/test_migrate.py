"""`servicebot store migrate --from DIR --to postgres`, as users type it (a real subprocess, a real journal
store, the session's PostgreSQL): every document copied and verified, ids go on where they left off, a
database holding anything is refused, a copy that does not read back equal is rolled back."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from bot.config import DEFAULT_TZ as SHANGHAI
from bot.store import Store
from bot.store.inbox import Inbox
from bot.store.migrate import checksums
from bot.store.pg import PgStore
from bot.store.tickets import TicketStore
from bot.tickets.model import Status, Ticket
from tests.config.test_cli import ROOT, shipped_config

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)


def servicebot(*args: str, dsn: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "DATABASE_URL": dsn}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env=env)


def _journal(directory: Path, tickets: int = 30) -> dict[str, dict[int, object]]:
    """A journal store with tickets (some closed), an inbox, a removed document; returns its documents."""
    with Store.open(directory) as store:
        repo = TicketStore(store)
        for n in range(1, tickets + 1):
            t = Ticket(n, -1001001, 100 + n, 5000 + n % 7, "刘", f"问题{n}：孩子上学要什么材料", "education",
                       T0, T0 + timedelta(hours=2), T0 + timedelta(days=2))
            if n % 3 == 0:
                t.status = Status.CLOSED
                t.closed_at = T0 + timedelta(hours=1)
            repo.add(t)
        Inbox(store).add_many([(901, {"update_id": 901, "message": {"message_id": 7, "chat": {"id": -1}}})])
        audit = store.table("audit")
        audit.insert_multiple([{"event": "opened", "n": i} for i in range(5)])
        audit.remove(doc_ids=[5])  # the next id must stay 6, as on the journal store
        return {name: {d.doc_id: dict(d) for d in store.table(name).all()} for name in store.tables()}


def test_migrate_copies_every_document_verified_and_ids_go_on(tmp_path: Path, pg_dsn: str) -> None:
    want = _journal(tmp_path / "data")
    config = shipped_config(tmp_path)
    done = servicebot("store", "migrate", "--from", str(tmp_path / "data"), "--to", "postgres",
                      "--config", str(config), dsn=pg_dsn)
    assert done.returncode == 0, done.stderr
    _, total = checksums(want)
    assert f"copied {sum(len(d) for d in want.values())} documents in {len(want)} tables" in done.stdout
    assert f"checksum {total}" in done.stdout
    assert "  tickets: 30" in done.stdout
    with PgStore.connect(pg_dsn) as store:
        got = {name: {d.doc_id: dict(d) for d in store.table(name).all()} for name in store.tables()}
        assert got == want
        assert TicketStore(store).next_number() == 31
        assert [t.number for t in TicketStore(store).active()] == [n for n in range(1, 31) if n % 3]
        assert store.table("audit").insert({"event": "after"}) == 6  # id 5 was removed, never reused
        assert [u for u, _ in Inbox(store).pending()] == [901]
    # the journal store is untouched and still opens
    with Store.open(tmp_path / "data") as journal:
        assert len(journal.table("tickets")) == 30


def test_migrate_refuses_a_database_holding_anything(tmp_path: Path, pg_dsn: str) -> None:
    _journal(tmp_path / "data", tickets=3)
    with PgStore.connect(pg_dsn) as store:
        store.table("meta").insert({"name": "first_run", "value": "2026-11-01"})
    config = shipped_config(tmp_path)
    done = servicebot("store", "migrate", "--from", str(tmp_path / "data"), "--to", "postgres",
                      "--config", str(config), dsn=pg_dsn)
    assert done.returncode == 2
    assert "already holds data ({'meta': 1})" in done.stderr and "never overwrites" in done.stderr
    with PgStore.connect(pg_dsn) as store:
        assert store.counts() == {"meta": 1}


def test_migrate_refuses_a_store_the_bot_still_owns(tmp_path: Path, pg_dsn: str) -> None:
    _journal(tmp_path / "data", tickets=2)
    config = shipped_config(tmp_path)
    with Store.open(tmp_path / "data"):  # the running bot
        done = servicebot("store", "migrate", "--from", str(tmp_path / "data"), "--to", "postgres",
                          "--config", str(config), dsn=pg_dsn)
    assert done.returncode == 2 and "stop the bot first" in done.stderr
    with PgStore.connect(pg_dsn) as store:
        assert store.counts() == {}


def test_a_copy_that_does_not_read_back_equal_is_rolled_back(tmp_path: Path, pg_dsn: str) -> None:
    """PostgreSQL's numeric keeps 1e20 as the integer 100000000000000000000: not the same JSON, so the
    checksum differs, and nothing is left in the database."""
    with Store.open(tmp_path / "data") as store:
        store.table("feeds").insert({"url": "https://example.org/rss", "size": 1e20})
        store.table("tickets").insert({"number": 1})
    config = shipped_config(tmp_path)
    done = servicebot("store", "migrate", "--from", str(tmp_path / "data"), "--to", "postgres",
                      "--config", str(config), dsn=pg_dsn)
    assert done.returncode == 2
    assert "verification failed: 1 documents differ after the copy (feeds #1)" in done.stderr
    with PgStore.connect(pg_dsn) as store:
        assert store.counts() == {}


def test_the_dsn_variable_must_be_set(tmp_path: Path) -> None:
    _journal(tmp_path / "data", tickets=1)
    config = shipped_config(tmp_path, **{"store.dsn_env": "SERVICEBOT_TEST_NO_SUCH_DSN"})
    done = servicebot("store", "migrate", "--from", str(tmp_path / "data"), "--to", "postgres",
                      "--config", str(config), dsn="")
    assert done.returncode == 2
    assert "environment: SERVICEBOT_TEST_NO_SUCH_DSN is not set" in done.stderr


def test_the_configured_store_is_the_one_commands_use(tmp_path: Path, pg_dsn: str) -> None:
    """`servicebot tickets` reads the PostgreSQL store when config says store.kind: postgres."""
    _journal(tmp_path / "data", tickets=4)
    config = shipped_config(tmp_path, **{"store.kind": "postgres"})
    assert servicebot("store", "migrate", "--from", str(tmp_path / "data"), "--to", "postgres",
                      "--config", str(config), dsn=pg_dsn).returncode == 0
    (tmp_path / "data").rename(tmp_path / "old")  # no journal store any more: only the database has them
    listed = servicebot("tickets", "--status", "all", "--json", "--config", str(config), dsn=pg_dsn)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count('"number"') == 4
