"""Digest jobs: the slots at their times, the catch-up at start, retries, /health — thin over bot.delivery.

The rules (exactly once through the ledger, resumable, caught up within ``digests.catch_up_minutes``,
expired beyond it) live in :mod:`bot.delivery`; here they are run as JobQueue jobs, sent through the
outbox, and their notices worded for the ops chat.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.chat import copies
from bot.chat.context import BotContext, Services, services_of
from bot.config import GroupConfig
from bot.delivery.publisher import Plan
from bot.delivery.schedule import SLOTS
from bot.delivery.slots import GroupFailed, Notice, SlotOutcome, SourceChanged, slot_key
from bot.texts import has, plain
from digests.build import SourceResult
from digests.model import Slot

__all__ = ["SlotOutcome", "catch_up", "deliver_slot", "on_health", "schedule_digests"]

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=5)


def _notifier(svc: Services) -> Any:
    async def notify(notice: Notice) -> None:
        if isinstance(notice, SourceChanged):
            change = notice.change
            if change.warning:
                await svc.outbox.alert(plain(svc.lang, "alert_source_dropped", source=change.source, warning=change.warning))
            elif change.failed:
                await svc.outbox.alert(plain(svc.lang, "alert_source_failing", source=change.source,
                                             failures=change.failures, reason=change.reason))
            else:
                await svc.outbox.alert(plain(svc.lang, "alert_source_recovered", source=change.source))
        elif isinstance(notice, GroupFailed):
            await svc.outbox.alert(plain(svc.lang, "alert_slot_failed", group=notice.group.title or notice.group.name,
                                         slot=notice.slot))

    return notify


async def deliver_slot(
    app: Application[Any, Any, Any, Any, Any, Any],
    slot: Slot,
    day: date | None = None,
    *,
    groups: list[GroupConfig] | None = None,
    force: bool = False,
) -> list[SlotOutcome]:
    """Send ``slot`` of ``day`` to every group that takes it and has not had it; returns the outcomes."""
    svc = services_of(app)
    now = svc.clock.now()
    day = day or now.date()
    run = await svc.digests.deliver_slot(
        slot, day, now, groups=groups, force=force,
        send_to=svc.outbox.part_sender, notify=_notifier(svc),
    )
    if run.fetched is not None:  # right after the groups' digests (which it never delays)
        await _report_sources(svc, slot, day, run.fetched.results, run.plans, now)
    if run.retrying:
        await _retry_later(app, svc, slot, day, run.retrying)
    if not force:  # the members' private copies, once the groups' digests are out (bot/chat/copies.py)
        copies.schedule(app, slot, day)
    return run.outcomes


async def on_health(update: Update, context: BotContext) -> None:
    """/health in the ops chat: the source board (working, failing since when and why, stale)."""
    from bot.sourceboard import board_lines

    svc = context.svc
    statuses = {st.source: st for st in svc.publisher.health.all()}
    if update.effective_chat is not None:
        await svc.outbox.send(update.effective_chat.id, "\n".join(
            board_lines(svc.config, statuses, svc.clock.now())), plain=True)


async def _report_sources(
    svc: Services, slot: Slot, day: date, results: Mapping[str, SourceResult], plans: Mapping[int, Plan],
    now: datetime,
) -> None:
    """At the slot itself: sections short because a source failed (which, why, since when), and
    sources with nothing new for ``health.stale_after_days`` (once per newest item date)."""
    from bot.sourceboard import is_stale, shortfalls, slot_report

    statuses = {st.source: st for st in svc.publisher.health.all()}
    cfg = svc.publisher.digest_config(slot)
    short = shortfalls(cfg, [p.digest for p in plans.values()], statuses)
    stale = [
        statuses[name] for name in sorted(results)
        if name in statuses and is_stale(statuses[name], now, svc.config.health.stale_after_days)
        and svc.publisher.health.warn_once(f"{name}#stale@{statuses[name].newest_item_at}", "stale", at=now)
    ]
    title = cfg.title or svc.publisher.templates.titles.get(slot, slot)
    for text in slot_report(svc.config, title, f"{day.month}/{day.day}", short, stale, now):
        await svc.outbox.alert(text)


async def _retry_later(
    app: Application[Any, Any, Any, Any, Any, Any], svc: Services, slot: Slot, day: date, groups: list[GroupConfig]
) -> None:
    """Try the open deliveries again in a few minutes while inside the catch-up window; else record failure."""
    now = svc.clock.now()
    names = plain(svc.lang, "list_separator").join(g.title or g.name for g in groups)
    if svc.schedule.in_window(svc.schedule.scheduled_at(slot, day), now + RETRY_AFTER) and app.job_queue is not None:
        app.job_queue.run_once(
            _on_retry,
            when=RETRY_AFTER,
            data=(slot, day.isoformat(), [g.id for g in groups]),
            name=f"digest-retry:{slot}:{day.isoformat()}",
        )
        log.warning("%s of %s not complete for %s; trying again in %s", slot, day, names, RETRY_AFTER)
        return
    svc.digests.give_up(slot, day, groups)
    await svc.outbox.alert(plain(svc.lang, "alert_slot_unreachable", day=day.isoformat(), digest=_slot_name(svc.lang, slot),
                                 groups=names))


async def _on_retry(context: BotContext) -> None:
    """A delivery left open by a transient failure: deliver again (the ledger skips what was sent)."""
    svc = context.svc
    assert context.job is not None
    data: tuple[Slot, str, list[int]] = context.job.data  # type: ignore[assignment]
    slot, day_text, ids = data
    groups = [g for g in svc.config.chats.groups if g.id in ids]
    await deliver_slot(context.application, slot, date.fromisoformat(day_text), groups=groups)


async def on_catch_up(context: BotContext) -> None:
    """Start-up catch-up, as a job: polling is not held up, and a stop signal lets it finish first."""
    await catch_up(context.application)


async def catch_up(app: Application[Any, Any, Any, Any, Any, Any]) -> list[SlotOutcome]:
    """After downtime: send a slot missed by less than the catch-up window, record older ones as expired."""
    svc = services_of(app)
    now = svc.clock.now()
    first_run = datetime.fromisoformat(svc.meta.setdefault("first_started_at", now.isoformat()))
    outcomes: list[SlotOutcome] = []
    for missed in svc.digests.missed(now, first_run):
        if missed.send:
            log.info("catching up %s of %s (missed by %s)", missed.slot, missed.day, now - missed.due)
            outcomes += await deliver_slot(app, missed.slot, missed.day, groups=missed.send)
        if missed.expired:
            outcomes += [SlotOutcome(g.name, slot_key(g, missed.day, missed.slot), "expired") for g in missed.expired]
            names = plain(svc.lang, "list_separator").join(g.title or g.name for g in missed.expired)
            await svc.outbox.alert(plain(
                svc.lang, "alert_slot_expired", day=missed.day.isoformat(), digest=_slot_name(svc.lang, missed.slot),
                time=f"{missed.due:%H:%M}", minutes=svc.config.digests.catch_up_minutes, groups=names,
            ))
    # the members' copies of a slot whose groups are done (a stop or a kill during the copies): resumed
    # by a delivery that skips the groups and prepares the run if it never was; past the window, expired
    for missed_copies in svc.copies.missed(now, first_run):
        if missed_copies.decision == "send":
            await deliver_slot(app, missed_copies.slot, missed_copies.day)
    return outcomes


def _slot_name(lang: str, slot: str) -> str:
    return plain(lang, f"digest_{slot}") if has(f"digest_{slot}") else slot


async def on_digest_slot(context: BotContext) -> None:
    """A scheduled slot (job data: the slot name)."""
    svc = context.svc
    slot: Slot = context.job.data if context.job is not None else "morning"  # type: ignore[assignment]
    day = svc.clock.now().date()
    if not svc.schedule.is_service_day(day):
        log.info("%s: %s is not a service day; no digest", slot, day)
        return
    await deliver_slot(context.application, slot, day)


def schedule_digests(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """One daily job per slot, at the configured local time."""
    svc = services_of(app)
    assert app.job_queue is not None
    for slot in SLOTS:
        app.job_queue.run_daily(
            on_digest_slot, time=svc.schedule.slot_time(slot), data=slot, name=f"digest:{slot}"
        )
