"""/stats, ``servicebot stats`` and the weekly report's text: pure, from the desk's figures."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.texts import plain
from bot.texts.measure import shorten
from bot.tickets.desk import Stats, WeeklyReport
from bot.tickets.model import Rating
from bot.tickets.topics import FaqLibrary

__all__ = ["format_stats", "report_text"]


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:g}%"


def _minutes(lang: str, v: float | None) -> str:
    """A median in minutes, or "none yet" when no ticket got that far (never "— 分钟")."""
    return plain(lang, "stats_none") if v is None else plain(lang, "stats_minutes", v=f"{v:g}")


def format_stats(lang: str, library: FaqLibrary, s: Stats, *, days: int | None = None) -> str:
    """/stats' text for the figures ``s``: titled by ``days`` (the last N days), else by its dates.

    ``servicebot stats`` prints the same text for any period (bot/cli.py).
    """
    if days is not None:
        title = plain(lang, "stats_title", days=days, count=s.count, open=s.open, closed=s.closed)
    else:
        last = s.until - timedelta(microseconds=1)  # the period ends before ``until``
        title = plain(
            lang,
            "stats_title_period",
            start=f"{s.since:%Y-%m-%d}",
            end=f"{last:%Y-%m-%d}",
            count=s.count,
            open=s.open,
            closed=s.closed,
        )
    lines = [
        title,
        plain(
            lang,
            "stats_times",
            first=_minutes(lang, s.median_first_response_minutes),
            res=_minutes(lang, s.median_resolution_minutes),
        ),
        plain(lang, "stats_sla", first=_pct(s.first_response_met_percent), res=_pct(s.resolution_met_percent)),
    ]
    if s.by_topic:
        lines.append(plain(lang, "stats_topics"))
        for ts in s.by_topic:
            lines.append(plain(lang, "stats_topic_line", topic=library.topic(ts.topic).label(lang), count=ts.count,
                               sla=_pct(ts.sla_met_percent)))
    if s.faq_offered:
        lines.append(plain(lang, "stats_faq", offered=s.faq_offered, solved=s.self_served, human=s.human_requested))
    if s.complaints:
        lines.append(
            plain(
                lang,
                "stats_complaints",
                count=s.complaints,
                closed=s.complaints_closed,
                met=_pct(s.complaints_met_percent),
            )
        )
    if s.ratings:
        shown = plain(lang, "list_separator").join(
            plain(lang, f"rating_{k}") + f" {v}" for k, v in sorted(s.ratings.items()) if k in {r.value for r in Rating}
        )
        lines.append(plain(lang, "stats_ratings", ratings=shown))
    return "\n".join(lines)


def report_text(report: WeeklyReport, week: str, lang: str, tz: ZoneInfo) -> str:
    """The weekly report: its dates, the week's figures (``week``: /stats' text for its 7 days), the top questions."""
    s = report.stats
    lines = [
        plain(lang, "weekly_title", since=f"{s.since.astimezone(tz):%m-%d}", until=f"{s.until.astimezone(tz):%m-%d}"),
        week,
    ]
    if report.top_questions:
        lines.append(plain(lang, "weekly_top"))
        for i, q in enumerate(report.top_questions, 1):
            faq = plain(lang, "weekly_has_faq") if q.faq_entry else ""
            lines.append(plain(lang, "weekly_top_line", i=i, text=shorten(q.text, 40), count=q.count, faq=faq))
    return "\n".join(lines)
