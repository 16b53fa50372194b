"""Sending the members' private copies from the Telegram edge: the job, the outbox sender, retries.

The rules (one run per slot, exactly once per member through the ledger, pacing, groups first, a
blocked member unsubscribed) live in :mod:`bot.delivery.copies`; here a run is a JobQueue job started
once the groups' digests are out, each part sent through the outbox with the 调整栏目/退订 buttons under
a copy's last part, and a 403 from a member's chat taken as "blocked" (logged, never an ops alert: it is
the member's choice, not the bot's trouble).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, timedelta
from typing import Any, Literal

from telegram.ext import Application

from bot.chat.context import BotContext, Services, services_of
from bot.chat.subscribe import copy_keyboard
from bot.delivery.deliver import Failure
from bot.store.subscribers import Subscription
from digests.model import Slot

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=5)


def outbox_copy_sender(svc: Services) -> Any:
    """A :data:`~bot.delivery.copies.CopySend` through the outbox."""

    async def send(chat_id: int, text: str, sub: Subscription, last: bool) -> int | Failure | Literal["blocked"]:
        refused: list[str] = []
        landed = await svc.outbox.send(
            chat_id, text, keyboard=copy_keyboard(sub.language) if last else None, on_forbidden=refused.append
        )
        if landed is not None:
            return landed.message_id
        if refused:
            log.warning("private copies: chat %s: %s", chat_id, refused[0])
            return "blocked"
        # read right after the send returned, before any other task runs: this send's failure
        return "transient" if svc.outbox.last_failure == "transient" else "permanent"

    return send


async def send_copies(svc: Services, slot: Slot, day: date, *, stop: Any = lambda: False) -> Counter[str]:
    """Send the open run of ``slot`` on ``day`` now (also what the job does)."""
    return await svc.copies.send_run(slot, day, outbox_copy_sender(svc), stop=stop)


def schedule(app: Application[Any, Any, Any, Any, Any, Any], slot: Slot, day: date, when: timedelta | float = 0) -> bool:
    """Send the open run of ``slot`` on ``day`` as a job; False when there is none."""
    svc = services_of(app)
    if svc.copies.open_run(slot, day) is None or app.job_queue is None:
        return False
    name = f"copies:{slot}:{day.isoformat()}"
    if when == 0 and app.job_queue.get_jobs_by_name(name):
        return True  # already due
    app.job_queue.run_once(on_copies, when=when, data=(slot, day.isoformat()), name=name)
    return True


async def on_copies(context: BotContext) -> None:
    """The job: send the run; a stop ends it between copies and the next start resumes it."""
    app = context.application
    svc = services_of(app)
    assert context.job is not None
    data: tuple[Slot, str] = context.job.data  # type: ignore[assignment]
    slot, day = data[0], date.fromisoformat(data[1])
    counts = await send_copies(svc, slot, day, stop=lambda: not app.running)
    if counts["retrying"] and app.running:
        if svc.copies.retry_in_window(slot, day, svc.clock.now() + RETRY_AFTER):
            log.warning("private copies %s %s: %d not out yet; trying again in %s", slot, day, counts["retrying"],
                        RETRY_AFTER)
            schedule(app, slot, day, when=RETRY_AFTER)
        else:
            svc.copies.expire(slot, day, failed=True)
