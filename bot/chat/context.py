"""The services every handler and job works with, reachable from a python-telegram-bot context."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext

from bot.admin import desk_from_config
from bot.chat.outbox import Outbox
from bot.clock import Clock
from bot.config import Config
from bot.delivery.announcements import AnnouncementDelivery
from bot.delivery.deliver import LedgerWalk
from bot.delivery.publisher import Publisher
from bot.delivery.schedule import Schedule
from bot.delivery.slots import DigestDelivery
from bot.editorial.rules import EditorialPolicy
from bot.store import Store
from bot.store.digest_parts import DigestParts
from bot.store.ledger import DeliveryLedger
from bot.store.meta import Meta
from bot.store.queue import QueueRepository
from bot.tickets.desk import Desk
from bot.tickets.topics import FaqLibrary
from bot.workcal import WorkCalendar

log = logging.getLogger(__name__)

SERVICES_KEY = "services"


class KeyedLocks:
    """One asyncio lock per key, alive only while someone holds or waits for it.

    Deliveries of the same Telegram message may overlap (a redelivery after a crash, the inbox's
    replay, a webhook retry); holding the message's lock makes their side effects happen once.
    """

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


@dataclass
class Services:
    """Built once in build_application; handlers reach it through :func:`services`."""

    config: Config
    clock: Clock
    outbox: Outbox
    store: Store
    ledger: DeliveryLedger
    digest_parts: DigestParts
    publisher: Publisher
    workcal: WorkCalendar
    desk: Desk
    library: FaqLibrary
    queue: QueueRepository
    editorial: EditorialPolicy
    meta: Meta
    schedule: Schedule
    digests: DigestDelivery
    announcements: AnnouncementDelivery
    content_problems: list[str] = field(default_factory=list)
    # one question handled at a time per (chat, message): overlapping deliveries post one card
    intake_locks: KeyedLocks = field(default_factory=KeyedLocks)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def lang(self) -> str:
        return self.config.language


def build_services(config: Config, store: Store, outbox: Outbox, clock: Clock) -> Services:
    """Everything the handlers need, from config, content and the store. Content problems are kept, not fatal."""
    desk, problems = desk_from_config(config, store)
    queue = QueueRepository(store)
    for line in problems:
        log.warning("content: %s", line)
    ledger = DeliveryLedger(store, clock=clock.now)
    parts = DigestParts(store)
    publisher = Publisher(config, store, queue=queue)
    schedule = Schedule(config.digests, config.tz, desk.hours.calendar)
    walk = LedgerWalk(ledger)  # one part in flight across digests and announcements
    return Services(
        config=config,
        clock=clock,
        outbox=outbox,
        store=store,
        ledger=ledger,
        digest_parts=parts,
        publisher=publisher,
        schedule=schedule,
        digests=DigestDelivery(config, schedule, ledger, parts, publisher, walk),
        announcements=AnnouncementDelivery(config, schedule, ledger, parts, queue, walk),
        workcal=desk.hours.calendar,
        desk=desk,
        library=desk.library,
        queue=queue,
        editorial=EditorialPolicy.from_config(config, four_eyes=config.editorial.four_eyes),
        meta=Meta(store),
        content_problems=problems,
    )


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    svc = context.application.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc


def services_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    svc = app.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc
