"""Dates and times as editors type them: ``YYYY-MM-DD``, ``M月D日``, 今天/明天/后天, today/tomorrow;
announcement times ``YYYY-MM-DD HH:MM``, ``明天 09:30`` or ``HH:MM`` (today). Pure: no clock, no chat."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

__all__ = ["parse_day", "parse_when"]


_WORD_DAYS = {"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2}
_CN_DAY = re.compile(r"^(\d{1,2})月(\d{1,2})[日号]?$")
_WHEN_ISO = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})[ T]+(\d{1,2})[:：](\d{2})$")
_WHEN_WORD = re.compile(r"^(今天|明天|后天|today|tomorrow)\s*(\d{1,2})[:：](\d{2})$", re.IGNORECASE)
_WHEN_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})$")


def parse_day(text: str, today: date) -> date | None:
    """``YYYY-MM-DD``, ``M月D日`` (this year, or next if it has passed), 今天/明天/后天, today/tomorrow."""
    s = text.strip().lower()
    if s in _WORD_DAYS:
        return today + timedelta(days=_WORD_DAYS[s])
    m = _CN_DAY.match(s)
    try:
        if m:
            day = date(today.year, int(m.group(1)), int(m.group(2)))
            return day if day >= today else date(today.year + 1, day.month, day.day)
        y, mo, d = (int(x) for x in s.split("-"))
        return date(y, mo, d)
    except ValueError:
        return None


def parse_when(text: str, now: datetime) -> datetime | None:
    """An announcement time in ``now``'s zone: ``YYYY-MM-DD HH:MM``, ``明天 09:30``, ``HH:MM`` (today)."""
    s = text.strip()
    day: date | None
    if (m := _WHEN_ISO.match(s)) or (m := _WHEN_WORD.match(s)):
        day, hh, mm = parse_day(m.group(1), now.date()), m.group(2), m.group(3)
    elif m := _WHEN_TIME.match(s):
        day, hh, mm = now.date(), m.group(1), m.group(2)
    else:
        return None
    if day is None or not (0 <= int(hh) <= 23 and 0 <= int(mm) <= 59):
        return None
    return datetime.combine(day, time(int(hh), int(mm)), tzinfo=now.tzinfo)


