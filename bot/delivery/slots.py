"""A digest slot for every group, exactly once, resumable, caught up after downtime; no Telegram.

A digest for (group, date, slot) goes through the delivery ledger:

1. already finished in the ledger -> nothing to do (a duplicate trigger, a restart);
2. the rendered parts are stored before the first one is sent, so a resumed delivery sends exactly the
   parts that are missing, with the same text;
3. each part is recorded as sent as soon as Telegram accepted it (:mod:`bot.delivery.deliver`);
4. the slot ends with an outcome: sent, empty, expired or failed — or stays open ("retrying") after a
   transient failure, for the caller to try again while the catch-up window lasts.

What the ops chat should hear comes out as :data:`Notice` values through ``notify``; the Telegram edge
(bot/chat/jobs.py) words them. Sending goes through ``send_to(chat id, thread id)``, a
:data:`~bot.delivery.deliver.SendPart` per chat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.config import Config, GroupConfig
from bot.delivery.copies import PrivateCopies
from bot.delivery.deliver import LedgerWalk, SendPart
from bot.delivery.publisher import Fetched, HealthChange, Plan, Publisher
from bot.delivery.schedule import Schedule
from bot.store.digest_parts import DigestParts, StoredDigest
from bot.store.ledger import DeliveryKey, DeliveryLedger, Outcome
from digests.model import Slot

__all__ = [
    "DigestDelivery",
    "GroupFailed",
    "Missed",
    "Notice",
    "SlotOutcome",
    "SlotRun",
    "SourceChanged",
    "slot_key",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlotOutcome:
    group: str
    key: DeliveryKey
    outcome: str  # sent | empty | expired | failed | retrying | skipped (already done)
    parts: int = 0


@dataclass(frozen=True)
class SourceChanged:
    """A source crossed the alert threshold, recovered, or dropped some of its items."""

    change: HealthChange


@dataclass(frozen=True)
class GroupFailed:
    """Telegram refused a group's digest: recorded as failed, not retried."""

    group: GroupConfig
    slot: str


Notice = SourceChanged | GroupFailed
Notify = Callable[[Notice], Awaitable[None]]
SendTo = Callable[[int, int | None], SendPart]


@dataclass(frozen=True)
class SlotRun:
    """What one run of a slot did: each group's outcome, what was fetched and planned, who is left open."""

    outcomes: list[SlotOutcome]
    fetched: Fetched | None = None
    plans: dict[int, Plan] = field(default_factory=dict)
    retrying: list[GroupConfig] = field(default_factory=list)


@dataclass(frozen=True)
class Missed:
    """A slot missed while the bot was down: groups to send to now, and groups recorded as expired."""

    slot: Slot
    day: date
    due: datetime
    send: list[GroupConfig]
    expired: list[GroupConfig]


def slot_key(group: GroupConfig, day: date, slot: str, force_round: int = 0) -> DeliveryKey:
    return DeliveryKey.of(group.id, day, slot if not force_round else f"{slot}#{force_round}")


