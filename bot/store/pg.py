"""The store on PostgreSQL (``store: {kind: postgres, dsn_env: DATABASE_URL}``): the same API as the journal
store (:class:`bot.store.Store` / :class:`bot.store.StoreTable`), so every repository (tickets, audit, ledger,
seen items, queue, health, inbox, digest parts, feed cache, meta, ...) runs on it unchanged, and one contract
suite (tests/store/contract) holds both stores to the same behaviour.

Schema (versioned migrations in bot/store/pg_migrations/NNNN_name.sql, applied in order at connect time
under an advisory lock; a database migrated by a newer servicebot is refused): table ``documents`` holds
every document as JSONB keyed by (table, id), ``store_tables`` each table's next id. ``find(field, value)``
uses an expression index on ``(tbl, (doc -> field)::text)``; the JSON text keeps 1, 1.0, true and "1"
apart, as the journal store's hash indexes do.

What maps to what:

- every public write call is one transaction, committed (WAL flushed: durable) before it returns;
  ``store.batch()`` is one transaction for all writes inside (nested batches: the outer one commits);
  a write that fails inside a batch is undone alone (a savepoint), as the journal store undoes it;
- ``store.unsynced()``: that transaction commits with ``synchronous_commit = off`` (in PostgreSQL at once,
  so a killed bot keeps it; only a crash of the database server within ~0.6 s can lose it);
- reads go to the database (nothing is cached), so another process's writes (a webhook taking the
  update, a standby) are seen at once. TinyDB queries (``Query().x == 1``) are Python functions: they are
  evaluated here over the table's documents, so repositories use ``find`` on indexed fields for anything
  on a hot path, as they already do;
- documents come back in id order; keys of a JSONB object come back in PostgreSQL's order, not insertion
  order. Strings may not hold U+0000 (PostgreSQL's text refuses it): such a write is refused with a
  StoreError saying so, and nothing is written.

One connection per store, used under the store's lock (the bot is one process with a few threads).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from importlib import resources
from typing import TYPE_CHECKING, Any, NoReturn, cast

from tinydb.queries import QueryLike
from tinydb.table import Document, Table

from bot.store.core import Store
from bot.store.errors import StoreError, StoreFormatError
from bot.store.journal import dumps
from bot.store.table import Fields, StoreTable, _NoStorage

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

#: pg_advisory_xact_lock key taken while migrating or creating an index ("servicebot" in ASCII, folded)
SCHEMA_LOCK = 0x73657276696365
_MIGRATION_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_PLAIN_FIELD = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


def migrations() -> list[tuple[int, str, str]]:
    """The schema migrations shipped in bot/store/pg_migrations, as (version, name, SQL), in order."""
    found = []
    for entry in resources.files("bot.store").joinpath("pg_migrations").iterdir():
        m = _MIGRATION_RE.match(entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"internal: pg_migrations must be numbered 1..n without gaps, found {versions}")
    return found


SCHEMA_VERSION = len(migrations())


def describe(dsn: str) -> str:
    """Where ``dsn`` points (host:port/database), without user or password, for messages."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:
        return "PostgreSQL (unparsable DSN)"
    host = parts.get("host") or parts.get("hostaddr") or "localhost"
    return f"PostgreSQL {host}:{parts.get('port') or 5432}/{parts.get('dbname') or '?'}"


