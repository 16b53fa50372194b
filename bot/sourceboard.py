"""The source board: what ops needs to know about each source, for `/health` (ops chat), the slot
report and `servicebot check`. Pure: config values, stored statuses, built digests and a time in.

- a section short (fewer items than its limit) or empty because one of its sources failed is
  reported at the slot itself: which section, which source, why, since when;
- a source whose newest item is older than ``health.stale_after_days`` is stale (it answers, but
  nothing new comes: a moved page, a frozen feed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Config, DigestConfig
from bot.store.health import SourceStatus
from bot.texts import plain
from digests.model import Digest

__all__ = ["Shortfall", "board_lines", "is_stale", "shortfalls", "slot_report"]


def _when(text: str | None, now: datetime) -> str:
    if not text:
        return "-"
    when = datetime.fromisoformat(text).astimezone(now.tzinfo)
    return when.strftime("%m-%d %H:%M") if when.year == now.year else when.strftime("%Y-%m-%d %H:%M")


def stale_days(status: SourceStatus, now: datetime) -> int | None:
    """Whole days since the source's newest item, or None when it never gave a dated one."""
    if not status.newest_item_at:
        return None
    return (now - datetime.fromisoformat(status.newest_item_at)) // timedelta(days=1)


def is_stale(status: SourceStatus, now: datetime, stale_after_days: int) -> bool:
    days = stale_days(status, now)
    return stale_after_days > 0 and days is not None and days >= stale_after_days and not status.consecutive_failures


@dataclass(frozen=True)
class Shortfall:
    """A section of a built digest with fewer items than its limit while one of its sources failed."""

    section: str
    shown: int
    limit: int
    source: str
    reason: str
    since: str | None
    failures: int


def shortfalls(cfg: DigestConfig, digests: Iterable[Digest], statuses: Mapping[str, SourceStatus]) -> list[Shortfall]:
    """Sections short because a source failed, once per (section, source) across the groups' digests."""
    found: dict[tuple[str, str], Shortfall] = {}
    for digest in digests:
        shown = {s.key: (s.heading, len(s.items)) for s in digest.sections}
        for section in cfg.sections:
            heading, count = shown.get(section.key, (section.title or section.key, 0))
            if count >= section.limit:
                continue
            for source in section.sources:
                reason = digest.failed_sources.get(source)
                if reason is None or (section.key, source) in found:
                    continue
                st = statuses.get(source, SourceStatus(source))
                found[(section.key, source)] = Shortfall(heading, count, section.limit, source, reason,
                                                         st.failing_since or st.last_fail_at, st.consecutive_failures)
    return list(found.values())


def slot_report(
    config: Config, slot_title: str, day: str, short: list[Shortfall], stale: list[SourceStatus], now: datetime,
) -> list[str]:
    """The ops messages of one slot: short sections (at once), stale sources (the caller says when)."""
    lang = config.language
    out: list[str] = []
    if short:
        lines = [plain(lang, "board_report", slot=slot_title, day=day)]
        lines += [
            plain(
                lang,
                "board_short",
                section=s.section,
                shown=s.shown,
                limit=s.limit,
                source=s.source,
                since=_when(s.since, now),
                n=max(s.failures, 1),
                why=s.reason,
            )
            for s in short
        ]
        out.append("\n".join(lines))
    if stale:
        lines = [plain(lang, "board_stale_head", slot=slot_title, day=day)]
        lines += [
            plain(
                lang,
                "board_stale_line",
                source=s.source,
                days=stale_days(s, now),
                when=_when(s.newest_item_at, now),
            )
            for s in stale
        ]
        out.append("\n".join(lines))
    return out


def board_lines(config: Config, statuses: Mapping[str, SourceStatus], now: datetime) -> list[str]:
    """One line per configured source: working, failing (since when, why), stale, or never fetched."""
    lang = config.language
    lines = [plain(lang, "board_head", now=now.strftime("%Y-%m-%d %H:%M"))]
    for source in config.sources:
        st = statuses.get(source.name)
        name = source.display_name or source.name
        name = f"{name} ({source.name})" if source.display_name else name
        if st is None or (not st.last_ok_at and not st.last_fail_at):
            lines.append(plain(lang, "board_never", name=name))
        elif st.consecutive_failures:
            lines.append(
                plain(
                    lang,
                    "board_failing",
                    name=name,
                    n=st.consecutive_failures,
                    since=_when(st.failing_since or st.last_fail_at, now),
                    why=st.last_error or "-",
                )
            )
        elif is_stale(st, now, config.health.stale_after_days):
            lines.append(
                plain(
                    lang,
                    "board_stale",
                    name=name,
                    days=stale_days(st, now),
                    when=_when(st.newest_item_at, now),
                )
            )
        else:
            newest = (
                plain(lang, "board_newest", when=_when(st.newest_item_at, now)) if st.newest_item_at else ""
            )
            lines.append(plain(lang, "board_ok", name=name, ok=_when(st.last_ok_at, now), newest=newest))
    return lines
