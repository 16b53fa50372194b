"""Scheduled work: digest slots (exactly once, resumable, caught up after downtime) and source health.

A digest for (group, date, slot) goes through the delivery ledger:

1. already finished in the ledger -> nothing to do (a duplicate trigger, a restart);
2. the rendered parts are stored before the first one is sent, so a resumed delivery sends exactly the
   parts that are missing, with the same text;
3. each part is recorded as sent as soon as Telegram accepted it;
4. the slot ends with an outcome: sent, empty, expired or failed.

A kill between Telegram accepting a part and the ledger recording it can repeat that one part on
restart: at most one duplicate per kill, never a lost part.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.chat.context import Services, services_of
from bot.config import GroupConfig
from bot.publishing import Plan
from bot.store.ledger import DeliveryKey, Outcome
from digests.model import Slot

log = logging.getLogger(__name__)

SLOTS: tuple[Slot, ...] = ("morning", "tea")
DELIVERY_LOCK = "digest_delivery_lock"
PART_IN_FLIGHT = "digest_part_in_flight"


@dataclass(frozen=True)
class SlotOutcome:
    group: str
    key: DeliveryKey
    outcome: str  # sent | empty | expired | failed | skipped (already done)
    parts: int = 0


def _slot_key(group: GroupConfig, day: date, slot: str, force_round: int = 0) -> DeliveryKey:
    return DeliveryKey.of(group.id, day, slot if not force_round else f"{slot}#{force_round}")


def is_service_day(svc: Services, day: date) -> bool:
    if svc.config.digests.service_days == "every_day":
        return True
    return bool(svc.workcal.is_workday(day)) if svc.workcal is not None else day.weekday() < 5


async def deliver_slot(
    app: Application[Any, Any, Any, Any, Any, Any],
    slot: Slot,
    day: date | None = None,
    *,
    groups: list[GroupConfig] | None = None,
    force: bool = False,
) -> list[SlotOutcome]:
    """Send ``slot`` of ``day`` to every group that takes it and has not had it; returns the outcomes.

    Deliveries run one at a time (the ledger says what is done, not what is in progress): a scheduled
    slot, the catch-up at start, a retry and a demo trigger never send the same digest side by side.
    """
    svc = services_of(app)
    lock = svc.extra.setdefault(DELIVERY_LOCK, asyncio.Lock())
    async with lock:
        return await _deliver_slot(app, slot, day, groups=groups, force=force)


async def _deliver_slot(
    app: Application[Any, Any, Any, Any, Any, Any],
    slot: Slot,
    day: date | None,
    *,
    groups: list[GroupConfig] | None,
    force: bool,
) -> list[SlotOutcome]:
    svc = services_of(app)
    now = svc.clock.now()
    day = day or now.date()
    targets = [g for g in (groups or list(svc.config.chats.groups)) if slot in g.digests]
    keys: dict[int, DeliveryKey] = {}
    outcomes: list[SlotOutcome] = []
    for g in targets:
        key = _slot_key(g, day, slot)
        if force:
            n = 1
            while svc.ledger.outcome(key) is not None:
                key = _slot_key(g, day, slot, n)
                n += 1
        elif svc.ledger.outcome(key) is not None:
            outcomes.append(SlotOutcome(g.name, key, "skipped"))
            continue
        keys[g.id] = key
    if not keys:
        return outcomes
    need_fetch = any(svc.digest_parts.get(k) is None for k in keys.values())
    results = await asyncio.to_thread(svc.publisher.fetch, slot, now) if need_fetch else {}
    for change in svc.publisher.record_health(results, now):
        if change.warning:
            await svc.outbox.alert(f"⚠️ 信息源 {change.source} 有内容被丢弃（只提醒一次）：{change.warning}")
        elif change.failed:
            await svc.outbox.alert(
                f"⚠️ 信息源 {change.source} 连续 {change.failures} 次获取失败：{change.reason}"
            )
        else:
            await svc.outbox.alert(f"✅ 信息源 {change.source} 已恢复")
    plans: dict[int, Plan] = {}
    for g in targets:
        if g.id in keys and svc.digest_parts.get(keys[g.id]) is None:
            plans[g.id] = svc.publisher.plan(g, day, slot, results, now)
    done = await asyncio.gather(
        *(_deliver_group(svc, g, keys[g.id], plans.get(g.id)) for g in targets if g.id in keys)
    )
    if results:  # right after the groups' digests (which it never delays): short sections, stale sources
        await _report_sources(svc, slot, day, results, plans, now)
    outcomes.extend(done)
    published: set[int] = set()
    for g in targets:
        result = next((o for o in done if o.key == keys.get(g.id)), None)
        stored = svc.digest_parts.record(keys[g.id]) if g.id in keys else None
        if stored is not None and result is not None and result.outcome in ("sent", "empty"):
            # from the stored record, so a delivery resumed after a crash records them too
            svc.publisher.seen.mark_many(g.id, "digest", stored.seen.items(), at=now)
            published.update(stored.queued)
    if published and svc.publisher.queue is not None:
        svc.publisher.queue.mark_published(sorted(published), day, now)
    retrying = [g for g in targets if any(o.key == keys.get(g.id) and o.outcome == "retrying" for o in done)]
    if retrying:
        await _retry_later(app, svc, slot, day, retrying)
    for o in done:
        log.info("digest %s %s for %s: %s (%d parts)", slot, day, o.group, o.outcome, o.parts)
    return outcomes


async def on_health(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/health in the ops chat: the source board (working, failing since when and why, stale)."""
    from bot.sourceboard import board_lines

    svc = services_of(context.application)
    statuses = {st.source: st for st in svc.publisher.health.all()}
    if update.effective_chat is not None:
        await svc.outbox.send(update.effective_chat.id, html.escape("\n".join(
            board_lines(svc.config, statuses, svc.clock.now()))))


