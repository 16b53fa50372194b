"""The staff roster as plain values: who answers which topics, when they are on duty, who supervises.

The config layer maps ``people.staff`` onto these; the desk only reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = ["DutyPeriod", "Roster", "StaffMember", "Workdays"]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MON_TO_FRI = frozenset(range(5))


class Workdays(Protocol):
    """The working calendar as the roster needs it (:class:`bot.workcal.WorkCalendar`)."""

    def is_workday(self, day: date) -> bool: ...


@dataclass(frozen=True)
class DutyPeriod:
    """A daily window of duty, local time, end exclusive."""

    start: time
    end: time


@dataclass(frozen=True)
class StaffMember:
    """One staff member. No topics = handles every topic; no duty hours = on duty all day on duty days."""

    user_id: int
    name: str
    topics: frozenset[str] = frozenset()
    duty_days: frozenset[int] = frozenset(range(5))  # 0 = Monday
    duty_hours: tuple[DutyPeriod, ...] = ()
    supervisor: bool = False

    @classmethod
    def from_config(
        cls,
        user_id: int,
        name: str,
        topics: Iterable[str] = (),
        duty_days: Iterable[str] = ("mon", "tue", "wed", "thu", "fri"),
        duty_hours: Iterable[tuple[time, time]] = (),
        supervisor: bool = False,
    ) -> StaffMember:
        """Build from config values: day names ``mon``..``sun`` and ``(start, end)`` pairs."""
        days = frozenset(_WEEKDAYS.index(d) for d in duty_days)
        return cls(
            user_id, name, frozenset(topics), days, tuple(DutyPeriod(s, e) for s, e in duty_hours), supervisor
        )

    def handles(self, topic: str) -> bool:
        return not self.topics or topic in self.topics

    def takes_routine(self, topic: str) -> bool:
        """Gets routine tickets of ``topic`` (auto-assign, on-duty routing). A supervisor who lists no
        topics gets escalations, not routine tickets; one who lists topics takes those."""
        if self.supervisor and not self.topics:
            return False
        return self.handles(topic)

    def duty_day(self, day: date, calendar: Workdays | None = None) -> bool:
        """Is ``day`` a day of duty? Without a calendar: the listed weekdays. With the working calendar:
        a listed weekday that is a holiday is off; a 调休 make-up weekend day is worked as a weekday, so
        it is a duty day for everyone on duty on a weekday; an ordinary weekend day follows the list."""
        wd = day.weekday()
        if calendar is None:
            return wd in self.duty_days
        if calendar.is_workday(day):
            return wd in self.duty_days or (wd >= 5 and bool(self.duty_days & _MON_TO_FRI))
        return wd >= 5 and wd in self.duty_days

    def on_duty(self, t: datetime, tz: ZoneInfo, calendar: Workdays | None = None) -> bool:
        """On duty at ``t``: a duty day (on ``calendar`` when given, see :meth:`duty_day`) and the duty hours."""
        lt = t.astimezone(tz)
        if not self.duty_day(lt.date(), calendar):
            return False
        if not self.duty_hours:
            return True
        return any(p.start <= lt.time() < p.end for p in self.duty_hours)


@dataclass(frozen=True)
class Roster:
    staff: Sequence[StaffMember] = field(default_factory=tuple)

    def get(self, user_id: int | None) -> StaffMember | None:
        for s in self.staff:
            if s.user_id == user_id:
                return s
        return None

    def is_staff(self, user_id: int | None) -> bool:
        return self.get(user_id) is not None

    def is_supervisor(self, user_id: int | None) -> bool:
        s = self.get(user_id)
        return s is not None and s.supervisor

    def supervisors(self) -> list[StaffMember]:
        return [s for s in self.staff if s.supervisor]

    def ids(self) -> frozenset[int]:
        return frozenset(s.user_id for s in self.staff)
