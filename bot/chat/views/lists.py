"""Lists staff and members read: /queue and /mine, /ticket N's history, /mytickets (plain text)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.chat.views.common import status_label, when
from bot.texts import plain
from bot.texts.measure import shorten
from bot.tickets.model import Rating, Ticket
from bot.tickets.topics import FaqLibrary

__all__ = ["history_text", "mytickets_lines", "queue_lines"]

_REOPEN_REASONS = {  # the desk records stable words; shown in the configured language
    "unsatisfied": "reopen_unsatisfied",
    "asker replied": "reopen_asker_replied",
    "staff": "reopen_staff",
}


def queue_lines(
    tickets: Sequence[Ticket], library: FaqLibrary, lang: str, tz: ZoneInfo, now: datetime
) -> list[str]:
    """One line per ticket: overdue mark, number, topic, status, owner, the deadline that counts, the question."""
    out = []
    for t in tickets:
        first = t.first_response_at is None
        due = t.first_response_due if first else t.resolution_due
        out.append(
            plain(
                lang,
                "queue_line",
                overdue=plain(lang, "queue_overdue") if now >= due else "",
                n=t.number,
                topic=library.topic(t.topic).label(lang),
                status=status_label(lang, t.status),
                owner=t.owner_name or plain(lang, "card_nobody"),
                due_label=plain(lang, "due_first" if first else "due_resolution"),
                due=when(due, lang, tz, now),
                text=shorten(t.text, 30),
            )
        )
    return out


def mytickets_lines(tickets: Sequence[Ticket], library: FaqLibrary, lang: str) -> list[str]:
    """/mytickets: the title and one line per question, newest first as given."""
    lines = [plain(lang, "mytickets_title", n=len(tickets))]
    for t in tickets:
        lines.append(
            plain(
                lang,
                "mytickets_line",
                n=t.number,
                topic=library.topic(t.topic).label(lang),
                status=status_label(lang, t.status),
                text=shorten(t.text, 40),
            )
        )
    return lines


def history_text(t: Ticket, names: Mapping[int, str], library: FaqLibrary, lang: str, tz: ZoneInfo) -> str:
    """/ticket N: the ticket and its audit trail, who and when (``names``: staff and asker by user id)."""
    lines = [
        plain(
            lang,
            "history_title",
            n=t.number,
            topic=library.topic(t.topic).label(lang),
            status=status_label(lang, t.status),
            asker=t.asker_name or "—",
            text=t.text,
        )
    ]
    for e in t.events:
        who = "🤖" if e.actor_id is None else names.get(e.actor_id, str(e.actor_id))
        stamp = e.at.astimezone(tz).strftime("%m-%d %H:%M")
        detail = _event_detail(lang, e.kind.value, e.details, names)
        entry = e.details.get("faq") or e.details.get("entry")  # the FAQ entry offered, solved by, left for a person
        if isinstance(entry, str) and entry:
            detail += plain(lang, "aside", text=library.entry_label(entry, lang))
        lines.append(f"{stamp} {plain(lang, f'event_{e.kind.value}')} · {who}{detail}")
    return "\n".join(lines)


def _event_detail(lang: str, kind: str, d: Mapping[str, Any], names: Mapping[int, str]) -> str:
    if kind in ("transferred", "assigned"):
        to = d.get("to_id")
        shown = names.get(to, str(to)) if isinstance(to, int) else to
        if kind == "transferred":
            return " → " + plain(lang, "label_value", label=shown, value=d.get("reason", ""))
        return f" → {shown}"
    if kind == "rated":
        try:
            r = Rating(str(d.get("rating")))
        except ValueError:
            return ""
        return plain(lang, "label_value", label="", value=plain(lang, f"rating_{r.value}"))
    if kind in ("warned", "escalated") and d.get("deadline"):
        return plain(lang, "aside", text=plain(lang, "due_first" if d["deadline"] == "first_response" else "due_resolution"))
    if kind == "reopened" and d.get("reason"):
        reason = str(d["reason"])
        key = _REOPEN_REASONS.get(reason)
        return plain(lang, "aside", text=plain(lang, key) if key else reason)
    return ""
