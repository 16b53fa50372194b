"""The editors' queue with its rules applied: what is due, publishing, expiry, the content files merged.

:class:`~bot.store.queue.QueueRepository` stores items; the state changes come from
:mod:`bot.editorial.rules` only, applied here and stored through the repository:

    queue = EditorialQueue(QueueRepository(store))
    queue.due("morning", day)          # approved items that run in this issue
    queue.mark_published([3, 5], day, now)
    queue.sync_files(items, now, present_keys(directory))
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from bot.editorial.model import ItemSlot, QueueItem
from bot.editorial.rules import (
    due_announcements,
    due_items,
    expire,
    mark_published,
    merge_file_item,
    withdraw_removed_file,
)
from bot.store.errors import StoreError
from bot.store.queue import QueueRepository

__all__ = ["EditorialQueue", "FileSync"]


@dataclass
class FileSync:
    """What :meth:`EditorialQueue.sync_files` did, by item number."""

    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)  # file deleted: open item withdrawn

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def _numbered(item: QueueItem) -> Callable[[int], QueueItem]:
    def build(number: int) -> QueueItem:
        return replace(item, number=number)

    return build


class EditorialQueue:
    """The queue as the bot uses it: the repository's reads and writes, plus the rules applied."""

    def __init__(self, repo: QueueRepository) -> None:
        self.repo = repo

    # ------------------------------------------------------------ the repository's own

    def next_number(self) -> int:
        return self.repo.next_number()

    def add(self, build: Callable[[int], QueueItem]) -> QueueItem:
        return self.repo.add(build)

    def get(self, number: int) -> QueueItem | None:
        return self.repo.get(number)

    def all(self) -> list[QueueItem]:
        return self.repo.all()

    def open_items(self) -> list[QueueItem]:
        return self.repo.open_items()

    def by_path(self, path: str) -> QueueItem | None:
        return self.repo.by_path(path)

    def save(self, item: QueueItem) -> None:
        self.repo.save(item)

    def save_many(self, items: Iterable[QueueItem]) -> None:
        self.repo.save_many(items)

    # ------------------------------------------------------------ the rules applied

    def due(self, slot: ItemSlot, day: date) -> list[QueueItem]:
        """Approved items for ``slot`` on ``day`` (see :func:`bot.editorial.rules.due_items`)."""
        return due_items(self.repo.approved(), slot, day)

    def due_announcements(self, now: datetime) -> list[QueueItem]:
        return due_announcements(self.repo.approved(), now)

    def mark_published(self, numbers: Iterable[int], day: date, now: datetime) -> list[QueueItem]:
        """Record that these items went out on ``day`` (run-once items become published), atomically."""
        done: list[QueueItem] = []
        for number in numbers:
            item = self.repo.get(number)
            if item is None:
                raise StoreError(f"queue item {number}: not found")
            done.append(mark_published(item, day, now))
        self.repo.save_many(done)
        return done

    def expire(self, today: date, now: datetime) -> list[QueueItem]:
        """Turn items whose end date passed into ``expired``; returns them."""
        expired = expire(self.repo.open_items(), today, now)
        self.repo.save_many(expired)
        return expired

    def sync_files(self, loaded: Iterable[QueueItem], now: datetime, present: Collection[str]) -> FileSync:
        """Merge items read from ``content/queue`` into the queue, atomically.

        ``present`` are the keys (file names) of every queue file on disk, readable or not: a stored
        file item whose file is gone and which is still open is withdrawn; one whose file is present but
        broken (not in ``loaded``) keeps its last good version.
        """
        report = FileSync()
        with self.repo.batch():
            seen: set[str] = set()
            for item in loaded:
                if item.path is None:
                    continue
                seen.add(item.path)
                existing = self.repo.by_path(item.path)
                merged = merge_file_item(existing, item, now)
                if merged is None:
                    continue
                if existing is None:
                    report.added.append(self.repo.add(_numbered(merged)).number)
                else:
                    self.repo.save(merged)
                    report.updated.append(merged.number)
            for stored in self.repo.file_items():
                if stored.path is None or stored.path in seen or stored.path in present:
                    continue
                gone = withdraw_removed_file(stored, now)
                if gone is not None:
                    self.repo.save(gone)
                    report.removed.append(gone.number)
        return report
