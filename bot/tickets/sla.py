"""The SLA clock: service hours on the Chinese working calendar (限时办结).

Deadlines count only minutes inside service periods (e.g. 09:00–12:00 and 13:30–17:30) on workdays of
a :class:`~bot.workcal.WorkCalendar` — statutory holidays off, 调休 make-up Saturdays on. All datetimes
must be timezone-aware; results are in the service time zone (Asia/Shanghai by default).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from bot.config import DEFAULT_TZ
from bot.workcal import WorkCalendar

__all__ = ["DEFAULT_PERIODS", "ServiceHours", "ServicePeriod"]


@dataclass(frozen=True)
class ServicePeriod:
    """One daily service window, e.g. 09:00–12:00 (local time, end exclusive)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"service period {self.start:%H:%M}-{self.end:%H:%M}: end must be after start")


DEFAULT_PERIODS: tuple[ServicePeriod, ...] = (
    ServicePeriod(time(9, 0), time(12, 0)),
    ServicePeriod(time(13, 30), time(17, 30)),
)

_MAX_DAYS = 3660  # a deadline further than ten years away is a configuration error


@dataclass(frozen=True)
class ServiceHours:
    """Service periods on the workdays of a calendar, in one time zone."""

    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    periods: Sequence[ServicePeriod] = DEFAULT_PERIODS
    tz: ZoneInfo = DEFAULT_TZ

    def __post_init__(self) -> None:
        ordered = sorted(self.periods, key=lambda p: p.start)
        if not ordered:
            raise ValueError("service hours: at least one period is needed")
        for a, b in pairwise(ordered):
            if b.start < a.end:
                raise ValueError(
                    f"service periods overlap: {a.start:%H:%M}-{a.end:%H:%M} and {b.start:%H:%M}"
                )
        object.__setattr__(self, "periods", tuple(ordered))

    @classmethod
    def from_pairs(
        cls,
        pairs: Sequence[tuple[time, time]],
        calendar: WorkCalendar | None = None,
        tz: ZoneInfo = DEFAULT_TZ,
    ) -> ServiceHours:
        """Build from ``((start, end), ...)`` as the config layer holds them."""
        return cls(calendar or WorkCalendar(), tuple(ServicePeriod(s, e) for s, e in pairs), tz)

    def _local(self, t: datetime) -> datetime:
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError(f"expected a timezone-aware datetime, got naive {t.isoformat()}")
        return t.astimezone(self.tz)

    def _windows(self, from_day: date) -> Iterator[tuple[datetime, datetime]]:
        """Service windows (start, end) from ``from_day`` on, in order."""
        day = from_day
        for _ in range(_MAX_DAYS):
            if self.calendar.is_workday(day):
                for p in self.periods:
                    yield (
                        datetime.combine(day, p.start, tzinfo=self.tz),
                        datetime.combine(day, p.end, tzinfo=self.tz),
                    )
            day += timedelta(days=1)
        raise ValueError(f"no service window within {_MAX_DAYS} days of {from_day.isoformat()}")

    def is_open(self, t: datetime) -> bool:
        """True while the desk is staffed: inside a period on a workday."""
        lt = self._local(t)
        if not self.calendar.is_workday(lt.date()):
            return False
        return any(p.start <= lt.time() < p.end for p in self.periods)

    def next_service_start(self, t: datetime) -> datetime:
        """``t`` itself when the desk is open, else the start of the next service window."""
        lt = self._local(t)
        for start, end in self._windows(lt.date()):
            if lt < end:
                return max(start, lt)
        raise AssertionError("unreachable")  # pragma: no cover

    def add_service_minutes(self, start: datetime, minutes: float) -> datetime:
        """The deadline ``minutes`` of service time after ``start``.

        A deadline that falls exactly at the end of a window stays there (17:30, not 09:00 next day).
        """
        if minutes < 0:
            raise ValueError(f"minutes must be >= 0, got {minutes}")
        cursor = self._local(start)
        left = timedelta(minutes=minutes)
        if not left:
            return self.next_service_start(cursor)
        for w_start, w_end in self._windows(cursor.date()):
            if cursor >= w_end:
                continue
            begin = max(cursor, w_start)
            span = w_end - begin
            if left <= span:
                return begin + left
            left -= span
        raise AssertionError("unreachable")  # pragma: no cover

    def service_minutes_between(self, a: datetime, b: datetime) -> float:
        """Service minutes from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
        la, lb = self._local(a), self._local(b)
        if lb < la:
            return -self.service_minutes_between(b, a)
        total = timedelta()
        for w_start, w_end in self._windows(la.date()):
            if w_start >= lb:
                break
            begin, end = max(w_start, la), min(w_end, lb)
            if end > begin:
                total += end - begin
        return total.total_seconds() / 60
