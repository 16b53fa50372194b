"""The desk's scheduled work: the minute sweep, Monday's weekly report, the daily calendar check.

The sweep is restart-safe because every notice is marked in the ticket after it was sent
(``desk.mark_sent``): a restart re-reads the store and never repeats one; a notice that could not be
sent is tried again next minute (at-least-once).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from telegram.ext import Application

from bot.chat.cards import (
    CARD_QUOTE,
    refresh_card,
    stats_text,
    supervisors_html,
    tell_privately,
    user_link,
    when,
)
from bot.chat.context import BotContext, Services, services_of
from bot.chat.promise import refresh_promise
from bot.chat.views.stats import report_text as views_report_text
from bot.texts import Markup, plain, tr
from bot.texts.measure import shorten
from bot.tickets.desk import NoticeKind, WeeklyReport
from bot.tickets.model import Deadline, Ticket

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class SweepResult:
    assigned: list[int] = field(default_factory=list)
    warned: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)


def schedule(app: App) -> None:
    """Every minute the sweep; Monday 09:00 the weekly report; daily 09:05 the calendar check."""
    jq = app.job_queue
    if jq is None:
        log.warning("no job queue: the desk sweep will not run")
        return
    svc = services_of(app)
    tz = svc.config.tz
    jq.run_repeating(on_sweep, interval=60, first=5, name="desk-sweep")
    # PTB counts days from Sunday = 0: Monday is 1.
    jq.run_daily(on_weekly, time(9, 0, tzinfo=tz), days=(1,), name="desk-weekly")
    jq.run_daily(on_calendar, time(9, 5, tzinfo=tz), name="desk-calendar")


async def on_sweep(context: BotContext) -> None:
    """Job: auto-assign, deadline warnings/escalations, auto-close."""
    await sweep(context.application)


async def on_weekly(context: BotContext) -> None:
    """Job: Monday's report to the staff chat."""
    await weekly_report(context.application)


async def on_calendar(context: BotContext) -> None:
    """Job: warn the ops chat while a year's official make-up days are unknown (from November)."""
    await calendar_check(context.application)


def _deadline_name(lang: str, deadline: Deadline) -> str:
    return tr(lang, "due_first" if deadline is Deadline.FIRST_RESPONSE else "due_resolution")


async def sweep(app: App, now: datetime | None = None) -> SweepResult:
    """One pass of the minute sweep; returns what it did (for tests and logs)."""
    svc = services_of(app)
    async with svc.sweep_lock:  # a manual sweep and the job never interleave (each notice is sent once)
        return await _sweep(svc, app, now or svc.clock.now())


async def _sweep(svc: Services, app: App, now: datetime) -> SweepResult:
    lang = svc.lang
    staff_chat = svc.config.chats.staff
    out = SweepResult()
    for t in svc.desk.auto_assign(now):
        await refresh_card(svc, t)
        who = user_link(t.owner_id or 0, t.owner_name)
        await svc.outbox.send(
            staff_chat, tr(lang, "assigned", n=t.number, who=who), reply_to=t.card_message_id
        )
        if t.owner_id is not None:
            topic = svc.library.topic(t.topic).label(lang)
            await tell_privately(
                app.bot,
                t.owner_id,
                tr(lang, "assigned_private", n=t.number, topic=topic, text=shorten(t.text, CARD_QUOTE)),
            )
        out.assigned.append(t.number)
    for notice in svc.desk.sla_due(now):
        t = svc.desk.get(notice.number)
        name = _deadline_name(lang, notice.deadline)
        due = when(svc, notice.due)
        if notice.kind == NoticeKind.WARN:
            who = user_link(t.owner_id, t.owner_name) if t.owner_id is not None else Markup()
            text = tr(lang, "warn", who=who, n=t.number, deadline=name, due=due)
        else:
            owner = user_link(t.owner_id, t.owner_name) if t.owner_id is not None else tr(lang, "card_nobody")
            text = tr(
                lang,
                "escalate",
                n=t.number,
                deadline=name,
                due=due,
                owner=owner,
                supervisors=supervisors_html(svc),
            )
        sent = await svc.outbox.send(staff_chat, text, reply_to=t.card_message_id)
        if sent is None:
            continue  # not marked: tried again next minute
        t = svc.desk.mark_sent(notice, now)
        if notice.kind == NoticeKind.ESCALATE:
            await refresh_promise(svc, t)  # the asker sees 已超时，主管 Y 跟进 on their promise
            await _escalate_privately(svc, app, t, name, due)
        (out.warned if notice.kind == NoticeKind.WARN else out.escalated).append(t.number)
    for t in svc.desk.auto_close(now):
        await refresh_card(svc, t)
        days = svc.desk.policy.auto_close_after_days
        await svc.outbox.send(
            staff_chat,
            tr(lang, "auto_closed", n=t.number, days=days),
            reply_to=t.card_message_id,
        )
        out.closed.append(t.number)
    return out


