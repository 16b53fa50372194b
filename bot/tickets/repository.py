"""Where the desk's tickets live: the :class:`TicketRepository` protocol and an in-memory one for tests.

The durable implementation is :class:`bot.store.tickets.TicketStore`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Protocol

from bot.tickets.model import Status, Ticket


class TicketRepository(Protocol):
    """Where tickets live. The store implements it durably; :class:`InMemoryTicketRepository` for tests."""

    def next_number(self) -> int:
        """The number the next :meth:`add` will store (1, 2, 3, …); reading it reserves nothing."""
        ...

    def add(self, ticket: Ticket) -> None:
        """Store a new ticket, its dedupe key and the advanced counter in one atomic write."""
        ...

    def save(self, ticket: Ticket, *, durable: bool = True) -> None:
        """Store a changed ticket (the whole ticket, events included, in one write).

        ``durable=False``: the write may reach stable storage with the next durable one (it must still
        survive the process being killed) — for bookkeeping the desk acknowledges to nobody.
        """
        ...

    def get(self, number: int) -> Ticket | None: ...

    def by_message(self, chat_id: int, message_id: int) -> Ticket | None:
        """Dedupe key: the ticket opened from this message, if any."""
        ...

    def active(self) -> Iterable[Ticket]:
        """Tickets not closed."""
        ...

    def created_since(self, since: datetime) -> Iterable[Ticket]:
        """Tickets created at or after ``since`` (any status)."""
        ...

    def by_asker(self, asker_id: int) -> Iterable[Ticket]: ...


class InMemoryTicketRepository:
    """A dict-backed repository; stores copies so a test sees only what was saved."""

    def __init__(self) -> None:
        self._tickets: dict[int, dict[str, object]] = {}
        self._by_message: dict[tuple[int, int], int] = {}
        self._counter = 0

    def next_number(self) -> int:
        return self._counter + 1

    def add(self, ticket: Ticket) -> None:
        key = (ticket.chat_id, ticket.message_id)
        if ticket.number in self._tickets or key in self._by_message:
            raise ValueError(f"ticket #{ticket.number} or message {key} already stored")
        self._tickets[ticket.number] = ticket.to_dict()
        self._by_message[key] = ticket.number
        self._counter = max(self._counter, ticket.number)

    def save(self, ticket: Ticket, *, durable: bool = True) -> None:
        if ticket.number not in self._tickets:
            raise KeyError(ticket.number)
        self._tickets[ticket.number] = ticket.to_dict()

    def get(self, number: int) -> Ticket | None:
        d = self._tickets.get(number)
        return None if d is None else Ticket.from_dict(d)

    def by_message(self, chat_id: int, message_id: int) -> Ticket | None:
        n = self._by_message.get((chat_id, message_id))
        return None if n is None else self.get(n)

    def _all(self) -> Iterator[Ticket]:
        for d in self._tickets.values():
            yield Ticket.from_dict(d)

    def active(self) -> Iterable[Ticket]:
        return [t for t in self._all() if t.status is not Status.CLOSED]

    def created_since(self, since: datetime) -> Iterable[Ticket]:
        return [t for t in self._all() if t.created_at >= since]

    def by_asker(self, asker_id: int) -> Iterable[Ticket]:
        return [t for t in self._all() if t.asker_id == asker_id]

    def __len__(self) -> int:
        return len(self._tickets)
