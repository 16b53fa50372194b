"""A :class:`Digest` -> Telegram-HTML message parts.

Phone-friendly: a title line with date and weekday, short sections under bold headings, one line
per item with its link, its source and its date (``• 标题（雄安发布 · 12月1日）``), empty sections
left out, a closing line telling members how to ask. A queued editors' item shows its full body the
first day it runs (folded in an expandable blockquote when it is longer than a few phone lines) and
a one-line reminder with its link on later days; a list inside its body is marked "–", never "•",
so it never looks like digest items. :func:`visible_lines` counts what a phone shows.
Only Telegram's HTML tags (<b>, <a href>, <blockquote [expandable]>) are produced by us; every text
from a feed is escaped.
Parts stay under Telegram's 4096-character limit counted in UTF-16 code units (as Telegram counts),
with a margin; a part is split between items, never inside one, and a section continued in the
next part repeats its heading marked as continued. Queued items carry editor HTML, taken as-is.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import tzinfo
from types import MappingProxyType
from typing import Literal

from babel.dates import format_skeleton

from digests.model import SHANGHAI, AirQuality, Digest, Item, QueuedItem, Section, WeatherReport
from digests.sources.text import clean_text, shorten
from digests.templates import Templates

__all__ = [
    "PART_LIMIT",
    "PHONE_COLUMNS",
    "TELEGRAM_LIMIT",
    "fit_to_phone",
    "render",
    "render_weather",
    "utf16_len",
    "visible_lines",
]

TELEGRAM_LIMIT = 4096
PART_LIMIT = 4000  # margin under Telegram's limit
TITLE_LIMIT = 120  # characters of a feed title, at most (it is also cut to fit ITEM_LINES)
#: an item (title, employer, place, source, date) takes at most this many phone lines: its title is cut
ITEM_LINES = 2
MIN_TITLE_COLUMNS = 16
#: a phone line, in half-width columns: about 20 Chinese characters in a message bubble on a 6" phone
#: in portrait at Telegram's default text size (a Chinese character or an emoji takes 2 columns)
PHONE_COLUMNS = 40
#: a collapsed expandable blockquote shows its first 3 lines (Bot API 7.4, "expandable_blockquote")
FOLDED_LINES = 3
REMINDER_LIMIT = 40
_TAG = re.compile(r"<(/?)([a-zA-Z]+)\b[^>]*>")
_QUOTE_TAG = re.compile(r"</?blockquote\b[^>]*>", re.IGNORECASE)
_EXPANDABLE = re.compile(r"<blockquote expandable>(.*?)</blockquote>", re.DOTALL)
_BULLET = re.compile(r"^(\s*)•\s?", re.MULTILINE)
_BEAUFORT_KMH = (1, 6, 12, 20, 29, 39, 50, 62, 75, 89, 103, 118)

WhenEmpty = Literal["notice", "skip"]


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _wrapped(line: str, width: int) -> int:
    return max(1, math.ceil(_columns(line) / width))


def visible_lines(part: str, *, width: int = PHONE_COLUMNS) -> int:
    """The lines a phone shows for one Telegram-HTML part, wrapping at ``width`` columns.

    Blank lines (spacing between sections) are not counted; an expandable blockquote counts as
    the :data:`FOLDED_LINES` it shows until a member taps it.
    """

    def fold(match: re.Match[str]) -> str:
        shown: list[str] = []
        budget = FOLDED_LINES
        for line in _plain(match.group(1)).split("\n"):
            if budget <= 0:
                break
            if not line.strip():
                continue
            rows = _wrapped(line, width)
            take = min(rows, budget)
            # a line cut by the fold: keep as many columns as the visible rows hold
            shown.append(line if take == rows else line[: take * width // 2])
            budget -= take
        return html.escape("\n".join(shown))

    text = _plain(_EXPANDABLE.sub(fold, part))
    return sum(_wrapped(line, width) for line in text.split("\n") if line.strip())


def _plain(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment))


def item_date(item: Item, t: Templates, tz: tzinfo = SHANGHAI) -> str | None:
    """The item's date as members read it (``12月1日`` / ``1 Dec``), in the digest's zone."""
    if item.published is None:
        return None
    return format_skeleton("MMMd", item.published.astimezone(tz).date(), locale=t.locale)


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


def _fit(text: str, columns: int) -> str:
    """``text`` cut (with an ellipsis) to at most ``columns`` phone columns."""
    if _columns(text) <= columns:
        return text
    used = 0
    for i, ch in enumerate(text):
        used += _columns(ch)
        if used > columns - 1:
            return text[:i].rstrip() + "…"
    return text


def _item_line(item: Item, t: Templates, names: Mapping[str, str], tz: tzinfo) -> str:
    mark = t.updated if item.updated else ""
    extras = [shorten(x, 30) for x in (item.employer, item.location) if x]
    source = names.get(item.source) or item.source
    when = item_date(item, t, tz)
    # select() shows dated items only; an undated one (rendered directly) carries no attribution
    meta = "" if not when else t.item_meta.format(source=source, date=when) if source else t.item_meta_date.format(date=when)
    around = _columns("• " + mark + "".join(" · " + x for x in extras) + meta)
    budget = max(ITEM_LINES * PHONE_COLUMNS - around, MIN_TITLE_COLUMNS)
    title = _e(_fit(shorten(item.title, TITLE_LIMIT), budget))
    if item.link and utf16_len(item.link) <= 1000:  # an absurd URL is dropped, the title kept
        title = f'<a href="{_e(item.link)}">{title}</a>'
    return " · ".join(["• " + _e(mark) + title, *map(_e, extras)]) + _e(meta)


def _balanced(lines: Sequence[str]) -> bool:
    depth = 0
    for closing, _name in _TAG.findall("\n".join(lines)):
        depth += -1 if closing else 1
    return depth == 0


def _head_and_body(markup: str) -> tuple[str, str]:
    """Split an editor's HTML into its first line (the item's title) and the rest."""
    lines = markup.strip().split("\n")
    for k in range(1, len(lines) + 1):
        if _balanced(lines[:k]):  # a tag opened on the first line may close on a later one
            return " ".join(x.strip() for x in lines[:k]), "\n".join(lines[k:]).strip("\n")
    return _e(clean_text(markup)), ""


def _more(queued: QueuedItem, t: Templates) -> str:
    if queued.link and utf16_len(queued.link) <= 1000:
        return f' <a href="{_e(queued.link)}">{_e(t.more)}</a>'
    return ""


def _queued_block(queued: QueuedItem, t: Templates, limit: int) -> str:
    """One queued item: the full body the first day (folded when long), a one-line reminder later."""
    head, body = _head_and_body(queued.html)
    if not queued.first_run:
        return "• " + _e(shorten(clean_text(head), REMINDER_LIMIT)) + _more(queued, t)
    block = "• " + head + _more(queued, t)
    if body:
        # Telegram cannot nest blockquotes (Bot API, "Formatting options"): an editor's own quote
        # is flattened into ours; the body's list bullets become "–" so they are not digest items
        inner = _BULLET.sub(lambda m: m.group(1) + "– ", _QUOTE_TAG.sub("", body)).strip()
        folded = visible_lines(inner) > FOLDED_LINES
        block += "\n" + ("<blockquote expandable>" if folded else "<blockquote>") + inner + "</blockquote>"
    if utf16_len(block) > limit // 2:  # far too long for a digest: escaped plain text, folded
        block = (
            "• " + _e(shorten(clean_text(head), REMINDER_LIMIT)) + _more(queued, t)
            + "\n<blockquote expandable>" + _e(shorten(clean_text(body), 500)) + "</blockquote>"
        )
    return block


def _section_lines(section: Section, t: Templates, limit: int, digest: Digest) -> list[str]:
    lines: list[str] = []
    if section.weather is not None:
        lines.extend(render_weather(section.weather, t, later=section.later, air=section.air))
    lines.extend(_queued_block(q, t, limit) for q in section.queued)
    lines.extend(_item_line(i, t, digest.source_names, digest.tz) for i in section.items)
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
        lines = _section_lines(section, t, limit, digest)
        if lines:
            blocks.append((section.heading, lines))
    if digest.empty:
        blocks.append((None, [_e(t.empty)]))
    return _pack(blocks, head, tail, t, limit)


def fit_to_phone(digest: Digest, templates: Templates, max_lines: int, *, bot: str | None = None) -> Digest:
    """``digest`` with feed items left out until its text fits ``max_lines`` phone lines.

    The last item of the fullest section goes first (every section keeps its newest items as long as
    another has more). A section keeps at least its newest item, and editors' queued items and the
    weather are never cut: when those alone pass ``max_lines``, the digest is longer than asked. A left-out item is not
    recorded as seen (``seen_updates``), so it can still appear in the next digest. ``max_lines`` 0:
    no limit.
    """
    if max_lines <= 0:
        return digest

    def lines(d: Digest) -> int:
        return sum(visible_lines(p) for p in render(d, templates, bot=bot) or [])

    current = digest
    while lines(current) > max_lines:
        fullest = max(current.sections, key=lambda s: len(s.items))
        if len(fullest.items) <= 1:
            break  # a section with news keeps its newest item; queued items and weather are never cut
        dropped = fullest.items[-1]
        sections = tuple(replace(s, items=s.items[:-1]) if s is fullest else s for s in current.sections)
        seen = {k: v for k, v in current.seen_updates.items() if k != dropped.id}
        current = replace(current, sections=sections, seen_updates=MappingProxyType(seen))
    return current
