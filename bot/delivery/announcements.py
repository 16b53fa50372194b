"""Announcements: each approved one, when its time comes, to every member group exactly once; no Telegram.

Each goes through the delivery ledger, slot ``announce:<number>`` on the announcement's date: the text
is stored before it is sent, a part is recorded as soon as Telegram accepted it, and a finished
delivery is never sent again (a restart, a second run). When every group has it, the item is
``published``. One missed by more than ``digests.catch_up_minutes`` (the bot was down) and not begun
is not sent late (:meth:`bot.delivery.schedule.Schedule.decide`, the same rule as digests): it is
recorded as expired in the ledger and the item (:func:`bot.editorial.rules.expire_missed`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import Config, GroupConfig
from bot.delivery.deliver import LedgerWalk
from bot.delivery.schedule import Schedule
from bot.delivery.slots import SendTo
from bot.editorial.model import QueueItem
from bot.editorial.queue import EditorialQueue
from bot.editorial.rules import expire_missed
from bot.store.digest_parts import DigestParts
from bot.store.ledger import DeliveryKey, DeliveryLedger

__all__ = ["AnnouncementDelivery", "AnnouncementFailed", "AnnouncementMissed", "AnnouncementNotice"]


@dataclass(frozen=True)
class AnnouncementMissed:
    """Missed beyond the catch-up window while the bot was down: expired, not sent late."""

    item: QueueItem


@dataclass(frozen=True)
class AnnouncementFailed:
    """A group did not get it this time (told once per item and group; tried again next run)."""

    item: QueueItem
    group: GroupConfig


AnnouncementNotice = AnnouncementMissed | AnnouncementFailed


class AnnouncementDelivery:
    """Due announcements through the ledger."""

    def __init__(
        self,
        config: Config,
        schedule: Schedule,
        ledger: DeliveryLedger,
        parts: DigestParts,
        queue: EditorialQueue,
        walk: LedgerWalk,
    ) -> None:
        self.config = config
        self.schedule = schedule
        self.ledger = ledger
        self.parts = parts
        self.queue = queue
        self.walk = walk
        self._told: set[tuple[int, int]] = set()  # (item, group) failures already told

    async def deliver_due(
        self,
        now: datetime,
        *,
        render: Callable[[QueueItem], list[str]],
        send_to: SendTo,
        notify: Callable[[AnnouncementNotice], Awaitable[None]],
    ) -> list[int]:
        """Send every due announcement to every member group exactly once; returns the numbers finished."""
        finished: list[int] = []
        for item in self.queue.due_announcements(now):
            assert item.announce_at is not None
            day = item.announce_at.astimezone(self.schedule.tz).date()
            keys = [(g, DeliveryKey.of(g.id, day, f"announce:{item.number}")) for g in self.config.chats.groups]
            pending = [(g, k) for g, k in keys if self.ledger.outcome(k) is None]
            begun = any(self.ledger.sent_parts(k) for _, k in pending)
            if pending and self.schedule.decide(item.announce_at, now, begun=begun) == "expire":
                for _, k in pending:
                    self.ledger.finish(k, "expired")
                self.queue.save(expire_missed(item, now, now - item.announce_at))
                await notify(AnnouncementMissed(item))
                continue
            ok = True
            for group, key in pending:
                parts = self.parts.get(key)
                if parts is None:
                    parts = render(item)
                    self.parts.put(key, parts)
                if await self.walk.send(key, parts, send_to(group.id, group.thread_id)) == "sent":
                    self.ledger.finish(key, "sent")
                    continue
                ok = False
                if (item.number, group.id) not in self._told:
                    self._told.add((item.number, group.id))
                    await notify(AnnouncementFailed(item, group))
            if ok:
                self.queue.mark_published([item.number], day, now)
                finished.append(item.number)
        return finished
