from datetime import datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import DEFAULT_TZ as SHANGHAI
from bot.config import load_config
from bot.tickets.sla import ServiceHours, ServicePeriod
from bot.workcal import WorkCalendar, statutory_holidays

H = ServiceHours()


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


def test_friday_1755_rolls_to_monday_morning() -> None:
    fri = at(2026, 11, 20, 17, 55)
    assert not H.is_open(fri)
    assert H.next_service_start(fri) == at(2026, 11, 23, 9, 0)
    assert H.add_service_minutes(fri, 30) == at(2026, 11, 23, 9, 30)


def test_friday_1715_spills_over_the_weekend() -> None:
    assert H.add_service_minutes(at(2026, 11, 20, 17, 15), 30) == at(2026, 11, 23, 9, 15)
    assert H.service_minutes_between(at(2026, 11, 20, 17, 15), at(2026, 11, 23, 9, 15)) == 30


def test_lunch_break_is_not_counted() -> None:
    assert H.add_service_minutes(at(2026, 11, 24, 11, 30), 60) == at(2026, 11, 24, 14, 0)
    assert H.next_service_start(at(2026, 11, 24, 12, 10)) == at(2026, 11, 24, 13, 30)
    assert H.service_minutes_between(at(2026, 11, 24, 11, 0), at(2026, 11, 24, 14, 0)) == 90


def test_deadline_exactly_at_window_end_stays_there() -> None:
    assert H.add_service_minutes(at(2026, 11, 24, 17, 0), 30) == at(2026, 11, 24, 17, 30)


def test_national_day_week_2026_is_skipped() -> None:
    # Wed 30 Sep 17:00; 1-7 Oct off (and 8-9 Oct are ordinary workdays)
    start = at(2026, 9, 30, 17, 0)
    assert H.add_service_minutes(start, 60) == at(2026, 10, 8, 9, 30)
    assert H.next_service_start(at(2026, 10, 3, 10, 0)) == at(2026, 10, 8, 9, 0)
    assert H.service_minutes_between(start, at(2026, 10, 8, 9, 30)) == 60


def test_makeup_saturday_counts_as_a_workday() -> None:
    # Sat 10 Oct 2026 is a 调休 workday; Fri 9 Oct 17:00 + 60 min -> Sat 10 Oct 09:30
    assert H.is_open(at(2026, 10, 10, 10, 0))
    assert H.add_service_minutes(at(2026, 10, 9, 17, 0), 60) == at(2026, 10, 10, 9, 30)
    # and a plain weekday calendar would jump to Monday instead
    plain = ServiceHours(WorkCalendar(use_package=False))
    assert plain.add_service_minutes(at(2026, 10, 9, 17, 0), 60) == at(2026, 10, 12, 9, 30)


def test_new_year_2027_is_skipped_with_the_configured_hours() -> None:
    """Thursday 2026-12-31 17:00: 30 minutes that day, 元旦 and the weekend off, the rest on Monday."""
    config = load_config("config.yaml")
    hours = ServiceHours.from_pairs(config.service.hours, WorkCalendar(), config.tz)
    assert [(p.start, p.end) for p in hours.periods] == [(time(9), time(12)), (time(13, 30), time(17, 30))]
    asked = at(2026, 12, 31, 17, 0)
    first, resolution = config.service.default.first_response_minutes, config.service.default.resolution_minutes
    assert (first, resolution) == (120, 960)
    assert hours.add_service_minutes(asked, first) == at(2027, 1, 4, 10, 30)
    # 960 min = 30 (Thu) + 7 h Mon + 7 h Tue + 90 min Wed
    assert hours.add_service_minutes(asked, resolution) == at(2027, 1, 6, 10, 30)
    assert not hours.is_open(at(2027, 1, 1, 10, 0))


_STATUTORY = {d for y in range(2026, 2031) for d in statutory_holidays(y)}


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2029, 12, 31)),
    minutes=st.integers(min_value=0, max_value=7 * 60 * 15),
)
def test_no_deadline_lands_on_a_statutory_holiday(start: datetime, minutes: int) -> None:
    due = H.add_service_minutes(start.replace(tzinfo=SHANGHAI), minutes)
    assert due.date() not in _STATUTORY
    assert H.is_open(due) or H.is_open(due - timedelta(minutes=1))  # inside (or at the end of) a window


def test_times_outside_hours() -> None:
    early = at(2026, 11, 24, 7, 0)
    assert not H.is_open(early)
    assert H.next_service_start(early) == at(2026, 11, 24, 9, 0)
    assert H.add_service_minutes(early, 0) == at(2026, 11, 24, 9, 0)
    assert H.service_minutes_between(early, at(2026, 11, 24, 8, 59)) == 0
    night = at(2026, 11, 24, 22, 0)
    assert H.add_service_minutes(night, 420) == at(2026, 11, 25, 17, 30)  # one full day = 7 h


def test_other_time_zones_are_converted_and_naive_is_refused() -> None:
    from datetime import UTC

    utc = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    assert H.is_open(utc)
    assert H.add_service_minutes(utc, 10) == at(2026, 11, 24, 9, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        H.is_open(datetime(2026, 11, 24, 9, 0))


def test_configurable_periods_and_validation() -> None:
    one = ServiceHours.from_pairs([(time(8, 0), time(16, 0))])
    assert one.add_service_minutes(at(2026, 11, 24, 15, 0), 120) == at(2026, 11, 25, 9, 0)
    with pytest.raises(ValueError, match="overlap"):
        ServiceHours(periods=(ServicePeriod(time(9), time(12)), ServicePeriod(time(11), time(13))))
    with pytest.raises(ValueError, match="end must be after start"):
        ServicePeriod(time(12), time(9))


def test_negative_interval_is_negative() -> None:
    assert H.service_minutes_between(at(2026, 11, 24, 10, 0), at(2026, 11, 24, 9, 0)) == -60
