"""The services every handler and job works with, reachable from a python-telegram-bot context."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext

from bot.chat.outbox import Outbox
from bot.clock import Clock
from bot.config import Config
from bot.editorial.rules import EditorialPolicy
from bot.publishing import Publisher
from bot.store import Store
from bot.store.digest_parts import DigestParts
from bot.store.ledger import DeliveryLedger
from bot.store.meta import Meta
from bot.store.queue import QueueRepository
from bot.store.tickets import TicketStore
from bot.tickets.desk import Desk, DeskPolicy, SlaTarget
from bot.tickets.roster import Roster, StaffMember
from bot.tickets.sla import ServiceHours
from bot.tickets.topics import FaqLibrary, load_faq
from bot.workcal import WorkCalendar

log = logging.getLogger(__name__)

SERVICES_KEY = "services"


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
    content_problems: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def lang(self) -> str:
        return self.config.language


def build_services(config: Config, store: Store, outbox: Outbox, clock: Clock) -> Services:
    """Everything the handlers need, from config, content and the store. Content problems are kept, not fatal."""
    problems: list[str] = []
    content = config.content_dir
    workcal, cal_problems = WorkCalendar.from_dir(content / "calendar", use_package=config.service.calendar == "chinese")
    problems += [str(p) for p in cal_problems]
    library, faq_problems = load_faq(content / "faq")
    problems += [str(p) for p in faq_problems]
    hours = ServiceHours.from_pairs(config.service.hours, workcal, config.tz)
    roster = Roster(
        tuple(
            StaffMember.from_config(s.id, s.name, s.topics, s.duty_days, s.duty_hours, s.supervisor)
            for s in config.people.staff
        )
    )
    policy = DeskPolicy(
        default=SlaTarget(config.service.default.first_response_minutes, config.service.default.resolution_minutes),
        topics={
            k: SlaTarget(v.first_response_minutes, v.resolution_minutes) for k, v in config.service.topics.items()
        },
        warn_before_minutes=config.service.warn_before_minutes,
        auto_assign_after_minutes=config.service.auto_assign_after_minutes,
        auto_close_after_days=config.service.auto_close_after_days,
    )
    desk = Desk(TicketStore(store), roster, hours, policy, library)
    queue = QueueRepository(store)
    for line in problems:
        log.warning("content: %s", line)
    return Services(
        config=config,
        clock=clock,
        outbox=outbox,
        store=store,
        ledger=DeliveryLedger(store, clock=clock.now),
        digest_parts=DigestParts(store),
        publisher=Publisher(config, store, queue=queue),
        workcal=workcal,
        desk=desk,
        library=library,
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
