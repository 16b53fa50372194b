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
from digests.model import Digest

__all__ = ["Shortfall", "board_lines", "is_stale", "shortfalls", "slot_report"]

_T = {
    "zh": {
        "ok": "✅ {name}：正常（上次成功 {ok}{newest}）",
        "newest": "，最新一条 {when}",
        "failing": "❌ {name}：失败 {n} 次，自 {since} 起：{why}",
        "stale": "🕸 {name}：{days} 天没有新内容（最新一条 {when}）",
        "never": "… {name}：尚未获取",
        "head": "📋 信息源状态（{now}）",
        "report": "⚠️ {slot} {day}：有栏目因信息源故障内容不足",
        "short": "• {section}（{shown}/{limit} 条）：{source} 获取失败，自 {since} 起（连续 {n} 次）：{why}",
        "stale_line": "• {source}：{days} 天没有新内容（最新一条 {when}）",
        "stale_head": "🕸 {slot} {day}：信息源长时间无新内容",
    },
    "en": {
        "ok": "✅ {name}: ok (last success {ok}{newest})",
        "newest": ", newest item {when}",
        "failing": "❌ {name}: failed {n} times since {since}: {why}",
        "stale": "🕸 {name}: nothing new for {days} days (newest item {when})",
        "never": "… {name}: not fetched yet",
        "head": "📋 Sources ({now})",
        "report": "⚠️ {slot} {day}: sections short because a source failed",
        "short": "• {section} ({shown}/{limit} items): {source} failed since {since} ({n} in a row): {why}",
        "stale_line": "• {source}: nothing new for {days} days (newest item {when})",
        "stale_head": "🕸 {slot} {day}: sources with nothing new for long",
    },
}


def _t(lang: str) -> Mapping[str, str]:
    return _T.get(lang, _T["zh"])


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
    t = _t(config.language)
    out: list[str] = []
    if short:
        lines = [t["report"].format(slot=slot_title, day=day)]
        lines += [t["short"].format(section=s.section, shown=s.shown, limit=s.limit, source=s.source,
                                    since=_when(s.since, now), n=max(s.failures, 1), why=s.reason) for s in short]
        out.append("\n".join(lines))
    if stale:
        lines = [t["stale_head"].format(slot=slot_title, day=day)]
        lines += [t["stale_line"].format(source=s.source, days=stale_days(s, now), when=_when(s.newest_item_at, now))
                  for s in stale]
        out.append("\n".join(lines))
    return out


def board_lines(config: Config, statuses: Mapping[str, SourceStatus], now: datetime) -> list[str]:
    """One line per configured source: working, failing (since when, why), stale, or never fetched."""
    t = _t(config.language)
    lines = [t["head"].format(now=now.strftime("%Y-%m-%d %H:%M"))]
    for source in config.sources:
        st = statuses.get(source.name)
        name = source.display_name or source.name
        name = f"{name} ({source.name})" if source.display_name else name
        if st is None or (not st.last_ok_at and not st.last_fail_at):
            lines.append(t["never"].format(name=name))
        elif st.consecutive_failures:
            lines.append(t["failing"].format(name=name, n=st.consecutive_failures,
                                             since=_when(st.failing_since or st.last_fail_at, now),
                                             why=st.last_error or "-"))
        elif is_stale(st, now, config.health.stale_after_days):
            lines.append(t["stale"].format(name=name, days=stale_days(st, now), when=_when(st.newest_item_at, now)))
        else:
            newest = t["newest"].format(when=_when(st.newest_item_at, now)) if st.newest_item_at else ""
            lines.append(t["ok"].format(name=name, ok=_when(st.last_ok_at, now), newest=newest))
    return lines
