"""The exactly-once ledger walk over a send function: no Telegram here, any sender will do.

    walk = LedgerWalk(ledger)
    result = await walk.send(key, parts, send)   # "sent" | "transient" | "permanent"

``send(text)`` sends one part and returns the message id Telegram gave it, or why it could not:
``"transient"`` (network, flood limit: worth trying again later) or ``"permanent"`` (refused). Each
part is recorded in the ledger as soon as it landed; a part already recorded is skipped, so a
resumed delivery sends exactly what is missing. The caller finishes the delivery (``ledger.finish``)
with its outcome; one left open resumes at its first unrecorded part.

A kill between Telegram accepting a part and the ledger recording it can repeat that one part on
restart: at most one duplicate per kill, never a lost part (one part in flight at a time across every
delivery that shares the walk).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

from bot.store.ledger import DeliveryKey, DeliveryLedger

__all__ = ["Failure", "LedgerWalk", "SendPart", "WalkResult"]

Failure = Literal["transient", "permanent"]
WalkResult = Literal["sent", "transient", "permanent"]
#: sends one part: the message id it landed as, or why not
SendPart = Callable[[str], Awaitable[int | Failure]]


class LedgerWalk:
    """Sends the parts of deliveries through the ledger, one part in flight at a time."""

    def __init__(self, ledger: DeliveryLedger) -> None:
        self.ledger = ledger
        # One part in flight across all chats: a kill then repeats at most one part in all. The outbox
        # paces sends at 1/29 s anyway, so against a nearby Bot API this costs no speed (bench P1).
        self._in_flight = asyncio.Lock()

    async def send(self, key: DeliveryKey, parts: Sequence[str], send: SendPart) -> WalkResult:
        """Send the parts not yet recorded for ``key``, recording each as soon as it landed."""
        self.ledger.begin(key, len(parts))
        sent = self.ledger.sent_parts(key)
        for index, text in enumerate(parts):
            if index in sent:
                continue
            async with self._in_flight:
                landed = await send(text)
                if isinstance(landed, int):
                    self.ledger.part_sent(key, index, landed)
            if not isinstance(landed, int):
                return landed
        return "sent"
