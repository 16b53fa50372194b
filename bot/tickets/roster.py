"""The staff roster as plain values: who answers which topics, when they are on duty, who supervises.

The config layer maps ``people.staff`` onto these; the desk only reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

__all__ = ["DutyPeriod", "Roster", "StaffMember"]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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

    def on_duty(self, t: datetime, tz: ZoneInfo) -> bool:
        lt = t.astimezone(tz)
        if lt.weekday() not in self.duty_days:
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
