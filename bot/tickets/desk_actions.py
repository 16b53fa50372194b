"""Actions on a ticket: staff claim, transfer, answer, note, close and reopen it (首问负责); the asker rates,
replies, thanks or asks for a person (闭环). Part of :class:`bot.tickets.desk.Desk`.
"""

from __future__ import annotations

from datetime import datetime

from bot.tickets.desk_core import DeskCore
from bot.tickets.errors import (
    AlreadyClaimed,
    InvalidAction,
    InvalidInput,
    NotAsker,
    NotOwner,
)
from bot.tickets.model import Answer, EventKind, Note, Rating, Status, Ticket
from bot.tickets.roster import StaffMember


class DeskActions(DeskCore):
    """Staff and asker actions on one ticket."""

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
        t = self._offer_ticket(number, by)
        t.record(EventKind.HUMAN_REQUESTED, now, by, entry=t.faq_offered)
        self.repo.save(t)
        return t
