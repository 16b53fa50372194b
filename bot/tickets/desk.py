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

The rules live in one module per concern, joined here as mixins over :class:`~bot.tickets.desk_core.DeskCore`
(repository, roster, hours, policy, FAQ): ``desk_intake`` (open, complaints, the FAQ offer),
``desk_actions`` (claim, transfer, answer, note, close, reopen, rate), ``desk_sweeps`` (auto-assign, SLA
notices, auto-close), ``desk_reports`` (queue, mine, stats, weekly report), ``desk_privacy`` (export,
forget); ``repository`` holds :class:`TicketRepository`. Import them from here.
"""

from __future__ import annotations

from bot.tickets.desk_actions import DeskActions
from bot.tickets.desk_core import DeskPolicy, SlaTarget
from bot.tickets.desk_intake import DeskIntake, Intake
from bot.tickets.desk_privacy import DeskPrivacy
from bot.tickets.desk_reports import DeskReports, QuestionCount, Stats, TopicStats, WeeklyReport
from bot.tickets.desk_sweeps import DeskSweeps, Notice, NoticeKind
from bot.tickets.repository import InMemoryTicketRepository, TicketRepository

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


class Desk(DeskIntake, DeskActions, DeskSweeps, DeskReports, DeskPrivacy):
    """The service desk. Construct once with the repository, roster, hours, policy and FAQ."""
