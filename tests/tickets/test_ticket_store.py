"""TicketStore, a contract: the same on the journal store and on PostgreSQL (any_store, durable_store)."""

from __future__ import annotations

import pytest

from bot.store import Store
from bot.store.tickets import TicketStore
from bot.tickets.desk import Desk
from bot.tickets.model import Status
from tests.conftest import Reopen

from .conftest import ALICE, ASKER, GROUP, at

NOW = at(2026, 11, 24, 10, 0)


def _desk(store: Store, desk: Desk) -> Desk:
    return Desk(TicketStore(store), desk.roster, desk.hours, desk.policy, desk.library, desk.matcher)


def test_tickets_survive_reopening_the_store_without_duplicates(durable_store: Reopen, desk: Desk) -> None:
    with durable_store() as store:
        d = _desk(store, desk)
        for i in range(1, 6):
            d.open_ticket(
                chat_id=GROUP,
                message_id=i,
                asker_id=ASKER,
                asker_name="刘",
                text="孩子上学要什么材料",
                now=NOW,
            )
        d.claim(3, by=ALICE, now=NOW)
        [e] = [n for n in d.sla_due(at(2026, 11, 24, 11, 0)) if n.number == 3]
        d.mark_sent(e, at(2026, 11, 24, 11, 0))
    with durable_store() as store:
        d = _desk(store, desk)
        repo = TicketStore(store)
        assert len(repo) == 5 and repo.next_number() == 6
        again = d.open_ticket(
            chat_id=GROUP, message_id=3, asker_id=ASKER, asker_name="刘", text="重发", now=NOW
        )
        assert not again.created and again.ticket.number == 3 and again.ticket.owner_id == ALICE
        assert len(repo) == 5
        assert all(n.number != 3 or n.kind != "escalate" for n in d.sla_due(at(2026, 11, 24, 11, 30)))
        new = d.open_ticket(
            chat_id=GROUP, message_id=99, asker_id=ASKER, asker_name="刘", text="新问题", now=NOW
        )
        assert new.ticket.number == 6


def test_indexes_follow_status_and_asker_changes(any_store: Store, desk: Desk) -> None:
    store = any_store
    repo = TicketStore(store)
    d = _desk(store, desk)
    d.open_ticket(chat_id=GROUP, message_id=1, asker_id=ASKER, asker_name="刘", text="问题一", now=NOW)
    d.open_ticket(chat_id=GROUP, message_id=2, asker_id=ASKER, asker_name="刘", text="问题二", now=NOW)
    d.close(1, by=900, now=NOW)
    assert [t.number for t in repo.active()] == [2]
    assert repo.get(1) is not None and repo.get(1).status is Status.CLOSED  # type: ignore[union-attr]
    d.forget_user(ASKER, now=NOW)
    assert list(repo.by_asker(ASKER)) == []


def test_add_refuses_duplicates_and_save_needs_an_existing_ticket(any_store: Store, desk: Desk) -> None:
    store = any_store
    repo = TicketStore(store)
    d = _desk(store, desk)
    t = d.open_ticket(
        chat_id=GROUP, message_id=1, asker_id=ASKER, asker_name="刘", text="问题", now=NOW
    ).ticket
    with pytest.raises(ValueError):
        repo.add(t)
    t.number = 42
    with pytest.raises(KeyError):
        repo.save(t)


REQUIRED = {"number", "chat_id", "message_id", "asker_id", "asker_name", "text", "topic", "status", "created_at",
            "first_response_due", "resolution_due", "source"}


def test_a_stored_ticket_leaves_out_its_defaults_and_reads_back_equal(durable_store: Reopen, desk: Desk) -> None:
    from bot.store.tickets import DEFAULTS, ticket_doc
    from bot.tickets.model import Ticket

    fresh = {k: v for k, v in ticket_doc(Ticket(1, GROUP, 1, ASKER, "刘", "问", "general", NOW, NOW, NOW)).items()}
    assert set(fresh) == REQUIRED
    # DEFAULTS are exactly what Ticket.from_dict gives for a missing key
    rebuilt = Ticket.from_dict({k: v for k, v in fresh.items() if k != "source"}).to_dict()
    assert {k: rebuilt[k] for k in DEFAULTS} == DEFAULTS
    with durable_store() as store:
        d = _desk(store, desk)
        t = d.open_ticket(chat_id=GROUP, message_id=7, asker_id=ASKER, asker_name="刘", text="孩子上学要什么材料",
                          now=NOW).ticket
        d.claim(t.number, by=ALICE, now=NOW)
        before = d.get(t.number)
        assert before is not None
    with durable_store() as store:
        after = TicketStore(store).get(t.number)
    assert after == before


