"""The staff card's life and the desk's actions with their chat effects, for every handler and job.

A ticket's card lives in the staff chat and is edited in place on every change (never reposted; the
keyboard is passed again on every edit); the asker's promise follows it (bot/chat/promise.py). What
the card says is bot/chat/views/cards.py; this module looks up the facts and sends through the outbox.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.chat.context import Services
from bot.chat.outbox import Sent
from bot.chat.promise import rating_keyboard, refresh_promise
from bot.chat.views import cards as views
from bot.chat.views.cards import (
    ANSWER_MARGIN,
    CARD_QUOTE,
    CardFacts,
    answer_parts,
    card_keyboard,
    complain_keyboard,
)
from bot.chat.views.common import status_label, user_link
from bot.chat.views.common import when as views_when
from bot.chat.views.stats import format_stats
from bot.knowledge import marks
from bot.texts import Markup, plain, tr
from bot.texts.measure import MAX_MESSAGE, split_plain, tg_len
from bot.tickets.errors import DeskError
from bot.tickets.model import EventKind, Status, Ticket

__all__ = [
    "CARD_QUOTE",
    "answer_ticket",
    "assisted_keyboard",
    "card_facts",
    "card_html",
    "close_ticket",
    "faq_offer_line",
    "on_duty_html",
    "post_card",
    "refresh_card",
    "retire_faq_buttons",
    "staff_mention",
    "stats_text",
    "status_label",
    "supervisors_html",
    "tell_privately",
    "to_staff_chat",
    "user_link",
    "when",
]

log = logging.getLogger(__name__)


def staff_mention(svc: Services, user_id: int, name: str) -> Markup:
    """A staff member as a mention that notifies them: @username when known, else a text mention link.

    Telegram notifies a user mentioned by @username or by a tg://user?id= link in a new message (not in
    an edit): https://core.telegram.org/bots/api#formatting-options ("inline mention of a user")."""
    from bot.chat.questions import staff_usernames_of  # lazily: questions.py imports this module

    username = staff_usernames_of(svc).by_user.get(user_id)
    return Markup("@{}").format(username) if username else user_link(user_id, name)


def on_duty_html(svc: Services, t: Ticket) -> Markup:
    """Mentions of the staff on duty now for the ticket's topic ("" when nobody is on duty)."""
    people = svc.desk.on_duty_for(t.topic, svc.clock.now())
    return Markup(plain(svc.lang, "list_separator")).join(staff_mention(svc, s.user_id, s.name) for s in people)


def faq_offer_line(svc: Services, t: Ticket) -> Markup:
    """The card says an FAQ answer was offered (which entry; how many editorial marks it carries, which
    the member did not see) and what the asker did with it: 已解决 (self-served), 转人工, or nothing yet."""
    lang = svc.lang
    entry = svc.library.entry(t.faq_offered or "")
    question = entry.question if entry is not None else ""
    line = tr(lang, "card_faq_offered", entry=svc.library.entry_label(t.faq_offered or "", lang), question=question)
    checklist = svc.library.topic(t.topic).checklist
    hidden = (entry.mark_count if entry is not None else 0) + (
        marks.count(checklist.render("", lang, for_members=False)) if checklist is not None else 0
    )
    if hidden:  # what the member was shown without them (the answer and the folded checklist)
        line += tr(lang, "card_faq_marks", n=hidden)
    kinds = [e for e in t.events if e.kind in (EventKind.FAQ_RESOLVED, EventKind.HUMAN_REQUESTED)]
    if kinds and kinds[-1].kind is EventKind.FAQ_RESOLVED:
        line += " · " + tr(lang, "card_faq_solved")
    elif kinds:
        line += " · " + tr(lang, "card_faq_human", when=when(svc, kinds[-1].at))
    elif t.status is not Status.CLOSED and not svc.desk.taken(t):
        line += " · " + tr(lang, "card_faq_waiting")
    return line


