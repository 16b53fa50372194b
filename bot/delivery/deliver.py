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
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Literal

from bot.store.ledger import DeliveryKey, DeliveryLedger

__all__ = ["Failure", "LedgerWalk", "PartLane", "SendPart", "WalkResult"]

Failure = Literal["transient", "permanent"]
WalkResult = Literal["sent", "transient", "permanent"]
#: sends one part: the message id it landed as, or why not
SendPart = Callable[[str], Awaitable[int | Failure]]


class PartLane:
    """One part in flight at a time, groups' parts before private copies' (priority 0 before 1).

    A kill between Telegram accepting a part and the ledger recording it then repeats at most one part
    in all; and a group's digest that starts while members' private copies are going out waits for the
    one copy part already in flight at most, never for the queue of copies behind it.
    """

    def __init__(self) -> None:
        self._busy = False
        self._waiting: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())

    @contextlib.asynccontextmanager
    async def turn(self, priority: int = 0) -> AsyncIterator[None]:
        if self._busy or any(self._waiting):
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting[priority].append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():  # handed the turn as we were cancelled: pass it on
                    self._busy = False
                    self._wake()
                else:
                    with contextlib.suppress(ValueError):
                        self._waiting[priority].remove(waiter)
                raise
        else:
            self._busy = True
        try:
            yield
        finally:
            self._busy = False
            self._wake()

    def _wake(self) -> None:
        for queue in self._waiting:
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    self._busy = True
                    waiter.set_result(None)
                    return


class LedgerWalk:
    """Sends the parts of deliveries through the ledger, one part in flight at a time."""

    def __init__(self, ledger: DeliveryLedger) -> None:
        self.ledger = ledger
        # One part in flight across all chats: a kill then repeats at most one part in all. The outbox
        # paces sends at 1/29 s anyway, so against a nearby Bot API this costs no speed (bench P1).
        self._in_flight = PartLane()

    async def send(
        self,
        key: DeliveryKey,
        parts: Sequence[str],
        send: SendPart,
        *,
        before: Callable[[int], Awaitable[None]] | None = None,
        priority: int = 0,
        fsync: Callable[[], bool] = lambda: True,
    ) -> WalkResult:
        """Send the parts not yet recorded for ``key``, recording each as soon as it landed.

        ``before(index)`` is awaited before a part queues for its turn (a chat's own pacing, which
        must not hold the lane); private copies pass ``priority`` 1, so groups' parts go first.
        ``fsync()`` says whether this part's record is fsynced before the next part goes out (always,
        unless the caller bounds otherwise what a power cut may repeat); written it always is, so a
        kill repeats at most the one part in flight."""
        self.ledger.begin(key, len(parts))
        sent = self.ledger.sent_parts(key)
        for index, text in enumerate(parts):
            if index in sent:
                continue
            if before is not None:
                await before(index)
            async with self._in_flight.turn(priority):
                landed = await send(text)
                if isinstance(landed, int):
                    self.ledger.part_sent(key, index, landed, fsync=fsync())
            if not isinstance(landed, int):
                return landed
        return "sent"
