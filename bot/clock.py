"""The bot's clock: the time zone of the config, and (in the demo only) a manual offset for training."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


class Clock:
    """``now()`` in the configured zone. ``advance`` exists for the demo's training panel only."""

    def __init__(self, tz: ZoneInfo, *, allow_advance: bool = False) -> None:
        self.tz = tz
        self.offset = timedelta(0)
        self.allow_advance = allow_advance

    def now(self) -> datetime:
        return datetime.now(self.tz) + self.offset

    def advance(self, delta: timedelta) -> datetime:
        if not self.allow_advance:
            raise PermissionError("the clock can only be advanced in the demo")
        self.offset += delta
        return self.now()