async def _report_sources(
    svc: Services, slot: Slot, day: date, results: Mapping[str, Any], plans: Mapping[int, Plan], now: datetime
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


async def send_through_ledger(
    svc: Services, chat_id: int, thread_id: int | None, key: DeliveryKey, parts: list[str]
) -> str:
    """Send the parts not yet recorded for ``key``, recording each as soon as Telegram accepted it.

    Returns "sent" when every part is out, else why not: "transient" (worth trying again later) or
    "permanent" (Telegram refused). The caller finishes the delivery in the ledger; a delivery left open
    resumes at its first unrecorded part.
    """
    # One part in flight at a time across all groups: a kill between Telegram accepting a part and the
    # ledger recording it then repeats at most one part in all. The outbox paces sends at 1/29 s anyway,
    # so against a nearby Bot API this costs no speed (bench P1); over a slow link it trades fan-out speed
    # for that bound.
    in_flight = svc.extra.setdefault(PART_IN_FLIGHT, asyncio.Lock())
    svc.ledger.begin(key, len(parts))
    sent = svc.ledger.sent_parts(key)
    for index, text in enumerate(parts):
        if index in sent:
            continue
        async with in_flight:
            landed = await svc.outbox.send(chat_id, text, thread_id=thread_id)
            if landed is not None:
                svc.ledger.part_sent(key, index, landed.message_id)
        if landed is None:
            return svc.outbox.last_failure or "permanent"
    return "sent"


async def _deliver_group(svc: Services, group: GroupConfig, key: DeliveryKey, plan: Plan | None) -> SlotOutcome:
    """One group's digest, part by part through the ledger; one group's trouble never stops the others."""
    try:
        stored = svc.digest_parts.record(key)
        if stored is None:
            assert plan is not None
            if plan.parts is None:
                svc.ledger.finish(key, "empty")
                return SlotOutcome(group.name, key, "empty")
            svc.digest_parts.put(
                key,
                plan.parts,
                seen=plan.digest.seen_updates,
                queued=plan.queued_numbers,
                empty=plan.digest.empty,
            )
            stored = svc.digest_parts.record(key)
            assert stored is not None
        parts, empty = stored.parts, stored.empty
        result = await send_through_ledger(svc, group.id, group.thread_id, key, parts)
        if result == "transient":
            # Telegram unreachable or still flood-limiting: leave the delivery open; it is tried again
            return SlotOutcome(group.name, key, "retrying", len(parts))
        if result == "permanent":
            svc.ledger.finish(key, "failed")
            await svc.outbox.alert(f"⚠️ {group.title or group.name}：{key.slot} 发送失败")
            return SlotOutcome(group.name, key, "failed", len(parts))
        outcome: Outcome = "empty" if empty else "sent"
        svc.ledger.finish(key, outcome)
        return SlotOutcome(group.name, key, outcome, len(parts))
    except Exception:
        log.exception("digest %s for %s failed", key.slot, group.name)
        try:
            svc.ledger.finish(key, "failed")
        except Exception:
            log.exception("could not record the failure of %s", key.text())
        return SlotOutcome(group.name, key, "failed")


RETRY_AFTER = timedelta(minutes=5)


async def _retry_later(
    app: Application[Any, Any, Any, Any, Any, Any], svc: Services, slot: Slot, day: date, groups: list[GroupConfig]
) -> None:
    """Try the open deliveries again in a few minutes while inside the catch-up window; else record failure."""
    now = svc.clock.now()
    window = timedelta(minutes=svc.config.digests.catch_up_minutes)
    names = "、".join(g.title or g.name for g in groups)
    if now + RETRY_AFTER - scheduled_at(svc, slot, day) <= window and app.job_queue is not None:
        app.job_queue.run_once(
            _on_retry,
            when=RETRY_AFTER,
            data=(slot, day.isoformat(), [g.id for g in groups]),
            name=f"digest-retry:{slot}:{day.isoformat()}",
        )
        log.warning("%s of %s not complete for %s; trying again in %s", slot, day, names, RETRY_AFTER)
        return
    for g in groups:
        svc.ledger.finish(_slot_key(g, day, slot), "failed")
    await svc.outbox.alert(f"⚠️ {day.isoformat()} 的{_slot_name(slot)}未能发出（Telegram 暂时不可达，已超出补发时限）：{names}")


async def _on_retry(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A delivery left open by a transient failure: deliver again (the ledger skips what was sent)."""
    svc = services_of(context.application)
    assert context.job is not None
    data: tuple[Slot, str, list[int]] = context.job.data  # type: ignore[assignment]
    slot, day_text, ids = data
    groups = [g for g in svc.config.chats.groups if g.id in ids]
    await deliver_slot(context.application, slot, date.fromisoformat(day_text), groups=groups)


def scheduled_at(svc: Services, slot: Slot, day: date) -> datetime:
    cfg = svc.config.digests.morning if slot == "morning" else svc.config.digests.tea
    return datetime.combine(day, cfg.time, tzinfo=svc.config.tz)


async def on_catch_up(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start-up catch-up, as a job: polling is not held up, and a stop signal lets it finish first."""
    await catch_up(context.application)


async def catch_up(app: Application[Any, Any, Any, Any, Any, Any]) -> list[SlotOutcome]:
    """After downtime: send a slot missed by less than the catch-up window, record older ones as expired."""
    svc = services_of(app)
    now = svc.clock.now()
    # Slots before the bot's first run are not "missed": a fresh install reports nothing.
    first_run = datetime.fromisoformat(svc.meta.setdefault("first_started_at", now.isoformat()))
    window = timedelta(minutes=svc.config.digests.catch_up_minutes)
    outcomes: list[SlotOutcome] = []
    today = now.date()
    for day in (today - timedelta(days=1), today):
        if not is_service_day(svc, day):
            continue
        for slot in SLOTS:
            due = scheduled_at(svc, slot, day)
            if due > now or due < first_run:
                continue
            pending = [
                g for g in svc.config.chats.groups
                if slot in g.digests and svc.ledger.outcome(_slot_key(g, day, slot)) is None
            ]
            if not pending:
                continue
            if now - due <= window:
                log.info("catching up %s of %s (missed by %s)", slot, day, now - due)
                outcomes += await deliver_slot(app, slot, day, groups=pending)
            else:
                for g in pending:
                    key = _slot_key(g, day, slot)
                    if svc.ledger.get(key) is not None and svc.ledger.sent_parts(key):
                        # begun before the outage: finish what was started rather than leave half a digest
                        outcomes += await deliver_slot(app, slot, day, groups=[g])
                        continue
                    svc.ledger.finish(key, "expired")
                    outcomes.append(SlotOutcome(g.name, key, "expired"))
                names = "、".join(g.title or g.name for g in pending)
                await svc.outbox.alert(
                    f"⚠️ {day.isoformat()} 的{_slot_name(slot)}（{due:%H:%M}）因停机错过超过"
                    f" {svc.config.digests.catch_up_minutes} 分钟，已记为过期未发：{names}"
                )
    return outcomes


def _slot_name(slot: str) -> str:
    return {"morning": "服务早知道", "tea": "生活下午茶"}.get(slot, slot)


async def on_digest_slot(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A scheduled slot (job data: the slot name)."""
    svc = services_of(context.application)
    slot: Slot = context.job.data if context.job is not None else "morning"  # type: ignore[assignment]
    day = svc.clock.now().date()
    if not is_service_day(svc, day):
        log.info("%s: %s is not a service day; no digest", slot, day)
        return
    await deliver_slot(context.application, slot, day)


def schedule_digests(app: Application[Any, Any, Any, Any, Any, Any], job_kwargs: dict[str, Any]) -> None:
    """One daily job per slot, at the configured local time."""
    svc = services_of(app)
    assert app.job_queue is not None
    for slot in SLOTS:
        cfg = svc.config.digests.morning if slot == "morning" else svc.config.digests.tea
        app.job_queue.run_daily(
            on_digest_slot, time=cfg.time.replace(tzinfo=svc.config.tz), data=slot, name=f"digest:{slot}",
            job_kwargs=job_kwargs,
        )
