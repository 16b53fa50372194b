"""The Chinese working calendar: python-holidays, content/calendar overrides, the ops warning.

Which source decides whether a date is a workday, in order:

1. a content file ``content/calendar/<year>.yaml`` — the State Council's notice for that year, entered
   by ops (every day off and every 调休 make-up workday); it wins over the package for its whole year,
   so a year the package does not know yet, or a correction, ships as data;
2. the ``holidays`` package (python-holidays, ``holidays.China``): for a year whose notice it carries
   (2001–2026 in 0.109) the official schedule, make-up workdays included (``weekend_workdays``); for a
   later year the statutory holidays by rule (元旦, 春节 from 除夕, 清明, 劳动节 ×2, 端午, 中秋, 国庆 ×3 — the
   2024 revision of 《全国年节及纪念日放假办法》, lunar dates computed) plus its estimate of the in-lieu days
   (补假) for a holiday on a weekend. What the rules cannot know are the make-up Saturdays/Sundays:
   :meth:`WorkCalendar.missing_years` names such years from November of the year before, and the bot
   warns the ops chat once a day until a file or a newer package covers them;
3. Monday–Friday only with ``service.calendar: weekdays`` (``use_package=False``), or for a year the
   package cannot compute.

So a statutory holiday is a day off in every year the package can compute, and no deadline lands on one.

File format (see content/calendar/README.md)::

    year: 2027
    source: 国务院办公厅关于2027年部分节假日安排的通知
    holidays:
      - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
      - {name: 清明节, date: 2027-04-05}
    workdays:            # 调休上班
      - {name: 春节, date: 2027-02-20}

A file that leaves a statutory holiday (by the package's rules) as a workday is reported and skipped.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

import holidays
import yaml
from holidays import country_holidays
from holidays.holiday_base import HolidayBase

from digests import safe_yaml

__all__ = [
    "CalendarSource",
    "WorkCalendar",
    "YearCoverage",
    "YearSchedule",
    "load_calendar_dir",
    "official_package_years",
    "parse_year_schedule",
    "statutory_holidays",
]

_YEAR_FILE = re.compile(r"^(\d{4})\.yaml$")
#: one year's holidays and make-up workdays are about 1 KB; refused above this
CALENDAR_FILE_MAX_BYTES = 64 * 1024
WARN_FROM_MONTH = 11  # the State Council publishes next year's notice in November (2025: 4 Nov)


@dataclass(frozen=True)
class YearSchedule:
    """One year's published schedule: days off on weekdays and 调休 workdays on weekends."""

    year: int
    holidays: Mapping[date, str] = field(default_factory=dict)
    workdays: Mapping[date, str] = field(default_factory=dict)
    source: str = ""


class CalendarSource:
    """Which source decided a date (for logs, ``servicebot check`` and the ops warning)."""

    CONTENT = "content"  # content/calendar/<year>.yaml: the official notice, entered by ops
    PACKAGE = "package"  # python-holidays carries the official notice: make-up days known
    RULES = "rules"  # python-holidays by rule: statutory holidays and estimated 补假, make-up days unknown
    WEEKDAYS = "weekdays"  # plain Monday-Friday (service.calendar: weekdays, or a year out of range)
    FALLBACK = WEEKDAYS  # the old name

    OFFICIAL = frozenset({CONTENT, PACKAGE})


@dataclass(frozen=True)
class YearCoverage:
    """What the calendar knows about one year (``servicebot check`` prints it, the ops warning uses it)."""

    year: int
    source: str  # a CalendarSource value
    detail: str = ""  # the content file's ``source:`` line, or the package version

    @property
    def official(self) -> bool:
        """True when the year's official schedule, 调休 make-up workdays included, is known."""
        return self.source in CalendarSource.OFFICIAL

    def describe(self) -> str:
        """One English line for ``servicebot check``."""
        what = {
            CalendarSource.CONTENT: "official schedule from content/calendar/{y}.yaml",
            CalendarSource.PACKAGE: "official schedule from python-holidays",
            CalendarSource.RULES: (
                "statutory holidays by rule (python-holidays); the official 调休 make-up workdays are NOT "
                "known yet: add content/calendar/{y}.yaml once the State Council publishes the notice, "
                "or upgrade the holidays package"
            ),
            CalendarSource.WEEKDAYS: "Monday-Friday only (no holidays)",
        }[self.source].format(y=self.year)
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.year}: {what}{extra}"


