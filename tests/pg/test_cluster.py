"""The suite's PostgreSQL (tests/pgcluster.py) is a real server: a database per test, TCP on 127.0.0.1."""

from __future__ import annotations

import psycopg

from tests.pgcluster import PgCluster


def test_each_test_gets_an_empty_database_of_its_own(postgres: PgCluster, pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("CREATE TABLE t (v jsonb)")
        conn.execute("INSERT INTO t VALUES (%s::jsonb)", ['{"a": 1}'])
        assert conn.execute("SELECT v->>'a' FROM t").fetchone() == ("1",)
        assert conn.execute("SELECT inet_server_addr()::text").fetchone() == ("127.0.0.1/32",)
    other = postgres.create_database()
    try:
        with psycopg.connect(other) as conn:
            tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
            assert tables == (0,)
    finally:
        postgres.drop_database(other)
