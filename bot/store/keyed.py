"""Two small things every repository needs, written once: a document found by a key field and
replaced (or added), and a number that only goes up. Both work on any store's tables (the journal's
:class:`~bot.store.table.StoreTable`, the PostgreSQL store's table): they use the TinyDB API only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from tinydb.table import Document

__all__ = ["Counter", "KeyedTable", "put_by"]


class KeyedTable(Protocol):
    """What these helpers use of a store's table."""

    def find(self, field: str, value: Any) -> list[Document]: ...

    def insert(self, document: Mapping[str, Any]) -> int: ...

    def update(self, fields: Mapping[str, Any], *, doc_ids: list[int]) -> list[int]: ...


def put_by(table: KeyedTable, field: str, doc: Mapping[str, Any]) -> int:
    """Store ``doc`` as the one document whose (indexed) ``field`` is ``doc[field]``: its fields replace
    the stored ones, or it is added. Returns the document's id."""
    found = table.find(field, doc[field])
    if found:
        table.update(dict(doc), doc_ids=[found[0].doc_id])
        return int(found[0].doc_id)
    return table.insert(doc)


class Counter:
    """The next number to hand out (tickets, queue items), in document 1 of its table: it only goes
    up, so a number is never reused."""

    _ID = 1

    def __init__(self, table: Any) -> None:
        self._t = table

    def next(self) -> int:
        doc = self._t.get(doc_id=self._ID)
        return int(doc["next"]) if isinstance(doc, Document) else 1

    def used(self, number: int) -> None:
        """``number`` was handed out: the next one is above it (inside the caller's batch, if any)."""
        self._t.upsert(Document({"next": max(self.next(), number + 1)}, doc_id=self._ID))
