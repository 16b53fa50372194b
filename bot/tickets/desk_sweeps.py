"""The desk's periodic sweeps: auto-assign (分流), SLA warnings and escalations (限时办结) and auto-close.
Part of :class:`bot.tickets.desk.Desk`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.tickets.desk_core import DeskCore
from bot.tickets.model import Deadline, EventKind, Status, Ticket
from bot.tickets.roster import StaffMember


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


class DeskSweeps(DeskCore):
    """on_duty_for, auto_assign, sla_due/mark_sent and auto_close."""

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
