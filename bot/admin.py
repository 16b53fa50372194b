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
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.editorial.signups import SignupBook
from bot.store import Store
from bot.store.ledger import DeliveryLedger
from bot.store.subscribers import CopyRuns, Subscribers
from bot.tickets.desk import Desk
from bot.tickets.model import Status, Ticket

__all__ = ["ADMIN_LOG", "export_user", "forget_user", "list_tickets", "tickets_report"]

ADMIN_LOG = "admin_log"
StatusFilter = Literal["open", "closed", "all"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    sub = Subscribers(store).get(user_id)  # private copies: the chat id is the member's id
    subscription = None if sub is None else {
        "sections": {slot: list(keys) for slot, keys in sub.sections.items()}, "language": sub.language,
    }
    _record(store, "export", user_id, now, len(tickets), by)
    return {"user_id": user_id, "exported_at": now.isoformat(), "tickets": tickets, "signups": signups,
            "private_copies": subscription}


def forget_user(desk: Desk, store: Store, user_id: int, now: datetime, *, by: int | None = None) -> int:
    """Erase a member's personal data (question text, name, id) but keep the anonymous counts; compacts
    the store so the old text does not survive in the journal."""
    from bot.assist.book import AssistBook

    AssistBook(store).forget_tickets({t.number for t in desk.repo.by_asker(user_id)})  # FAQ proposals quoting them
    n = desk.forget_user(user_id, now=now, by=by)
    SignupBook(store).forget_user(user_id)  # their sign-ups too (name and what they wrote)
    # and their private copies: the subscription, their place in past runs, the deliveries to their chat
    Subscribers(store).remove(user_id)
    CopyRuns(store).forget_recipient(user_id)
    DeliveryLedger(store).forget_chat(user_id)
    # The erased text must not survive on disk: the store keeps its two newest snapshots and the journal
    # after the older one, so a snapshot, one more write, and a second snapshot leave only post-erasure
    # state (docs/storage.md).
    store.compact()
    _record(store, "forget", user_id, now, n, by)
    store.compact()
    return n
