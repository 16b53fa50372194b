"""QueueRepository: the editors' queue (chat and file items, one queue) in table ``queue``.

An item's number is its ``doc_id``, so ``/item 12`` is one O(1) lookup. Numbers come from a counter in
table ``queue_meta`` that only goes up (a number is never reused); allocating it and storing the item
are one atomic batch. It stores; the rules decide (:mod:`bot.editorial.queue` applies them: what is due,
publishing, expiry, merging the content files).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import replace

from tinydb.table import Document

from bot.editorial.model import QueueItem
from bot.store.core import Store
from bot.store.errors import StoreError
from bot.store.keyed import Counter

__all__ = ["QueueRepository"]



class QueueRepository:
    """Queue items by number; indexes on status, path and origin."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._t = store.table("queue", index=("status", "path", "origin"))
        self._counter = Counter(store.table("queue_meta"))

    # ------------------------------------------------------------ numbers

    def next_number(self) -> int:
        """The number the next new item will get."""
        return self._counter.next()

    def add(self, build: Callable[[int], QueueItem]) -> QueueItem:
        """Allocate a number, build the item with it (e.g. ``lambda n: create_item(..., number=n)``)
        and store both atomically. If ``build`` raises, nothing is written."""
        with self._store.batch():
            number = self.next_number()
            item = build(number)
            if item.number != number:
                item = replace(item, number=number)
            self._t.insert(Document(item.to_dict(), doc_id=number))
            self._counter.used(number)
        return item

    # ------------------------------------------------------------ reading

    def get(self, number: int) -> QueueItem | None:
        doc = self._t.get(doc_id=number)
        return QueueItem.from_dict(dict(doc)) if isinstance(doc, Document) else None

    def all(self) -> list[QueueItem]:
        """Every item, by number."""
        return [QueueItem.from_dict(dict(d)) for d in sorted(self._t.all(), key=lambda d: d.doc_id)]

    def open_items(self) -> list[QueueItem]:
        """Drafts and approved items (what /queue lists), by number."""
        docs = self._t.find("status", "draft") + self._t.find("status", "approved")
        return [QueueItem.from_dict(dict(d)) for d in sorted(docs, key=lambda d: d.doc_id)]

    def by_path(self, path: str) -> QueueItem | None:
        found = self._t.find("path", path)
        return QueueItem.from_dict(dict(found[0])) if found else None

    def approved(self) -> list[QueueItem]:
        """Approved items (what may run), in no particular order."""
        return [QueueItem.from_dict(dict(d)) for d in self._t.find("status", "approved")]

    # ------------------------------------------------------------ writing

    def save(self, item: QueueItem) -> None:
        """Store a changed item (from one of the rules) under its number."""
        self.save_many([item])

    def save_many(self, items: Iterable[QueueItem]) -> None:
        """Store changed items atomically (one journal record)."""
        items = list(items)
        if not items:
            return
        with self._store.batch():
            for item in items:
                if item.number <= 0 or not self._t.contains(doc_id=item.number):
                    raise StoreError(f"queue item {item.number}: not stored yet; use add()")
                self._t.upsert(Document(item.to_dict(), doc_id=item.number))

    def file_items(self) -> list[QueueItem]:
        """Items read from content/queue files."""
        return [QueueItem.from_dict(dict(d)) for d in self._t.find("origin", "file")]

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """Several writes as one atomic batch (the store's)."""
        return self._store.batch()
