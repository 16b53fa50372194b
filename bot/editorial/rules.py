"""The editors' rules, as plain functions over immutable :class:`QueueItem` values.

Nothing here does I/O or knows Telegram: the chat handlers parse a command, call one of these and
store the returned item. Every change appends a :class:`HistoryEntry` (who, action, when, detail).

Exceptions carry a code and its parameters; the editors' chat renders them (``error_<code>`` in
bot/texts, bot/chat/views/errors.py). ``str(e)`` is for logs::

    EditorialError
     ├── NotEditor            the actor is not a rostered editor (or admin)
     ├── FourEyesRequired     四眼 review is on and the approver is the author
     ├── InvalidTransition    e.g. approving a withdrawn item, withdrawing a published one
     └── InvalidItem          bad input: unknown section, end date before first date, empty text …

Decisions (documented in docs/content.md):

* **Approval.** By default the author may approve their own item. With ``four_eyes=True`` the
  approver must be a different editor. Items from ``content/queue/*.md`` have no author in chat: their
  review happens on the file (its ``status:`` line), so a second editor may approve them from chat.
* **Edit.** Editing an approved item returns it to draft when four-eyes is on (the new text has not
  been seen by a second pair of eyes); with four-eyes off it stays approved and the editor who edited
  becomes its approver. Published, withdrawn and expired items cannot be edited.
* **Running.** An approved item runs in its slot from ``first_date``; without ``until`` it runs once
  (then ``published``); with ``until`` it runs in every digest of that slot up to and including
  ``until``, and :func:`expire` turns it ``expired`` the day after. A draft whose ``until`` has passed
  expires too (it can never run). A withdrawn item is never due.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Final

from bot.editorial.model import DIGESTS, HistoryEntry, ItemSlot, ItemStatus, QueueItem
from digests.model import QueuedItem

if TYPE_CHECKING:
    from bot.config import Config

__all__ = [
    "KEEP",
    "EditorialError",
    "EditorialPolicy",
    "FourEyesRequired",
    "InvalidItem",
    "InvalidTransition",
    "NotEditor",
    "approve",
    "create_item",
    "due_announcements",
    "due_items",
    "edit",
    "expire",
    "mark_published",
    "merge_file_item",
    "to_queued",
    "withdraw",
]


# --- errors -------------------------------------------------------------------------------------


class EditorialError(Exception):
    """A refused editorial action: ``code`` (the catalogue's ``error_<code>``) and ``params``."""

    code = "editorial_error"

    def __init__(self, code: str | None = None, **params: object) -> None:
        if code is not None:
            self.code = code
        self.params = params
        super().__init__(f"{self.code} {params}")


class NotEditor(EditorialError):
    code = "not_editor"

    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.user_id = user_id


class FourEyesRequired(EditorialError):
    code = "four_eyes"

    def __init__(self, number: int) -> None:
        super().__init__(number=number)
        self.number = number


class InvalidTransition(EditorialError):
    """``action`` (approve, withdraw, edit, publish) does not fit the item's status (``state``)."""

    code = "invalid_transition"

    def __init__(self, item: QueueItem, action: str) -> None:
        super().__init__(number=item.number, state=item.status, action=action)
        self.item = item


class InvalidItem(EditorialError):
    """Bad input for an item; ``field`` names what was wrong, the code says how (``item_<code>``)."""

    def __init__(self, field: str, code: str, **params: object) -> None:
        super().__init__(f"item_{code}", field=field, **params)
        self.field = field


# --- policy -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditorialPolicy:
    """Who may edit, whether 四眼 review is required, and which sections each digest has.

    ``sections`` maps a slot (``morning``/``tea``) to its section keys; ``None`` skips the check.
    """

    editors: frozenset[int]
    four_eyes: bool = False
    sections: Mapping[str, frozenset[str]] | None = None

    @classmethod
    def from_config(cls, config: Config, *, four_eyes: bool = False) -> EditorialPolicy:
        """Editors and admins from ``people``, section keys from ``digests``."""
        editors = config.editor_ids
        sections = {
            "morning": frozenset(s.key for s in config.digests.morning.sections),
            "tea": frozenset(s.key for s in config.digests.tea.sections),
        }
        return cls(editors=editors, four_eyes=four_eyes, sections=sections)

    def require_editor(self, user_id: int) -> None:
        if user_id not in self.editors:
            raise NotEditor(user_id)

    def check_section(self, digest: ItemSlot, section: str | None) -> None:
        if digest == "announcement":
            return
        if not section:
            raise InvalidItem("section", "section_required")
        if self.sections is not None:
            known = self.sections.get(digest, frozenset())
            if section not in known:
                raise InvalidItem(
                    "section", "section_unknown", digest=digest, section=section, known=sorted(known)
                )


class _Keep(enum.Enum):
    KEEP = "keep"


#: Sentinel for :func:`edit`: leave this field as it is (``None`` means "clear it").
KEEP: Final = _Keep.KEEP


# --- creating and changing ----------------------------------------------------------------------


def _validate(item: QueueItem, policy: EditorialPolicy) -> None:
    if item.digest not in DIGESTS:
        raise InvalidItem("digest", "digest_unknown", digest=item.digest)
    policy.check_section(item.digest, item.section)
    if not item.html.strip():
        raise InvalidItem("text", "text_empty")
    if item.until is not None and item.until < item.first_date:
        raise InvalidItem("until", "until_before_first", until=item.until, first=item.first_date)
    if item.digest == "announcement":
        if item.announce_at is None or item.announce_at.tzinfo is None:
            raise InvalidItem("time", "announcement_time")
        if item.until is not None:
            raise InvalidItem("until", "announcement_once")
    elif item.announce_at is not None:
        raise InvalidItem("time", "time_only_announcement")


def create_item(
    policy: EditorialPolicy,
    *,
    number: int,
    actor: int,
    digest: ItemSlot,
    section: str | None,
    html: str,
    first_date: date,
    now: datetime,
    link: str | None = None,
    until: date | None = None,
    announce_at: datetime | None = None,
) -> QueueItem:
    """A new draft queued from chat by ``actor``. For announcements ``first_date`` should be the day of
    ``announce_at``."""
    policy.require_editor(actor)
    item = QueueItem(
        number=number,
        digest=digest,
        section=None if digest == "announcement" else section,
        html=html,
        first_date=first_date,
        link=link or None,
        until=until,
        announce_at=announce_at,
        status="draft",
        author_id=actor,
        origin="chat",
        history=(HistoryEntry(actor, "created", now),),
    )
    _validate(item, policy)
    return item


def _log(
    item: QueueItem, who: int | None, action: str, now: datetime, detail: str = ""
) -> tuple[HistoryEntry, ...]:
    return (*item.history, HistoryEntry(who, action, now, detail))


def approve(policy: EditorialPolicy, item: QueueItem, actor: int, now: datetime) -> QueueItem:
    """draft -> approved; with four-eyes on, the approver must not be the author."""
    policy.require_editor(actor)
    if item.status != "draft":
        raise InvalidTransition(item, "approve")
    if policy.four_eyes and item.author_id is not None and item.author_id == actor:
        raise FourEyesRequired(item.number)
    return replace(item, status="approved", approver_id=actor, history=_log(item, actor, "approved", now))


def withdraw(policy: EditorialPolicy, item: QueueItem, actor: int, reason: str, now: datetime) -> QueueItem:
    """draft/approved -> withdrawn, with a reason; a withdrawn item never runs."""
    policy.require_editor(actor)
    if not reason.strip():
        raise InvalidItem("reason", "reason_required")
    if not item.is_open:
        raise InvalidTransition(item, "withdraw")
    return replace(item, status="withdrawn", history=_log(item, actor, "withdrawn", now, reason.strip()))


def edit(
    policy: EditorialPolicy,
    item: QueueItem,
    actor: int,
    now: datetime,
    *,
    html: str | _Keep = KEEP,
    section: str | _Keep | None = KEEP,
    link: str | _Keep | None = KEEP,
    first_date: date | _Keep = KEEP,
    until: date | _Keep | None = KEEP,
    announce_at: datetime | _Keep | None = KEEP,
) -> QueueItem:
    """Change an open item. An approved item goes back to draft when four-eyes is on."""
    policy.require_editor(actor)
    if not item.is_open:
        raise InvalidTransition(item, "edit")
    changes: dict[str, object] = {}
    for name, value in (
        ("html", html),
        ("section", section),
        ("link", link),
        ("first_date", first_date),
        ("until", until),
        ("announce_at", announce_at),
    ):
        if value is not KEEP and value != getattr(item, name):
            changes[name] = value
    if not changes:
        return item
    detail = ", ".join(sorted(changes))
    edited = replace(item, **changes)  # type: ignore[arg-type]
    if item.status == "approved":
        if policy.four_eyes:
            edited = replace(edited, status="draft", approver_id=None)
            detail += "; back to draft (four-eyes)"
        else:
            edited = replace(edited, approver_id=actor)
    _validate(edited, policy)
    return replace(edited, history=_log(item, actor, "edited", now, detail))


# --- running ------------------------------------------------------------------------------------


def due_items(items: Iterable[QueueItem], slot: ItemSlot, day: date) -> list[QueueItem]:
    """Approved items that run in ``slot`` on ``day``, by section then first date then number.

    Pure and repeatable: a preview and the real post see the same list; recording the run is
    :func:`mark_published`'s job.
    """
    due = [
        it
        for it in items
        if it.status == "approved"
        and it.digest == slot
        and it.first_date <= day
        and (it.until is None or day <= it.until)
    ]
    return sorted(due, key=lambda it: (it.section or "", it.first_date, it.number, it.path or ""))


def due_announcements(items: Iterable[QueueItem], now: datetime) -> list[QueueItem]:
    """Approved announcements whose time has come and which were not sent yet, oldest first."""
    due = [
        it
        for it in items
        if it.status == "approved"
        and it.digest == "announcement"
        and it.announce_at is not None
        and it.announce_at <= now
    ]
    return sorted(due, key=lambda it: (it.announce_at or now, it.number))


def mark_published(item: QueueItem, day: date, now: datetime) -> QueueItem:
    """Record that ``item`` went out on ``day``; a run-once item becomes ``published``.

    Idempotent for the same day (a retried post does not record twice).
    """
    if day in item.published_on:
        return item
    if item.status != "approved":
        raise InvalidTransition(item, "publish")
    status: ItemStatus = "published" if item.until is None else "approved"
    return replace(
        item,
        status=status,
        published_on=(*item.published_on, day),
        history=_log(item, None, "published", now, day.isoformat()),
    )


def expire(items: Iterable[QueueItem], today: date, now: datetime) -> list[QueueItem]:
    """Open items whose end date is before ``today``, turned ``expired`` (only the changed ones)."""
    return [
        replace(it, status="expired", history=_log(it, None, "expired", now, f"until {it.until}"))
        for it in items
        if it.is_open and it.until is not None and it.until < today
    ]


def expire_missed(item: QueueItem, now: datetime, missed: timedelta) -> QueueItem:
    """An announcement missed by more than the catch-up window (the bot was down): never sent late."""
    return replace(item, status="expired", history=_log(item, None, "expired", now, f"missed by {missed}"))


def withdraw_removed_file(item: QueueItem, now: datetime) -> QueueItem | None:
    """A file item whose file was deleted: withdrawn if still open (``None``: nothing to change)."""
    if not item.is_open:
        return None
    return replace(item, status="withdrawn", history=_log(item, None, "withdrawn", now, "file removed"))


# --- files and digests --------------------------------------------------------------------------


_CONTENT_FIELDS = ("digest", "section", "html", "link", "first_date", "until", "announce_at")


def merge_file_item(existing: QueueItem | None, loaded: QueueItem, now: datetime) -> QueueItem | None:
    """Fold a freshly read file item into the queue; ``None`` when nothing needs writing.

    The file is the source of truth for its content. Number, history and publication record are kept.
    Its ``status:`` line applies like this:

    * content unchanged: the status only moves forward (draft -> approved, open -> withdrawn), so an
      approval given in chat (``/approve 7``) survives a reload of a file that still says ``draft``;
    * content changed: the file's status applies (an edited file that says ``draft`` needs approval
      again);
    * a published or expired item whose dates did not change keeps its state (fixing a typo does not
      re-run it, a finished item is not withdrawn); new dates let it run again.
    """
    if existing is None:
        return replace(
            loaded, history=(*loaded.history, HistoryEntry(None, "loaded", now, loaded.path or ""))
        )
    changed = [f for f in _CONTENT_FIELDS if getattr(existing, f) != getattr(loaded, f)]
    dates_same = existing.first_date == loaded.first_date and existing.until == loaded.until
    finished = existing.status in ("published", "expired") and dates_same
    only_backwards = not changed and not _moves_forward(existing.status, loaded.status)
    status: ItemStatus = existing.status if finished or only_backwards else loaded.status
    if status == existing.status and not changed:
        return None
    detail = ", ".join(changed) if changed else f"status {existing.status} -> {status}"
    return replace(
        loaded,
        number=existing.number,
        status=status,
        approver_id=existing.approver_id if status == existing.status else loaded.approver_id,
        published_on=existing.published_on,
        history=(*existing.history, HistoryEntry(None, "reloaded", now, detail)),
    )


def _moves_forward(old: ItemStatus, new: ItemStatus) -> bool:
    return (old, new) in {("draft", "approved"), ("draft", "withdrawn"), ("approved", "withdrawn")}


def to_queued(item: QueueItem, day: date | None = None) -> QueuedItem:
    """The digest's view of an item; ``item_id`` is the editors' number (or the file key if unstored).

    ``first_run``: the item has not gone out on a day before ``day`` (a retried post of the same day
    is still its first run), so the digest shows its full body; later days show a reminder line.
    """
    return QueuedItem(
        item_id=str(item.number) if item.number else item.key,
        section=item.section or "",
        html=item.html,
        link=item.link,
        first_run=day is None or not any(d < day for d in item.published_on),
    )
