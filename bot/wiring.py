"""The one place where config + store + clock become the domain objects the bot, the CLI and tests use.

    domain = wire(config, store, clock)
    domain.desk, domain.queue, domain.ledger, domain.publisher, domain.digests, domain.announcements …

Nothing here talks to Telegram: bot/chat/context.py adds the outbox and the edge's own state on top
(:class:`~bot.chat.context.Services`), and the CLI's admin commands take :func:`desk_for` alone.
Content problems are not this module's business: :func:`bot.checks.content_problems` finds them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.clock import Clock
from bot.config import Config
from bot.delivery.announcements import AnnouncementDelivery
from bot.delivery.copies import PrivateCopies
from bot.delivery.deliver import LedgerWalk
from bot.delivery.publisher import Publisher
from bot.delivery.schedule import Schedule
from bot.delivery.slots import DigestDelivery
from bot.editorial.queue import EditorialQueue
from bot.editorial.rules import EditorialPolicy
from bot.editorial.signups import SignupBook
from bot.store import Store
from bot.store.digest_parts import DigestParts
from bot.store.ledger import DeliveryLedger
from bot.store.meta import Meta
from bot.store.queue import QueueRepository
from bot.store.tickets import TicketStore
from bot.tickets.desk import Desk, DeskPolicy, SlaTarget
from bot.tickets.faq import FaqMatcher
from bot.tickets.roster import Roster, StaffMember
from bot.tickets.sla import ServiceHours
from bot.tickets.topics import FaqLibrary, load_faq
from bot.workcal import WorkCalendar

__all__ = ["Domain", "desk_for", "desk_policy", "roster", "wire"]


@dataclass
class Domain:
    """Every domain object, wired once."""

    config: Config
    clock: Clock
    store: Store
    desk: Desk
    library: FaqLibrary
    workcal: WorkCalendar
    queue: EditorialQueue
    editorial: EditorialPolicy
    ledger: DeliveryLedger
    digest_parts: DigestParts
    publisher: Publisher
    schedule: Schedule
    digests: DigestDelivery
    announcements: AnnouncementDelivery
    copies: PrivateCopies  # members' private copies of the digests (bot/delivery/copies.py)
    signups: SignupBook
    meta: Meta


def roster(config: Config) -> Roster:
    return Roster(
        tuple(
            StaffMember.from_config(s.id, s.name, s.topics, s.duty_days, s.duty_hours, s.supervisor)
            for s in config.people.staff
        )
    )


def desk_policy(config: Config) -> DeskPolicy:
    sv = config.service
    return DeskPolicy(
        default=SlaTarget(sv.default.first_response_minutes, sv.default.resolution_minutes),
        topics={k: SlaTarget(v.first_response_minutes, v.resolution_minutes) for k, v in sv.topics.items()},
        warn_before_minutes=sv.warn_before_minutes,
        auto_assign_after_minutes=sv.auto_assign_after_minutes,
        auto_close_after_days=sv.auto_close_after_days,
        complaint=SlaTarget(sv.complaint.first_response_minutes, sv.complaint.resolution_minutes),
    )


def desk_for(config: Config, store: Store, content_dir: Path | None = None) -> Desk:
    """The desk as the bot runs it: roster, service hours on the working calendar, FAQ, deadlines.
    A broken content file is skipped here (the rest loads); bot.checks reports it."""
    content = content_dir or config.content_dir
    workcal, _calendar_problems = WorkCalendar.from_dir(
        content / "calendar", use_package=config.service.calendar == "chinese"
    )
    library, _faq_problems = load_faq(content / "faq")
    hours = ServiceHours.from_pairs(config.service.hours, workcal, config.tz)
    matcher = FaqMatcher(library, semantic=config.service.faq_semantic)
    return Desk(TicketStore(store), roster(config), hours, desk_policy(config), library, matcher)


def wire(config: Config, store: Store, clock: Clock) -> Domain:
    """config + store + clock -> the domain objects, each built once and shared."""
    desk = desk_for(config, store)
    workcal = desk.hours.calendar
    queue = EditorialQueue(QueueRepository(store))
    ledger = DeliveryLedger(store, clock=clock.now)
    parts = DigestParts(store)
    publisher = Publisher(config, store, queue=queue, now=clock.now)
    schedule = Schedule(config.digests, config.tz, workcal)
    walk = LedgerWalk(ledger)  # one part in flight across digests, announcements and private copies
    copies = PrivateCopies(config, schedule, ledger, publisher, walk, store)
    return Domain(
        config=config,
        clock=clock,
        store=store,
        desk=desk,
        library=desk.library,
        workcal=workcal,
        queue=queue,
        editorial=EditorialPolicy.from_config(config, four_eyes=config.editorial.four_eyes),
        ledger=ledger,
        digest_parts=parts,
        publisher=publisher,
        schedule=schedule,
        digests=DigestDelivery(config, schedule, ledger, parts, publisher, walk, copies),
        copies=copies,
        announcements=AnnouncementDelivery(config, schedule, ledger, parts, queue, walk),
        signups=SignupBook(store),
        meta=Meta(store),
    )
