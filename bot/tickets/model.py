"""Ticket, its answers, notes and audit events, with a lossless ``to_dict``/``from_dict`` for the store.

States::

    open --claim/assign--> claimed --answer--> answered --close--> closed
      \\________________________ close (owner or supervisor) _______/
    closed/answered --reopen (不满意, the asker's reply)--> claimed (or open when nobody owns it)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "Answer",
    "Deadline",
    "Event",
    "EventKind",
    "Kind",
    "Note",
    "Rating",
    "Status",
    "Ticket",
]


class Kind(StrEnum):
    """A question for the desk, or a complaint (to the supervisors, with its own deadline and outcome)."""

    QUESTION = "question"
    COMPLAINT = "complaint"


class Status(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    ANSWERED = "answered"
    CLOSED = "closed"


class Rating(StrEnum):
    """The three buttons under a closed question."""

    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意; the labels: rating_<value> in bot/texts


class Deadline(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class EventKind(StrEnum):
    CREATED = "created"
    CLAIMED = "claimed"
    TRANSFERRED = "transferred"
    ANSWERED = "answered"
    NOTED = "noted"
    CLOSED = "closed"
    REOPENED = "reopened"
    RATED = "rated"
    ESCALATED = "escalated"
    ASSIGNED = "assigned"
    WARNED = "warned"
    AUTO_CLOSED = "auto_closed"
    FAQ_RESOLVED = "faq_resolved"
    FORGOTTEN = "forgotten"
    THANKED = "thanked"  # the asker thanked under the answer: history only (no reopen, no ping)
    HUMAN_REQUESTED = "human_requested"  # the asker pressed 转人工 under the FAQ offer
    COMPLAINED = "complained"  # on the ticket a complaint is about: the complaint's number (details)


def _dt(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass
class Event:
    """One line of the audit trail: what happened, who did it (None = the bot), when, details."""

    kind: EventKind
    at: datetime
    actor_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "at": self.at.isoformat(),
            "actor_id": self.actor_id,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Event:
        return cls(
            EventKind(d["kind"]),
            datetime.fromisoformat(d["at"]),
            d.get("actor_id"),
            dict(d.get("details") or {}),
        )


@dataclass
class Answer:
    """An answer relayed to the member; ``message_id`` is filled in once the group shows it."""

    staff_id: int
    staff_name: str
    text: str
    at: datetime
    message_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "staff_id": self.staff_id,
            "staff_name": self.staff_name,
            "text": self.text,
            "at": self.at.isoformat(),
            "message_id": self.message_id,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Answer:
        return cls(
            d["staff_id"], d["staff_name"], d["text"], datetime.fromisoformat(d["at"]), d.get("message_id")
        )


@dataclass
class Note:
    """An internal note: stays in the staff chat, never reaches the member."""

    staff_id: int
    staff_name: str
    text: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "staff_id": self.staff_id,
            "staff_name": self.staff_name,
            "text": self.text,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Note:
        return cls(d["staff_id"], d["staff_name"], d["text"], datetime.fromisoformat(d["at"]))


@dataclass
class Ticket:
    """A member's question and everything that happened to it."""

    number: int
    chat_id: int
    message_id: int
    asker_id: int
    asker_name: str
    text: str
    topic: str
    created_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    thread_id: int | None = None
    chat_title: str = ""
    status: Status = Status.OPEN
    owner_id: int | None = None
    owner_name: str = ""
    first_response_at: datetime | None = None
    closed_at: datetime | None = None
    last_activity_at: datetime | None = None
    answers: list[Answer] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    rating: Rating | None = None
    warned_first_response: bool = False
    escalated_first_response: bool = False
    warned_resolution: bool = False
    escalated_resolution: bool = False
    auto_assigned: bool = False
    faq_offered: str | None = None  # the FAQ entry id offered at intake
    reopened: int = 0
    card_message_id: int | None = None  # the staff-chat card, edited in place
    faq_buttons_message_id: int | None = None  # the promise whose FAQ buttons are still live
    promise_message_id: int | None = None  # the public reply to the question, edited through its life
    promise_peers: list[int] = field(default_factory=list)  # a burst's shared acknowledgement: its tickets
    events: list[Event] = field(default_factory=list)
    kind: Kind = Kind.QUESTION
    about: int | None = None  # a complaint: the ticket it is about (None: a complaint on its own)
    outcome: str = ""  # a complaint: the result the supervisor closed it with

    @property
    def is_complaint(self) -> bool:
        return self.kind is Kind.COMPLAINT

    @property
    def is_closed(self) -> bool:
        return self.status is Status.CLOSED

    def due(self, deadline: Deadline) -> datetime:
        return self.first_response_due if deadline is Deadline.FIRST_RESPONSE else self.resolution_due

    def met(self, deadline: Deadline) -> bool:
        """Whether a deadline's clock has stopped: first answer given / ticket closed."""
        return (self.first_response_at if deadline is Deadline.FIRST_RESPONSE else self.closed_at) is not None

    def record(self, kind: EventKind, at: datetime, actor_id: int | None = None, **details: Any) -> Event:
        ev = Event(kind, at, actor_id, dict(details))
        self.events.append(ev)
        if actor_id is not None:  # the bot's own notices are not activity (auto-close counts idle time)
            self.last_activity_at = at
        return ev

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "thread_id": self.thread_id,
            "chat_title": self.chat_title,
            "asker_id": self.asker_id,
            "asker_name": self.asker_name,
            "text": self.text,
            "topic": self.topic,
            "status": self.status.value,
            "owner_id": self.owner_id,
            "owner_name": self.owner_name,
            "created_at": self.created_at.isoformat(),
            "first_response_due": self.first_response_due.isoformat(),
            "resolution_due": self.resolution_due.isoformat(),
            "first_response_at": _iso(self.first_response_at),
            "closed_at": _iso(self.closed_at),
            "last_activity_at": _iso(self.last_activity_at),
            "answers": [a.to_dict() for a in self.answers],
            "notes": [n.to_dict() for n in self.notes],
            "rating": None if self.rating is None else self.rating.value,
            "warned_first_response": self.warned_first_response,
            "escalated_first_response": self.escalated_first_response,
            "warned_resolution": self.warned_resolution,
            "escalated_resolution": self.escalated_resolution,
            "auto_assigned": self.auto_assigned,
            "faq_offered": self.faq_offered,
            "reopened": self.reopened,
            "card_message_id": self.card_message_id,
            "faq_buttons_message_id": self.faq_buttons_message_id,
            "promise_message_id": self.promise_message_id,
            "promise_peers": list(self.promise_peers),
            "events": [e.to_dict() for e in self.events],
            "kind": self.kind.value,
            "about": self.about,
            "outcome": self.outcome,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Ticket:
        return cls(
            number=d["number"],
            chat_id=d["chat_id"],
            message_id=d["message_id"],
            thread_id=d.get("thread_id"),
            chat_title=d.get("chat_title", ""),
            asker_id=d["asker_id"],
            asker_name=d["asker_name"],
            text=d["text"],
            topic=d["topic"],
            status=Status(d["status"]),
            owner_id=d.get("owner_id"),
            owner_name=d.get("owner_name", ""),
            created_at=datetime.fromisoformat(d["created_at"]),
            first_response_due=datetime.fromisoformat(d["first_response_due"]),
            resolution_due=datetime.fromisoformat(d["resolution_due"]),
            first_response_at=_dt(d.get("first_response_at")),
            closed_at=_dt(d.get("closed_at")),
            last_activity_at=_dt(d.get("last_activity_at")),
            answers=[Answer.from_dict(a) for a in d.get("answers", [])],
            notes=[Note.from_dict(n) for n in d.get("notes", [])],
            rating=None if d.get("rating") is None else Rating(d["rating"]),
            warned_first_response=bool(d.get("warned_first_response")),
            escalated_first_response=bool(d.get("escalated_first_response")),
            warned_resolution=bool(d.get("warned_resolution")),
            escalated_resolution=bool(d.get("escalated_resolution")),
            auto_assigned=bool(d.get("auto_assigned")),
            faq_offered=d.get("faq_offered"),
            reopened=int(d.get("reopened", 0)),
            card_message_id=d.get("card_message_id"),
            faq_buttons_message_id=d.get("faq_buttons_message_id"),
            promise_message_id=d.get("promise_message_id"),
            promise_peers=[int(n) for n in d.get("promise_peers") or ()],
            events=[Event.from_dict(e) for e in d.get("events", [])],
            kind=Kind(d.get("kind", "question")),
            about=d.get("about"),
            outcome=d.get("outcome", ""),
        )
