"""Telegram's flood control, as the Bot API documents it.

From https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this and
python-telegram-bot's wiki "Avoiding flood limits": in a single chat avoid more than one message per
second (short bursts are tolerated, then 429); in a group no more than 20 messages per minute; overall
no more than about 30 messages per second. A refused call gets HTTP 429 "Too Many Requests: retry
after N" with ``parameters.retry_after`` = N whole seconds.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FloodLimits:
    per_chat_rate: float = 1.0        # messages per second, sustained, in one chat
    per_chat_burst: int = 3           # the "small burst" a chat tolerates
    per_group_per_minute: int = 20    # messages per 60 s in one group/supergroup/channel
    global_per_second: int = 30       # all chats together


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class FloodControl:
    """Decides whether the bot may send one more message now; records it if so."""

    limits: FloodLimits = field(default_factory=FloodLimits)
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[int, _Bucket] = field(default_factory=dict)
    _group_windows: dict[int, deque[float]] = field(default_factory=dict)
    _global: deque[float] = field(default_factory=deque)

    def check(self, chat_id: int, is_group: bool) -> int | None:
        """None if the message may go (and count it), else the whole seconds to wait (>= 1)."""
        now = self.clock()
        lim = self.limits
        waits: list[float] = []

        bucket = self._buckets.get(chat_id)
        if bucket is None:
            bucket = _Bucket(tokens=float(lim.per_chat_burst), at=now)
            self._buckets[chat_id] = bucket
        tokens = min(float(lim.per_chat_burst), bucket.tokens + (now - bucket.at) * lim.per_chat_rate)
        if tokens < 1.0:
            waits.append((1.0 - tokens) / lim.per_chat_rate)

        window: deque[float] | None = None
        if is_group:
            window = self._group_windows.setdefault(chat_id, deque())
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= lim.per_group_per_minute:
                waits.append(window[0] + 60.0 - now)

        while self._global and self._global[0] <= now - 1.0:
            self._global.popleft()
        if len(self._global) >= lim.global_per_second:
            waits.append(self._global[0] + 1.0 - now)

        if waits:
            return max(1, math.ceil(max(waits)))
        bucket.tokens = tokens - 1.0
        bucket.at = now
        if window is not None:
            window.append(now)
        self._global.append(now)
        return None

    def reset(self) -> None:
        self._buckets.clear()
        self._group_windows.clear()
        self._global.clear()