def card_facts(svc: Services, t: Ticket) -> CardFacts:
    """What the card shows besides the ticket, looked up now."""
    from bot.chat import assist  # lazily: assist.py imports this module

    people = svc.desk.roster.supervisors()
    return CardFacts(
        lang=svc.lang,
        tz=svc.config.tz,
        now=svc.clock.now(),
        topic_label=svc.library.topic(t.topic).label(svc.lang),
        supervisors=Markup(plain(svc.lang, "list_separator")).join(staff_mention(svc, s.user_id, s.name) for s in people),
        on_duty=on_duty_html(svc, t),
        faq_line=faq_offer_line(svc, t) if t.faq_offered else None,
        # 智能帮办: the draft and its sources, 一类事 (HTML)
        extra_lines=tuple(Markup(line) for line in assist.card_lines(svc, t)),
    )


def card_html(svc: Services, t: Ticket) -> Markup:
    return views.card_html(t, card_facts(svc, t))


def assisted_keyboard(svc: Services, t: Ticket) -> InlineKeyboardMarkup | None:
    """The card's keyboard with the assistant's rows (send/edit the draft, canned replies, 一类事, 存为问答)."""
    from bot.chat import assist  # lazily: assist.py imports this module

    return card_keyboard(svc.lang, t, assist.card_rows(svc, t) or ())


def when(svc: Services, moment: datetime) -> str:
    """A time as staff read it, in the configured zone and language (bot/chat/views/common.py)."""
    return views_when(moment, svc.lang, svc.config.tz, svc.clock.now())


def stats_text(svc: Services, now: datetime, days: int = 7) -> str:
    from bot.chat import assist  # lazily: assist.py imports this module

    text = format_stats(svc.lang, svc.library, svc.desk.stats(now, days), days=days)
    drafts = assist.stats_line(svc, now - timedelta(days=days), now)  # sent as-is / edited / ignored
    return f"{text}\n{drafts}" if drafts else text


async def post_card(svc: Services, t: Ticket, *, budget_taken: bool = False) -> Ticket:
    """Post the ticket's card to the staff chat once and remember it; later changes edit it."""
    if t.card_message_id is not None:
        await refresh_card(svc, t)
        return t
    await _learn_usernames(svc, t)
    sent = await svc.outbox.send(
        svc.config.chats.staff, card_html(svc, t), keyboard=assisted_keyboard(svc, t), budget_taken=budget_taken
    )
    if sent is None:
        # The ticket is stored and in /queue; without its card nobody would notice it: ops is told.
        await svc.outbox.alert(plain(svc.lang, "card_ops_refused", n=t.number, reason=svc.outbox.last_error))
        return t
    return svc.desk.set_card(t.number, sent.message_id)


async def _learn_usernames(svc: Services, t: Ticket) -> None:
    """Ask Telegram for the @usernames of the staff the new card mentions (cached; failures only logged)."""
    from bot.chat.questions import staff_usernames_of  # lazily: questions.py imports this module

    people = svc.desk.roster.supervisors() if t.is_complaint else svc.desk.on_duty_for(t.topic, svc.clock.now())
    ids = [s.user_id for s in people]
    if ids:
        await staff_usernames_of(svc).refresh(svc.outbox.bot, svc.config.chats.staff, ids)


async def refresh_card(svc: Services, t: Ticket) -> None:
    """Edit the card in place (the keyboard passed again, or removed once closed), and the promise with it."""
    if t.card_message_id is None:  # never posted (refused, or listed with a burst's others): posted now
        t = await post_card(svc, t)
        if t.card_message_id is not None and not await refresh_promise(svc, t):
            await retire_faq_buttons(svc, t)
        return
    await svc.outbox.edit(
        svc.config.chats.staff, t.card_message_id, card_html(svc, t), keyboard=assisted_keyboard(svc, t)
    )
    if not await refresh_promise(svc, t):  # the asker's promise follows the card (bot/chat/promise.py)
        await retire_faq_buttons(svc, t)


