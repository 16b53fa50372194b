"""Time for the repositories: aware datetimes, stored as ISO 8601 text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], datetime]


def shanghai_now() -> datetime:
    """Now, in Asia/Shanghai."""
    return datetime.now(SHANGHAI)


def to_text(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when.isoformat()}: the store keeps aware times only")
    return when.isoformat()


def from_text(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