class _Counting:
    """The tickets table, counting the documents a reader takes from its newest-first walk."""

    def __init__(self, table: object) -> None:
        self._table = table
        self.read = 0

    def newest_first(self):  # type: ignore[no-untyped-def]
        for doc in self._table.newest_first():  # type: ignore[attr-defined]
            self.read += 1
            yield doc

    def __getattr__(self, name: str) -> object:
        return getattr(self._table, name)


def _walk(repo: TicketStore) -> _Counting:
    counting = _Counting(repo._t)
    repo._t = counting  # type: ignore[assignment]
    return counting


def test_created_since_reads_the_recent_tickets_only(any_store: Store, desk: Desk) -> None:
    """A card's draft asks for the last week's tickets: the store reads that week, never every ticket,
    and a ticket numbered after another but dated before it (the clock stepped back) is still found."""
    from datetime import timedelta

    store = any_store
    d = _desk(store, desk)
    old = NOW - timedelta(days=60)
    with store.batch():
        for i in range(1, 451):  # two months ago: more than two of PostgreSQL's 200-row chunks
            d.open_ticket(chat_id=GROUP, message_id=i, asker_id=ASKER, asker_name="刘", text="旧问题", now=old)
    recent = [NOW - timedelta(days=3), NOW - timedelta(days=1), NOW - timedelta(days=1, hours=2), NOW]
    for i, when in enumerate(recent, start=1000):  # the third: the clock stepped back two hours
        d.open_ticket(chat_id=GROUP, message_id=i, asker_id=ASKER, asker_name="刘", text="新问题", now=when)
    repo = TicketStore(store)
    counting = _walk(repo)
    found = list(repo.created_since(NOW - timedelta(days=7)))
    assert [t.number for t in found] == [451, 452, 453, 454]
    assert [t.created_at for t in found] == recent
    assert counting.read == len(recent) + 1  # the four, and the first ticket older than the week
    everything = list(repo.created_since(old))
    assert [t.number for t in everything] == list(range(1, 455))


def test_created_since_finds_tickets_dated_out_of_order(durable_store: Reopen, desk: Desk) -> None:
    """A history written out of order (an old date after newer ones, as a stepped-back clock or an
    import makes it): every ticket of the window is found, also after a restart and in a store written
    before the order was recorded (rebuilt from one pass, then kept)."""
    from datetime import timedelta

    dates = [NOW, NOW - timedelta(days=1), NOW - timedelta(days=20), NOW - timedelta(days=30),
             NOW - timedelta(days=2), NOW - timedelta(days=40)]
    with durable_store() as store:
        d = _desk(store, desk)
        for i, when in enumerate(dates, start=1):
            d.open_ticket(chat_id=GROUP, message_id=i, asker_id=ASKER, asker_name="刘", text="问题", now=when)
        week = NOW - timedelta(days=7)
        assert [t.number for t in TicketStore(store).created_since(week)] == [1, 2, 5]
    with durable_store() as store:
        repo = TicketStore(store)
        assert [t.number for t in repo.created_since(week)] == [1, 2, 5]
        store.table("tickets_meta").remove(doc_ids=[2])  # as a store written before the record existed
    with durable_store() as store:
        repo = TicketStore(store)
        assert [t.number for t in repo.created_since(week)] == [1, 2, 5]
        assert store.table("tickets_meta").get(doc_id=2) is not None  # rebuilt and kept
        counting = _walk(repo)
        assert [t.number for t in repo.created_since(NOW - timedelta(hours=1))] == [1]
        assert counting.read == 6  # ticket 1 is the first of the order: every later one is late


def test_the_late_numbers_are_kept_as_ranges() -> None:
    """A history imported newest first makes every ticket late: one range, not a number per ticket (each
    add rewrites the record: a list of 100k numbers made every add at 100k take 22 ms on the journal and
    78 ms on PostgreSQL in bench_pgstore)."""
    from bot.store.tickets import Late

    late = Late()
    for n in range(2, 100_001):
        late.add(n)
    assert late.ranges == [[2, 100_000]] and len(late) == 99_999
    assert 2 in late and 100_000 in late and 1 not in late and 100_001 not in late
    late.add(100_005)
    late.add_range(50, 60)  # inside a run: nothing new
    assert late.ranges == [[2, 100_000], [100_005, 100_005]]
    old = Late([3, 4, 9, [20, 22]])  # bare numbers (the first form of the record) read as [n, n]
    assert old.ranges == [[3, 4], [9, 9], [20, 22]] and 4 in old and 5 not in old and 21 in old
