"""When a slot runs, and what to do with one that was missed: the one catch-up/expiry decision.

    schedule = Schedule(config.digests, config.tz, workcal)
    schedule.scheduled_at("morning", day)       # 08:00 of ``day`` in the configured zone
    schedule.is_service_day(day)                # digests.service_days on the working calendar
    schedule.next_run_day("tea", now)           # the next issue that has not gone out yet
    schedule.decide(due, now, begun=False)      # "wait" | "send" | "expire"

The same decision serves digests and announcements: a delivery due in the future waits; one due less
than ``digests.catch_up_minutes`` ago (or already begun: half a message is worse than a late one) is
sent; anything older is expired, never sent late.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from bot.config import DigestConfig, DigestsConfig
from digests.model import Slot

__all__ = ["SLOTS", "Decision", "Schedule", "Workdays"]

SLOTS: tuple[Slot, ...] = ("morning", "tea")
Decision = Literal["wait", "send", "expire"]


class Workdays(Protocol):
    """The working calendar, as far as the schedule needs it (bot.workcal.WorkCalendar)."""

    def is_workday(self, day: date) -> bool: ...


class Schedule:
    """Slot times, service days and the catch-up window, from ``digests`` and the configured zone."""

    def __init__(self, digests: DigestsConfig, tz: ZoneInfo, workdays: Workdays | None = None) -> None:
        self.digests = digests
        self.tz = tz
        self.workdays = workdays
        self.window = timedelta(minutes=digests.catch_up_minutes)

    def digest(self, slot: Slot) -> DigestConfig:
        return self.digests.morning if slot == "morning" else self.digests.tea

    def slot_time(self, slot: Slot) -> time:
        """The slot's local time, with the configured zone (what the daily job runs at)."""
        return self.digest(slot).time.replace(tzinfo=self.tz)

    def scheduled_at(self, slot: Slot, day: date) -> datetime:
        return datetime.combine(day, self.digest(slot).time, tzinfo=self.tz)

    def is_service_day(self, day: date) -> bool:
        if self.digests.service_days == "every_day":
            return True
        return bool(self.workdays.is_workday(day)) if self.workdays is not None else day.weekday() < 5

    def next_run_day(self, slot: Slot, now: datetime) -> date:
        """The date of the next issue of ``slot`` that has not gone out yet (today if its time is ahead)."""
        day = now.date()
        for _ in range(60):
            if self.is_service_day(day) and self.scheduled_at(slot, day) > now:
                return day
            day += timedelta(days=1)
        return day

    def past_slots(self, now: datetime, first_run: datetime) -> list[tuple[Slot, date, datetime]]:
        """Yesterday's and today's slots already due at ``now``, (slot, day, due), oldest first: what a
        catch-up after downtime looks at. Slots before the bot's first run are not "missed" (a fresh
        install reports nothing), nor days without a digest."""
        today = now.date()
        found: list[tuple[Slot, date, datetime]] = []
        for day in (today - timedelta(days=1), today):
            if not self.is_service_day(day):
                continue
            for slot in SLOTS:
                due = self.scheduled_at(slot, day)
                if first_run <= due <= now:
                    found.append((slot, day, due))
        return found

    def in_window(self, due: datetime, at: datetime) -> bool:
        """``at`` is no later than the catch-up window after ``due``."""
        return at - due <= self.window

    def decide(self, due: datetime, now: datetime, *, begun: bool = False) -> Decision:
        """A delivery due at ``due``: wait for it, send it now, or record it as expired."""
        if due > now:
            return "wait"
        if begun or self.in_window(due, now):
            return "send"
        return "expire"
