"""The durable inbox at the edge: a question fetched from Telegram is on disk before Telegram forgets it.

python-telegram-bot's Updater confirms what it fetched with its next getUpdates call (the offset), while
the Application may still be working through up to 100 of those updates. Killed in that window, the bot
would lose them: never a ticket, never a promise. So:

- :class:`InboxBot` writes the fetched updates that are members' questions to :class:`bot.store.inbox.Inbox`
  (one durable write per batch) before ``get_updates`` returns, i.e. before the Updater can confirm them;
- :class:`InboxProcessor` (the Application's update processor, one update at a time as before) marks an
  update done once its handlers have run;
- :func:`replay_pending` (start-up, before anything else) puts what was kept but never handled back into
  the update queue. The desk opens one ticket per (chat, message), so a replayed question that was in
  fact handled sends no second promise and no second card.

Only questions are kept (the predicate is :func:`bot.chat.questions.is_desk_question`): chatter never
touches the disk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor, ExtBot

from bot.chat.context import Services
from bot.store import StoreError
from bot.store.inbox import Inbox

log = logging.getLogger(__name__)

#: where build_application puts the Inbox in ``Services.extra`` (read it with :func:`inbox_of`)
INBOX_KEY = "inbox"

#: decides whether a fetched update is a member's question (kept) or not (never stored)
KeepPredicate = Callable[[Update], Awaitable[bool]]


def inbox_of(svc: Services) -> Inbox | None:
    """The bot's durable inbox, if it has one (handlers use it to not repeat a promise on replay)."""
    found = svc.extra.get(INBOX_KEY)
    return found if isinstance(found, Inbox) else None


class InboxBot(ExtBot[Any]):
    """An ExtBot whose ``get_updates`` keeps the fetched questions in the inbox before returning them."""

    __slots__ = ("_inbox", "_keep")

    def __init__(self, token: str, *, inbox: Inbox, **kwargs: Any) -> None:
        """``kwargs`` are ExtBot's (base_url, defaults, rate_limiter, get_updates_request, ...)."""
        super().__init__(token, **kwargs)
        self._inbox = inbox
        self._keep: KeepPredicate | None = None

    @property
    def inbox(self) -> Inbox:
        return self._inbox

    def keep_when(self, predicate: KeepPredicate) -> None:
        """Set what counts as a question (until then nothing is kept: privacy first)."""
        self._keep = predicate

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        """Telegram's getUpdates; the questions among the result are durable before it returns."""
        updates = await super().get_updates(*args, **kwargs)
        if updates and self._keep is not None:
            await self._persist(updates)
        return updates

    async def _persist(self, updates: tuple[Update, ...]) -> None:
        assert self._keep is not None
        kept: list[tuple[int, dict[str, Any]]] = []
        for update in updates:
            try:
                if await self._keep(update):
                    kept.append((update.update_id, update.to_dict()))
            except Exception:  # the handler will meet the same problem and report it; do not stop polling
                log.exception(
                    "inbox: could not tell whether update %s is a question; not kept", update.update_id
                )
        if not kept:
            return
        try:
            self._inbox.add_many(kept)
        except (StoreError, OSError, ValueError):
            # The updates still go on to be handled; only their safety against a kill is lost.
            log.exception("inbox: could not keep %d fetched question(s)", len(kept))


class InboxProcessor(BaseUpdateProcessor):
    """One update at a time (PTB's default); a kept update is marked done once its handlers have run."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__(max_concurrent_updates=1)
        self._inbox = inbox

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers; then forget the update in the inbox — unless it was cancelled half-way."""
        cancelled = False
        try:
            await coroutine
        except asyncio.CancelledError:
            cancelled = True  # not handled: it stays pending and is replayed at the next start
            raise
        finally:
            # Handler errors were already caught and reported by the Application's error handler: such an
            # update counts as handled (replaying it at every start would repeat the error, not fix it).
            if not cancelled and isinstance(update, Update):
                try:
                    self._inbox.done(update.update_id)
                except StoreError:
                    log.exception(
                        "inbox: could not mark update %s done (it will be replayed)", update.update_id
                    )

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


async def replay_pending(app: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """Put the kept, never-handled questions back into the update queue, oldest first; how many."""
    bot = app.bot
    if not isinstance(bot, InboxBot):
        return 0
    pending = bot.inbox.pending()
    for update_id, data in pending:
        update = Update.de_json(data, bot)
        if update is None:
            log.warning("inbox: update %s could not be read back; dropped", update_id)
            bot.inbox.done(update_id)
            continue
        await app.update_queue.put(update)
    if pending:
        log.info(
            "inbox: replaying %d question(s) fetched before the last stop but never handled", len(pending)
        )
    return len(pending)
