"""TicketStore: the desk's :class:`~bot.tickets.desk.TicketRepository` on the durable store.

- table ``tickets``: one document per ticket, ``doc_id`` = ticket number (O(1) ``get``), indexed on
  ``status``, ``asker_id`` and ``source`` (``"<chat_id>:<message_id>"``, the dedupe key: a redelivered
  update finds its ticket instead of opening a duplicate);
- table ``tickets_meta``: the counter for the next number (only goes up, never reused), and the creation
  order's record: the latest ``created_at`` added and the numbers added *late* (dated before a ticket
  numbered below them: the clock was stepped back, or a history written out of order), as ranges.

A stored document leaves out the fields still at their default (:data:`DEFAULTS`: no owner, no answers,
flags off, …; ``Ticket.from_dict`` fills them in): a closed ticket is about 13 keys instead of 32, which
at 100k tickets is ~60 MB less in memory and a smaller snapshot to read at start.

``add`` writes the ticket, its dedupe key and the counter in one ``store.batch()`` (one journal record),
so a crash leaves either all of them or none. ``save`` writes the whole ticket — state and audit
events together — in one record; ``save(t, durable=False)`` writes it without its own fsync (it
survives the process being killed, and the next write's fsync makes it durable): for bookkeeping only.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, MutableMapping
from datetime import datetime
from typing import Any

from tinydb.table import Document

from bot.store.core import Store
from bot.store.errors import StoreError
from bot.store.keyed import Counter
from bot.tickets.model import Status, Ticket

__all__ = ["DEFAULTS", "TicketStore", "ticket_doc"]

_ACTIVE = (Status.OPEN, Status.CLAIMED, Status.ANSWERED)

#: ``tickets_meta`` document 2: the creation order's record (document 1 is the number counter), see
#: :meth:`TicketStore.created_since`
_ORDER_ID = 2


def _source(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


#: ``Ticket.to_dict()`` fields not stored while they hold these values (``Ticket.from_dict`` defaults).
DEFAULTS: dict[str, Any] = {
    "thread_id": None,
    "chat_title": "",
    "owner_id": None,
    "owner_name": "",
    "first_response_at": None,
    "closed_at": None,
    "last_activity_at": None,
    "answers": [],
    "notes": [],
    "rating": None,
    "warned_first_response": False,
    "escalated_first_response": False,
    "warned_resolution": False,
    "escalated_resolution": False,
    "auto_assigned": False,
    "faq_offered": None,
    "reopened": 0,
    "card_message_id": None,
    "faq_buttons_message_id": None,
    "promise_message_id": None,
    "promise_peers": [],
    "events": [],
    "kind": "question",
    "about": None,
    "outcome": "",
}


def _at_default(key: str, value: Any) -> bool:
    if key not in DEFAULTS:
        return False
    default = DEFAULTS[key]
    return value is None if default is None else type(value) is type(default) and value == default


def ticket_doc(ticket: Ticket) -> dict[str, Any]:
    """The stored document of ``ticket``: its fields except those at their default, plus its dedupe key."""
    d = {k: v for k, v in ticket.to_dict().items() if not _at_default(k, v)}
    d["source"] = _source(ticket.chat_id, ticket.message_id)
    return d




class Late:
    """The numbers added late, as sorted inclusive ranges: a stepped-back clock makes one short run, a history
    imported newest first one long run, so the record stays a few pairs however many tickets it covers."""

    def __init__(self, ranges: Iterable[Iterable[int] | int] = ()) -> None:
        self.ranges: list[list[int]] = []
        for r in ranges:  # [a, b] pairs; a bare number is [n, n]
            a, b = (r, r) if isinstance(r, int) else tuple(r)
            self.add_range(int(a), int(b))

    def add(self, number: int) -> None:
        self.add_range(number, number)

    def add_range(self, a: int, b: int) -> None:
        last = self.ranges[-1] if self.ranges else None
        if last is not None and last[0] <= a <= last[1] + 1:  # the usual case: the run goes on
            last[1] = max(last[1], b)
            return
        bisect.insort(self.ranges, [a, b])
        merged: list[list[int]] = []
        for lo, hi in self.ranges:
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        self.ranges = merged

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, int):
            return False
        i = bisect.bisect_right(self.ranges, number, key=lambda r: r[0]) - 1
        return i >= 0 and self.ranges[i][0] <= number <= self.ranges[i][1]

    def __len__(self) -> int:
        return sum(b - a + 1 for a, b in self.ranges)


class TicketStore:
    """Tickets by number, by source message, by asker and by status."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._t = store.table("tickets", index=("status", "asker_id", "source"))
        self._meta = store.table("tickets_meta")
        self._counter = Counter(self._meta)
        self._order_cache: tuple[datetime | None, Late] | None = None  # when it could not be stored

    def next_number(self) -> int:
        return self._counter.next()

    def add(self, ticket: Ticket) -> None:
        with self._store.batch():
            if self._t.contains(doc_id=ticket.number):
                raise ValueError(f"ticket #{ticket.number} already stored")
            if self._t.find("source", _source(ticket.chat_id, ticket.message_id)):
                raise ValueError(f"message {ticket.chat_id}:{ticket.message_id} is already ticket")
            newest, late = self._order()
            if newest is not None and ticket.created_at < newest:
                late.add(ticket.number)
            self._t.insert(Document(ticket_doc(ticket), doc_id=ticket.number))
            self._counter.used(ticket.number)
            self._put_order(max(newest or ticket.created_at, ticket.created_at), late)

    # -- the creation order: what lets created_since stop early

    def _order(self) -> tuple[datetime | None, Late]:
        """(the latest ``created_at`` added, the numbers added late), from ``tickets_meta``; a store written
        before the record existed gets it from one pass over its tickets, stored for the next time."""
        doc = self._meta.get(doc_id=_ORDER_ID)
        if isinstance(doc, Document):
            newest = doc.get("newest")
            return (datetime.fromisoformat(newest) if newest else None), Late(doc.get("late", ()))
        if self._order_cache is not None:
            return self._order_cache
        newest_at: datetime | None = None
        late = Late()
        for d in self._t.oldest_first():
            created = datetime.fromisoformat(d["created_at"])
            if newest_at is not None and created < newest_at:
                late.add(d.doc_id)
            newest_at = created if newest_at is None else max(newest_at, created)
        found = (newest_at, late)
        try:
            self._put_order(*found)
        except (StoreError, OSError):  # a read-only store, a process without the lease: kept for this process only
            self._order_cache = found
        return found

    def _put_order(self, newest: datetime | None, late: Late) -> None:
        doc = {"newest": newest.isoformat() if newest else None, "late": late.ranges}
        self._meta.upsert(Document(doc, doc_id=_ORDER_ID))

    def save(self, ticket: Ticket, *, durable: bool = True) -> None:
        if not self._t.contains(doc_id=ticket.number):
            raise KeyError(ticket.number)
        doc = ticket_doc(ticket)

        def replace(stored: MutableMapping[str, Any]) -> None:
            # the whole document, not a merge: a field back at its default is left out, not kept stale
            stored.clear()
            stored.update(doc)

        if durable:
            self._t.update(replace, doc_ids=[ticket.number])
            return
        with self._store.unsynced():
            self._t.update(replace, doc_ids=[ticket.number])

    def get(self, number: int) -> Ticket | None:
        doc = self._t.get(doc_id=number)
        return Ticket.from_dict(dict(doc)) if isinstance(doc, Document) else None

    def by_message(self, chat_id: int, message_id: int) -> Ticket | None:
        docs = self._t.find("source", _source(chat_id, message_id))
        return Ticket.from_dict(dict(docs[0])) if docs else None

    def active(self) -> Iterable[Ticket]:
        docs = [d for s in _ACTIVE for d in self._t.find("status", s.value)]
        return [Ticket.from_dict(dict(d)) for d in sorted(docs, key=lambda d: d.doc_id)]

    def created_since(self, since: datetime) -> Iterable[Ticket]:
        """The tickets created at or after ``since``, oldest first, read from the newest number down.

        The walk stops at the first ticket older than ``since`` that was not added late: every ticket
        numbered below it was added before it and dated no later (else it would be late), so older than
        ``since`` too. Late tickets (the clock stepped back) are walked over, never lost. A card's draft
        looks back a week three times per card: at 100k tickets this reads the week's tickets, not all
        100k (1.9 s a call on the journal, the whole table over the wire on PostgreSQL)."""
        _newest, late = self._order()
        out = []
        for d in self._t.newest_first():
            created = datetime.fromisoformat(d["created_at"])
            if created >= since:
                out.append(Ticket.from_dict(dict(d)))
            elif d.doc_id not in late:
                break
        out.reverse()
        return out

    def by_asker(self, asker_id: int) -> Iterable[Ticket]:
        return [Ticket.from_dict(dict(d)) for d in self._t.find("asker_id", asker_id)]

    def __len__(self) -> int:
        return len(self._t)