class PgStore(Store):
    """The store's API on a PostgreSQL database. Open with :meth:`connect`."""

    def __init__(self, dsn: str, conn: psycopg.Connection[Any], *, read_only: bool = False) -> None:
        """Use :meth:`connect`."""
        super().__init__({}, None)
        self.dsn = dsn
        self.where = describe(dsn)
        self._conn: psycopg.Connection[Any] | None = conn
        self._read_only = read_only
        self._views_pg: dict[str, PgTable] = {}
        self._known_indexes: set[str] | None = None
        self._batch_broken = False
        #: run first in every write transaction; raises to refuse it (the hot standby's fencing:
        #: bot/store/lease.py, set by ``servicebot run`` on PostgreSQL, bot/chat/standby.py)
        self.fence: Callable[[Any], None] | None = None
        #: tables whose :meth:`insert_new` the fence lets through (the inbox, set by bot/chat/standby.py)
        self.fence_exempt: frozenset[str] = frozenset()

    @classmethod
    def connect(cls, dsn: str, *, read_only: bool = False, migrate: bool = True) -> PgStore:
        """Connect to ``dsn``, bring its schema up to date (unless ``read_only``), and open it.

        Raises StoreError saying which database and why when it cannot be reached, StoreFormatError
        when a newer servicebot migrated it."""
        store = cls(dsn, _connect(dsn), read_only=read_only)
        try:
            if migrate and not read_only:
                store.migrate()
            else:
                store._check_version()
        except BaseException:
            store.close()
            raise
        return store

    # ------------------------------------------------------------ connection

    def conn(self) -> psycopg.Connection[Any]:
        """The open connection (reconnected if the last one broke, outside a batch)."""
        self._check_open()
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            if self._batch_depth:
                raise StoreError(f"{self.where}: the connection broke inside a batch; nothing of it was written")
            self._conn = conn = _connect(self.dsn)
        return conn

    def _failed(self, exc: Exception, what: str) -> NoReturn:
        import psycopg

        if isinstance(exc, psycopg.OperationalError) and self._conn is not None and self._conn.broken:
            self._conn.close()
        if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
            raise StoreError(f"{self.where}: opened read-only: nothing can be written") from exc
        raise StoreError(f"{self.where}: {what} failed: {str(exc).strip()}") from exc

    @contextlib.contextmanager
    def _sql(self, what: str) -> Iterator[psycopg.Connection[Any]]:
        """The connection, under the store's lock, with database errors turned into StoreError."""
        import psycopg

        with self._mutex:
            conn = self.conn()
            try:
                yield conn
            except psycopg.Error as exc:
                self._failed(exc, what)

    @contextlib.contextmanager
    def _tx(self, what: str) -> Iterator[psycopg.Connection[Any]]:
        """One write: a transaction of its own, or part of the open batch's.

        Every write checks what can fail (ids taken, documents not JSON, a caller's update function)
        before it changes anything, so a write refused that way inside a batch leaves the batch as it was
        (no savepoint needed: two round trips fewer per write). A database error inside a batch dooms it:
        the batch then raises and nothing of it is committed."""
        import psycopg

        with self._mutex:
            self._check_writable()
            conn = self.conn()
            if self._batch_depth:
                if self._batch_broken:
                    raise StoreError(f"{self.where}: an earlier write of this batch failed; nothing of the "
                                     "batch will be written")
                try:
                    yield conn
                except psycopg.Error as exc:
                    self._batch_broken = True
                    self._failed(exc, what)
                return
            try:
                with conn.transaction():
                    if self.fence is not None:
                        self.fence(conn)
                    if self._unsynced_depth:
                        conn.execute("SET LOCAL synchronous_commit = off")
                    yield conn
            except psycopg.Error as exc:
                self._failed(exc, what)

    def _check_writable(self) -> None:
        if self._read_only:
            raise StoreError(f"the store at {self.where} was opened read-only: nothing can be written")

    # ------------------------------------------------------------ schema

    def schema_version(self) -> int:
        with self._sql("reading the schema version") as conn:
            exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
            if not exists or not exists[0]:
                return 0
            row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
            return int(row[0]) if row else 0

    def _check_version(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreFormatError(
                f"{self.where}: schema version {version} was written by a newer servicebot (this one knows "
                f"up to {SCHEMA_VERSION}); upgrade servicebot. Nothing was changed"
            )
        if version < SCHEMA_VERSION and self._read_only:
            raise StoreError(f"{self.where}: schema version {version}, not {SCHEMA_VERSION}: run the bot once "
                             "(it migrates the database) before reading it")

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks, each in a transaction; returns the versions applied."""
        applied: list[int] = []
        with self._sql("migrating the schema") as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {int(v) for (v,) in conn.execute("SELECT version FROM schema_migrations")}
            if done and max(done) > SCHEMA_VERSION:
                raise StoreFormatError(
                    f"{self.where}: schema version {max(done)} was written by a newer servicebot (this one "
                    f"knows up to {SCHEMA_VERSION}); upgrade servicebot. Nothing was changed"
                )
            for version, name, text in migrations():
                if version in done:
                    continue
                conn.execute(cast(Any, text))
                conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", [version, name])
                applied.append(version)
        if applied:
            log.info("%s: schema migrated to version %d (%s)", self.where, SCHEMA_VERSION,
                     ", ".join(str(v) for v in applied))
        self._known_indexes = None
        return applied

    def ensure_index(self, field: str) -> None:
        """An expression index for ``find`` on ``field`` (created once, by whichever process is first)."""
        from psycopg import sql

        name = index_name(field)
        with self._mutex:
            if self._known_indexes is None:
                with self._sql("reading indexes") as conn:
                    rows = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'documents'")
                    self._known_indexes = {str(r[0]) for r in rows}
            if name in self._known_indexes:
                return
            if self._read_only:
                return  # find works without it, only slower
            with self._sql(f"creating the index on {field!r}") as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
                conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON documents (tbl, ({}::text))").format(
                    sql.Identifier(name), _field(field)))
            self._known_indexes.add(name)

    # ------------------------------------------------------------ tables

    def table(self, name: str, index: Iterable[str] = ()) -> StoreTable:
        self._check_open()
        view = self._views_pg.get(name)
        if view is None:
            view = self._views_pg[name] = PgTable(self, name, index)
        else:
            view.add_index(*index)
        return view

    def tables(self) -> set[str]:
        with self._sql("listing tables") as conn:
            return {str(r[0]) for r in conn.execute("SELECT DISTINCT tbl FROM documents")}

    def drop_table(self, name: str) -> None:
        self._check_open()
        self.table(name).truncate()

    def counts(self) -> dict[str, int]:
        """Documents per table (tables holding any)."""
        with self._sql("counting documents") as conn:
            rows = conn.execute("SELECT tbl, count(*) FROM documents GROUP BY tbl")
            return {str(t): int(n) for t, n in rows}

    # ------------------------------------------------------------ writing

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Every write inside is one transaction: all of them are committed, or none (the block raised)."""
        self._check_open()
        with self._mutex:
            if self._batch_depth:
                self._batch_depth += 1
                try:
                    yield
                finally:
                    self._batch_depth -= 1
                return
            self._check_writable()
            import psycopg

            conn = self.conn()
            try:
                with conn.transaction():
                    if self.fence is not None:
                        self.fence(conn)
                    self._batch_depth, self._batch_broken = 1, False
                    try:
                        yield
                        if self._batch_broken:
                            raise StoreError(f"{self.where}: a write of this batch failed; nothing of the "
                                             "batch was written")
                        if self._unsynced_depth:
                            conn.execute("SET LOCAL synchronous_commit = off")
                    finally:
                        self._batch_depth, self._batch_broken = 0, False
            except psycopg.Error as exc:
                self._failed(exc, "a batch")

    def insert_new(self, table: str, docs: Mapping[int, Mapping[str, Any]]) -> list[int]:
        """:meth:`Store.insert_new` in one statement (``ON CONFLICT DO NOTHING``), fenced unless ``table``
        is in :attr:`fence_exempt`.

        Why an unfenced insert into the inbox is safe (a standby's webhook endpoint makes it, and so does a
        process that has just lost the lease): fencing exists so that a process that is not active cannot
        write over the active one's work. This insert cannot: it only adds an update Telegram delivered,
        under its own update id, and changes nothing that exists — a row the active process has (pending,
        or marked promised) is left as it is, and the table's next id only moves up (``greatest``). What
        it adds is handled by the active process alone (the inbox sweep), which is fenced like every other
        write. The worst a late insert can do is bring back an update that was handled and removed, when
        Telegram delivers it again: the active process still remembers it (``InFlight``) and removes it
        unhandled, and a question is deduped by the desk anyway (one ticket per message).
        """
        if self._batch_depth:  # inside a batch: part of its transaction (fenced with it)
            return super().insert_new(table, docs)
        ids = [int(i) for i in docs]
        if not ids:
            return []
        texts = [_json(table, i, docs[i]) for i in ids]
        import psycopg

        with self._mutex:
            self._check_writable()
            conn = self.conn()
            try:
                with conn.transaction():
                    if self.fence is not None and table not in self.fence_exempt:
                        self.fence(conn)
                    rows = conn.execute(
                        f"WITH counter AS ({_BUMP}) INSERT INTO documents (tbl, id, doc) "
                        "SELECT %s, x.id, x.doc::jsonb FROM unnest(%s::bigint[], %s::text[]) AS x(id, doc) "
                        "ON CONFLICT (tbl, id) DO NOTHING RETURNING id",
                        [table, max(ids) + 1, table, ids, texts],
                    ).fetchall()
            except psycopg.Error as exc:
                self._failed(exc, f"insert into {table!r}")
        inserted = {int(r[0]) for r in rows}
        return [i for i in ids if i in inserted]

    def flush(self) -> None:
        self._check_open()

    def compact(self) -> None:
        """Nothing to compact: PostgreSQL reclaims dead rows itself (autovacuum). For an erased member's
        text, VACUUM makes the old row versions unreadable from the table's files at once."""
        self._check_open()
        if self._batch_depth:
            raise StoreError("cannot compact inside store.batch()")
        if self._read_only:
            return
        with self._sql("vacuum") as conn:
            conn.execute("VACUUM documents")

    def wait_compaction(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store at {self.where} is closed")

    def __repr__(self) -> str:
        return f"<PgStore {self.where}>"


def _connect(dsn: str) -> psycopg.Connection[Any]:
    import psycopg

    try:
        return psycopg.connect(dsn, autocommit=True, application_name="servicebot", connect_timeout=10)
    except psycopg.Error as exc:
        raise StoreError(f"{describe(dsn)}: cannot connect: {str(exc).strip()}") from exc


def index_name(field: str) -> str:
    if _PLAIN_FIELD.match(field):
        return f"documents_by_{field}"
    import hashlib

    return "documents_by_" + hashlib.sha1(field.encode()).hexdigest()[:16]


def _field(field: str) -> Any:
    """``(doc -> 'field')`` with the field as a literal (so the expression index matches)."""
    from psycopg import sql

    return sql.SQL("(doc -> {})").format(sql.Literal(field))


#: a table's next id moved on to at least %s (never back: ids are never reused)
_BUMP = ("INSERT INTO store_tables AS t (tbl, next_id) VALUES (%s, %s) ON CONFLICT (tbl) "
         "DO UPDATE SET next_id = greatest(t.next_id, excluded.next_id)")


def _json(table: str, doc_id: int, doc: Mapping[str, Any]) -> str:
    try:
        text = dumps(doc)
        if not isinstance(json.loads(text), dict):
            raise ValueError("not an object")
    except (TypeError, ValueError) as exc:
        raise StoreError(f"table {table!r}, document {doc_id}: not storable as JSON ({exc})") from exc
    if "\\u0000" in text:
        raise StoreError(f"table {table!r}, document {doc_id}: holds the character U+0000, which PostgreSQL "
                         "cannot store; nothing was written")
    return text


class PgTable(StoreTable):
    """One table of a :class:`PgStore`: the TinyDB API of :class:`StoreTable` on the ``documents`` table."""

    def __init__(self, store: PgStore, name: str, index: Iterable[str] = ()) -> None:
        Table.__init__(self, _NoStorage(), name)
        self._pg = store
        self._store = store
        self._fields: list[str] = []
        self.add_index(*index)

    # ------------------------------------------------------------ indexes

    @property
    def indexes(self) -> tuple[str, ...]:
        return tuple(self._fields)

    def add_index(self, *fields: str) -> None:
        for name in fields:
            if name not in self._fields:
                self._pg.ensure_index(name)
                self._fields.append(name)

    def find(self, field: str, value: Any) -> list[Document]:
        from psycopg import sql

        if field not in self._fields:
            raise StoreError(
                f"table {self.name!r}: no index on {field!r} (declared: {', '.join(self._fields) or 'none'}); "
                f"declare it with store.table({self.name!r}, index=(..., {field!r}))"
            )
        query = sql.SQL("SELECT id, doc FROM documents WHERE tbl = %s AND {}::text = (%s::jsonb)::text "
                        "ORDER BY id").format(_field(field))
        with self._pg._sql(f"find in {self.name!r}") as conn:
            rows = conn.execute(query, [self.name, dumps(value)]).fetchall()
        return [self.document_class(doc, int(i)) for i, doc in rows]

    # ------------------------------------------------------------ reading

    def _rows(self, where: str = "", params: Iterable[Any] = (), *, lock: bool = False) -> list[Document]:
        q = f"SELECT id, doc FROM documents WHERE tbl = %s{where} ORDER BY id{' FOR UPDATE' if lock else ''}"
        with self._pg._sql(f"reading {self.name!r}") as conn:
            rows = conn.execute(cast(Any, q), [self.name, *params]).fetchall()
        return [self.document_class(doc, int(i)) for i, doc in rows]

    def all(self) -> list[Document]:
        return self._rows()

    def search(self, cond: QueryLike) -> list[Document]:
        return [d for d in self._rows() if cond(d)]

    def get(  # type: ignore[override]
        self,
        cond: QueryLike | None = None,
        doc_id: int | None = None,
        doc_ids: list[int] | None = None,
    ) -> Document | list[Document] | None:
        if doc_id is not None:
            found = self._rows(" AND id = %s", [int(doc_id)])
            return found[0] if found else None
        if doc_ids is not None:
            return self._rows(" AND id = ANY(%s)", [[int(i) for i in doc_ids]])
        if cond is not None:
            return next((d for d in self._rows() if cond(d)), None)
        raise RuntimeError("You have to pass either cond or doc_id or doc_ids")

    def contains(self, cond: QueryLike | None = None, doc_id: int | None = None) -> bool:
        if doc_id is not None:
            with self._pg._sql(f"reading {self.name!r}") as conn:
                row = conn.execute("SELECT 1 FROM documents WHERE tbl = %s AND id = %s",
                                   [self.name, int(doc_id)]).fetchone()
            return row is not None
        if cond is not None:
            return any(cond(d) for d in self._rows())
        raise RuntimeError("You have to pass either cond or doc_id")

    def count(self, cond: QueryLike) -> int:
        return sum(1 for d in self._rows() if cond(d))

    def __len__(self) -> int:
        with self._pg._sql(f"counting {self.name!r}") as conn:
            row = conn.execute("SELECT count(*) FROM documents WHERE tbl = %s", [self.name]).fetchone()
        return int(row[0]) if row else 0

    def __iter__(self) -> Iterator[Document]:
        return iter(self._rows())

    def newest_first(self, *, chunk: int = 200) -> Iterator[Document]:
        """Documents from the highest id down, ``chunk`` rows per query (the primary key's order: an index
        scan), so a reader that stops after the latest few never fetches the whole table."""
        return self._chunks(reverse=True, chunk=chunk)

    def oldest_first(self, *, chunk: int = 1000) -> Iterator[Document]:
        """Documents in id order, ``chunk`` rows per query (a pass that never holds the whole table)."""
        return self._chunks(reverse=False, chunk=chunk)

    def _chunks(self, *, reverse: bool, chunk: int) -> Iterator[Document]:
        after: int | None = None
        op, order = ("<", "DESC") if reverse else (">", "ASC")
        while True:
            where, params = (f" AND id {op} %s", [after]) if after is not None else ("", [])
            q = f"SELECT id, doc FROM documents WHERE tbl = %s{where} ORDER BY id {order} LIMIT %s"
            with self._pg._sql(f"reading {self.name!r}") as conn:
                rows = conn.execute(cast(Any, q), [self.name, *params, chunk]).fetchall()
            for i, doc in rows:
                yield self.document_class(doc, int(i))
            if len(rows) < chunk:
                return
            after = int(rows[-1][0])

    def clear_cache(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"<PgTable name={self.name!r}, indexes={self.indexes}>"

    # ------------------------------------------------------------ writing

    def insert(self, document: Mapping[str, Any]) -> int:
        return self.insert_multiple([document])[0]

    def insert_multiple(self, documents: Iterable[Mapping[str, Any]]) -> list[int]:
        docs = list(documents)
        for document in docs:
            if not isinstance(document, Mapping):
                raise ValueError("Document is not a Mapping")
        if not docs:
            return []
        with self._pg._tx(f"insert into {self.name!r}") as conn:
            explicit = [int(d.doc_id) for d in docs if isinstance(d, self.document_class)]
            if len(set(explicit)) != len(explicit):
                raise ValueError("Document IDs repeat within one insert")
            next_free = 1
            if len(explicit) < len(docs):  # ids to hand out: the counter row, locked (read only: nothing to undo)
                row = conn.execute("SELECT next_id FROM store_tables WHERE tbl = %s FOR UPDATE",
                                   [self.name]).fetchone()
                next_free = int(row[0]) if row else 1
            if explicit:
                taken = conn.execute("SELECT min(id) FROM documents WHERE tbl = %s AND id = ANY(%s)",
                                     [self.name, explicit]).fetchone()
                if taken and taken[0] is not None:
                    raise ValueError(f"Document with ID {int(taken[0])} already exists")
            ids: list[int] = []
            rows: list[tuple[str, int, str]] = []
            for document in docs:
                if isinstance(document, self.document_class):
                    doc_id = int(document.doc_id)
                else:
                    doc_id, next_free = next_free, next_free + 1
                rows.append((self.name, doc_id, _json(self.name, doc_id, document)))
                ids.append(doc_id)
            next_id = max(next_free, max(explicit, default=0) + 1)
            if len(rows) == 1:  # the counter and the document in one statement (one round trip)
                conn.execute(f"WITH counter AS ({_BUMP}) INSERT INTO documents (tbl, id, doc) "
                             "VALUES (%s, %s, %s::jsonb)", [self.name, next_id, *rows[0]])
            else:
                conn.execute(_BUMP, [self.name, next_id])
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO documents (tbl, id, doc) VALUES (%s, %s, %s::jsonb)", rows)
        return ids

    def update(  # type: ignore[override]
        self,
        fields: Fields,
        cond: QueryLike | None = None,
        doc_ids: Iterable[int] | None = None,
    ) -> list[int]:
        if doc_ids is not None:
            wanted = [int(i) for i in doc_ids]
            if not callable(fields):
                return self._merge(fields, wanted)
            return self._update([(fields, lambda d: True)], " AND id = ANY(%s)", [wanted], order=wanted)
        if cond is not None:
            return self._update([(fields, cond)])
        return self._update([(fields, lambda d: True)])

    def _merge(self, fields: Mapping[str, Any], wanted: list[int]) -> list[int]:
        """``update(mapping, doc_ids=...)`` in one statement: ``doc || fields`` replaces top-level keys."""
        patch = _json(self.name, wanted[0] if wanted else 0, fields)
        with self._pg._tx(f"update of {self.name!r}") as conn:
            done = {int(r[0]) for r in conn.execute(
                "UPDATE documents SET doc = doc || %s::jsonb WHERE tbl = %s AND id = ANY(%s) RETURNING id",
                [patch, self.name, wanted])}
        return [i for i in wanted if i in done]  # a repeated id is listed as often as given, as on the journal

    def update_multiple(  # type: ignore[override]
        self, updates: Iterable[tuple[Fields, QueryLike]]
    ) -> list[int]:
        return self._update(list(updates))

    def _update(self, plan: list[tuple[Fields, QueryLike]], where: str = "", params: Iterable[Any] = (),
                *, order: list[int] | None = None) -> list[int]:
        updated: list[int] = []
        with self._pg._tx(f"update of {self.name!r}"):
            docs = self._rows(where, params, lock=True)
            if order is not None:
                by_id = {d.doc_id: d for d in docs}
                docs = [by_id[i] for i in order if i in by_id]  # a repeated id is updated again, as on the journal
            targets = [[d for d in docs if cond(d)] for _, cond in plan]
            rows: list[tuple[str, str, int]] = []
            for (fields, _), chosen in zip(plan, targets, strict=True):
                for doc in chosen:
                    new = dict(doc)
                    if callable(fields):
                        fields(cast(MutableMapping[str, Any], new))
                    else:
                        new.update(fields)
                    doc.clear()
                    doc.update(new)  # a later step of update_multiple sees this one's result
                    rows.append((_json(self.name, doc.doc_id, new), self.name, doc.doc_id))
                    updated.append(doc.doc_id)
            if order is not None:
                updated = [i for i in order if i in set(updated)]
            if rows:
                with self._pg.conn().cursor() as cur:
                    cur.executemany("UPDATE documents SET doc = %s::jsonb WHERE tbl = %s AND id = %s", rows)
        return updated

    def upsert(self, document: Mapping[str, Any], cond: QueryLike | None = None) -> list[int]:
        if isinstance(document, self.document_class) and hasattr(document, "doc_id"):
            doc_id = int(document.doc_id)
            text = _json(self.name, doc_id, document)
            with self._pg._tx(f"upsert into {self.name!r}") as conn:
                conn.execute(f"WITH counter AS ({_BUMP}) INSERT INTO documents AS d (tbl, id, doc) "
                             "VALUES (%s, %s, %s::jsonb) ON CONFLICT (tbl, id) DO UPDATE SET doc = d.doc || excluded.doc",
                             [self.name, doc_id + 1, self.name, doc_id, text])
            return [doc_id]
        if cond is None:
            raise ValueError(
                "If you don't specify a search query, you must specify a doc_id. "
                "Hint: use a table.Document object."
            )
        with self._pg.batch():
            updated = self.update(document, cond)
            return updated or [self.insert(document)]

    def remove(  # type: ignore[override]
        self, cond: QueryLike | None = None, doc_ids: Iterable[int] | None = None
    ) -> list[int]:
        if doc_ids is not None:
            wanted = [int(i) for i in doc_ids]
            with self._pg._tx(f"remove from {self.name!r}") as conn:
                gone = {int(r[0]) for r in conn.execute(
                    "DELETE FROM documents WHERE tbl = %s AND id = ANY(%s) RETURNING id", [self.name, wanted])}
            return [i for i in wanted if i in gone]
        if cond is None:
            raise RuntimeError("Use truncate() to remove all documents")
        with self._pg._tx(f"remove from {self.name!r}") as conn:
            targets = [d.doc_id for d in self._rows(lock=True) if cond(d)]
            if targets:
                conn.execute("DELETE FROM documents WHERE tbl = %s AND id = ANY(%s)", [self.name, targets])
        return targets

    def truncate(self) -> None:
        with self._pg._tx(f"truncate of {self.name!r}") as conn:
            conn.execute("DELETE FROM documents WHERE tbl = %s", [self.name])

    # TinyDB internals that would go through a storage: never used by this class
    def _read_table(self) -> dict[str, Mapping[str, Any]]:
        return {str(d.doc_id): d for d in self._rows()}

    def _update_table(self, updater: Callable[[dict[int, Mapping[str, Any]]], None]) -> None:
        raise StoreError(f"table {self.name!r}: internal: _update_table is not supported by the store")

    def _get_next_id(self) -> int:
        raise StoreError(f"table {self.name!r}: internal: ids are handed out by insert")


__all__ = ["SCHEMA_VERSION", "PgStore", "PgTable", "describe", "migrations"]
