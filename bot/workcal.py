"""The Chinese working calendar: the chinesecalendar package, content/calendar overrides, Mon-Fri fallback.

Which source decides whether a date is a workday, in order:

1. a content file ``content/calendar/<year>.yaml`` (holidays and 调休 make-up workdays as published by
   the State Council) — it wins over the package, so a correction can be shipped as data;
2. the ``chinesecalendar`` package (import name ``chinese_calendar``), which covers 2004–2026;
3. otherwise Monday–Friday, and :meth:`WorkCalendar.missing_years` says so from December of the year
   before, so the bot can warn the ops chat.

File format (see content/calendar/README.md)::

    year: 2027
    source: 国务院办公厅关于2027年部分节假日安排的通知
    holidays:
      - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
      - {name: 清明节, date: 2027-04-05}
    workdays:            # 调休上班
      - {name: 春节, date: 2027-02-06}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

__all__ = ["CalendarSource", "WorkCalendar", "YearSchedule", "load_calendar_dir", "parse_year_schedule"]

_YEAR_FILE = re.compile(r"^(\d{4})\.yaml$")


@dataclass(frozen=True)
class YearSchedule:
    """One year's published schedule: days off on weekdays and 调休 workdays on weekends."""

    year: int
    holidays: Mapping[date, str] = field(default_factory=dict)
    workdays: Mapping[date, str] = field(default_factory=dict)
    source: str = ""


class CalendarSource:
    """Which source decided a date (for logs and the ops warning)."""

    CONTENT = "content"
    PACKAGE = "package"
    FALLBACK = "fallback"


def _package_years() -> tuple[int, int]:
    from chinese_calendar import constants

    years = [d.year for d in constants.holidays]
    return min(years), max(years)


_PKG_FIRST, _PKG_LAST = _package_years()


class WorkCalendar:
    """Is this date a workday? The package, content overrides and a Mon-Fri fallback, in that order.

    ``use_package=False`` gives the plain Monday-Friday calendar (config ``service.calendar: weekdays``)
    plus whatever content overrides are passed.
    """

    def __init__(self, overrides: Mapping[int, YearSchedule] | None = None, *, use_package: bool = True):
        self._overrides: dict[int, YearSchedule] = dict(overrides or {})
        self._use_package = use_package
        self._known: dict[date, bool] = {}  # answers never change for one calendar: every deadline asks

    @classmethod
    def from_dir(cls, directory: Path, *, use_package: bool = True) -> tuple[WorkCalendar, list[str]]:
        """Load content/calendar/<year>.yaml files; returns the calendar and ``file:line: message`` problems."""
        schedules, problems = load_calendar_dir(directory)
        return cls(schedules, use_package=use_package), problems

    def source_for(self, day: date) -> str:
        if day.year in self._overrides:
            return CalendarSource.CONTENT
        if self._use_package and _PKG_FIRST <= day.year <= _PKG_LAST:
            return CalendarSource.PACKAGE
        return CalendarSource.FALLBACK

    def covers(self, year: int) -> bool:
        """True when a published schedule (content file or package) is known for ``year``."""
        return year in self._overrides or (self._use_package and _PKG_FIRST <= year <= _PKG_LAST)

    def is_workday(self, day: date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: date) -> bool:
        source = self.source_for(day)
        if source == CalendarSource.CONTENT:
            sched = self._overrides[day.year]
            if day in sched.workdays:
                return True
            if day in sched.holidays:
                return False
            return day.weekday() < 5
        if source == CalendarSource.PACKAGE:
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def is_holiday(self, day: date) -> bool:
        """A day off: a weekend that is not a make-up workday, or a statutory holiday."""
        return not self.is_workday(day)

    def holiday_name(self, day: date) -> str | None:
        """The festival a day off or make-up workday belongs to, when known."""
        source = self.source_for(day)
        if source == CalendarSource.CONTENT:
            sched = self._overrides[day.year]
            return sched.holidays.get(day) or sched.workdays.get(day)
        if source == CalendarSource.PACKAGE:
            _, name = chinese_calendar.get_holiday_detail(day)
            return str(name) if name else None
        return None

    def missing_years(self, today: date) -> list[int]:
        """Years whose schedule is unknown and matter now: this year, and from December the next one.

        The State Council publishes the next year's schedule around November; from 1 December on, a
        missing next year is worth a warning to the ops chat.
        """
        wanted = [today.year]
        if today.month == 12:
            wanted.append(today.year + 1)
        return [y for y in wanted if not self.covers(y)]

    def next_workday(self, day: date) -> date:
        """The first workday on or after ``day``."""
        d = day
        for _ in range(366):
            if self.is_workday(d):
                return d
            d += timedelta(days=1)
        raise ValueError(f"no workday within a year after {day.isoformat()}")  # pragma: no cover


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{where}: expected a date YYYY-MM-DD, got {value!r}")


