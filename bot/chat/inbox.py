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

No question fetched is confirmed to Telegram before it is on disk: if the inbox cannot write (disk full,
I/O error), ``get_updates`` fails with :class:`InboxUnavailable`, a ``TelegramError``, so PTB's polling loop
does not advance the offset and retries with its backoff (1 s growing to 30 s); Telegram keeps the updates
and hands them out again once the store writes again. In webhook mode the server answers 503 instead and
Telegram redelivers (bot/chat/webhook.py).

A stop does not work through the backlog (hundreds of questions, each waiting for the group's 20 messages
a minute): :class:`InboxApplication` takes every update not yet started out of the queue first. Questions
among them are pending in the inbox already; staff and editors' updates and button presses are added to it
(replayed at the next start); plain messages in member groups that are not questions are chatter and are
dropped, never stored. So SIGTERM ends within seconds whatever the backlog.

A rejected token on getUpdates (401: revoked in @BotFather, or replaced) cannot heal by retrying: the bot
says so in one line and stops, and ``servicebot run`` exits 1 so systemd's ``Restart=on-failure`` (and the
person reading its journal) takes over; see :attr:`InboxBot.fatal`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, BaseUpdateProcessor, ExtBot

from bot.chat.context import Services
from bot.chat.liveness import Liveness, stopping
from bot.store import StoreError
from bot.store.inbox import Inbox

log = logging.getLogger(__name__)


#: decides whether a fetched update is a member's question (kept) or not (never stored)
KeepPredicate = Callable[[Update], Awaitable[bool]]

#: what a stop keeps of the updates it takes out of the queue unhandled (besides the questions)
StopPredicate = Callable[[Update], bool]

#: the one line ``servicebot run`` prints when Telegram rejects the token mid-run
TOKEN_REJECTED = (
    "Telegram rejected the bot token (401 Unauthorized): it was revoked or replaced in @BotFather; "
    "put the current one in the environment and start again"
)


#: seconds a stop waits for the update in its handlers before cutting it (SIGTERM ends within 10 s)
STOP_GRACE = 4.0


class InboxUnavailable(TelegramError):
    """The fetched questions could not be made durable; the fetch fails so Telegram keeps them."""


def inbox_of(svc: Services) -> Inbox | None:
    """The bot's durable inbox, if it has one (handlers use it to not repeat a promise on replay)."""
    return svc.inbox


class InFlight:
    """Which update ids this process has queued (not yet handled) or handled lately: each is handled once.

    Telegram delivers a webhook update again when it did not get our 200 in time (a kill after the inbox
    write, a slow answer), and with a shared store the inbox sweep sees what the webhook endpoint just
    queued: :meth:`take` says yes once per update id. The last :data:`REMEMBER` handled ids are
    remembered; an older duplicate is a question the desk dedupes anyway (one ticket per message).
    """

    REMEMBER = 4096

    def __init__(self) -> None:
        self._queued: set[int] = set()
        self._recent: OrderedDict[int, None] = OrderedDict()

    def take(self, update_id: int) -> bool:
        """True the first time (the caller queues it); False while it is queued or lately handled."""
        if update_id in self._queued or update_id in self._recent:
            return False
        self._queued.add(update_id)
        return True

    def finished(self, update_id: int, *, handled: bool = True) -> None:
        """The update left the queue: handled (remembered), or cut at a stop (left to the next start)."""
        self._queued.discard(update_id)
        if handled:
            self._recent[update_id] = None
            while len(self._recent) > self.REMEMBER:
                self._recent.popitem(last=False)

    def handled(self, update_id: int) -> bool:
        """Handled here lately (and not queued again since)."""
        return update_id in self._recent and update_id not in self._queued

    def __contains__(self, update_id: object) -> bool:
        return update_id in self._queued or update_id in self._recent


