"""What only the PostgreSQL store has: a database error dooms the batch, schema versions, read-only,
another process's writes seen at once. (The behaviour both stores share is the contract suite.)"""

from __future__ import annotations

import psycopg
import pytest
from tinydb.table import Document

from bot.store import StoreError
from bot.store.errors import StoreFormatError
from bot.store.inbox import Inbox
from bot.store.pg import SCHEMA_VERSION, PgStore


def test_a_database_error_inside_a_batch_commits_nothing_of_it(pg_dsn: str) -> None:
    with PgStore.connect(pg_dsn) as store:
        t = store.table("t")
        t.insert({"n": 1})
        with pytest.raises(StoreError, match="a write of this batch failed"), store.batch():
            t.insert({"n": 2})
            with pytest.raises(StoreError, match="documents_id_check"):
                t.insert(Document({"n": 3}, doc_id=-1))  # the schema's CHECK (id >= 0) refuses it
            with pytest.raises(StoreError, match="an earlier write of this batch failed"):
                t.insert({"n": 4})
        assert [d["n"] for d in t.all()] == [1]
        assert t.insert({"n": 5}) == 2  # the store goes on; the batch's id 2 was never committed


def test_schema_is_migrated_once_and_a_newer_one_is_refused(pg_dsn: str) -> None:
    with PgStore.connect(pg_dsn) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.migrate() == []  # nothing left to apply
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, 'from_the_future')",
                     [SCHEMA_VERSION + 1])
    with pytest.raises(StoreFormatError, match=f"schema version {SCHEMA_VERSION + 1} was written by a newer"):
        PgStore.connect(pg_dsn)


def test_read_only_store_refuses_writes_and_an_unmigrated_database(postgres: object, pg_dsn: str) -> None:
    with pytest.raises(StoreError, match="run the bot once"):
        PgStore.connect(pg_dsn, read_only=True)
    with PgStore.connect(pg_dsn) as store:
        store.table("meta").insert({"name": "x", "value": 1})
    with PgStore.connect(pg_dsn, read_only=True) as reader:
        assert reader.table("meta", index=("name",)).find("name", "x")[0]["value"] == 1
        with pytest.raises(StoreError, match="opened read-only"):
            reader.table("meta").insert({"name": "y"})


def test_another_process_writes_are_seen_at_once(pg_dsn: str) -> None:
    """A webhook endpoint on another machine keeps an update; the active bot's inbox has it (no cache)."""
    with PgStore.connect(pg_dsn) as active, PgStore.connect(pg_dsn) as endpoint:
        inbox = Inbox(active)
        assert inbox.pending() == []
        Inbox(endpoint).add_many([(77, {"update_id": 77, "message": {"message_id": 1, "chat": {"id": -5}}})])
        assert [u for u, _ in inbox.pending()] == [77]


def test_an_unreachable_database_is_one_line_naming_it(postgres: object) -> None:
    from tests.pgcluster import free_port

    with pytest.raises(StoreError, match=r"PostgreSQL 127\.0\.0\.1:\d+/nowhere: cannot connect"):
        PgStore.connect(f"postgresql://servicebot:secret@127.0.0.1:{free_port()}/nowhere")