def _expand(entries: Any, key: str, year: int) -> dict[date, str]:
    out: dict[date, str] = {}
    if entries is None:
        return out
    if not isinstance(entries, list):
        raise ValueError(f"{key}: expected a list of {{name, date}} or {{name, from, to}}")
    for i, entry in enumerate(entries):
        where = f"{key}[{i}]"
        if isinstance(entry, date | str):
            days = [_as_date(entry, where)]
            name = ""
        elif isinstance(entry, dict):
            name = str(entry.get("name", ""))
            if "date" in entry:
                days = [_as_date(entry["date"], f"{where}.date")]
            elif "from" in entry and "to" in entry:
                start = _as_date(entry["from"], f"{where}.from")
                end = _as_date(entry["to"], f"{where}.to")
                if end < start:
                    raise ValueError(f"{where}: 'to' {end} is before 'from' {start}")
                days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
            else:
                raise ValueError(f"{where}: expected 'date' or 'from' and 'to'")
        else:
            raise ValueError(f"{where}: expected a date or a mapping, got {entry!r}")
        for d in days:
            if d.year != year:
                raise ValueError(f"{where}: {d.isoformat()} is not in {year}")
            out[d] = name
    return out


def parse_year_schedule(data: Any, year: int) -> YearSchedule:
    """Validate one year's mapping; raises ValueError naming the key."""
    if not isinstance(data, dict):
        raise ValueError("expected a mapping with year, holidays, workdays")
    if data.get("template"):
        raise ValueError(
            "this is a TEMPLATE (template: true); fill it in from the State Council notice first"
        )
    if data.get("year") != year:
        raise ValueError(f"year: expected {year} (the file name), got {data.get('year')!r}")
    unknown = set(data) - {"year", "source", "holidays", "workdays", "template"}
    if unknown:
        raise ValueError(f"unknown key(s): {', '.join(sorted(map(str, unknown)))}")
    holidays = _expand(data.get("holidays"), "holidays", year)
    workdays = _expand(data.get("workdays"), "workdays", year)
    both = sorted(set(holidays) & set(workdays))
    if both:
        raise ValueError(f"{both[0].isoformat()} is listed both as holiday and as workday")
    return YearSchedule(year, holidays, workdays, str(data.get("source", "")))


def load_calendar_dir(directory: Path) -> tuple[dict[int, YearSchedule], list[str]]:
    """Read every ``<year>.yaml`` in ``directory``; a broken file is skipped and reported."""
    schedules: dict[int, YearSchedule] = {}
    problems: list[str] = []
    if not directory.is_dir():
        return schedules, problems
    paths: Iterable[Path] = sorted(directory.iterdir())
    for path in paths:
        m = _YEAR_FILE.match(path.name)
        if not m:
            continue
        year = int(m.group(1))
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else 1
            problems.append(f"{path}:{line}: YAML: {exc.problem}")
            continue
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            problems.append(f"{path}:1: {exc}")
            continue
        try:
            schedules[year] = parse_year_schedule(data, year)
        except ValueError as exc:
            problems.append(f"{path}:1: {exc}")
    return schedules, problems
