"""Intake: a question or complaint becomes a ticket (topic, deadlines, checklist, FAQ offer), and the FAQ
offer's outcome (buttons, promise, 已解决). Part of :class:`bot.tickets.desk.Desk`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.tickets.desk_core import DeskCore, SlaTarget
from bot.tickets.errors import (
    InvalidAction,
    NotAsker,
    NotOwner,
)
from bot.tickets.faq import FaqMatch
from bot.tickets.model import EventKind, Kind, Status, Ticket
from bot.tickets.topics import Checklist, Topic


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


class DeskIntake(DeskCore):
    """open_ticket, open_complaint, resolve_complaint and the FAQ offer."""

    # -- intake ------------------------------------------------------------------------------------

    def _new_ticket(
        self,
        kind: Kind,
        target: SlaTarget,
        text: str,
        topic: str,
        now: datetime,
        *,
        chat_id: int,
        message_id: int,
        thread_id: int | None,
        chat_title: str,
        asker_id: int,
        asker_name: str,
        about: int | None = None,
    ) -> Ticket:
        """A new ticket numbered next, its deadlines ``target``'s service minutes from ``now``."""
        return Ticket(
            number=self.repo.next_number(),
            chat_id=chat_id,
            message_id=message_id,
            thread_id=thread_id,
            chat_title=chat_title,
            asker_id=asker_id,
            asker_name=asker_name,
            text=text,
            topic=topic,
            created_at=now,
            first_response_due=self.hours.add_service_minutes(now, target.first_response_minutes),
            resolution_due=self.hours.add_service_minutes(now, target.resolution_minutes),
            kind=kind,
            about=about,
        )

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
        ticket = self._new_ticket(
            Kind.QUESTION, self.policy.target(topic.key), question, topic.key, now,
            chat_id=chat_id, message_id=message_id, thread_id=thread_id, chat_title=chat_title,
            asker_id=asker_id, asker_name=asker_name,
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
        t = self._new_ticket(
            Kind.COMPLAINT, self.policy.complaint, body, topic, now,
            chat_id=chat_id, message_id=message_id, thread_id=thread_id, chat_title=chat_title,
            asker_id=asker_id, asker_name=asker_name, about=about,
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
        t = self._offer_ticket(number, by)
        t.status = Status.CLOSED
        t.closed_at = now
        t.record(EventKind.FAQ_RESOLVED, now, by, entry=t.faq_offered)
        self.repo.save(t)
        return t
