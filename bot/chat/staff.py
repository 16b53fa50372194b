"""The staff side of the desk: the card's buttons, replies to cards, staff commands — thin handlers.

Button data is only a request: every action goes through the desk, whose ownership rules (首问负责)
decide — a forged button for another ticket is refused there. One handler per button (the formats:
bot/chat/callbacks.py, registered in bot/chat/app.py); what the card says: bot/chat/views/cards.py;
the card's life (post, edit, lines under it): bot/chat/cards.py; lists and stats: bot/chat/views/.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, Message, ReplyParameters, Update

from bot.chat.cards import answer_ticket, card_html, close_ticket, refresh_card, stats_text, when
from bot.chat.context import BotContext, Services
from bot.chat.outbox import answer_query
from bot.chat.views.cards import CARD_QUOTE, picker_keyboard
from bot.chat.views.common import user_link
from bot.chat.views.errors import error_text
from bot.chat.views.lists import history_text, queue_lines
from bot.texts import Markup, plain, tr
from bot.texts.measure import shorten
from bot.tickets.errors import DeskError, NotStaff
from bot.tickets.model import Ticket

log = logging.getLogger(__name__)

_CARD_NUMBER = re.compile(r"^#(\d+)")




# -- buttons on the card ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    """A question the bot asked a staff member (note text, transfer reason), answered by replying to it.

    A plain reply prompt, not ForceReply: the sandbox echoes a ForceReply markup inside
    ``reply_to_message``, which python-telegram-bot cannot parse (real Telegram does not send it).
    Prompts live in memory: after a restart the staff member presses the button again."""

    kind: str  # "note" | "transfer"
    number: int
    user_id: int
    to: int | None = None


def _prompts(svc: Services) -> dict[tuple[int, int], Prompt]:
    return svc.prompts


async def _prompt(svc: Services, query: CallbackQuery, text: Markup, prompt: Prompt) -> None:
    msg = query.message
    if not isinstance(msg, Message):
        return
    sent: Message = await msg.get_bot().send_message(
        chat_id=msg.chat_id,
        text=text,
        reply_parameters=ReplyParameters(message_id=msg.message_id, allow_sending_without_reply=True),
    )
    _prompts(svc)[(sent.chat_id, sent.message_id)] = prompt


CardAction = Callable[[Services, CallbackQuery, int, int, "re.Match[str]"], Awaitable[None]]


def card_action(action: CardAction) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """A card button's handler: staff only, the ticket number from the button's data (bot/chat/callbacks.py),
    a refusal of the desk shown as an alert. ``action(svc, query, number, user, match)`` does the rest."""

    @functools.wraps(action)
    async def handler(update: Update, context: BotContext) -> None:
        query = update.callback_query
        if query is None or context.match is None:
            return
        svc, user = context.svc, query.from_user.id
        try:
            if not svc.desk.roster.is_staff(user):
                raise NotStaff()
            await action(svc, query, int(context.match["number"]), user, context.match)
        except DeskError as exc:
            log.info("card button %s by %s refused: %s", query.data, user, exc.code)
            await answer_query(query, error_text(svc.lang, exc).unescape(), show_alert=True)

    return handler


@card_action
async def on_claim(svc: Services, query: CallbackQuery, number: int, user: int, _: re.Match[str]) -> None:
    """认领: the desk records the claim; the card and the promise show the owner."""
    t = svc.desk.claim(number, by=user, now=svc.clock.now())
    await refresh_card(svc, t)
    await answer_query(query, plain(svc.lang, "claimed_ok", n=number))


@card_action
async def on_pick(svc: Services, query: CallbackQuery, number: int, user: int, _: re.Match[str]) -> None:
    """转交: the card shows the staff to hand the ticket to (the desk's ownership rule checked first)."""
    t = svc.desk.get(number)
    svc.desk.check_may_transfer(t, user)
    if t.card_message_id is not None:
        staff = [(s.user_id, s.name) for s in svc.desk.roster.staff]
        await svc.outbox.edit(
            svc.config.chats.staff,
            t.card_message_id,
            card_html(svc, t) + "\n\n" + tr(svc.lang, "pick_owner", n=number),
            keyboard=picker_keyboard(svc.lang, t, staff),
        )
    await answer_query(query)


@card_action
async def on_pick_to(svc: Services, query: CallbackQuery, number: int, user: int, match: re.Match[str]) -> None:
    """The new owner picked: the card is back, and the transfer waits for its reason (a reply)."""
    t = svc.desk.get(number)
    svc.desk.check_may_transfer(t, user)
    to = int(match["user"])
    target = svc.desk.roster.get(to)
    await refresh_card(svc, t)
    name = target.name if target else str(to)
    await _prompt(svc, query, tr(svc.lang, "transfer_prompt", n=number, name=name), Prompt("transfer", number, user, to))
    await answer_query(query)


@card_action
async def on_note(svc: Services, query: CallbackQuery, number: int, user: int, _: re.Match[str]) -> None:
    """备注: the note waits for its text (a reply)."""
    svc.desk.get(number)
    await _prompt(svc, query, tr(svc.lang, "note_prompt", n=number), Prompt("note", number, user))
    await answer_query(query)


@card_action
async def on_close(svc: Services, query: CallbackQuery, number: int, user: int, _: re.Match[str]) -> None:
    """关闭: closed through the desk; the promise asks for a rating."""
    svc.desk.get(number)
    await close_ticket(svc, number, user)
    await answer_query(query, plain(svc.lang, "closed_ok", n=number))


@card_action
async def on_back(svc: Services, query: CallbackQuery, number: int, user: int, _: re.Match[str]) -> None:
    """取消 in the picker: the card's own buttons again."""
    await refresh_card(svc, svc.desk.get(number))
    await answer_query(query)


async def on_unknown_button(update: Update, context: BotContext) -> None:
    """A card button whose data fits no format (an old client, a forged button): only the spinner stops."""
    if update.callback_query is not None:
        await answer_query(update.callback_query)


# -- replies in the staff chat ------------------------------------------------------------------------


async def on_staff_reply(update: Update, context: BotContext) -> None:
    """A reply to a card answers the ticket; a reply to a prompt gives a note or a transfer reason."""
    svc = context.svc
    msg = update.effective_message
    user = update.effective_user
    if msg is None or user is None or msg.text is None or msg.reply_to_message is None:
        return
    target = msg.reply_to_message
    if target.from_user is None or target.from_user.id != context.bot.id:
        return
    lang = svc.lang
    prompt = _prompts(svc).get((target.chat_id, target.message_id))
    try:
        if prompt is not None:
            if prompt.user_id != user.id:
                return  # someone else's prompt: not their note/reason
            now = svc.clock.now()
            if prompt.kind == "note":
                t = svc.desk.note(prompt.number, by=user.id, text=msg.text, now=now)
                await refresh_card(svc, t)
                await msg.reply_text(tr(lang, "noted", n=t.number))
            else:
                assert prompt.to is not None
                t = svc.desk.transfer(prompt.number, by=user.id, to=prompt.to, reason=msg.text, now=now)
                await refresh_card(svc, t)
                by = svc.desk.roster.get(user.id)
                await svc.outbox.send(
                    svc.config.chats.staff,
                    tr(
                        lang,
                        "transferred",
                        n=t.number,
                        by=by.name if by else str(user.id),
                        to=user_link(t.owner_id or 0, t.owner_name),
                        reason=shorten(msg.text.strip(), CARD_QUOTE),  # within 4096
                    ),
                    reply_to=t.card_message_id,
                )
            _prompts(svc).pop((target.chat_id, target.message_id), None)
            return
        from bot.chat import assist  # lazily: assist.py imports this module

        if await assist.on_reply(svc, context.bot, msg, target, user.id):
            return  # a reply to a draft (修改草稿) or to a class prompt (一并答复)
        m = _CARD_NUMBER.match(target.text or "")
        if m is None:
            return
        number = int(m.group(1))
        t = svc.desk.get(number)
        if t.card_message_id != target.message_id:
            return  # not this ticket's card (e.g. a notice under it)
        t = await answer_ticket(svc, context.bot, number, user.id, msg.text)
        await msg.reply_text(tr(lang, "answered_ok", n=t.number))
    except DeskError as exc:
        log.info("staff reply by %s refused: %s", user.id, exc.code)
        await msg.reply_text(error_text(lang, exc))


# -- commands -------------------------------------------------------------------------------------------


async def _staff_guard(update: Update, svc: Services) -> tuple[Message, int] | None:
    """Staff commands: only staff, only in the staff chat or a private chat; refusals said and logged."""
    msg = update.effective_message
    user = update.effective_user
    chat = update.effective_chat
    if msg is None or user is None or chat is None:
        return None
    if not svc.desk.roster.is_staff(user.id):
        log.warning(
            "staff command %r refused: user %s is not staff (chat %s)",
            (msg.text or "")[:20],
            user.id,
            chat.id,
        )
        await msg.reply_text(tr(svc.lang, "refused_staff"))
        return None
    if chat.id != svc.config.chats.staff and chat.type != "private":
        await msg.reply_text(tr(svc.lang, "staff_only_here"))
        return None
    return msg, user.id


async def _reply_tickets(svc: Services, msg: Message, tickets: list[Ticket], empty: str, title: str) -> None:
    """A ticket list (or the empty text) as a reply, split within Telegram's limit."""
    if not tickets:
        await msg.reply_text(tr(svc.lang, empty))
        return
    lines = queue_lines(tickets, svc.library, svc.lang, svc.config.tz, svc.clock.now())
    text = plain(svc.lang, title, n=len(tickets)) + "\n" + "\n".join(lines)
    await svc.outbox.send_long(msg.chat_id, text, reply_to=msg.message_id)


async def on_queue(update: Update, context: BotContext) -> None:
    """/queue: open tickets, the most urgent deadline first."""
    svc = context.svc
    guard = await _staff_guard(update, svc)
    if guard is not None:
        await _reply_tickets(svc, guard[0], svc.desk.queue(), "queue_empty", "queue_title")


async def on_mine(update: Update, context: BotContext) -> None:
    """/mine: the tickets I own, by deadline."""
    svc = context.svc
    guard = await _staff_guard(update, svc)
    if guard is not None:
        msg, user = guard
        await _reply_tickets(svc, msg, svc.desk.mine(user), "mine_empty", "mine_title")


def one_ticket_number(args: list[str] | None) -> int | None:
    """``/ticket 128`` or ``/reopen #128``: the one argument as a ticket number, else None."""
    if not args or len(args) != 1 or not args[0].lstrip("#").isdigit():
        return None
    return int(args[0].lstrip("#"))


def number_and_text(text: str | None) -> tuple[int, str] | None:
    """``/reply 128 text`` or ``/resolve #128 result``: the ticket number and the rest, else None."""
    parts = (text or "").split(maxsplit=2)
    if len(parts) < 3 or not parts[1].lstrip("#").isdigit():
        return None
    return int(parts[1].lstrip("#")), parts[2]


@dataclass(frozen=True)
class TicketCommand:
    """A staff command about one ticket, past its preamble: the message, who sent it, the ticket number
    and what follows it (the answer of /reply, the outcome of /resolve; "" for /ticket and /reopen)."""

    msg: Message
    user: int
    number: int
    text: str = ""

    async def refused(self, svc: Services, exc: DeskError) -> None:
        """The desk said no: logged with its code, the reason told to the staff member."""
        log.info("%s by %s refused: %s", (self.msg.text or "").split(maxsplit=1)[0][:20], self.user, exc.code)
        await self.msg.reply_text(error_text(svc.lang, exc))


async def ticket_command(
    update: Update, context: BotContext, usage: str, *, with_text: bool = False
) -> TicketCommand | None:
    """The preamble every staff command about one ticket shares: the staff guard, then ``N`` (/ticket N,
    /reopen N) or ``N text`` (``with_text``: /reply N 内容, /resolve N 结果); the text ``usage`` when
    they are missing. None: refused or answered with the usage already."""
    svc = context.svc
    guard = await _staff_guard(update, svc)
    if guard is None:
        return None
    msg, user = guard
    if with_text:
        parsed = number_and_text(msg.text)
    else:
        number = one_ticket_number(context.args)
        parsed = None if number is None else (number, "")
    if parsed is None:
        await msg.reply_text(tr(svc.lang, usage))
        return None
    return TicketCommand(msg, user, *parsed)


async def on_ticket(update: Update, context: BotContext) -> None:
    """/ticket 128: the ticket's history from its audit events."""
    svc = context.svc
    cmd = await ticket_command(update, context, "ticket_usage")
    if cmd is None:
        return
    msg = cmd.msg
    try:
        t = svc.desk.get(cmd.number)
    except DeskError as exc:
        await cmd.refused(svc, exc)
        return
    names = {s.user_id: s.name for s in svc.desk.roster.staff}
    if t.asker_id:
        names.setdefault(t.asker_id, t.asker_name)
    text = history_text(t, names, svc.library, svc.lang, svc.config.tz)
    await svc.outbox.send_long(msg.chat_id, text, reply_to=msg.message_id)


async def on_reopen(update: Update, context: BotContext) -> None:
    """/reopen 128: an answered or closed ticket back to work (owner or supervisor; recorded)."""
    svc = context.svc
    cmd = await ticket_command(update, context, "reopen_usage")
    if cmd is None:
        return
    try:
        t = svc.desk.reopen(cmd.number, by=cmd.user, now=svc.clock.now(), reason="staff")
    except DeskError as exc:
        await cmd.refused(svc, exc)
        return
    await refresh_card(svc, t)
    await cmd.msg.reply_text(tr(svc.lang, "reopened_ok", n=t.number, due=when(svc, t.resolution_due)))


async def on_stats(update: Update, context: BotContext) -> None:
    """/stats: the last 7 days — count, median times, SLA met %, by topic."""
    svc = context.svc
    guard = await _staff_guard(update, svc)
    if guard is None:
        return
    msg, _ = guard
    await svc.outbox.send_long(msg.chat_id, stats_text(svc, svc.clock.now()), reply_to=msg.message_id)


async def on_reply(update: Update, context: BotContext) -> None:
    """/reply 128 text: answer a ticket without replying to its card."""
    svc = context.svc
    cmd = await ticket_command(update, context, "reply_usage", with_text=True)
    if cmd is None:
        return
    try:
        t = await answer_ticket(svc, context.bot, cmd.number, cmd.user, cmd.text)
    except DeskError as exc:
        await cmd.refused(svc, exc)
        return
    await cmd.msg.reply_text(tr(svc.lang, "answered_ok", n=t.number))
