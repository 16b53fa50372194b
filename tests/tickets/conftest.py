from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path

import pytest

from bot.config import DEFAULT_TZ as SHANGHAI
from bot.store import Store
from bot.store.tickets import TicketStore
from bot.tickets.desk import Desk, DeskPolicy, InMemoryTicketRepository, SlaTarget, TicketRepository
from bot.tickets.faq import FaqMatcher
from bot.tickets.roster import DutyPeriod, Roster, StaffMember
from bot.tickets.sla import ServiceHours
from bot.tickets.topics import FaqLibrary, load_faq

REPO = Path(__file__).resolve().parents[2]

ALICE, BOB, CAROL, SUPER = 101, 102, 103, 900
ASKER, BYSTANDER = 5001, 5002
GROUP = -1001234567890


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


@pytest.fixture(scope="session")
def library() -> FaqLibrary:
    lib, problems = load_faq(REPO / "content" / "faq")
    assert problems == []
    return lib


@pytest.fixture(scope="session")
def matcher(library: FaqLibrary) -> FaqMatcher:
    return FaqMatcher(library)


@pytest.fixture
def roster() -> Roster:
    return Roster(
        (
            StaffMember(ALICE, "张老师", frozenset({"education", "medical"})),
            StaffMember(BOB, "李老师", frozenset({"education"})),
            StaffMember(
                CAROL,
                "王老师",
                frozenset({"housing-fund"}),
                duty_hours=(DutyPeriod(time(13, 30), time(17, 30)),),
            ),
            StaffMember(SUPER, "赵主任", supervisor=True, duty_days=frozenset()),
        )
    )


@pytest.fixture(params=["memory", "store", "postgres"])
def repo(request: pytest.FixtureRequest) -> Iterator[TicketRepository]:
    """Every desk test runs on the in-memory twin and on the store repository, on the journal store and
    on the PostgreSQL store."""
    if request.param == "memory":
        yield InMemoryTicketRepository()
        return
    if request.param == "store":
        yield TicketStore(Store.in_memory())
        return
    from bot.store.pg import PgStore

    with PgStore.connect(request.getfixturevalue("pg_dsn")) as store:
        yield TicketStore(store)


@pytest.fixture
def desk(repo: TicketRepository, roster: Roster, library: FaqLibrary, matcher: FaqMatcher) -> Desk:
    policy = DeskPolicy(
        default=SlaTarget(120, 960),
        topics={"education": SlaTarget(60, 420)},
        warn_before_minutes=30,
        auto_assign_after_minutes=15,
        auto_close_after_days=3,
    )
    return Desk(repo, roster, ServiceHours(), policy, library, matcher)
