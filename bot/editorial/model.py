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

__all__ = [
    "DIGESTS",
    "STATUSES",
    "Digest",
    "HistoryEntry",
    "Origin",
    "QueueItem",
    "Status",
]

Digest = Literal["morning", "tea", "announcement"]
Status = Literal["draft", "approved", "published", "withdrawn", "expired"]
Origin = Literal["chat", "file"]

DIGESTS: tuple[Digest, ...] = get_args(Digest)
STATUSES: tuple[Status, ...] = get_args(Status)

#: Display names, zh and en, for lists and error messages.
DIGEST_NAMES: dict[Digest, tuple[str, str]] = {
    "morning": ("服务早知道", "morning brief"),
    "tea": ("生活下午茶", "afternoon tea"),
    "announcement": ("公告", "announcement"),
}
STATUS_NAMES: dict[Status, tuple[str, str]] = {
    "draft": ("草稿", "draft"),
    "approved": ("已审核", "approved"),
    "published": ("已发布", "published"),
    "withdrawn": ("已撤回", "withdrawn"),
    "expired": ("已过期", "expired"),
}


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded change: ``who`` is a Telegram user id (None for the content files / the bot)."""

    who: int | None
    action: str
    when: datetime
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"who": self.who, "action": self.action, "when": self.when.isoformat(), "detail": self.detail}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HistoryEntry:
        return cls(
            who=d.get("who"),
            action=str(d["action"]),
            when=datetime.fromisoformat(d["when"]),
            detail=str(d.get("detail", "")),
        )


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
    digest: Digest
    section: str | None
    html: str
    first_date: date
    link: str | None = None
    until: date | None = None
    announce_at: datetime | None = None
    status: Status = "draft"
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
        """A JSON-ready document for the store."""
        return {
            "number": self.number,
            "digest": self.digest,
            "section": self.section,
            "html": self.html,
            "first_date": self.first_date.isoformat(),
            "link": self.link,
            "until": self.until.isoformat() if self.until else None,
            "announce_at": self.announce_at.isoformat() if self.announce_at else None,
            "status": self.status,
            "author_id": self.author_id,
            "approver_id": self.approver_id,
            "origin": self.origin,
            "path": self.path,
            "history": [h.to_dict() for h in self.history],
            "published_on": [d.isoformat() for d in self.published_on],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QueueItem:
        digest = d["digest"]
        status = d["status"]
        origin = d.get("origin", "chat")
        if digest not in DIGESTS or status not in STATUSES or origin not in ("chat", "file"):
            raise ValueError(f"queue item {d.get('number')}: bad digest/status/origin in stored document")
        return cls(
            number=int(d["number"]),
            digest=digest,
            section=d.get("section"),
            html=str(d["html"]),
            first_date=date.fromisoformat(d["first_date"]),
            link=d.get("link"),
            until=date.fromisoformat(d["until"]) if d.get("until") else None,
            announce_at=datetime.fromisoformat(d["announce_at"]) if d.get("announce_at") else None,
            status=status,
            author_id=d.get("author_id"),
            approver_id=d.get("approver_id"),
            origin=origin,
            path=d.get("path"),
            history=tuple(HistoryEntry.from_dict(h) for h in d.get("history", ())),
            published_on=tuple(date.fromisoformat(x) for x in d.get("published_on", ())),
        )
