"""The service desk's rules as plain methods over a :class:`TicketRepository`.

Every method takes ``now`` (an aware datetime) so tests fix time; nothing here sleeps, sends or imports
Telegram. Refusals raise :mod:`bot.tickets.errors` exceptions that carry the user-facing message.

Rules, in the product's words:

- **open**: a question becomes a ticket with a topic (content keywords), a first-response and a
  resolution deadline counted in service hours, the topic's 一次性告知 checklist and an FAQ offer.
  A redelivered message (same chat_id, message_id) returns the existing ticket, never a duplicate.
- **首问负责**: the first staff member to claim owns the ticket; only the owner or a supervisor
  answers, transfers or closes it. Answering an unclaimed ticket claims it.
- **闭环**: closing asks the asker for a rating; only the asker rates; 不满意 reopens the ticket and
  flags the supervisors; an answered ticket idle N days closes itself; the asker's reply reopens it.
- **分流**: a ticket unclaimed for N service minutes goes to the on-duty staff member with the topic
  and the fewest open tickets; duty days follow the working calendar, and supervisors without topics
  are never auto-assigned (they get the escalations).
- **限时办结**: :meth:`Desk.sla_due` lists warnings and escalations due now; :meth:`Desk.mark_sent`
  records each one in the ticket, so a restart never repeats it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.tickets.errors import (
    AlreadyClaimed,
    InvalidAction,
    InvalidInput,
    NotAsker,
    NotOwner,
    NotStaff,
    TakenByStaff,
    TicketClosed,
    TicketNotFound,
)
from bot.tickets.faq import FaqMatch, FaqMatcher
from bot.tickets.model import Answer, Deadline, EventKind, Kind, Note, Rating, Status, Ticket
from bot.tickets.roster import Roster, StaffMember
from bot.tickets.sla import ServiceHours
from bot.tickets.topics import Checklist, FaqLibrary, Topic

__all__ = [
    "Desk",
    "DeskPolicy",
    "InMemoryTicketRepository",
    "Intake",
    "Notice",
    "NoticeKind",
    "QuestionCount",
    "SlaTarget",
    "Stats",
    "TicketRepository",
    "TopicStats",
    "WeeklyReport",
]


class TicketRepository(Protocol):
    """Where tickets live. The store implements it durably; :class:`InMemoryTicketRepository` for tests."""

    def next_number(self) -> int:
        """The number the next :meth:`add` will store (1, 2, 3, …); reading it reserves nothing."""
        ...

    def add(self, ticket: Ticket) -> None:
        """Store a new ticket, its dedupe key and the advanced counter in one atomic write."""
        ...

    def save(self, ticket: Ticket, *, durable: bool = True) -> None:
        """Store a changed ticket (the whole ticket, events included, in one write).

        ``durable=False``: the write may reach stable storage with the next durable one (it must still
        survive the process being killed) — for bookkeeping the desk acknowledges to nobody.
        """
        ...

    def get(self, number: int) -> Ticket | None: ...

    def by_message(self, chat_id: int, message_id: int) -> Ticket | None:
        """Dedupe key: the ticket opened from this message, if any."""
        ...

    def active(self) -> Iterable[Ticket]:
        """Tickets not closed."""
        ...

    def created_since(self, since: datetime) -> Iterable[Ticket]:
        """Tickets created at or after ``since`` (any status)."""
        ...

    def by_asker(self, asker_id: int) -> Iterable[Ticket]: ...


class InMemoryTicketRepository:
    """A dict-backed repository; stores copies so a test sees only what was saved."""

    def __init__(self) -> None:
        self._tickets: dict[int, dict[str, object]] = {}
        self._by_message: dict[tuple[int, int], int] = {}
        self._counter = 0

    def next_number(self) -> int:
        return self._counter + 1

    def add(self, ticket: Ticket) -> None:
        key = (ticket.chat_id, ticket.message_id)
        if ticket.number in self._tickets or key in self._by_message:
            raise ValueError(f"ticket #{ticket.number} or message {key} already stored")
        self._tickets[ticket.number] = ticket.to_dict()
        self._by_message[key] = ticket.number
        self._counter = max(self._counter, ticket.number)

    def save(self, ticket: Ticket, *, durable: bool = True) -> None:
        if ticket.number not in self._tickets:
            raise KeyError(ticket.number)
        self._tickets[ticket.number] = ticket.to_dict()

    def get(self, number: int) -> Ticket | None:
        d = self._tickets.get(number)
        return None if d is None else Ticket.from_dict(d)

    def by_message(self, chat_id: int, message_id: int) -> Ticket | None:
        n = self._by_message.get((chat_id, message_id))
        return None if n is None else self.get(n)

    def _all(self) -> Iterator[Ticket]:
        for d in self._tickets.values():
            yield Ticket.from_dict(d)

    def active(self) -> Iterable[Ticket]:
        return [t for t in self._all() if t.status is not Status.CLOSED]

    def created_since(self, since: datetime) -> Iterable[Ticket]:
        return [t for t in self._all() if t.created_at >= since]

    def by_asker(self, asker_id: int) -> Iterable[Ticket]:
        return [t for t in self._all() if t.asker_id == asker_id]

    def __len__(self) -> int:
        return len(self._tickets)


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


@dataclass(frozen=True)
class Intake:
    """What opening a ticket promises the asker."""

    ticket: Ticket
    created: bool  # False: the message was already a ticket (redelivery), nothing new happened
    topic: Topic
    due: datetime  # first-response deadline
    service_open: bool
    resumes_at: datetime | None  # when the desk is closed now: when service resumes
    checklist: Checklist | None
    faq: FaqMatch | None


class NoticeKind:
    WARN = "warn"
    ESCALATE = "escalate"


@dataclass(frozen=True)
class Notice:
    """A deadline warning to the owner, or an escalation to the supervisors, due now."""

    kind: str  # NoticeKind.WARN | NoticeKind.ESCALATE
    deadline: Deadline
    number: int
    due: datetime
    recipients: tuple[int, ...]  # user ids: the owner, or the supervisors; empty = the staff chat


@dataclass(frozen=True)
class TopicStats:
    topic: str
    count: int
    sla_met_percent: float | None


@dataclass(frozen=True)
class Stats:
    """The last N days: counts, first-response times (service minutes) and SLA met percentages."""

    since: datetime
    until: datetime
    count: int
    open: int
    closed: int
    median_first_response_minutes: float | None
    median_resolution_minutes: float | None
    first_response_met_percent: float | None
    resolution_met_percent: float | None
    by_topic: tuple[TopicStats, ...]
    ratings: Mapping[str, int]
    complaints: int = 0  # complaints opened in the period (not in the question figures above)
    complaints_closed: int = 0  # of those, closed with an outcome
    complaints_met_percent: float | None = None  # closed within the complaint deadline
    faq_offered: int = 0  # questions that got an FAQ answer at intake
    self_served: int = 0  # of those, closed by the asker's 已解决 (no staff work; not in the first-response SLA)
    human_requested: int = 0  # of those, the asker pressed 转人工


@dataclass(frozen=True)
class QuestionCount:
    text: str  # a representative question
    count: int
    numbers: tuple[int, ...]
    faq_entry: str | None  # the FAQ entry they match, None = a candidate for a new entry


@dataclass(frozen=True)
class WeeklyReport:
    stats: Stats
    top_questions: tuple[QuestionCount, ...]


def _pct(hits: int, total: int) -> float | None:
    return None if total == 0 else round(100.0 * hits / total, 1)


class Desk:
    """The service desk. Construct once with the repository, roster, hours, policy and FAQ."""

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

    @staticmethod
    def _text(text: str, what: str) -> str:
        clean = text.strip()
        if not clean:
            raise InvalidInput(f"empty_{what}")
        return clean

    # -- intake ------------------------------------------------------------------------------------

    def open_ticket(
        self,
        *,
        chat_id: int,
        message_id: int,
        asker_id: int,
        asker_name: str,
        text: str,
        now: datetime,
        thread_id: int | None = None,
        chat_title: str = "",
    ) -> Intake:
        """A member's question -> a ticket and the promise to them. Idempotent per (chat_id, message_id)."""
        question = self._text(text, "question")
        existing = self.repo.by_message(chat_id, message_id)
        if existing is not None:
            return self._intake(existing, created=False, now=now)
        topic = self.library.classify(question)
        target = self.policy.target(topic.key)
        ticket = Ticket(
            number=self.repo.next_number(),
            chat_id=chat_id,
            message_id=message_id,
            thread_id=thread_id,
            chat_title=chat_title,
            asker_id=asker_id,
            asker_name=asker_name,
            text=question,
            topic=topic.key,
            created_at=now,
            first_response_due=self.hours.add_service_minutes(now, target.first_response_minutes),
            resolution_due=self.hours.add_service_minutes(now, target.resolution_minutes),
        )
        match = self.matcher.match(question) if self.matcher is not None else None
        if match is not None:
            ticket.faq_offered = match.entry.id
        ticket.record(EventKind.CREATED, now, asker_id, topic=topic.key, faq=ticket.faq_offered)
        self.repo.add(ticket)
        return self._intake(ticket, created=True, now=now, match=match)

    def open_complaint(
        self,
        *,
        chat_id: int,
        message_id: int,
        asker_id: int,
        asker_name: str,
        text: str,
        now: datetime,
        about: int | None = None,
        thread_id: int | None = None,
        chat_title: str = "",
    ) -> Ticket:
        """/complain or 投诉: a ticket of kind complaint, for the supervisors (never the question's owner),
        with the complaint deadlines (``policy.complaint``) and a link to the ticket it is about.

        Idempotent per (chat_id, message_id); ``about`` must be the asker's own ticket."""
        body = self._text(text, "complaint")
        existing = self.repo.by_message(chat_id, message_id)
        if existing is not None:
            return existing
        linked = None
        if about is not None:
            linked = self.get(about)
            if linked.asker_id != asker_id:
                raise NotAsker(about)
        topic = linked.topic if linked is not None else self.library.classify(body).key
        target = self.policy.complaint
        t = Ticket(
            number=self.repo.next_number(),
            chat_id=chat_id,
            message_id=message_id,
            thread_id=thread_id,
            chat_title=chat_title,
            asker_id=asker_id,
            asker_name=asker_name,
            text=body,
            topic=topic,
            created_at=now,
            first_response_due=self.hours.add_service_minutes(now, target.first_response_minutes),
            resolution_due=self.hours.add_service_minutes(now, target.resolution_minutes),
            kind=Kind.COMPLAINT,
            about=about,
        )
        t.record(EventKind.CREATED, now, asker_id, topic=topic, complaint=True, about=about)
        self.repo.add(t)
        if linked is not None:
            linked.record(EventKind.COMPLAINED, now, asker_id, complaint=t.number)
            self.repo.save(linked)
        return t

    def resolve_complaint(self, number: int, *, by: int, outcome: str, now: datetime) -> Ticket:
        """A supervisor closes a complaint with its result (the outcome the asker is told)."""
        staff = self._staff(by)
        result = self._text(outcome, "outcome")
        t = self.get(number)
        if not t.is_complaint:
            raise InvalidAction("not_a_complaint", number=number)
        if not staff.supervisor:
            raise NotOwner(number, t.owner_name)
        self._require_active(t)
        if t.owner_id is None:
            self._set_owner(t, staff)
        if t.first_response_at is None:
            t.first_response_at = now
        t.status = Status.CLOSED
        t.closed_at = now
        t.outcome = result
        t.record(EventKind.CLOSED, now, by, outcome=result)
        self.repo.save(t)
        return t

    def _intake(self, t: Ticket, *, created: bool, now: datetime, match: FaqMatch | None = None) -> Intake:
        topic = self.library.topic(t.topic)
        if match is None and t.faq_offered and self.matcher is not None:
            entry = self.library.entry(t.faq_offered)
            match = FaqMatch(entry, 0.0, 0.0, entry.question) if entry else None
        is_open = self.hours.is_open(t.created_at)
        return Intake(
            ticket=t,
            created=created,
            topic=topic,
            due=t.first_response_due,
            service_open=is_open,
            resumes_at=None if is_open else self.hours.next_service_start(t.created_at),
            checklist=topic.checklist,
            faq=match,
        )

    @staticmethod
    def taken(t: Ticket) -> bool:
        """A person has the ticket (claimed, assigned, answered or reopened): the FAQ offer no longer decides."""
        return t.owner_id is not None or bool(t.answers) or t.reopened > 0

    def set_faq_buttons(self, number: int, message_id: int | None) -> Ticket:
        """Remember the promise carrying live FAQ buttons (None once they are removed)."""
        t = self.get(number)
        t.faq_buttons_message_id = message_id
        self.repo.save(t, durable=False)  # as set_card: the next write makes it durable
        return t

    def set_promise(self, number: int, message_id: int, peers: list[int] | None = None) -> Ticket:
        """Remember the public reply to the question: it is edited in place through the ticket's life.

        ``peers``: the tickets a burst's shared acknowledgement covers (this one among them)."""
        t = self.get(number)
        t.promise_message_id = message_id
        t.promise_peers = list(peers or ())
        self.repo.save(t, durable=False)  # as set_card: the next write makes it durable
        return t

    def resolve_by_faq(self, number: int, *, by: int, now: datetime) -> Ticket:
        """The asker tapped 已解决 under the FAQ offer: the ticket closes without staff work."""
        t = self.get(number)
        if by != t.asker_id:
            raise NotAsker(number)
        self._require_active(t)
        if self.taken(t):
            raise TakenByStaff(number, t.owner_name)
        t.status = Status.CLOSED
        t.closed_at = now
        t.record(EventKind.FAQ_RESOLVED, now, by, entry=t.faq_offered)
        self.repo.save(t)
        return t

    # -- staff actions -----------------------------------------------------------------------------

    def claim(self, number: int, *, by: int, now: datetime) -> Ticket:
        """首问负责: the first staff member to claim owns the ticket (a complaint: a supervisor)."""
        staff = self._staff(by)
        t = self.get(number)
        self._require_active(t)
        if t.is_complaint and not staff.supervisor:
            raise NotOwner(number, t.owner_name)
        if t.owner_id is not None:
            if t.owner_id == by:
                return t
            raise AlreadyClaimed(number, t.owner_name)
        self._set_owner(t, staff)
        t.record(EventKind.CLAIMED, now, by)
        self.repo.save(t)
        return t

    @staticmethod
    def _set_owner(t: Ticket, staff: StaffMember) -> None:
        t.owner_id = staff.user_id
        t.owner_name = staff.name
        if t.status is Status.OPEN:
            t.status = Status.CLAIMED

    def check_may_transfer(self, t: Ticket, by: int) -> StaffMember:
        """The transfer rule (also asked before the picker is shown): staff only; a claimed ticket by its
        owner, any ticket by a supervisor. Raises the desk error that says why not."""
        staff = self._staff(by)
        if t.owner_id is None and not staff.supervisor:
            raise InvalidAction("claim_before_transfer", number=t.number)
        self._require_owner_or_supervisor(t, staff)
        return staff

    def transfer(self, number: int, *, by: int, to: int, reason: str, now: datetime) -> Ticket:
        """Hand the ticket to another staff member, with a reason; only the owner or a supervisor."""
        self._staff(by)
        t = self.get(number)
        self._require_active(t)
        self.check_may_transfer(t, by)
        target = self.roster.get(to)
        if target is None:
            raise InvalidInput("transfer_not_staff", number=number)
        if target.user_id == t.owner_id:
            raise InvalidInput("transfer_same_owner", number=number)
        why = self._text(reason, "reason")
        previous = t.owner_id
        self._set_owner(t, target)
        t.record(EventKind.TRANSFERRED, now, by, from_id=previous, to_id=target.user_id, reason=why)
        self.repo.save(t)
        return t

    def check_answer(self, number: int, *, by: int, text: str) -> str:
        """Would :meth:`answer` take this answer? The same refusals, nothing changed; returns the text.

        The chat layer checks first, sends, and records the answer only once Telegram accepted it: an
        answer the member never got must not stop the first-response clock.
        """
        staff = self._staff(by)
        t = self.get(number)
        self._require_active(t)
        body = self._text(text, "answer")
        if t.owner_id is not None:
            self._require_owner_or_supervisor(t, staff)
        return body

    def answer(
        self, number: int, *, by: int, text: str, now: datetime, message_id: int | None = None
    ) -> tuple[Ticket, Answer]:
        """Answer the asker (relayed to the group by the chat layer). Several answers are allowed."""
        staff = self._staff(by)
        t = self.get(number)
        self._require_active(t)
        body = self._text(text, "answer")
        if t.owner_id is None:
            self._set_owner(t, staff)
            t.record(EventKind.CLAIMED, now, by, implicit=True)
        self._require_owner_or_supervisor(t, staff)
        ans = Answer(staff.user_id, staff.name, body, now, message_id=message_id)
        t.answers.append(ans)
        if t.first_response_at is None:
            t.first_response_at = now
        t.status = Status.ANSWERED
        t.record(EventKind.ANSWERED, now, by, index=len(t.answers) - 1)
        self.repo.save(t)
        return t, ans

    def set_answer_message(self, number: int, index: int, message_id: int) -> Ticket:
        """Remember where the group shows an answer (for replies and edits)."""
        t = self.get(number)
        t.answers[index].message_id = message_id
        self.repo.save(t)
        return t

    def set_card(self, number: int, message_id: int) -> Ticket:
        """Remember the staff-chat card so it is edited in place, never reposted."""
        t = self.get(number)
        t.card_message_id = message_id
        # Not its own fsync: the ticket itself was made durable before the asker got the promise, and
        # the next write makes this durable too. A kill loses nothing (the write is in the file); only
        # a power failure in between could, and then a redelivered question posts its card again.
        self.repo.save(t, durable=False)
        return t

    def note(self, number: int, *, by: int, text: str, now: datetime) -> Ticket:
        """An internal note; any staff member may add one; it never leaves the staff chat."""
        staff = self._staff(by)
        t = self.get(number)
        body = self._text(text, "note")
        t.notes.append(Note(staff.user_id, staff.name, body, now))
        t.record(EventKind.NOTED, now, by)
        self.repo.save(t)
        return t

    def close(self, number: int, *, by: int, now: datetime) -> Ticket:
        """Close (owner or supervisor); the chat layer then asks the asker for a rating."""
        staff = self._staff(by)
        t = self.get(number)
        self._require_active(t)
        if t.owner_id is None and not staff.supervisor:
            raise NotOwner(number, "")
        self._require_owner_or_supervisor(t, staff)
        t.status = Status.CLOSED
        t.closed_at = now
        t.rating = None
        t.record(EventKind.CLOSED, now, by)
        self.repo.save(t)
        return t

    def reopen(self, number: int, *, by: int, now: datetime, reason: str = "") -> Ticket:
        """Reopen a closed or answered ticket: by the asker (their reply), the owner or a supervisor."""
        t = self.get(number)
        staff = None
        if by != t.asker_id:
            staff = self._staff(by)
            if t.owner_id is not None:
                self._require_owner_or_supervisor(t, staff)
        if t.status not in (Status.CLOSED, Status.ANSWERED):
            raise InvalidAction("still_open", number=number)
        if (
            staff is not None and t.owner_id is None
        ):  # nobody owns it (solved by the FAQ): the first to act does
            self._set_owner(t, staff)
        self._reopen(t, now, by, reason)
        self.repo.save(t)
        return t

    def _reopen(self, t: Ticket, now: datetime, by: int | None, reason: str) -> None:
        t.status = Status.CLAIMED if t.owner_id is not None else Status.OPEN
        t.closed_at = None
        t.reopened += 1
        target = self.policy.target(t.topic)
        t.resolution_due = self.hours.add_service_minutes(now, target.resolution_minutes)
        t.warned_resolution = False
        t.escalated_resolution = False
        t.record(EventKind.REOPENED, now, by, reason=reason)

    def rate(self, number: int, *, by: int, rating: Rating, now: datetime) -> Ticket:
        """Only the asker rates a closed ticket; 不满意 reopens it and flags the supervisors."""
        t = self.get(number)
        if by != t.asker_id:
            raise NotAsker(number)
        if t.status is not Status.CLOSED:
            raise InvalidAction("rate_not_closed", number=number)
        if t.rating is not None:
            raise InvalidAction("already_rated", number=number)
        t.rating = rating
        t.record(EventKind.RATED, now, by, rating=rating.value)
        if rating is Rating.UNSATISFIED:
            self._reopen(t, now, by, "unsatisfied")
            t.record(
                EventKind.ESCALATED,
                now,
                None,
                reason="unsatisfied",
                to=[s.user_id for s in self.roster.supervisors()],
            )
        self.repo.save(t)
        return t

    def asker_reply(self, number: int, *, by: int, now: datetime) -> Ticket | None:
        """The asker replied to an answer or a closed ticket: reopen it (None when not the asker/nothing to do)."""
        t = self.get(number)
        if by != t.asker_id or t.status not in (Status.CLOSED, Status.ANSWERED):
            return None
        self._reopen(t, now, by, "asker replied")
        self.repo.save(t)
        return t

    def thank(self, number: int, *, by: int, now: datetime) -> Ticket | None:
        """The asker thanked under the answer (or the promise): recorded in the history, nothing else.

        No reopen, no new deadline, no staff ping, and not counted as activity (auto-close keeps its
        clock). None when ``by`` is not the asker (someone else's thanks are not stored)."""
        t = self.get(number)
        if by != t.asker_id:
            return None
        last = t.last_activity_at
        t.record(EventKind.THANKED, now, by)
        t.last_activity_at = last
        self.repo.save(t)
        return t

    def request_human(self, number: int, *, by: int, now: datetime) -> Ticket:
        """转人工 under the FAQ offer (asker only): recorded; the ticket stays with the staff, unchanged."""
        t = self.get(number)
        if by != t.asker_id:
            raise NotAsker(number)
        self._require_active(t)
        if self.taken(t):
            raise TakenByStaff(number, t.owner_name)
        t.record(EventKind.HUMAN_REQUESTED, now, by, entry=t.faq_offered)
        self.repo.save(t)
        return t

    # -- sweeps ------------------------------------------------------------------------------------

    def on_duty_for(self, topic: str, now: datetime) -> list[StaffMember]:
        """Staff who take routine tickets of ``topic`` and are on duty at ``now``, in roster order.

        Duty days follow the working calendar (a 调休 make-up Saturday is a duty day, a holiday is not);
        supervisors without topics are left out (they get the escalations)."""
        return [
            s
            for s in self.roster.staff
            if s.takes_routine(topic) and s.on_duty(now, self.hours.tz, self.hours.calendar)
        ]

    def auto_assign(self, now: datetime) -> list[Ticket]:
        """分流: tickets unclaimed for N service minutes go to the on-duty staff with the topic and
        the fewest open tickets (ties: roster order). Returns the tickets assigned now."""
        active = list(self.repo.active())
        load: Counter[int] = Counter(t.owner_id for t in active if t.owner_id is not None)
        assigned: list[Ticket] = []
        for t in sorted(active, key=lambda x: x.number):
            if t.owner_id is not None or t.status is not Status.OPEN or t.is_complaint:
                continue  # complaints go to the supervisors, never auto-assigned
            waited = self.hours.service_minutes_between(t.created_at, now)
            if waited < self.policy.auto_assign_after_minutes:
                continue
            candidates = self.on_duty_for(t.topic, now)
            if not candidates:
                continue
            chosen = min(candidates, key=lambda s: load[s.user_id])  # min() keeps roster order on ties
            self._set_owner(t, chosen)
            t.auto_assigned = True
            load[chosen.user_id] += 1
            t.record(EventKind.ASSIGNED, now, None, to_id=chosen.user_id, waited_minutes=round(waited))
            self.repo.save(t)
            assigned.append(t)
        return assigned

    def sla_due(self, now: datetime) -> list[Notice]:
        """Warnings and escalations due now and not yet sent (pure: nothing is marked)."""
        out: list[Notice] = []
        sup = tuple(s.user_id for s in self.roster.supervisors())
        warn_before = self.policy.warn_before_minutes
        for t in self.repo.active():
            for deadline in (Deadline.FIRST_RESPONSE, Deadline.RESOLUTION):
                if t.met(deadline):
                    continue
                due = t.due(deadline)
                warned, escalated = self._flags(t, deadline)
                if now >= due:
                    if not escalated:
                        out.append(Notice(NoticeKind.ESCALATE, deadline, t.number, due, sup))
                elif (
                    not warned
                    and warn_before > 0
                    and self.hours.is_open(now)  # no warnings on a holiday, even with the deadline near
                    and self.hours.service_minutes_between(now, due) <= warn_before
                ):
                    owner = (t.owner_id,) if t.owner_id is not None else ()
                    out.append(Notice(NoticeKind.WARN, deadline, t.number, due, owner))
        out.sort(key=lambda n: (n.due, n.number))
        return out

    @staticmethod
    def _flags(t: Ticket, deadline: Deadline) -> tuple[bool, bool]:
        if deadline is Deadline.FIRST_RESPONSE:
            return t.warned_first_response, t.escalated_first_response
        return t.warned_resolution, t.escalated_resolution

    def mark_sent(self, notice: Notice, now: datetime) -> Ticket:
        """Record that a notice went out, so it is never sent again (also across restarts).

        An escalation also marks the warning as done (a late sweep never warns after a breach).
        """
        t = self.get(notice.number)
        first = notice.deadline is Deadline.FIRST_RESPONSE
        if notice.kind == NoticeKind.ESCALATE:
            if first:
                t.escalated_first_response = t.warned_first_response = True
            else:
                t.escalated_resolution = t.warned_resolution = True
            kind = EventKind.ESCALATED
        else:
            if first:
                t.warned_first_response = True
            else:
                t.warned_resolution = True
            kind = EventKind.WARNED
        t.record(
            kind,
            now,
            None,
            deadline=notice.deadline.value,
            due=notice.due.isoformat(),
            to=list(notice.recipients),
        )
        self.repo.save(t)
        return t

    def auto_close(self, now: datetime) -> list[Ticket]:
        """Answered tickets with no activity for N days close themselves."""
        limit = timedelta(days=self.policy.auto_close_after_days)
        closed: list[Ticket] = []
        for t in self.repo.active():
            last = t.last_activity_at or t.created_at
            if t.status is Status.ANSWERED and now - last >= limit:
                t.status = Status.CLOSED
                t.closed_at = now
                t.rating = None
                t.record(EventKind.AUTO_CLOSED, now, None, idle_days=(now - last).days)
                self.repo.save(t)
                closed.append(t)
        return closed

    # -- views -------------------------------------------------------------------------------------

    def queue(self) -> list[Ticket]:
        """/queue: tickets not closed, the most urgent deadline first."""

        def urgency(t: Ticket) -> datetime:
            return t.resolution_due if t.first_response_at is not None else t.first_response_due

        return sorted(self.repo.active(), key=lambda t: (urgency(t), t.number))

    def mine(self, staff_id: int) -> list[Ticket]:
        """/mine: the staff member's tickets not closed, by deadline."""
        self._staff(staff_id)
        return [t for t in self.queue() if t.owner_id == staff_id]

    def stats(self, now: datetime, days: int = 7, *, since: datetime | None = None) -> Stats:
        """/stats: tickets created in the last ``days`` days (or from ``since``) until ``now``."""
        since = now - timedelta(days=days) if since is None else since
        period = [t for t in self.repo.created_since(since) if t.created_at <= now]
        tickets = [t for t in period if not t.is_complaint]
        complaints = [t for t in period if t.is_complaint]
        c_due = [t for t in complaints if t.closed_at is not None or now >= t.resolution_due]
        c_met = sum(1 for t in c_due if t.closed_at is not None and t.closed_at <= t.resolution_due)
        first_times: list[float] = []
        res_times: list[float] = []
        fr_hits = fr_total = res_hits = res_total = 0
        per_topic: dict[str, list[bool]] = {}
        topic_count: Counter[str] = Counter()
        ratings: Counter[str] = Counter()
        self_served = {t.number for t in tickets if any(e.kind is EventKind.FAQ_RESOLVED for e in t.events)}
        for t in tickets:
            topic_count[t.topic] += 1
            # solved by the member with the FAQ answer: no staff response was owed (resolution still counts,
            # from the question)
            served = t.number in self_served and t.first_response_at is None
            if t.first_response_at is not None:
                first_times.append(self.hours.service_minutes_between(t.created_at, t.first_response_at))
            if not served and (t.first_response_at is not None or now >= t.first_response_due):
                fr_total += 1
                met = t.first_response_at is not None and t.first_response_at <= t.first_response_due
                fr_hits += met
                per_topic.setdefault(t.topic, []).append(met)
            if t.closed_at is not None:
                res_times.append(self.hours.service_minutes_between(t.created_at, t.closed_at))
            if t.closed_at is not None or now >= t.resolution_due:
                res_total += 1
                res_hits += t.closed_at is not None and t.closed_at <= t.resolution_due
            for e in t.events:
                if e.kind is EventKind.RATED and since <= e.at <= now:
                    ratings[str(e.details.get("rating"))] += 1
        by_topic = tuple(
            TopicStats(k, c, _pct(sum(per_topic.get(k, [])), len(per_topic.get(k, []))))
            for k, c in sorted(topic_count.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        return Stats(
            since=since,
            until=now,
            count=len(tickets),
            open=sum(1 for t in tickets if t.status is not Status.CLOSED),
            closed=sum(1 for t in tickets if t.status is Status.CLOSED),
            median_first_response_minutes=round(statistics.median(first_times), 1) if first_times else None,
            median_resolution_minutes=round(statistics.median(res_times), 1) if res_times else None,
            first_response_met_percent=_pct(fr_hits, fr_total),
            resolution_met_percent=_pct(res_hits, res_total),
            by_topic=by_topic,
            ratings=dict(ratings),
            complaints=len(complaints),
            complaints_closed=sum(1 for t in complaints if t.status is Status.CLOSED),
            complaints_met_percent=_pct(c_met, len(c_due)),
            faq_offered=sum(1 for t in tickets if t.faq_offered),
            self_served=len(self_served),
            human_requested=sum(
                1 for t in tickets if any(e.kind is EventKind.HUMAN_REQUESTED for e in t.events)
            ),
        )

    def weekly_report(self, now: datetime, *, top: int = 5) -> WeeklyReport:
        """Monday's report: the week's stats and the most asked questions (near-duplicates grouped)."""
        stats = self.stats(now, 7)
        tickets = sorted(
            (t for t in self.repo.created_since(stats.since) if t.created_at <= now and not t.is_complaint),
            key=lambda t: t.number,
        )
        # 一类事, as the desk groups them (bot/assist/classes.py): average linkage over the retrieval features
        from bot.assist.classes import group
        from bot.assist.similar import MatcherRetrieval

        by_number = {t.number: t for t in tickets}
        retrieval = MatcherRetrieval(self.matcher or FaqMatcher(self.library))
        classes = group([(t.number, t.text) for t in tickets], retrieval)
        top_q = []
        for g in classes[:top]:
            members = [by_number[int(str(n))] for n in sorted(int(str(k)) for k in g.keys)]
            offered = Counter(t.faq_offered for t in members if t.faq_offered)
            entry = offered.most_common(1)[0][0] if offered else None
            top_q.append(QuestionCount(members[0].text, len(members), tuple(t.number for t in members), entry))
        return WeeklyReport(stats, tuple(top_q))

    # -- privacy -----------------------------------------------------------------------------------

    def export_user(self, user_id: int) -> list[dict[str, object]]:
        """Everything stored about a member as plain dicts (for ``servicebot export``)."""
        return [t.to_dict() for t in self.repo.by_asker(user_id)]

    def forget_user(self, user_id: int, *, now: datetime, by: int | None = None) -> int:
        """Erase a member's personal data (question text, name) but keep anonymous counts."""
        n = 0
        for t in self.repo.by_asker(user_id):
            t.text = "（已删除）"
            t.asker_name = ""
            t.asker_id = 0
            if t.chat_id == user_id:  # asked in the private chat, whose id is the member's own id
                t.chat_id = 0
            for e in t.events:
                if e.actor_id == user_id:
                    e.actor_id = None
            t.record(EventKind.FORGOTTEN, now, by)
            self.repo.save(t)
            n += 1
        return n
