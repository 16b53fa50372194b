"""TicketStore: the desk's :class:`~bot.tickets.desk.TicketRepository` on the durable store.

- table ``tickets``: one document per ticket, ``doc_id`` = ticket number (O(1) ``get``), indexed on
  ``status``, ``asker_id`` and ``source`` (``"<chat_id>:<message_id>"``, the dedupe key: a redelivered
  update finds its ticket instead of opening a duplicate);
- table ``tickets_meta``: the counter for the next number (only goes up, never reused).

A stored document leaves out the fields still at their default (:data:`DEFAULTS`: no owner, no answers,
flags off, …; ``Ticket.from_dict`` fills them in): a closed ticket is about 13 keys instead of 32, which
at 100k tickets is ~60 MB less in memory and a smaller snapshot to read at start.

``add`` writes the ticket, its dedupe key and the counter in one ``store.batch()`` (one journal record),
so a crash leaves either all of them or none. ``save`` writes the whole ticket — state and audit
events together — in one record; ``save(t, durable=False)`` writes it without its own fsync (it
survives the process being killed, and the next write's fsync makes it durable): for bookkeeping only.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from datetime import datetime, timedelta
from typing import Any

from tinydb.table import Document

from bot.store.core import Store
from bot.store.keyed import Counter
from bot.tickets.model import Status, Ticket

__all__ = ["DEFAULTS", "TicketStore", "ticket_doc"]

_ACTIVE = (Status.OPEN, Status.CLAIMED, Status.ANSWERED)

#: how far back of ``since`` :meth:`TicketStore.created_since` keeps reading: a ticket's ``created_at`` may
#: be earlier than an older number's when the clock was stepped back (NTP, a VM restored) in between
CLOCK_SLACK = timedelta(days=1)


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




class TicketStore:
    """Tickets by number, by source message, by asker and by status."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._t = store.table("tickets", index=("status", "asker_id", "source"))
        self._counter = Counter(store.table("tickets_meta"))

    def next_number(self) -> int:
        return self._counter.next()

    def add(self, ticket: Ticket) -> None:
        with self._store.batch():
            if self._t.contains(doc_id=ticket.number):
                raise ValueError(f"ticket #{ticket.number} already stored")
            if self._t.find("source", _source(ticket.chat_id, ticket.message_id)):
                raise ValueError(f"message {ticket.chat_id}:{ticket.message_id} is already ticket")
            self._t.insert(Document(ticket_doc(ticket), doc_id=ticket.number))
            self._counter.used(ticket.number)

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

        Numbers are handed out in order of creation, so ``created_at`` falls with the number and the walk
        stops at the first ticket older than ``since`` by more than :data:`CLOCK_SLACK` (a clock stepped
        back by less than that is still read right). A card's draft looks back a week: at 100k tickets
        this reads the week's tickets, not all 100k (1.9 s on the journal, the whole table over the wire
        on PostgreSQL, three times per card)."""
        out = []
        stop = since - CLOCK_SLACK
        for d in self._t.newest_first():
            created = datetime.fromisoformat(d["created_at"])
            if created >= since:
                out.append(Ticket.from_dict(dict(d)))
            elif created < stop:
                break
        out.reverse()
        return out

    def by_asker(self, asker_id: int) -> Iterable[Ticket]:
        return [Ticket.from_dict(dict(d)) for d in self._t.find("asker_id", asker_id)]

    def __len__(self) -> int:
        return len(self._t)