def _china_module() -> ModuleType:
    """python-holidays' China module, loaded alone: importing ``holidays.countries.china`` first runs the
    package ``holidays.countries``, whose __init__ imports every country (280 modules, ~8 MB resident for
    the one we use). The file is executed under its own name and put in sys.modules, so the package's
    ``country_holidays("CN")`` (its registry imports that name) finds it there. Any surprise in the
    package's layout: the ordinary import."""
    name = "holidays.countries.china"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(holidays.__file__).parent / "countries" / "china.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not path.is_file():
        return importlib.import_module(name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[name]
        return importlib.import_module(name)
    return module


ChinaStaticHolidays: Any = _china_module().ChinaStaticHolidays


def official_package_years() -> frozenset[int]:
    """Years whose State Council notice python-holidays carries (its ``special_public_holidays``).

    Those are the years with 调休 substitutions in the package; any other year is computed by rule.
    """
    return frozenset(getattr(ChinaStaticHolidays, "special_public_holidays", {}))


_PKG_OFFICIAL = official_package_years()
_PKG_VERSION = f"holidays {version('holidays')}"


def statutory_holidays(year: int) -> dict[date, str]:
    """The statutory days off of ``year`` by rule (no in-lieu days, no 调休): they are off whatever the notice says."""
    cn = country_holidays("CN", years=year, observed=False, language="zh_CN")
    subst = _substituted_days(cn)
    return {d: str(name) for d, name in cn.items() if d.year == year and d not in subst}


def _substituted_days(cn: HolidayBase) -> set[date]:
    """Days off that a notice moved (调休), not statutory ones: their label is the substitution label."""
    label = str(cn.tr(getattr(cn, "substituted_label", "")))
    marker = label.split("%s")[0] if label else ""
    return {d for d, name in cn.items() if marker and str(name).startswith(marker)}


# One package calendar for every WorkCalendar: its years are computed once per process (~40 ms a year,
# lunar dates), then every answer is a set lookup. Read-only once a year is in.
_PACKAGE: HolidayBase = country_holidays("CN", language="zh_CN")  # expand=True: years computed on use
_PACKAGE_YEARS: set[int] = set()
_PACKAGE_BROKEN: set[int] = set()


def _package_ready(year: int) -> bool:
    """Compute ``year`` and the next one in the package (a December make-up day can belong to the next
    year's notice, e.g. 2001-12-29 for 元旦 2002); False when the package cannot compute it."""
    if year in _PACKAGE_BROKEN:
        return False
    if year not in _PACKAGE_YEARS:
        try:
            for y in (year, year + 1):
                _ = date(y, 1, 1) in _PACKAGE
        except (ValueError, KeyError, OverflowError):  # far outside the package's lunar tables
            _PACKAGE_BROKEN.add(year)
            return False
        _PACKAGE_YEARS.add(year)
    return True


class WorkCalendar:
    """Is this date a workday? Content files, python-holidays, or Monday-Friday, in that order.

    ``use_package=False`` gives the plain Monday-Friday calendar (config ``service.calendar: weekdays``)
    plus whatever content overrides are passed. Answers are cached per date (every deadline asks many
    times); :meth:`refresh` re-reads the content files and clears the cache.
    """

    def __init__(
        self,
        overrides: Mapping[int, YearSchedule] | None = None,
        *,
        use_package: bool = True,
        directory: Path | None = None,
    ):
        self._overrides: dict[int, YearSchedule] = dict(overrides or {})
        self._use_package = use_package
        self._directory = directory
        self._known: dict[date, bool] = {}  # answers never change until refresh(): every deadline asks
        self._pkg = _PACKAGE

    @classmethod
    def from_dir(cls, directory: Path, *, use_package: bool = True) -> tuple[WorkCalendar, list[str]]:
        """Load content/calendar/<year>.yaml files; returns the calendar and ``file:line: message`` problems."""
        schedules, problems = load_calendar_dir(directory)
        return cls(schedules, use_package=use_package, directory=directory), problems

    def refresh(self) -> list[str]:
        """Re-read the content directory (a new <year>.yaml takes effect without a restart); its problems."""
        if self._directory is None:
            return []
        schedules, problems = load_calendar_dir(self._directory)
        if schedules != self._overrides:
            self._overrides = schedules
            self._known = {}
        return problems

    @property
    def use_package(self) -> bool:
        return self._use_package

    def _package_ready(self, year: int) -> bool:
        return _package_ready(year)

    def source_for(self, day: date) -> str:
        return self.coverage(day.year).source

    def coverage(self, year: int) -> YearCoverage:
        """Which source decides ``year``'s days, and whether its official make-up workdays are known."""
        if year in self._overrides:
            return YearCoverage(year, CalendarSource.CONTENT, self._overrides[year].source)
        if not self._use_package or not self._package_ready(year):
            return YearCoverage(year, CalendarSource.WEEKDAYS)
        if year in _PKG_OFFICIAL:
            return YearCoverage(year, CalendarSource.PACKAGE, _PKG_VERSION)
        return YearCoverage(year, CalendarSource.RULES, _PKG_VERSION)

    def covers(self, year: int) -> bool:
        """True when ``year``'s official schedule (content file or package) is known, make-up days included."""
        return self.coverage(year).official

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
        if source in (CalendarSource.PACKAGE, CalendarSource.RULES):
            return bool(self._pkg.is_working_day(day))
        return day.weekday() < 5

    def is_holiday(self, day: date) -> bool:
        """A day off: a weekend that is not a make-up workday, or a statutory holiday."""
        return not self.is_workday(day)

    def holiday_name(self, day: date) -> str | None:
        """The festival a day off or make-up workday belongs to, when known (Chinese names)."""
        source = self.source_for(day)
        if source == CalendarSource.CONTENT:
            sched = self._overrides[day.year]
            return sched.holidays.get(day) or sched.workdays.get(day)
        if source in (CalendarSource.PACKAGE, CalendarSource.RULES):
            name = self._pkg.get(day)
            if name:
                return str(name)
            return "调休上班" if day in self._pkg.weekend_workdays else None
        return None

    def missing_years(self, today: date) -> list[int]:
        """Years whose official make-up workdays are unknown and matter now: this year, and from November
        the next one (the State Council publishes it in November). Empty with ``use_package=False``:
        the plain Monday-Friday calendar was chosen and nothing is missing from it.
        """
        if not self._use_package:
            return []
        wanted = [today.year]
        if today.month >= WARN_FROM_MONTH:
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
    raise ValueError(f"{where}: expected a date YYYY-MM-DD, got {safe_yaml.shorten(value)}")


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
            raise ValueError(f"{where}: expected a date or a mapping, got {safe_yaml.shorten(entry)}")
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
        raise ValueError(f"year: expected {year} (the file name), got {safe_yaml.shorten(data.get('year'))}")
    unknown = set(data) - {"year", "source", "holidays", "workdays", "template"}
    if unknown:
        raise ValueError(f"unknown key(s): {safe_yaml.clip(', '.join(sorted(map(str, unknown))), 200)}")
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
            data = safe_yaml.load(safe_yaml.read_text(path, CALENDAR_FILE_MAX_BYTES, "calendar file"))
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else 1
            problems.append(f"{path}:{line}: YAML: {exc.problem}")
            continue
        except safe_yaml.FileTooLarge as exc:
            problems.append(f"{path}:1: {exc}; file skipped")
            continue
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            problems.append(f"{path}:1: {exc}")
            continue
        try:
            sched = parse_year_schedule(data, year)
        except ValueError as exc:
            problems.append(f"{path}:1: {exc}")
            continue
        wrong = _statutory_workdays(sched)
        if wrong:
            problems.append(f"{path}:{_key_line(path, 'holidays')}: {wrong}")
            continue
        schedules[year] = sched
    return schedules, problems


def _statutory_workdays(sched: YearSchedule) -> str:
    """A problem when the schedule makes a statutory holiday a workday (a typo: the law says they are off)."""
    try:
        statutory = statutory_holidays(sched.year)
    except (ValueError, KeyError, OverflowError):  # pragma: no cover - a year outside the package's tables
        return ""
    wrong = [
        f"{d.isoformat()} {name}"
        for d, name in sorted(statutory.items())
        if d in sched.workdays or (d.weekday() < 5 and d not in sched.holidays)
    ]
    if not wrong:
        return ""
    return (
        f"statutory holiday(s) {', '.join(wrong)} would be workdays here: list them under holidays "
        "(the file is skipped; the year follows the statutory rules until it is fixed)"
    )


def _key_line(path: Path, key: str) -> int:
    """The 1-based line where a top-level ``key:`` starts (1 when not found)."""
    try:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith(f"{key}:"):
                return n
    except (OSError, UnicodeDecodeError):  # pragma: no cover - it was just read
        pass
    return 1
