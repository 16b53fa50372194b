"""bot.delivery without Telegram: the one catch-up/expiry decision and the ledger walk over a plain
send function (a local list stands in for the chat; the ledger is the real one in a real store)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import DigestConfig, DigestsConfig, SectionConfig
from bot.delivery import Failure, LedgerWalk, Schedule
from bot.store import Store
from bot.store.ledger import DeliveryKey, DeliveryLedger

TZ = ZoneInfo("Europe/Berlin")


def digests(**kw: object) -> DigestsConfig:
    section = (SectionConfig(key="news", sources=("a",)),)
    return DigestsConfig(
        morning=DigestConfig(time=time(8, 0), sections=section),
        tea=DigestConfig(time=time(15, 0), sections=section),
        **kw,  # type: ignore[arg-type]
    )


class Weekdays:
    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5 and day != date(2026, 12, 1)  # a holiday on Tuesday


def test_slot_times_are_in_the_configured_zone_and_service_days_follow_the_calendar() -> None:
    s = Schedule(digests(service_days="workdays"), TZ, Weekdays())
    assert s.scheduled_at("tea", date(2026, 11, 30)) == datetime(2026, 11, 30, 15, 0, tzinfo=TZ)
    assert s.slot_time("morning") == time(8, 0, tzinfo=TZ)
    # Monday after 08:00: the next morning issue skips the holiday Tuesday
    assert s.next_run_day("morning", datetime(2026, 11, 30, 9, 0, tzinfo=TZ)) == date(2026, 12, 2)
    assert s.next_run_day("tea", datetime(2026, 11, 30, 9, 0, tzinfo=TZ)) == date(2026, 11, 30)
    # Saturday, no weekend issue: Monday
    assert s.next_run_day("morning", datetime(2026, 11, 28, 7, 0, tzinfo=TZ)) == date(2026, 11, 30)
    every = Schedule(digests(), TZ, Weekdays())
    assert every.next_run_day("morning", datetime(2026, 11, 28, 7, 0, tzinfo=TZ)) == date(2026, 11, 28)


def test_one_decision_wait_send_or_expire() -> None:
    s = Schedule(digests(catch_up_minutes=120), TZ)
    due = datetime(2026, 11, 30, 8, 0, tzinfo=TZ)
    assert s.decide(due, due - timedelta(seconds=1)) == "wait"
    assert s.decide(due, due + timedelta(minutes=120)) == "send"
    assert s.decide(due, due + timedelta(minutes=121)) == "expire"
    # begun before the outage: finish it rather than leave half a message
    assert s.decide(due, due + timedelta(hours=9), begun=True) == "send"


async def test_the_walk_sends_each_part_once_and_resumes_where_it_stopped(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        ledger = DeliveryLedger(store)
        walk = LedgerWalk(ledger)
        key = DeliveryKey.of(-100, date(2026, 11, 30), "morning")
        chat: list[str] = []
        fail_at: set[str] = {"two"}

        async def send(text: str) -> int | Failure:
            if text in fail_at:
                return "transient"
            chat.append(text)
            return len(chat)

        assert await walk.send(key, ["one", "two", "three"], send) == "transient"
        assert chat == ["one"] and ledger.sent_parts(key) == {0: 1}
        assert ledger.outcome(key) is None, "the walk never finishes a delivery: the caller does"
        fail_at.clear()
        assert await walk.send(key, ["one", "two", "three"], send) == "sent"
        assert chat == ["one", "two", "three"], "a resumed walk sends exactly the missing parts"
        assert ledger.sent_parts(key) == {0: 1, 1: 2, 2: 3}

        refused = DeliveryKey.of(-100, date(2026, 11, 30), "tea")

        async def refuse(text: str) -> int | Failure:
            return "permanent"

        assert await walk.send(refused, ["x"], refuse) == "permanent"
        assert ledger.sent_parts(refused) == {}


def test_a_catch_up_looks_at_yesterdays_and_todays_due_slots_since_the_first_run() -> None:
    s = Schedule(digests(service_days="workdays"), TZ, Weekdays())
    now = datetime(2026, 12, 2, 9, 0, tzinfo=TZ)  # Wednesday; Tuesday was a holiday
    first_run = datetime(2026, 11, 1, tzinfo=TZ)
    assert s.past_slots(now, first_run) == [("morning", date(2026, 12, 2), datetime(2026, 12, 2, 8, 0, tzinfo=TZ))]
    thursday = datetime(2026, 12, 3, 16, 0, tzinfo=TZ)
    assert [(slot, day.day) for slot, day, _ in s.past_slots(thursday, first_run)] == [
        ("morning", 2), ("tea", 2), ("morning", 3), ("tea", 3)]
    # a fresh install: nothing before its first run is missed
    assert [slot for slot, _, _ in s.past_slots(thursday, datetime(2026, 12, 3, 12, 0, tzinfo=TZ))] == ["tea"]
