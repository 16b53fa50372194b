"""What every part of the desk shares: its policy (:class:`DeskPolicy`, :class:`SlaTarget`) and
:class:`DeskCore`, which holds the repository, roster, service hours, policy and FAQ, and the lookups and
checks the actions, sweeps, reports and privacy parts all use. :class:`bot.tickets.desk.Desk` joins them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.tickets.errors import (
    InvalidInput,
    NotAsker,
    NotOwner,
    NotStaff,
    TakenByStaff,
    TicketClosed,
    TicketNotFound,
)
from bot.tickets.faq import FaqMatcher
from bot.tickets.model import Status, Ticket
from bot.tickets.repository import TicketRepository
from bot.tickets.roster import Roster, StaffMember
from bot.tickets.sla import ServiceHours
from bot.tickets.topics import FaqLibrary


@dataclass(frozen=True)
class SlaTarget:
    """Targets in service minutes."""

    first_response_minutes: int = 120
    resolution_minutes: int = 960


@dataclass(frozen=True)
class DeskPolicy:
    """The desk's numbers (mirrors config ``service``)."""

    default: SlaTarget = SlaTarget()
    topics: Mapping[str, SlaTarget] = field(default_factory=dict)
    warn_before_minutes: int = 30  # service minutes before a deadline
    auto_assign_after_minutes: int = 15  # service minutes unclaimed
    auto_close_after_days: int = 3  # calendar days without activity after an answer
    complaint: SlaTarget = SlaTarget(60, 960)  # a complaint's deadlines (the supervisors handle it)

    def target(self, topic: str) -> SlaTarget:
        return self.topics.get(topic, self.default)


class DeskCore:
    """The desk's state and shared checks; the concern mixins build on it."""

    def __init__(
        self,
        repo: TicketRepository,
        roster: Roster,
        hours: ServiceHours,
        policy: DeskPolicy | None = None,
        library: FaqLibrary | None = None,
        matcher: FaqMatcher | None = None,
    ) -> None:
        self.repo = repo
        self.roster = roster
        self.hours = hours
        self.policy = policy or DeskPolicy()
        self.library = library or FaqLibrary()
        self.matcher = matcher if matcher is not None else (FaqMatcher(self.library) if library else None)

    # -- lookups -----------------------------------------------------------------------------------

    def get(self, number: int) -> Ticket:
        t = self.repo.get(number)
        if t is None:
            raise TicketNotFound(number)
        return t

    def _staff(self, user_id: int) -> StaffMember:
        s = self.roster.get(user_id)
        if s is None:
            raise NotStaff()
        return s

    def _require_owner_or_supervisor(self, t: Ticket, staff: StaffMember) -> None:
        if staff.supervisor or t.owner_id == staff.user_id:
            return
        raise NotOwner(t.number, t.owner_name)

    @staticmethod
    def _require_active(t: Ticket) -> None:
        if t.status is Status.CLOSED:
            raise TicketClosed(t.number)

    def _offer_ticket(self, number: int, by: int) -> Ticket:
        """The ticket under an FAQ offer that its asker answers (已解决 / 转人工): only the asker, only
        while it is open and no person has it yet."""
        t = self.get(number)
        if by != t.asker_id:
            raise NotAsker(number)
        self._require_active(t)
        if self.taken(t):
            raise TakenByStaff(number, t.owner_name)
        return t

    @staticmethod
    def _text(text: str, what: str) -> str:
        clean = text.strip()
        if not clean:
            raise InvalidInput(f"empty_{what}")
        return clean

    @staticmethod
    def _set_owner(t: Ticket, staff: StaffMember) -> None:
        t.owner_id = staff.user_id
        t.owner_name = staff.name
        if t.status is Status.OPEN:
            t.status = Status.CLAIMED

    @staticmethod
    def taken(t: Ticket) -> bool:
        """A person has the ticket (claimed, assigned, answered or reopened): the FAQ offer no longer decides."""
        return t.owner_id is not None or bool(t.answers) or t.reopened > 0
