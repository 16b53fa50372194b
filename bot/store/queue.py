"""QueueRepository: the editors' queue (chat and file items, one queue) in table ``queue``.

An item's number is its ``doc_id``, so ``/item 12`` is one O(1) lookup. Numbers come from a counter in
table ``queue_meta`` that only goes up (a number is never reused); allocating it and storing the item
are one atomic batch. File items (``content/queue/*.md``) are merged by their path: a re-read updates
the stored item (keeping its number, history and publication record) instead of adding a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from tinydb.table import Document

from bot.editorial.model import Digest, QueueItem
from bot.editorial.rules import (
    due_announcements,
    due_items,
    expire,
    mark_published,
    merge_file_item,
    withdraw_removed_file,
)
from bot.store.core import Store
from bot.store.errors import StoreError

__all__ = ["FileSync", "QueueRepository"]

_COUNTER_ID = 1


@dataclass
class FileSync:
    """What :meth:`QueueRepository.sync_files` did, by item number."""

    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)  # file deleted: open item withdrawn

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


class QueueRepository:
    """Queue items by number; indexes on status, path and origin."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._t = store.table("queue", index=("status", "path", "origin"))
        self._meta = store.table("queue_meta")

    # ------------------------------------------------------------ numbers

    def next_number(self) -> int:
        """The number the next new item will get."""
        doc = self._meta.get(doc_id=_COUNTER_ID)
        return int(doc["next"]) if isinstance(doc, Document) else 1

    def add(self, build: Callable[[int], QueueItem]) -> QueueItem:
        """Allocate a number, build the item with it (e.g. ``lambda n: create_item(..., number=n)``)
        and store both atomically. If ``build`` raises, nothing is written."""
        with self._store.batch():
            number = self.next_number()
            item = build(number)
            if item.number != number:
                item = replace(item, number=number)
            self._t.insert(Document(item.to_dict(), doc_id=number))
            self._meta.upsert(Document({"next": number + 1}, doc_id=_COUNTER_ID))
        return item

    def _add_item(self, item: QueueItem) -> int:
        def numbered(n: int) -> QueueItem:
            return replace(item, number=n)

        return self.add(numbered).number

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

    def due(self, slot: Digest, day: date) -> list[QueueItem]:
        """Approved items for ``slot`` on ``day`` (see :func:`bot.editorial.rules.due_items`)."""
        return due_items(self._approved(), slot, day)

    def due_announcements(self, now: datetime) -> list[QueueItem]:
        return due_announcements(self._approved(), now)

    def _approved(self) -> list[QueueItem]:
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

    def mark_published(self, numbers: Iterable[int], day: date, now: datetime) -> list[QueueItem]:
        """Record that these items went out on ``day`` (run-once items become published), atomically."""
        done: list[QueueItem] = []
        for number in numbers:
            item = self.get(number)
            if item is None:
                raise StoreError(f"queue item {number}: not found")
            done.append(mark_published(item, day, now))
        self.save_many(done)
        return done

    def expire(self, today: date, now: datetime) -> list[QueueItem]:
        """Turn items whose end date passed into ``expired``; returns them."""
        expired = expire(self.open_items(), today, now)
        self.save_many(expired)
        return expired

    def sync_files(self, loaded: Iterable[QueueItem], now: datetime, present: Collection[str]) -> FileSync:
        """Merge items read from ``content/queue`` into the queue, atomically.

        ``present`` are the keys (file names) of every queue file on disk, readable or not: a stored
        file item whose file is gone and which is still open is withdrawn; one whose file is present but
        broken (not in ``loaded``) keeps its last good version.
        """
        report = FileSync()
        with self._store.batch():
            seen: set[str] = set()
            for item in loaded:
                if item.path is None:
                    continue
                seen.add(item.path)
                existing = self.by_path(item.path)
                merged = merge_file_item(existing, item, now)
                if merged is None:
                    continue
                if existing is None:
                    report.added.append(self._add_item(merged))
                else:
                    self.save(merged)
                    report.updated.append(merged.number)
            for doc in self._t.find("origin", "file"):
                path = doc.get("path")
                if path is None or path in seen or path in present:
                    continue
                gone = withdraw_removed_file(QueueItem.from_dict(dict(doc)), now)
                if gone is not None:
                    self.save(gone)
                    report.removed.append(gone.number)
        return report
