"""``servicebot store migrate --from DIR --to postgres``: copy a journal store into an empty PostgreSQL database.

The journal store is opened as its owner (so a running bot refuses it: stop the bot first), the database
must hold no documents (a copy never overwrites anything), and the whole copy is one transaction: every
table's documents and next id, then verified before the commit by the count of every table and a SHA-256
of every document (its canonical JSON: sorted keys) read back from the database. Any difference rolls the
transaction back and leaves the database as empty as it was.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.store.core import Store
from bot.store.errors import StoreError
from bot.store.journal import dumps
from bot.store.pg import PgStore


def digest(doc: Any) -> str:
    """SHA-256 of a document's canonical JSON (sorted keys, UTF-8): the same on both stores."""
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Copied:
    """What a migration copied: documents per table, and one checksum over every (table, id, document)."""

    counts: dict[str, int] = field(default_factory=dict)
    checksum: str = ""

    @property
    def documents(self) -> int:
        return sum(self.counts.values())


def checksums(tables: dict[str, dict[int, Any]]) -> tuple[dict[tuple[str, int], str], str]:
    """Each document's digest by (table, id), and the SHA-256 over all of them in (table, id) order."""
    each = {(t, i): digest(doc) for t, docs in tables.items() for i, doc in docs.items()}
    total = hashlib.sha256()
    for (t, i), d in sorted(each.items()):
        total.update(f"{t}\t{i}\t{d}\n".encode())
    return each, total.hexdigest()


def migrate_journal(directory: Path, target: PgStore) -> Copied:
    """Copy the journal store in ``directory`` into ``target`` (empty), verified; raises StoreError if not."""
    if not Path(directory).is_dir():
        raise StoreError(f"--from {directory}: no data directory there")
    source = Store.open(Path(directory))
    try:
        # each table's next id is the journal's own bookkeeping (ids are never reused): read from its state
        next_ids = {name: t.next_id for name, t in source._tables.items() if t.docs or t.next_id > 1}
        tables: dict[str, dict[int, Any]] = {}
        for name in sorted(next_ids):
            docs = {d.doc_id: dict(d) for d in source.table(name).all()}
            if docs:
                tables[name] = docs
        want, want_total = checksums(tables)
        with target._sql("the migration") as conn, conn.transaction():
            row = conn.execute("SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM store_tables)"
                               ).fetchone()
            if row and row[0]:
                raise StoreError(f"{target.where} already holds data ({target.counts() or 'table counters'}); "
                                 "a migration never overwrites: use an empty database. Nothing was changed")
            with conn.cursor() as cur:
                with cur.copy("COPY store_tables (tbl, next_id) FROM STDIN") as copy:
                    for name, next_id in next_ids.items():
                        copy.write_row((name, next_id))
                with cur.copy("COPY documents (tbl, id, doc) FROM STDIN") as copy:
                    for name, docs in tables.items():
                        for doc_id, doc in docs.items():
                            copy.write_row((name, doc_id, dumps(doc)))
            got: dict[str, dict[int, Any]] = {}
            for tbl, doc_id, doc in conn.execute("SELECT tbl, id, doc FROM documents"):
                got.setdefault(str(tbl), {})[int(doc_id)] = doc
            have, have_total = checksums(got)
            counts = {name: len(docs) for name, docs in tables.items()}
            copied = {name: len(docs) for name, docs in got.items()}
            if copied != counts:
                raise StoreError(f"verification failed: documents per table differ (journal {counts}, "
                                 f"PostgreSQL {copied}); rolled back, the database is empty again")
            differ = sorted(k for k in want if want[k] != have.get(k))
            if differ or have_total != want_total:
                shown = ", ".join(f"{t} #{i}" for t, i in differ[:5])
                raise StoreError(f"verification failed: {len(differ)} documents differ after the copy ({shown}); "
                                 "rolled back, the database is empty again")
        return Copied(counts, want_total)
    finally:
        source.close()


__all__ = ["Copied", "checksums", "digest", "migrate_journal"]