class DigestDelivery:
    """Digest slots through the ledger; one delivery at a time (the ledger says what is done, not
    what is in progress): a scheduled slot, the catch-up at start, a retry and a demo trigger never
    send the same digest side by side."""

    def __init__(
        self,
        config: Config,
        schedule: Schedule,
        ledger: DeliveryLedger,
        parts: DigestParts,
        publisher: Publisher,
        walk: LedgerWalk,
        copies: PrivateCopies | None = None,
    ) -> None:
        self.config = config
        self.schedule = schedule
        self.ledger = ledger
        self.parts = parts
        self.publisher = publisher
        self.walk = walk
        self.copies = copies  # the members' private copies: prepared here, sent after (bot/delivery/copies.py)
        self._lock = asyncio.Lock()

    async def deliver_slot(
        self,
        slot: Slot,
        day: date,
        now: datetime,
        *,
        send_to: SendTo,
        notify: Notify,
        groups: Sequence[GroupConfig] | None = None,
        force: bool = False,
    ) -> SlotRun:
        """Send ``slot`` of ``day`` to every group that takes it and has not had it."""
        async with self._lock:
            return await self._run(slot, day, now, send_to, notify, groups or self.config.chats.groups, force)

    async def _run(
        self, slot: Slot, day: date, now: datetime, send_to: SendTo, notify: Notify,
        groups: Sequence[GroupConfig], force: bool,
    ) -> SlotRun:
        targets = [g for g in groups if slot in g.digests]
        keys: dict[int, DeliveryKey] = {}
        outcomes: list[SlotOutcome] = []
        for g in targets:
            key = slot_key(g, day, slot)
            if force:
                n = 1
                while self.ledger.outcome(key) is not None:
                    key = slot_key(g, day, slot, n)
                    n += 1
            elif self.ledger.outcome(key) is not None:
                outcomes.append(SlotOutcome(g.name, key, "skipped"))
                continue
            keys[g.id] = key
        with_copies = not force and self.copies is not None and self.copies.needs_run(slot, day)
        if not keys and not with_copies:
            return SlotRun(outcomes)
        open_groups = [g for g in targets if g.id in keys]
        fetched: Fetched | None = None
        if with_copies or any(self.parts.get(k) is None for k in keys.values()):
            fetched = await asyncio.to_thread(self.publisher.fetch, slot, now)
            for change in self.publisher.record_health(fetched, now):
                await notify(SourceChanged(change))
        plans = {
            g.id: self.publisher.plan(g, day, slot, fetched.results, now)
            for g in open_groups
            if fetched is not None and self.parts.get(keys[g.id]) is None
        }
        if with_copies and fetched is not None and self.copies is not None:
            try:  # from the same fetch, before the queue items are marked published below
                self.copies.prepare(slot, day, fetched.results, now)
            except Exception:  # the members' copies never stop the groups' digests
                log.exception("private copies of %s %s could not be prepared", slot, day)
        done = await asyncio.gather(
            *(self._deliver_group(g, keys[g.id], plans.get(g.id), send_to, notify) for g in open_groups)
        )
        outcomes.extend(done)
        delivered: dict[int, StoredDigest] = {}
        for g, result in zip(open_groups, done, strict=True):
            stored = self.parts.record(keys[g.id])
            if stored is not None and result.outcome in ("sent", "empty"):
                delivered[g.id] = stored  # from the stored record: a delivery resumed after a crash counts too
        if delivered:
            self.publisher.delivered(delivered, day, now)
        retrying = [g for g, result in zip(open_groups, done, strict=True) if result.outcome == "retrying"]
        for o in done:
            log.info("digest %s %s for %s: %s (%d parts)", slot, day, o.group, o.outcome, o.parts)
        return SlotRun(outcomes, fetched, plans, retrying)

    async def _deliver_group(
        self, group: GroupConfig, key: DeliveryKey, plan: Plan | None, send_to: SendTo, notify: Notify
    ) -> SlotOutcome:
        """One group's digest, part by part through the ledger; one group's trouble never stops the others."""
        try:
            stored = self.parts.record(key)
            if stored is None:
                assert plan is not None
                if plan.parts is None:
                    self.ledger.finish(key, "empty")
                    return SlotOutcome(group.name, key, "empty")
                self.parts.put(
                    key,
                    plan.parts,
                    seen=plan.digest.seen_updates,
                    queued=plan.queued_numbers,
                    empty=plan.digest.empty,
                )
                stored = self.parts.record(key)
                assert stored is not None
            result = await self.walk.send(key, stored.parts, send_to(group.id, group.thread_id))
            if result == "transient":
                # Telegram unreachable or still flood-limiting: leave the delivery open; it is tried again
                return SlotOutcome(group.name, key, "retrying", len(stored.parts))
            if result == "permanent":
                self.ledger.finish(key, "failed")
                await notify(GroupFailed(group, key.slot))
                return SlotOutcome(group.name, key, "failed", len(stored.parts))
            outcome: Outcome = "empty" if stored.empty else "sent"
            self.ledger.finish(key, outcome)
            return SlotOutcome(group.name, key, outcome, len(stored.parts))
        except Exception:
            log.exception("digest %s for %s failed", key.slot, group.name)
            try:
                self.ledger.finish(key, "failed")
            except Exception:
                log.exception("could not record the failure of %s", key.text())
            return SlotOutcome(group.name, key, "failed")

    def give_up(self, slot: Slot, day: date, groups: Sequence[GroupConfig]) -> None:
        """Deliveries left open past the catch-up window: recorded as failed."""
        for g in groups:
            self.ledger.finish(slot_key(g, day, slot), "failed")

    def missed(self, now: datetime, first_run: datetime) -> list[Missed]:
        """After downtime, yesterday's and today's slots not delivered: which to send now, which expire.

        Slots before the bot's first run are not "missed": a fresh install reports nothing. The
        expired ones are recorded as such here; sending the others is the caller's (deliver_slot)."""
        found: list[Missed] = []
        for slot, day, due in self.schedule.past_slots(now, first_run):
            send: list[GroupConfig] = []
            expired: list[GroupConfig] = []
            for g in self.config.chats.groups:
                key = slot_key(g, day, slot)
                if slot not in g.digests or self.ledger.outcome(key) is not None:
                    continue
                # begun before the outage: finish what was started rather than leave half a digest
                begun = self.ledger.get(key) is not None and bool(self.ledger.sent_parts(key))
                if self.schedule.decide(due, now, begun=begun) == "send":
                    send.append(g)
                else:
                    self.ledger.finish(key, "expired")
                    expired.append(g)
            if send or expired:
                found.append(Missed(slot, day, due, send, expired))
        return found