async def _escalate_privately(svc: Services, app: App, t: Ticket, deadline: str, due: str) -> None:
    """Each supervisor hears of the breach privately too (a 403 from one who never started the bot is
    only logged: the staff chat has it)."""
    lang = svc.lang
    owner = t.owner_name if t.owner_id is not None else tr(lang, "card_nobody")
    topic = svc.library.topic(t.topic).label(lang)
    text = tr(
        lang,
        "escalate_private",
        n=t.number,
        topic=topic,
        deadline=deadline,
        due=due,
        owner=owner,
        text=shorten(t.text, CARD_QUOTE),
    )
    for s in svc.desk.roster.supervisors():
        await tell_privately(app.bot, s.user_id, text)


# -- weekly report ---------------------------------------------------------------------------------------


def report_text(svc: Services, report: WeeklyReport) -> str:
    return views_report_text(report, stats_text(svc, report.stats.until, 7), svc.lang, svc.config.tz)


_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "SimHei",
    "Droid Sans Fallback",
)


def report_chart(svc: Services, report: WeeklyReport) -> bytes:
    """A PNG bar chart of the week's tickets by topic. Without a CJK font the labels fall back to the
    topics' English names (or keys), so the chart never shows empty boxes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    available = {f.name for f in font_manager.fontManager.ttflist}
    cjk = next((f for f in _CJK_FONTS if f in available), None)
    topics = [svc.library.topic(ts.topic) for ts in report.stats.by_topic]
    # Chinese labels need a CJK font; without one (or with language: en) the chart is in English
    chart_lang = "zh" if cjk is not None and not svc.lang.startswith("en") else "en"
    labels = [tp.label(chart_lang) if chart_lang == "zh" else (tp.name_en or tp.key) for tp in topics]
    title = plain(chart_lang, "weekly_chart_title")
    family = [cjk, "DejaVu Sans"] if chart_lang == "zh" and cjk is not None else ["DejaVu Sans"]
    counts = [ts.count for ts in report.stats.by_topic]
    with plt.rc_context({"font.family": family}):
        fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
        try:
            ax.bar(labels or ["—"], counts or [0], color="#3b7dd8")
            ax.set_title(title)
            ax.tick_params(axis="x", labelrotation=30)
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
        finally:
            plt.close(fig)
    return buf.getvalue()


async def weekly_report(app: App, now: datetime | None = None) -> bool:
    """Send the week's report (text, then the chart) to the staff chat; True when the text went out."""
    svc = services_of(app)
    now = now or svc.clock.now()
    report = svc.desk.weekly_report(now)
    sent = await svc.outbox.send_long(svc.config.chats.staff, report_text(svc, report))
    try:
        png = report_chart(svc, report)
        await app.bot.send_photo(svc.config.chats.staff, photo=png, caption="📊")
    except Exception as exc:  # the chart is a bonus: the report text already went out
        log.warning("weekly chart not sent: %s", exc, exc_info=exc)
    return bool(sent)


async def calendar_check(app: App, today: date | None = None) -> list[int]:
    """Daily (09:05): re-read content/calendar (a new <year>.yaml takes effect now, no restart) and warn
    the ops chat while a year the desk needs — this one, and from November the next — has no official
    make-up days (``WorkCalendar.missing_years``). Returns those years; nothing is sent once covered."""
    svc = services_of(app)
    today = today or svc.clock.now().astimezone(svc.config.tz).date()
    problems = svc.workcal.refresh()
    missing = svc.workcal.missing_years(today)
    if missing:
        years = "、".join(str(y) for y in missing) if svc.lang == "zh" else ", ".join(map(str, missing))
        lines = [plain(svc.lang, "calendar_missing", years=years, year=missing[0])]
        lines += [plain(svc.lang, "calendar_file_problem", problem=p) for p in problems]
        await svc.outbox.alert("\n".join(lines))
    return missing
