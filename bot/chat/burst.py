"""Burst-aware acknowledgements: when a group's send budget is short, fewer messages say the same.

Telegram allows about 20 messages a minute in a group (bot/chat/outbox.py ``GroupBudget``). A burst of
questions in one group — and the staff chat that gets a card per question — would otherwise queue one
message per question behind that ceiling (a minute or more for the last asker). So, while a chat's budget
is short:

* the askers are acknowledged together: one message mentions each asker (a text mention notifies them)
  with their ticket's status line. It is their promise: every ticket remembers it (``promise_peers``) and
  any change re-renders the whole message in place (bot/chat/promise.py), rating buttons included;
* the staff chat gets one list of the new tickets with a 认领 #N button each; a claim posts that ticket's
  own card (``post_card``), which is edited in place from then on.

Reactions (setMessageReaction) were considered and not used: the Bot API documents no limit of their own,
python-telegram-bot's rate limiter counts them against the same group budget as messages, and a reaction
cannot carry the number and the deadline.

A batch that holds one ticket when its turn comes is sent as the ordinary promise (a reply to the
question, checklist folded) or the ordinary card. The batches are sent by one task per chat, so the update handlers never wait for the budget. A batch holds
at most ``MAX_BATCH`` tickets (mentions and buttons stay few, the text far below 4096).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.chat.callbacks import CARD_CLAIM
from bot.chat.cards import post_card
from bot.chat.context import Services
from bot.chat.inbox import inbox_of
from bot.chat.promise import batch_render
from bot.chat.promise import render as render_promise
from bot.texts import Markup, plain, tr
from bot.texts.measure import shorten
from bot.tickets.model import Ticket

log = logging.getLogger(__name__)

MAX_BATCH = 10
RESERVE = 8  # of a group's 20 a minute: kept for digests and for the batches themselves


@dataclass
class _Pending:
    numbers: list[int] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class Acknowledger:
    """Per chat: the tickets waiting to be acknowledged (or listed for staff) in one message."""

    def __init__(self, svc: Services, *, enabled: bool = True) -> None:
        self.svc = svc
        self.enabled = enabled
        self._acks: dict[int, _Pending] = {}
        self._cards = _Pending()

    def should_batch(self, chat_id: int) -> bool:
        return self.enabled and chat_id < 0 and self.svc.outbox.budget.short(chat_id, RESERVE)

    def acknowledge(self, t: Ticket) -> None:
        pending = self._acks.setdefault(t.chat_id, _Pending())
        if t.number not in pending.numbers:
            pending.numbers.append(t.number)
        if pending.task is None or pending.task.done():
            pending.task = asyncio.create_task(self._flush_acks(t.chat_id, pending))

    def list_card(self, t: Ticket) -> None:
        if t.number not in self._cards.numbers:
            self._cards.numbers.append(t.number)
        if self._cards.task is None or self._cards.task.done():
            self._cards.task = asyncio.create_task(self._flush_cards(self._cards))

    async def drain(self) -> None:
        """Wait until every batch went out (tests, benches, shutdown)."""
        while True:
            tasks = [p.task for p in (*self._acks.values(), self._cards) if p.task is not None and not p.task.done()]
            if not tasks:
                return
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _flush_acks(self, chat_id: int, pending: _Pending) -> None:
        svc = self.svc
        while pending.numbers:
            await svc.outbox.budget.take(chat_id)  # the slot first: tickets arriving meanwhile join this batch
            batch, pending.numbers[:] = pending.numbers[:MAX_BATCH], pending.numbers[MAX_BATCH:]
            tickets = [svc.desk.get(n) for n in batch]
            first = tickets[0]
            alone = len(tickets) == 1  # nobody else came meanwhile: the ordinary promise, a little later
            text, keyboard = render_promise(svc, first, first=True) if alone else batch_render(svc, tickets)
            sent = await svc.outbox.send(
                chat_id,
                text,
                reply_to=first.message_id if alone else None,
                thread_id=first.thread_id,
                keyboard=keyboard,
                quiet=True,
                budget_taken=True,
            )
            if sent is None:
                log.warning("chat %s: burst acknowledgement of %s not sent", chat_id, batch)
                continue
            inbox = inbox_of(svc)
            for t in tickets:
                svc.desk.set_promise(t.number, sent.message_id, [] if alone else batch)
                if alone and keyboard is not None:
                    svc.desk.set_faq_buttons(t.number, sent.message_id)
                if inbox is not None:
                    inbox.mark_promised(t.chat_id, t.message_id)

    async def _flush_cards(self, pending: _Pending) -> None:
        svc = self.svc
        staff = svc.config.chats.staff
        while pending.numbers:
            await svc.outbox.budget.take(staff)
            batch, pending.numbers[:] = pending.numbers[:MAX_BATCH], pending.numbers[MAX_BATCH:]
            tickets = [svc.desk.get(n) for n in batch]
            if len(tickets) == 1:  # nobody else came meanwhile: the ordinary card
                await post_card(svc, tickets[0], budget_taken=True)
                continue
            sent = await svc.outbox.send(
                staff, cards_html(svc, tickets), keyboard=cards_keyboard(svc.lang, tickets), budget_taken=True
            )
            if sent is None:
                await svc.outbox.alert(
                    plain(svc.lang, "card_ops_refused", n=batch[0], reason=svc.outbox.last_error)
                )


#: how far back a start looks for askers whose batched acknowledgement a kill cut off
RESUME_WITHIN = timedelta(days=1)


def resume_unacknowledged(svc: Services) -> int:
    """At start: acknowledge the group tickets a kill left without their promise; how many.

    A batch waits in memory for the group's budget (the update is marked handled meanwhile), so a kill
    then leaves a ticket whose asker never heard back. Such a ticket has no ``promise_message_id`` and no
    ``promise_peers``; one whose question is still pending in the inbox is left to the replay.
    """
    inbox = inbox_of(svc)
    since = svc.clock.now() - RESUME_WITHIN
    missing = [  # through the status index: the tickets not closed (a few), never every stored ticket
        t for t in svc.desk.repo.active()
        if t.created_at >= since and t.chat_id < 0 and t.promise_message_id is None and not t.promise_peers
        and t.chat_id != svc.config.chats.staff
        and (inbox is None or not inbox.holds(t.chat_id, t.message_id))
    ]
    if not missing:
        return 0
    burst = acknowledger_of(svc)
    for t in missing:
        burst.acknowledge(t)
    log.info("start: %d ticket(s) had no acknowledgement yet (a stop cut the batch off); sending it", len(missing))
    return len(missing)


def acknowledger_of(svc: Services) -> Acknowledger:
    if svc.acknowledger is None:
        svc.acknowledger = Acknowledger(svc)
    return svc.acknowledger


def cards_html(svc: Services, tickets: list[Ticket]) -> Markup:
    """The staff chat's list of a burst's new tickets (each gets its own card once claimed)."""
    lang = svc.lang
    lines = [tr(lang, "burst_cards_title", k=len(tickets))]
    for t in tickets:
        topic = svc.library.topic(t.topic).label(lang)
        asked = tr(lang, "label_value", label=t.asker_name or "—", value=shorten(t.text, 40))
        lines.append(Markup("#{} · {} · {}").format(t.number, topic, asked))
    return Markup("\n").join(lines)


def cards_keyboard(lang: str, tickets: list[Ticket]) -> InlineKeyboardMarkup:
    label = plain(lang, "btn_claim")
    buttons = [
        InlineKeyboardButton(f"{label} #{t.number}", callback_data=CARD_CLAIM.pack(t.number)) for t in tickets
    ]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])