async def retire_faq_buttons(svc: Services, t: Ticket) -> None:
    """Once a person has the ticket (or it is closed), the FAQ offer's 已解决 / 转人工 go from the promise.

    For a promise that is not remembered (a ticket from before ``promise_message_id``, or one whose
    edit failed); a remembered promise loses its buttons in :func:`refresh_promise`."""
    if t.faq_buttons_message_id is None or not (svc.desk.taken(t) or t.status is Status.CLOSED):
        return
    if await svc.outbox.edit_keyboard(t.chat_id, t.faq_buttons_message_id, None):
        svc.desk.set_faq_buttons(t.number, None)


async def tell_privately(bot: Bot, user_id: int, text: Markup) -> bool:
    """A private message to someone who may never have started the bot (403): never raises."""
    try:
        await bot.send_message(chat_id=user_id, text=text)  # HTML, as every text of bot/texts
        return True
    except TelegramError as exc:
        log.info("no private message to %s: %s", user_id, exc)
        return False


async def to_staff_chat(svc: Services, t: Ticket, text_html: str) -> None:
    """A line under the card in the staff chat (a reply to it, so it reads as the ticket's thread)."""
    await svc.outbox.send(svc.config.chats.staff, text_html, reply_to=t.card_message_id)


def supervisors_html(svc: Services) -> Markup:
    people = svc.desk.roster.supervisors()
    return Markup(plain(svc.lang, "list_separator")).join(user_link(s.user_id, s.name) for s in people) or Markup("—")


# -- the desk's actions with their chat effects ----------------------------------------------------


async def answer_ticket(svc: Services, bot: Bot, number: int, by: int, text: str) -> Ticket:
    """Post the answer in the group under the question (in parts if long), then record it, then tell the asker.

    The answer counts (status, first-response time) only once Telegram accepted every part: an answer
    the member never got must not make the SLA look met. Refused, nothing is recorded and staff are told.
    """
    lang = svc.lang
    body = svc.desk.check_answer(number, by=by, text=text)
    t = svc.desk.get(number)
    staff = svc.desk.roster.get(by)
    name = staff.name if staff is not None else str(by)
    first: Sent | None = None
    parts = answer_parts(lang, t.number, body, name)
    for i, part in enumerate(parts, 1):
        keyboard = complain_keyboard(lang, t.number) if i == len(parts) else None  # the short way to a person
        sent = await svc.outbox.send(t.chat_id, part, reply_to=t.message_id, thread_id=t.thread_id, keyboard=keyboard)
        if sent is None:
            raise _NotDelivered(t.number)
        first = first or sent
    assert first is not None
    t, ans = svc.desk.answer(number, by=by, text=body, now=svc.clock.now(), message_id=first.message_id)
    if t.asker_id and t.asker_id != t.chat_id:  # a private question has its answer there already
        private = tr(lang, "private_answer", n=t.number, text=ans.text, name=ans.staff_name)
        if tg_len(private) <= MAX_MESSAGE:
            await tell_privately(bot, t.asker_id, private)
        else:
            pieces = split_plain(ans.text, MAX_MESSAGE - ANSWER_MARGIN)
            for i, piece in enumerate(pieces, 1):
                line = tr(lang, "private_answer_part", n=t.number, i=i, k=len(pieces), text=piece)
                if i == len(pieces):
                    line += f"\n—— {ans.staff_name}" if not lang.startswith("en") else f"\n— {ans.staff_name}"
                if not await tell_privately(bot, t.asker_id, line):
                    break
    await refresh_card(svc, t)
    return t


class _NotDelivered(DeskError):
    code = "not_delivered"

    def __init__(self, number: int) -> None:
        super().__init__(number=number)


async def close_ticket(svc: Services, number: int, by: int) -> Ticket:
    """Close through the desk, edit the card; the promise shows 已办结 with the rating buttons.

    A ticket whose promise is not remembered (from before) gets the rating prompt as its own message."""
    t = svc.desk.close(number, by=by, now=svc.clock.now())
    await refresh_card(svc, t)
    if t.promise_message_id is not None:
        return t
    await svc.outbox.send(
        t.chat_id,
        tr(svc.lang, "rate_prompt", n=t.number),
        reply_to=t.message_id,
        thread_id=t.thread_id,
        keyboard=rating_keyboard(svc.lang, t.number),
        quiet=True,
    )
    return t


