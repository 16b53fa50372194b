"""Members' private copies of a digest slot: exactly once per member, paced, after the groups; no Telegram.

A slot's copies are one *run* (bot/store/subscribers.py: CopyRuns), prepared inside the groups' delivery
from the same fetch, before any queue item is marked published: the digest for the private-copies scope
(its own seen items), rendered once per distinct choice of sections, and which member gets which. Then,
once the groups' digests are out, the edge (bot/chat/copies.py) sends the run as a job:

1. each member's copy is a delivery in the same ledger as the groups' (chat id, date, slot), sent by the
   same :class:`~bot.delivery.deliver.LedgerWalk`: each part recorded as soon as Telegram accepted it,
   so a run resumed after a kill skips every member already served and resumes a member's copy at its
   first unrecorded part (at most one part repeated per kill, as for the groups; nobody skipped);
2. pacing, as Telegram asks (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
   about one message a second in any one chat (a member's parts at least ``PER_CHAT_GAP`` apart,
   waited for before the part queues, so the wait never holds the lane) and at most 30 a second overall
   (the Application's AIORateLimiter, one every 1/29 s); ``SIDE_BY_SIDE`` members are served at once so
   the overall rate stays full;
3. groups first: copies queue for the walk's one-part lane at priority 1, behind any group's part;
4. a member who unsubscribed meanwhile is skipped; one who blocked the bot (403 Forbidden) is
   unsubscribed and logged, and the run goes on; a transient failure leaves that copy open (tried again
   while inside the catch-up window);
5. the run ends: the items shown are marked seen for the private-copies scope, the run is done.

A stop (SIGTERM) ends the run between copies; the next start resumes it (:meth:`PrivateCopies.missed`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

from bot.config import Config
from bot.delivery.deliver import Failure, LedgerWalk
from bot.delivery.publisher import PRIVATE_COPIES, SEEN_BUCKET, Publisher, section_specs
from bot.delivery.schedule import Decision, Schedule
from bot.store import Store
from bot.store.ledger import DeliveryKey, DeliveryLedger
from bot.store.subscribers import CopyRun, CopyRuns, Edition, Subscribers, Subscription, choice_key
from digests.build import SourceResult
from digests.model import Slot
from digests.render import render

__all__ = ["CopySend", "MissedCopies", "PrivateCopies"]

log = logging.getLogger(__name__)

# Members served side by side: each gets at most one part a second, so ~30 of them fill the overall
# rate; a few more cover the time a part waits for its turn in the lane.
SIDE_BY_SIDE = 40
PER_CHAT_GAP = 1.0  # seconds between two parts in one private chat
COPY_PRIORITY = 1  # in the walk's lane: after every group's part
# A copy part's record is written before the next part goes out (a kill repeats at most the part in
# flight) but fsynced only every FSYNC_EVERY parts: an fsync per part (~4 ms on a busy disk, inside the
# one-part lane) costs 1,500 x 4 ms = 6 s of a 500-member run (bench P1); a power cut may then repeat
# up to FSYNC_EVERY - 1 copy parts, never skip one. Groups' parts stay fsynced one by one.
FSYNC_EVERY = 20

#: sends one part of a copy: (chat id, text, the subscriber, is it the copy's last part) -> the message
#: id, why not, or "blocked" (Telegram's 403: the member blocked the bot or cannot be written to)
CopySend = Callable[[int, str, Subscription, bool], Awaitable[int | Failure | Literal["blocked"]]]
CopyOutcome = Literal["sent", "skipped", "blocked", "failed", "retrying"]


@dataclass(frozen=True)
class MissedCopies:
    """A slot whose copies were not finished while the bot was down: send them now, or give them up."""

    slot: Slot
    day: date
    decision: Decision


class PrivateCopies:
    """Runs of private copies over the delivery ledger and the groups' ledger walk."""

    def __init__(
        self, config: Config, schedule: Schedule, ledger: DeliveryLedger, publisher: Publisher, walk: LedgerWalk,
        store: Store,
    ) -> None:
        self.config = config
        self.schedule = schedule
        self.ledger = ledger
        self.publisher = publisher
        self.walk = walk
        self.store = store
        self.subscribers = Subscribers(store)
        self.runs = CopyRuns(store)
        self._lock = asyncio.Lock()
        self._records = 0  # copy parts recorded: every FSYNC_EVERY-th is fsynced

    # ------------------------------------------------------------------ preparing a run

    def needs_run(self, slot: Slot, day: date) -> bool:
        """No run prepared for this slot yet, and some member wants a copy of it."""
        if self.runs.get(day.isoformat(), slot) is not None:
            return False
        return any(sub.wants(slot) for sub in self.subscribers.all())

    def prepare(self, slot: Slot, day: date, results: Mapping[str, SourceResult], now: datetime) -> CopyRun | None:
        """Build and store the run of ``slot`` on ``day`` (nothing when no member wants it)."""
        cfg = self.publisher.digest_config(slot)
        order = [s.key for s in cfg.sections]
        recipients: list[tuple[int, str]] = []
        choices: dict[str, set[str]] = {}
        for sub in self.subscribers.all():
            wanted = [k for k in order if k in sub.wants(slot)]
            if wanted:
                key = choice_key(wanted)
                recipients.append((sub.chat_id, key))
                choices[key] = set(wanted)
        if not recipients:
            return None
        digest, _ = self.publisher.fitted(PRIVATE_COPIES, section_specs(cfg), day, slot, results, now)
        editions: dict[str, Edition] = {}
        for key, chosen in choices.items():
            mine = replace(digest, sections=tuple(sec for sec in digest.sections if sec.key in chosen))
            parts = render(
                mine, self.publisher.templates, when_empty=self.config.digests.when_empty,
                bot=self.publisher.bot_username,
            )
            if parts is not None:  # nothing new in these sections and when_empty is skip: no copy
                editions[key] = Edition(parts, mine.empty)
        run = CopyRun(
            day.isoformat(), slot, editions, [r for r in recipients if r[1] in editions], dict(digest.seen_updates)
        )
        self.runs.put(run)
        log.info("private copies %s %s: %d members, %d editions", slot, day, len(run.recipients), len(editions))
        return run

    def open_run(self, slot: Slot, day: date) -> CopyRun | None:
        run = self.runs.get(day.isoformat(), slot)
        return run if run is not None and not run.done else None

    # ------------------------------------------------------------------ sending a run

    async def send_run(
        self, slot: Slot, day: date, send: CopySend, *, stop: Callable[[], bool] = lambda: False
    ) -> Counter[str]:
        """Send every copy of the run not yet delivered; how many were sent, skipped, blocked, failed or
        left to retry. The run stays open when stopped or when some copy is to be tried again."""
        async with self._lock:
            counts: Counter[str] = Counter()
            run = self.open_run(slot, day)
            if run is None:
                return counts
            pending = deque(
                (chat_id, key) for chat_id, key in run.recipients
                if self.ledger.outcome(DeliveryKey.of(chat_id, day, slot)) is None
            )

            async def serve() -> None:
                while pending and not stop():
                    chat_id, key = pending.popleft()
                    counts[await self._copy(chat_id, run.editions[key], slot, day, send)] += 1

            await asyncio.gather(*(serve() for _ in range(min(SIDE_BY_SIDE, len(pending)))))
            if pending or counts["retrying"]:
                return counts
            self.publisher.seen.mark_many(PRIVATE_COPIES, SEEN_BUCKET, run.seen.items())
            self.runs.finish(run.date, run.slot)  # fsynced: every record of the run durable with it
            log.info("private copies %s %s done: %s", slot, day, dict(counts))
            return counts

    async def _copy(self, chat_id: int, edition: Edition, slot: Slot, day: date, send: CopySend) -> CopyOutcome:
        """One member's copy through the ledger walk."""
        key = DeliveryKey.of(chat_id, day, slot)
        sub = self.subscribers.get(chat_id)
        if sub is None or not sub.wants(slot):
            return "skipped"  # unsubscribed since the run was prepared: stopped at once, nothing recorded
        last = len(edition.parts) - 1
        blocked = False
        unsubscribed = False
        landed_at = 0.0
        current = 0

        async def before(index: int) -> None:
            nonlocal current
            current = index
            # about one message a second in this chat, counted from when the previous part landed
            await asyncio.sleep(max(0.0, landed_at + PER_CHAT_GAP - time.monotonic()))

        async def part(text: str) -> int | Failure:
            nonlocal blocked, unsubscribed, landed_at
            if self.subscribers.get(chat_id) is None:  # unsubscribed between two parts: stop here
                unsubscribed = True
                return "permanent"
            got = await send(chat_id, text, sub, current == last)
            landed_at = time.monotonic()
            if got == "blocked":
                blocked = True
                return "permanent"
            return got

        try:
            # begin and finish journalled without an fsync of their own (written: a kill keeps them): a
            # later fsynced write makes them durable, and either lost to a power cut resumes without a
            # repeat (a begin is written again; an unfinished copy whose parts are all recorded finishes
            # without sending). Two fsyncs fewer per member: bench P1.
            with self.store.unsynced():
                if self.ledger.get(key) is None:
                    self.ledger.begin(key, len(edition.parts))
            result = await self.walk.send(
                key, edition.parts, part, before=before, priority=COPY_PRIORITY, fsync=self._fsync_now
            )
            if result == "sent":
                with self.store.unsynced():
                    self.ledger.finish(key, "empty" if edition.empty else "sent")
                return "sent"
            if blocked:
                self.subscribers.remove(chat_id)
                self.ledger.finish(key, "failed")
                log.warning("private copies: chat %s cannot be written to (403); unsubscribed", chat_id)
                return "blocked"
            if unsubscribed:
                self.ledger.finish(key, "failed")
                return "skipped"
            if result == "transient":
                return "retrying"
            self.ledger.finish(key, "failed")
            log.error("private copies: Telegram refused the %s copy for chat %s", slot, chat_id)
            return "failed"
        except Exception:
            log.exception("private copy %s for chat %s failed", slot, chat_id)
            try:
                self.ledger.finish(key, "failed")
            except Exception:
                log.exception("could not record the failure of %s", key.text())
            return "failed"

    def _fsync_now(self) -> bool:
        self._records += 1
        return self._records % FSYNC_EVERY == 0

    # ------------------------------------------------------------------ after downtime

    def expire(self, slot: Slot, day: date, *, failed: bool = False) -> int:
        """Give up an open run: every copy not out is recorded (expired, or failed after retries)."""
        run = self.open_run(slot, day)
        if run is None:
            return 0
        n = 0
        for chat_id, _ in run.recipients:
            key = DeliveryKey.of(chat_id, day, slot)
            if self.ledger.outcome(key) is None:
                self.ledger.finish(key, "failed" if failed else "expired")
                n += 1
        self.runs.finish(run.date, run.slot)
        log.warning("private copies %s %s: %d copies given up", slot, day, n)
        return n

    def missed(self, now: datetime, first_run: datetime) -> list[MissedCopies]:
        """Yesterday's and today's slots whose copies are unfinished (or never prepared though wanted):
        send them now (inside the catch-up window, or begun), or give them up (the run, if any, expired)."""
        found: list[MissedCopies] = []
        for slot, day, due in self.schedule.past_slots(now, first_run):
            run = self.open_run(slot, day)
            if run is None and not self.needs_run(slot, day):
                continue
            decision = self.schedule.decide(due, now)
            if decision == "expire":
                self.expire(slot, day)
            found.append(MissedCopies(slot, day, decision))
        return found

    def retry_in_window(self, slot: Slot, day: date, at: datetime) -> bool:
        return self.schedule.in_window(self.schedule.scheduled_at(slot, day), at)
