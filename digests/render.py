"""A :class:`Digest` -> Telegram-HTML message parts.

Phone-friendly: a title line with date and weekday, short sections under bold headings, one line
per item with its link, empty sections left out, a closing line telling members how to ask.
Only Telegram's HTML tags (<b>, <a href>) are produced; every text from a feed is escaped.
Parts stay under Telegram's 4096-character limit counted in UTF-16 code units (as Telegram counts),
with a margin; a part is split between items, never inside one, and a section continued in the
next part repeats its heading marked as continued. Queued items carry editor HTML, taken as-is.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Literal

from digests.model import SHANGHAI, AirQuality, Digest, Item, QueuedItem, Section, WeatherReport
from digests.sources.text import clean_text, shorten
from digests.templates import Templates

__all__ = ["PART_LIMIT", "TELEGRAM_LIMIT", "render", "render_weather", "utf16_len"]

TELEGRAM_LIMIT = 4096
PART_LIMIT = 4000  # margin under Telegram's limit
TITLE_LIMIT = 120
_BEAUFORT_KMH = (1, 6, 12, 20, 29, 39, 50, 62, 75, 89, 103, 118)

WhenEmpty = Literal["notice", "skip"]


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _beaufort(kmh: float) -> int:
    return sum(1 for threshold in _BEAUFORT_KMH if kmh >= threshold)


def _weather_pieces(report: WeatherReport, t: Templates) -> list[str]:
    w = t.weather
    pieces: list[str] = []
    condition = w.conditions.get(report.code) if report.code is not None else None
    temps = ""
    if report.high is not None and report.low is not None:
        temps = w.high_low.format(high=_number(report.high), low=_number(report.low))
    elif report.high is not None:
        temps = w.high_only.format(high=_number(report.high))
    elif report.low is not None:
        temps = w.low_only.format(low=_number(report.low))
    head = " ".join(p for p in (condition, temps) if p)
    if head:
        pieces.append(head)
    if report.precipitation_probability is not None:
        pieces.append(w.precipitation.format(value=_number(report.precipitation_probability)))
    if report.wind_max is not None:
        direction = (
            w.directions[round(report.wind_direction / 45.0) % 8] if report.wind_direction is not None else ""
        )
        pieces.append(" ".join(w.wind.format(direction=direction, level=_beaufort(report.wind_max)).split()))
    return pieces


def _air_text(air: AirQuality | None, t: Templates, *, short: bool) -> str | None:
    if air is None or air.category is None:
        return None
    category = t.weather.aqi_categories.get(air.category, air.category)
    if short:
        return t.weather.air_short.format(category=category)
    return t.weather.air.format(
        category=category,
        aqi=air.aqi,
        pm25=_number(air.pm2_5) if air.pm2_5 is not None else "-",
        pm10=_number(air.pm10) if air.pm10 is not None else "-",
    )


def render_weather(
    report: WeatherReport,
    t: Templates,
    *,
    later: Sequence[WeatherReport] = (),
    air: Sequence[AirQuality] = (),
) -> list[str]:
    """The weather section's lines (plain text, already escaped); nulls are left out.

    Today: conditions, its warnings one per line, air quality; then one short line per later day
    (明天/后天) with its conditions, air category and the names of its warnings.
    """
    w = t.weather
    by_day = {a.day: a for a in air}
    pieces = _weather_pieces(report, t)
    lines = [_e(w.separator.join(pieces))] if pieces else []
    lines.extend(_e(w.warnings[key]) for key in report.warnings if key in w.warnings)
    today_air = by_day.get(report.day)
    air_line = _air_text(today_air, t, short=False)
    if air_line:
        lines.append(_e(air_line))
        if today_air is not None and today_air.aqi is not None and today_air.aqi > 150 and "air_pollution" in w.warnings:
            lines.append(_e(w.warnings["air_pollution"]))
    for label, day in zip(w.day_labels, later, strict=False):
        parts = _weather_pieces(day, t)
        day_air = _air_text(by_day.get(day.day), t, short=True)
        if day_air:
            parts.append(day_air)
        names = list(dict.fromkeys(w.warnings_short[k] for k in day.warnings if k in w.warnings_short))
        if names:
            parts.append("⚠️ " + "、".join(names) if t.lang == "zh" else "⚠️ " + ", ".join(names))
        if parts:
            lines.append(_e(w.later.format(label=label, text=w.separator.join(parts))))
    return lines


def _item_line(item: Item, t: Templates) -> str:
    title = _e(shorten(item.title, TITLE_LIMIT))
    mark = _e(t.updated) if item.updated else ""
    extras = [_e(x) for x in (item.employer, item.location) if x]
    if extras and item.published is not None:  # a job: title · employer · place · date
        local = item.published.astimezone(SHANGHAI)
        month_name = t.months[local.month - 1] if t.months else str(local.month)
        extras.append(_e(t.item_date.format(month=local.month, day=local.day, month_name=month_name)))
    if item.link and utf16_len(item.link) <= 1000:  # an absurd URL is dropped, the title kept
        title = f'<a href="{_e(item.link)}">{title}</a>'
    return " · ".join(["• " + mark + title, *extras])


def _queued_line(queued: QueuedItem, t: Templates, limit: int) -> str:
    line = "• " + queued.html.strip()
    if queued.link:
        line += f' <a href="{_e(queued.link)}">{_e(t.more)}</a>'
    if utf16_len(line) > limit // 2:  # far too long for one line: fall back to escaped plain text
        line = "• " + _e(shorten(clean_text(queued.html), 500))
    return line


def _section_lines(section: Section, t: Templates, limit: int) -> list[str]:
    lines: list[str] = []
    if section.weather is not None:
        lines.extend(render_weather(section.weather, t, later=section.later, air=section.air))
    lines.extend(_queued_line(q, t, limit) for q in section.queued)
    lines.extend(_item_line(i, t) for i in section.items)
    return lines


def _title_line(digest: Digest, t: Templates) -> str:
    month_name = t.months[digest.day.month - 1] if t.months else str(digest.day.month)
    return t.title_line.format(
        icon=t.icons.get(digest.slot, ""),
        title=_e(digest.title),
        year=digest.day.year,
        month=digest.day.month,
        day=digest.day.day,
        month_name=month_name,
        weekday=t.weekdays[digest.day.weekday()],
    ).strip()


def _pack(blocks: Sequence[tuple[str | None, list[str]]], head: str, tail: str, t: Templates, limit: int) -> list[str]:
    """Fill parts line by line; a section's heading always travels with its first line."""
    parts: list[str] = []
    current = head
    for heading, lines in blocks:
        start = "\n".join([f"<b>{_e(heading)}</b>", lines[0]]) if heading else lines[0]
        if current and utf16_len(current + "\n\n" + start) > limit:
            parts.append(current)
            current = start
        else:
            current = f"{current}\n\n{start}" if current else start
        for line in lines[1:]:
            if utf16_len(current + "\n" + line) <= limit:
                current += "\n" + line
                continue
            parts.append(current)
            current = (f"<b>{_e(heading)}{_e(t.continued)}</b>\n" if heading else "") + line
    if utf16_len(current + "\n\n" + tail) <= limit:
        current += "\n\n" + tail
    else:
        parts.append(current)
        current = tail
    parts.append(current)
    return parts


def render(
    digest: Digest,
    templates: Templates,
    *,
    when_empty: WhenEmpty = "notice",
    bot: str | None = None,
    limit: int = PART_LIMIT,
) -> list[str] | None:
    """Render ``digest`` to Telegram-HTML parts; ``None`` when it is empty and ``when_empty`` is skip."""
    if limit > TELEGRAM_LIMIT:
        raise ValueError(f"limit {limit} is above Telegram's {TELEGRAM_LIMIT}")
    if digest.empty and when_empty == "skip":
        return None
    t = templates
    head = _title_line(digest, t)
    # The closing names the bot's @username (from getMe): a display name is no mention Telegram can
    # deliver, and the bot ignores it. Without a username (an offline preview) it points to /ask only.
    tail = _e(t.closing.format(bot=bot) if bot else t.closing_ask)
    blocks: list[tuple[str | None, list[str]]] = []
    for section in digest.sections:
        lines = _section_lines(section, t, limit)
        if lines:
            blocks.append((section.heading, lines))
    if digest.empty:
        blocks.append((None, [_e(t.empty)]))
    return _pack(blocks, head, tail, t, limit)