class InboxBot(ExtBot[Any]):
    """An ExtBot whose ``get_updates`` keeps the fetched questions in the inbox before returning them."""

    __slots__ = ("_fatal", "_in_flight", "_inbox", "_keep", "_keep_at_stop", "_liveness", "_on_fatal")

    def __init__(self, token: str, *, inbox: Inbox, **kwargs: Any) -> None:
        """``kwargs`` are ExtBot's (base_url, defaults, rate_limiter, get_updates_request, ...)."""
        super().__init__(token, **kwargs)
        self._inbox = inbox
        self._keep: KeepPredicate | None = None
        self._keep_at_stop: StopPredicate | None = None
        self._fatal: str | None = None
        self._on_fatal: Callable[[], None] | None = None
        self._liveness = Liveness()
        self._in_flight = InFlight()

    @property
    def in_flight(self) -> InFlight:
        """The update ids queued or lately handled here (webhook deliveries and the inbox sweep)."""
        return self._in_flight

    @property
    def fatal(self) -> str | None:
        """Why the bot must stop (set once by :meth:`stop_for`; ``servicebot run`` prints it and exits 1)."""
        return self._fatal

    @property
    def liveness(self) -> Liveness:
        """What getUpdates and the handlers report for the heartbeat (bot/chat/liveness.py)."""
        return self._liveness

    def on_fatal(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once :meth:`stop_for` is called (build_application: stop the application)."""
        self._on_fatal = callback

    @property
    def inbox(self) -> Inbox:
        return self._inbox

    def keep_when(self, predicate: KeepPredicate, *, at_stop: StopPredicate | None = None) -> None:
        """Set what counts as a question (until then nothing is kept: privacy first), and which other
        updates a stop keeps when it takes them out of the queue unhandled (default: none)."""
        self._keep = predicate
        self._keep_at_stop = at_stop

    def keep_at_stop(self, update: Update) -> bool:
        """Whether a stop keeps this unhandled, non-question update for the next start."""
        return self._keep_at_stop is not None and self._keep_at_stop(update)

    def stop_for(self, reason: str) -> None:
        """Something retrying cannot heal: note why and stop the application (once)."""
        if self._fatal is None:
            self._fatal = reason
            if self._on_fatal is not None:
                self._on_fatal()

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        """Telegram's getUpdates; the questions among the result are durable before it returns.

        Raises InboxUnavailable (PTB's polling loop retries with backoff, Telegram keeps the updates) when
        they cannot be kept. A 401 stops the bot instead of letting PTB end its polling loop silently.
        """
        if self.fatal is not None:
            await asyncio.sleep(1)  # stopping: PTB's loop may call once more before it notices
            return ()
        try:
            updates = await super().get_updates(*args, **kwargs)
        except InvalidToken:
            # PTB would re-raise this out of its polling loop and leave the process up, answering nothing.
            self.stop_for(TOKEN_REJECTED)
            return ()
        except TelegramError as exc:
            self.liveness.fetch_failed(f"{type(exc).__name__}: {exc}")
            raise
        if updates:
            await self.keep_fetched(updates)
        self.liveness.fetch_ok()
        return updates

    async def keep_fetched(self, updates: tuple[Update, ...], *, unanswered_too: bool = False) -> int:
        """Make the questions among ``updates`` durable; InboxUnavailable if the store cannot write.

        ``unanswered_too`` (webhook mode, where Telegram forgets an update at our 200): keep what a stop
        would keep as well (:meth:`keep_at_stop`: staff and editors' updates, button presses), so a kill
        between the 200 and the handling loses no /reply or claim either. Members' group chatter is
        never kept. Returns how many were kept.
        """
        if self._keep is None:
            return 0
        kept: list[tuple[int, dict[str, Any]]] = []
        for update in updates:
            try:
                if await self._keep(update) or (unanswered_too and self.keep_at_stop(update)):
                    kept.append((update.update_id, update.to_dict()))
            except Exception:  # the handler will meet the same problem and report it; do not stop polling
                log.exception(
                    "inbox: could not tell whether update %s is a question; not kept", update.update_id
                )
        if not kept:
            return 0
        try:
            if unanswered_too:  # a webhook endpoint: a standby's too (it does not hold the lease)
                self._inbox.receive(kept)
            else:
                self._inbox.add_many(kept)
        except (StoreError, OSError) as exc:
            # getUpdates itself worked: what fails is the store, which says so itself (liveness.store, and
            # the ops chat once); the loop fetches again with backoff and heals once the disk takes writes
            self.liveness.fetch_ok()
            raise InboxUnavailable(
                f"inbox: could not keep {len(kept)} fetched question(s), so they are not confirmed to Telegram "
                f"and will be fetched again: {exc}"
            ) from exc
        return len(kept)


class InboxProcessor(BaseUpdateProcessor):
    """One update at a time (PTB's default); a kept update is marked done once its handlers have run."""

    def __init__(self, inbox: Inbox, liveness: Liveness | None = None) -> None:
        super().__init__(max_concurrent_updates=1)
        self._inbox = inbox
        self._liveness = liveness or Liveness()
        self._current: tuple[object, asyncio.Future[Any]] | None = None
        self._cutting = False

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers; then forget the update in the inbox — unless it was cancelled half-way."""
        cancelled = False
        self._liveness.processing(True)
        # its own task, so that a stop can cut this one update (:meth:`cut`) without cancelling PTB's loop
        task = asyncio.ensure_future(coroutine)
        self._current = (update, task)
        try:
            await task
        except asyncio.CancelledError:
            cancelled = True  # not handled: it stays pending and is replayed at the next start
            if not task.cancelled() or not self._cutting:
                raise  # the stop came from outside (PTB cancelling us): pass it on
        finally:
            self._current = None
            self._liveness.processing(False)
            # Handler errors were already caught and reported by the Application's error handler: such an
            # update counts as handled (replaying it at every start would repeat the error, not fix it).
            if isinstance(update, Update):
                bot = _inbox_bot(update)
                if bot is not None:
                    bot.in_flight.finished(update.update_id, handled=not cancelled)
            if not cancelled and isinstance(update, Update):
                try:
                    self._inbox.done(update.update_id)
                except StoreError:
                    log.exception(
                        "inbox: could not mark update %s done (it will be replayed)", update.update_id
                    )

    def cut(self, keep: Callable[[Update], object]) -> None:
        """Stopping took too long: cancel the update in its handlers (``keep`` it for the next start first).

        A question is replayed and the desk dedupes it (one ticket per message, the promise once); at worst
        one message the handler had sent just before the cut is sent again.
        """
        if self._current is None:
            return
        update, task = self._current
        if isinstance(update, Update):
            keep(update)
            log.warning("stopping: update %s cut short after %.0f s; handled again at the next start",
                        update.update_id, STOP_GRACE)
        self._cutting = True
        task.cancel()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


class InboxApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application, except that a stop leaves the backlog to the inbox instead of working through it."""

    async def stop(self) -> None:
        """Take the updates not yet started out of the queue (kept for the next start), then stop.

        The update in its handlers gets :data:`STOP_GRACE` seconds to finish (it may be waiting for a
        group's 20-a-minute limit), then it is cut and kept too.
        """
        timer: asyncio.TimerHandle | None = None
        if self.running:
            if isinstance(self.bot, InboxBot):
                stopping(self.bot.liveness)
            self.take_backlog()
            processor = self.update_processor
            if isinstance(processor, InboxProcessor):
                timer = asyncio.get_running_loop().call_later(
                    STOP_GRACE, processor.cut, lambda update: self._leave_for_next_start([update])
                )
        try:
            await super().stop()
        finally:
            if timer is not None:
                timer.cancel()

    def take_backlog(self) -> tuple[int, int]:
        """Empty the update queue without handling it: (questions left pending, other updates kept)."""
        taken: list[Update] = []
        while True:
            try:
                item = self.update_queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            self.update_queue.task_done()
            if isinstance(item, Update):
                taken.append(item)
        pending, extra = self._leave_for_next_start(taken)
        if taken:
            log.info(
                "stopping: %d question(s) and %d other update(s) left for the next start, %d chatter dropped",
                pending, extra, len(taken) - pending - extra,
            )
        return pending, extra

    def _leave_for_next_start(self, updates: list[Update]) -> tuple[int, int]:
        """Keep unhandled updates in the inbox: questions are there already; others as keep_at_stop says."""
        bot = self.bot
        if not updates or not isinstance(bot, InboxBot):
            return 0, 0
        pending = [u for u in updates if u.update_id in bot.inbox]
        extra = [(u.update_id, u.to_dict()) for u in updates if u.update_id not in bot.inbox and bot.keep_at_stop(u)]
        try:
            bot.inbox.add_many(extra)
        except (StoreError, OSError):
            log.exception("inbox: %d unhandled update(s) could not be kept at stop; they are lost", len(extra))
        return len(pending), len(extra)


def _inbox_bot(update: Update) -> InboxBot | None:
    try:
        bot = update.get_bot()
    except RuntimeError:  # built without a bot
        return None
    return bot if isinstance(bot, InboxBot) else None


async def replay_pending(app: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """Put the kept, never-handled updates back into the update queue, oldest first; how many."""
    bot = app.bot
    if not isinstance(bot, InboxBot):
        return 0
    pending = bot.inbox.pending()
    for update_id, _ in pending:
        bot.in_flight.take(update_id)  # queued here now: the webhook sweep leaves it alone
    queued = await _queue_kept(app, bot, pending)
    if queued:
        log.info("inbox: replaying %d question(s) fetched before the last stop but never handled", queued)
    return queued


async def sweep_inbox(app: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """Queue what is pending in the inbox and not queued or lately handled here; how many.

    With a shared store (PostgreSQL) every process's webhook endpoint writes the inbox and only the active
    one handles (bot/chat/webhook.py): it finds the others' updates here, each once (:class:`InFlight`).
    """
    bot = app.bot
    if not isinstance(bot, InboxBot):
        return 0
    fresh = []
    for update_id, data in bot.inbox.pending():
        if bot.in_flight.take(update_id):
            fresh.append((update_id, data))
        elif bot.in_flight.handled(update_id):  # delivered again to another endpoint after we handled it
            bot.inbox.done(update_id)
    return await _queue_kept(app, bot, fresh)


async def _queue_kept(
    app: Application[Any, Any, Any, Any, Any, Any], bot: InboxBot, kept: list[tuple[int, dict[str, Any]]]
) -> int:
    queued = 0
    for update_id, data in kept:
        update = Update.de_json(data, bot)
        if update is None:
            log.warning("inbox: update %s could not be read back; dropped", update_id)
            bot.inbox.done(update_id)
            bot.in_flight.finished(update_id)
            continue
        await app.update_queue.put(update)
        queued += 1
    return queued
