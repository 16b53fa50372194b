"""Queue items: what editors put into the digests (and one-off announcements) beyond the feeds.

A :class:`QueueItem` is an immutable value; the rules in :mod:`bot.editorial.rules` return changed
copies (``dataclasses.replace``) and append to its history, so every change says who and when.

States::

    draft ──approve──▶ approved ──(last run)──▶ published
      │                   │  ╲
      │                   │   ╲──(end date passed)──▶ expired
      └──withdraw─────────┴──withdraw──▶ withdrawn

Items come from chat (``origin="chat"``, numbered by the store) or from ``content/queue/*.md``
(``origin="file"``, keyed by their path so a re-read updates instead of duplicating).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, get_args

from pydantic import TypeAdapter, ValidationError

__all__ = [
    "DIGESTS",
    "STATUSES",
    "HistoryEntry",
    "ItemSlot",
    "ItemStatus",
    "Origin",
    "QueueItem",
]

#: where an item runs: a digest slot (digests.model.Slot) or an announcement of its own
ItemSlot = Literal["morning", "tea", "announcement"]
ItemStatus = Literal["draft", "approved", "published", "withdrawn", "expired"]
Origin = Literal["chat", "file"]

DIGESTS: tuple[ItemSlot, ...] = get_args(ItemSlot)
STATUSES: tuple[ItemStatus, ...] = get_args(ItemStatus)

# Display names: digest_<digest> and item_status_<status> in bot/texts.


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded change: ``who`` is a Telegram user id (None for the content files / the bot)."""

    who: int | None
    action: str
    when: datetime
    detail: str = ""


@dataclass(frozen=True)
class QueueItem:
    """One queued notice.

    ``number`` is the editors' handle (``/item 12``); 0 means "not yet stored" (a file item before it is
    merged into the store). ``html`` is Telegram HTML (b, i, u, s, a, code, pre, blockquote only).
    ``first_date`` is the first day it may run; ``until`` (inclusive) makes it run in every digest of its
    slot up to that day; without ``until`` it runs once. ``announce_at`` is only for
    ``digest="announcement"``: the exact (time-zone aware) moment it is sent, outside the digests.
    """

    number: int
    digest: ItemSlot
    section: str | None
    html: str
    first_date: date
    link: str | None = None
    until: date | None = None
    announce_at: datetime | None = None
    status: ItemStatus = "draft"
    author_id: int | None = None
    approver_id: int | None = None
    origin: Origin = "chat"
    path: str | None = None
    history: tuple[HistoryEntry, ...] = ()
    published_on: tuple[date, ...] = field(default=())

    @property
    def key(self) -> str:
        """Identity across reloads: ``file:<path>`` for file items, ``#<number>`` for chat items."""
        if self.origin == "file" and self.path is not None:
            return f"file:{self.path}"
        return f"#{self.number}"

    @property
    def runs_once(self) -> bool:
        return self.until is None

    @property
    def is_open(self) -> bool:
        """Still in play: may yet be approved or run."""
        return self.status in ("draft", "approved")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document for the store (dates and times as ISO 8601 text)."""
        doc: dict[str, Any] = _ITEM.dump_python(self, mode="json")
        return doc

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QueueItem:
        """A stored document back (pydantic validates it: a bad digest/status/origin or date is a
        ValueError naming the item). Fields missing from older documents take their defaults."""
        try:
            return _ITEM.validate_python(d)
        except ValidationError as exc:
            raise ValueError(f"queue item {d.get('number')}: bad stored document: {exc}") from None


# pydantic writes and reads the stored form, as it does config.yaml (bot/config.py)
_ITEM: TypeAdapter[QueueItem] = TypeAdapter(QueueItem)
