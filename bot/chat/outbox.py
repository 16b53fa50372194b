"""The one sender: everything the bot says goes through :class:`Outbox`.

What it takes care of, so no handler has to:

* Telegram's flood limits — python-telegram-bot's ``AIORateLimiter`` (30 messages/s overall,
  20/minute per group; https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this)
  is installed on the Application and is the one layer that retries a ``RetryAfter``, a bounded number
  of times (``max_retries``, app.py), for every call the bot makes. A ``RetryAfter`` that still reaches
  us is a transient failure, not waited out a second time here (two layers made 16 attempts of one
  send; an edit retried without bound).
* A 400 is never retried as it was: "can't parse entities" falls back to the same text as plain text
  once; any other 400 is logged and reported as a failure.
* ``ChatMigrated`` (a group upgraded to a supergroup) is followed: the new id is remembered through
  ``on_migrate`` and the message re-sent there.
* ``Forbidden`` (the bot was removed or blocked) is reported to the ops chat; other chats carry on.
* Texts longer than Telegram's 4096 characters (counted in UTF-16 code units after entity parsing)
  are split on line boundaries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import texts
from bot.delivery.deliver import Failure, SendPart
from bot.texts.measure import MAX_MESSAGE, html_to_plain, split_plain, tg_len

log = logging.getLogger(__name__)

__all__ = ["MAX_MESSAGE", "GroupBudget", "Outbox", "Sent", "answer_query", "html_to_plain", "split_plain", "tg_len"]


class GroupBudget:
    """What Telegram lets the bot send in each group, counted over moving windows before each send.

    Telegram: no more than 20 messages a minute in a group, and about one a second in any one chat
    (short bursts tolerated) — https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this.
    python-telegram-bot's AIORateLimiter is a leaky bucket (20 at once, then one every 3 s), which lets
    40 messages through in a group's first minute where Telegram answers 429 after 20; this budget keeps
    every moving minute within 20 and every 4 s within 3, so a group's sends wait here instead of being
    refused. ``limits`` (moving-window strategy) does the counting. The desk asks :meth:`short` to decide
    when to acknowledge a burst in fewer messages (bot/chat/burst.py).

    A private chat (a positive id) gets one message a second, Telegram's "avoid sending more than one
    message per second" in a single chat (same FAQ): the private copies of a digest to hundreds of
    members go out at the overall rate without any one member's chat meeting a 429.
    """

    def __init__(self, per_minute: int = 20, burst: str = "3/4 seconds", private: str = "1/second") -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._items: tuple[RateLimitItem, ...] = (RateLimitItemPerMinute(per_minute), parse(burst))
        self._private: tuple[RateLimitItem, ...] = (parse(private),)
        self.waiting: dict[int, int] = {}

    def _windows(self, chat_id: int) -> tuple[RateLimitItem, ...]:
        return self._private if chat_id > 0 else self._items

    def room(self, chat_id: int) -> int:
        """Messages the group may still get this minute without waiting."""
        return self._limiter.get_window_stats(self._items[0], str(chat_id)).remaining

    def short(self, chat_id: int, reserve: int) -> bool:
        """Sending one more now would wait, or eat into the ``reserve`` kept for digests and batches."""
        if self.waiting.get(chat_id, 0) > 0 or self.room(chat_id) <= reserve:
            return True
        return not self._limiter.test(self._items[1], str(chat_id))

    async def take(self, chat_id: int) -> None:
        """Wait until one more message fits every window, and count it."""
        key = str(chat_id)
        items = self._windows(chat_id)
        self.waiting[chat_id] = self.waiting.get(chat_id, 0) + 1
        try:
            while True:
                if all(self._limiter.test(item, key) for item in items):
                    for item in items:
                        self._limiter.hit(item, key)
                    return
                reset = max(
                    self._limiter.get_window_stats(item, key).reset_time
                    for item in items
                    if not self._limiter.test(item, key)
                )
                await asyncio.sleep(max(0.05, reset - time.time() + 0.05))
        finally:
            self.waiting[chat_id] -= 1


@dataclass(frozen=True)
class Sent:
    """Where a message landed (the chat id may differ from the one asked for, after a migration)."""

    chat_id: int
    message_id: int


class Outbox:
    """Sends, edits and reports; never raises for one chat's trouble."""

    def __init__(
        self,
        bot: Bot,
        *,
        ops_chat_id: int | None = None,
        on_migrate: Callable[[int, int], Awaitable[None] | None] | None = None,
        lang: str = "zh",
    ) -> None:
        self.bot = bot
        self.lang = lang  # the ops chat's alerts (bot/texts)
        self.ops_chat_id = ops_chat_id
        self.on_migrate = on_migrate
        self.migrated: dict[int, int] = {}
        self.failures = 0
        self.refused = 0  # sends Telegram refused or forbade (permanent failures), for the metrics
        # why the last send returned None: "transient" (network, flood) is worth trying again later,
        # "permanent" (refused, forbidden) is not
        self.last_failure: str | None = None
        self.last_error = ""  # Telegram's words for the last failure ("Message is too long"), for alerts
        self.budget = GroupBudget()  # groups' sends wait here rather than meet a 429

    def resolve(self, chat_id: int) -> int:
        while chat_id in self.migrated:
            chat_id = self.migrated[chat_id]
        return chat_id

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
        keyboard: InlineKeyboardMarkup | None = None,
        quiet: bool = False,
        plain: bool = False,
        budget_taken: bool = False,
        on_forbidden: Callable[[str], None] | None = None,
    ) -> Sent | None:
        """Send one message (HTML unless ``plain``). Returns where it landed, or None if it could not.

        It first waits for the chat's budget (``budget_taken``: the caller already did). A ``Forbidden``
        goes to ``on_forbidden`` (Telegram's words) when given, instead of an ops alert."""
        chat_id = self.resolve(chat_id)
        network_retried = False
        failure = "permanent"
        parse_mode: str | None = None if plain else ParseMode.HTML
        for _ in range(4):  # a migration, the plain-text fallback and one network retry, at most
            if chat_id != 0 and not budget_taken:
                await self.budget.take(chat_id)
            budget_taken = False
            try:
                msg: Message = await self.bot.send_message(
                    chat_id=chat_id,
                    text=text,
                    parse_mode=parse_mode,
                    reply_parameters=(
                        ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                        if reply_to
                        else None
                    ),
                    message_thread_id=thread_id,
                    reply_markup=keyboard,
                    disable_notification=quiet,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
                self.last_failure = None
                return Sent(msg.chat_id, msg.message_id)
            except RetryAfter as exc:  # the rate limiter already waited and retried (app.py)
                self.last_error = str(exc)
                failure = "transient"
                log.warning("chat %s: still flood-limited after the rate limiter's retries, giving up", chat_id)
                break
            except ChatMigrated as exc:
                await self._migrated(chat_id, exc.new_chat_id)
                chat_id = exc.new_chat_id
            except BadRequest as exc:
                if parse_mode and "can't parse entities" in exc.message.lower():
                    # Telegram rejected our HTML: say the same words as plain text, once, never loop.
                    log.warning("chat %s: HTML rejected (%s); sending as plain text", chat_id, exc.message)
                    text, parse_mode = html_to_plain(text), None
                    continue
                log.error("chat %s: message refused: %s", chat_id, exc.message)
                self.last_error = exc.message
                failure = "permanent"
                break
            except Forbidden as exc:
                log.error("chat %s: forbidden: %s", chat_id, exc.message)
                self.last_error = exc.message
                failure = "permanent"
                if on_forbidden is not None:
                    on_forbidden(exc.message)
                else:
                    await self.alert(texts.plain(self.lang, "alert_forbidden", chat=chat_id, reason=exc.message))
                break
            except NetworkError as exc:
                # A timeout may come after Telegram accepted the message; one retry bounds duplicates to one.
                log.warning("chat %s: network error: %s", chat_id, exc)
                self.last_error = str(exc)
                failure = "transient"
                if network_retried:
                    break
                network_retried = True
                await asyncio.sleep(1)
        self.failures += 1
        self.refused += failure == "permanent"
        self.last_failure = failure
        return None

    def part_sender(self, chat_id: int, thread_id: int | None = None) -> SendPart:
        """One chat's :data:`~bot.delivery.deliver.SendPart`: the ledger walk sends through the outbox."""

        async def send(text: str) -> int | Failure:
            landed = await self.send(chat_id, text, thread_id=thread_id)
            if landed is not None:
                return landed.message_id
            # read right after the send returned, before any other task runs: this send's failure
            return "transient" if self.last_failure == "transient" else "permanent"

        return send

    async def send_long(self, chat_id: int, plain_text: str, **kwargs: object) -> list[Sent]:
        """Send plain text of any length, escaped for HTML and split within Telegram's limit."""
        out: list[Sent] = []
        for piece in split_plain(plain_text):
            sent = await self.send(chat_id, texts.escape(piece), **kwargs)  # type: ignore[arg-type]
            if sent is None:
                break
            out.append(sent)
            kwargs.pop("keyboard", None)
        return out

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, keyboard: InlineKeyboardMarkup | None = None
    ) -> bool:
        """Edit a message in place; "message is not modified" counts as success."""
        chat_id = self.resolve(chat_id)
        try:
            await self.bot.edit_message_text(
                chat_id=chat_id,
                message_id=message_id,
                text=text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            return True
        except BadRequest as exc:
            if "message is not modified" in exc.message.lower():
                return True
            log.error("chat %s message %s: edit refused: %s", chat_id, message_id, exc.message)
        except TelegramError as exc:  # RetryAfter included: the rate limiter already retried it
            log.error("chat %s message %s: edit failed: %s", chat_id, message_id, exc)
        return False

    async def edit_keyboard(self, chat_id: int, message_id: int, keyboard: InlineKeyboardMarkup | None = None) -> bool:
        """Replace (None: remove) a message's buttons; "message is not modified" counts as success."""
        chat_id = self.resolve(chat_id)
        try:
            await self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=keyboard)
            return True
        except BadRequest as exc:
            if "message is not modified" in exc.message.lower():
                return True
            log.error("chat %s message %s: keyboard edit refused: %s", chat_id, message_id, exc.message)
        except TelegramError as exc:
            log.error("chat %s message %s: keyboard edit failed: %s", chat_id, message_id, exc)
        return False

    async def copy(self, chat_id: int, from_chat_id: int, message_id: int, *, reply_to: int | None = None) -> bool:
        """copyMessage (a member's photo or document onto the staff card, no link back): True when it landed."""
        if self.resolve(chat_id) < 0:
            await self.budget.take(self.resolve(chat_id))
        try:
            await self.bot.copy_message(
                chat_id=self.resolve(chat_id),
                from_chat_id=self.resolve(from_chat_id),
                message_id=message_id,
                reply_parameters=(
                    ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
                ),
                disable_notification=True,
            )
            return True
        except TelegramError as exc:  # RetryAfter included: the rate limiter already retried it
            log.warning("chat %s: copy of %s/%s refused: %s", chat_id, from_chat_id, message_id, exc)
            return False

    async def alert(self, text: str) -> None:
        """Tell the ops chat; never raises (an alert about an alert would loop)."""
        if self.ops_chat_id is None:
            log.warning("ops alert (no ops chat): %s", text)
            return
        try:
            await self.bot.send_message(chat_id=self.ops_chat_id, text=text, parse_mode=None)
        except TelegramError as exc:
            log.error("ops alert not delivered (%s): %s", exc, text)

    async def _migrated(self, old: int, new: int) -> None:
        log.warning("chat %s migrated to %s; following it", old, new)
        self.migrated[old] = new
        await self.alert(texts.plain(self.lang, "alert_migrated", old=old, new=new))
        if self.on_migrate is not None:
            result = self.on_migrate(old, new)
            if result is not None:
                await result


async def answer_query(query: CallbackQuery, text: str | None = None, *, show_alert: bool = False) -> bool:
    """Answer a button press; a press Telegram no longer knows is not an error.

    Telegram refuses to answer a callback query after about 15 seconds, or one it never sent
    ("Bad Request: query is too old and response timeout expired or query id is invalid"), e.g. a
    button pressed while the bot was down. The action itself may still be right to do; only the
    little toast is lost. https://core.telegram.org/bots/api#answercallbackquery
    """
    try:
        await query.answer(text, show_alert=show_alert)
        return True
    except BadRequest as exc:
        message = exc.message.lower()
        if "query is too old" in message or "query id is invalid" in message:
            log.info("callback query %s too old to answer", query.id)
            return False
        raise
