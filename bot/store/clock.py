"""Time for the repositories: aware datetimes, stored as ISO 8601 text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.config import DEFAULT_TZ

#: a repository's source of "now" (the bot passes its Clock's, in config.tz; see bot/wiring.py)
Now = Callable[[], datetime]


def default_now() -> datetime:
    """Now, in the default zone: only for a repository built without the bot's clock (tests, tools)."""
    return datetime.now(DEFAULT_TZ)


def to_text(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when.isoformat()}: the store keeps aware times only")
    return when.isoformat()


def from_text(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
