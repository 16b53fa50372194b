"""The desk's admin commands as plain functions (no Telegram): the CLI parses arguments and calls these.

    servicebot tickets [--status open|closed|all] [--json]  -> tickets_report(desk, status, as_json, tz)
    servicebot export --user ID                             -> export_user(desk, store, user_id, now)
    servicebot forget --user ID                             -> forget_user(desk, store, user_id, now)

Export and forget are both recorded in the store's ``admin_log`` table (what, whom, when, how many),
and forget also records a ``forgotten`` event in each ticket it erased.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.editorial.signups import SignupBook
from bot.store import Store
from bot.store.tickets import TicketStore
from bot.tickets.desk import Desk, DeskPolicy, SlaTarget
from bot.tickets.model import Status, Ticket
from bot.tickets.roster import Roster, StaffMember
from bot.tickets.sla import ServiceHours
from bot.tickets.topics import load_faq
from bot.workcal import WorkCalendar

__all__ = ["ADMIN_LOG", "desk_from_config", "export_user", "forget_user", "list_tickets", "tickets_report"]

ADMIN_LOG = "admin_log"
StatusFilter = Literal["open", "closed", "all"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def desk_from_config(config: Config, store: Store, content_dir: Path | None = None) -> tuple[Desk, list[str]]:
    """The desk wired as the bot wires it (content problems returned, not fatal)."""
    content = content_dir or config.content_dir
    workcal, cal_problems = WorkCalendar.from_dir(
        content / "calendar", use_package=config.service.calendar == "chinese"
    )
    library, faq_problems = load_faq(content / "faq")
    hours = ServiceHours.from_pairs(config.service.hours, workcal, config.tz)
    roster = Roster(
        tuple(
            StaffMember.from_config(s.id, s.name, s.topics, s.duty_days, s.duty_hours, s.supervisor)
            for s in config.people.staff
        )
    )
    sv = config.service
    policy = DeskPolicy(
        default=SlaTarget(sv.default.first_response_minutes, sv.default.resolution_minutes),
        topics={k: SlaTarget(v.first_response_minutes, v.resolution_minutes) for k, v in sv.topics.items()},
        warn_before_minutes=sv.warn_before_minutes,
        auto_assign_after_minutes=sv.auto_assign_after_minutes,
        auto_close_after_days=sv.auto_close_after_days,
        complaint=SlaTarget(sv.complaint.first_response_minutes, sv.complaint.resolution_minutes),
    )
    problems = [str(p) for p in cal_problems] + [str(p) for p in faq_problems]
    return Desk(TicketStore(store), roster, hours, policy, library), problems


def list_tickets(desk: Desk, status: StatusFilter = "open") -> list[Ticket]:
    """Tickets by number: open (not closed), closed, or all."""
    if status not in ("open", "closed", "all"):
        raise ValueError(f"--status: expected open, closed or all, got {status!r}")
    if status == "open":
        found = list(desk.repo.active())
    else:
        found = list(desk.repo.created_since(_EPOCH))
        if status == "closed":
            found = [t for t in found if t.status is Status.CLOSED]
    return sorted(found, key=lambda t: t.number)


def tickets_report(desk: Desk, status: StatusFilter = "open", *, as_json: bool = False, tz: ZoneInfo) -> str:
    """The listing as text (one line per ticket) or JSON (a list of tickets without their events)."""
    tickets = list_tickets(desk, status)
    if as_json:
        rows = []
        for t in tickets:
            d = t.to_dict()
            d.pop("events", None)
            rows.append(d)
        return json.dumps(rows, ensure_ascii=False, indent=2)
    if not tickets:
        return "（没有工单）"
    lines = []
    for t in tickets:
        text = t.text if len(t.text) <= 40 else t.text[:39] + "…"
        created = t.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        lines.append(f"#{t.number}\t{t.status.value}\t{t.topic}\t{t.owner_name or '-'}\t{created}\t{text}")
    return "\n".join(lines)


def _record(store: Store, action: str, user_id: int, now: datetime, count: int, by: int | None) -> None:
    store.table(ADMIN_LOG).insert(
        {"action": action, "user_id": user_id, "at": now.isoformat(), "count": count, "by": by}
    )


def export_user(
    desk: Desk, store: Store, user_id: int, now: datetime, *, by: int | None = None
) -> dict[str, Any]:
    """Everything stored about a member (their tickets with answers and history) as a JSON-ready dict."""
    tickets = sorted(desk.export_user(user_id), key=lambda d: int(str(d["number"])))
    signups = SignupBook(store).export_user(user_id)
    _record(store, "export", user_id, now, len(tickets), by)
    return {"user_id": user_id, "exported_at": now.isoformat(), "tickets": tickets, "signups": signups}


def forget_user(desk: Desk, store: Store, user_id: int, now: datetime, *, by: int | None = None) -> int:
    """Erase a member's personal data (question text, name, id) but keep the anonymous counts; compacts
    the store so the old text does not survive in the journal."""
    n = desk.forget_user(user_id, now=now, by=by)
    SignupBook(store).forget_user(user_id)  # their sign-ups too (name and what they wrote)
    # The erased text must not survive on disk: the store keeps its two newest snapshots and the journal
    # after the older one, so a snapshot, one more write, and a second snapshot leave only post-erasure
    # state (docs/storage.md).
    store.compact()
    _record(store, "forget", user_id, now, n, by)
    store.compact()
    return n
