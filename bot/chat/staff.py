"""The staff side of the desk: ticket cards and their buttons, replies to cards, staff commands.

A ticket's card lives in the staff chat and is edited in place on every change (never reposted; the
keyboard is passed again on every edit). Button data is only a request: every action goes through the
desk, whose ownership rules (首问负责) decide — a forged button for another ticket is refused there.

Button data (``tk:<action>:<number>[:<user id>]``): claim, xfer (show the staff picker), to (picked),
note, close, card (back to the card's own buttons).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import ContextTypes
from telegram.helpers import mention_html

from bot.chat.context import Services, services
from bot.chat.outbox import MAX_MESSAGE, Sent, answer_query, split_plain, tg_len
from bot.chat.promise import message_link, rating_keyboard, refresh_promise
from bot.chat.views.errors import error_text
from bot.knowledge import marks
from bot.texts import Markup, escape, plain, tr
from bot.tickets.desk import Stats
from bot.tickets.errors import DeskError, NotStaff
from bot.tickets.model import EventKind, Rating, Status, Ticket
from bot.tickets.topics import FaqLibrary

log = logging.getLogger(__name__)

_CARD_NUMBER = re.compile(r"^#(\d+)")
_DATA = re.compile(r"^tk:(claim|xfer|to|note|close|card):(\d{1,9})(?::(\d{1,15}))?$")


# -- rendering ---------------------------------------------------------------------------------------


def when(svc: Services, moment: datetime) -> str:
    """A deadline as staff read it: HH:MM today, else with its date (12月4日 10:30; 12-04 10:30 in English)."""
    local = moment.astimezone(svc.config.tz)
    today = svc.clock.now().astimezone(svc.config.tz).date()
    if local.date() == today:
        return f"{local:%H:%M}"
    if svc.lang.startswith("en"):
        return f"{local:%m-%d %H:%M}" if local.year == today.year else f"{local:%Y-%m-%d %H:%M}"
    day = f"{local.month}月{local.day}日" if local.year == today.year else f"{local.year}年{local.month}月{local.day}日"
    return f"{day} {local:%H:%M}"


def status_label(lang: str, status: Status) -> str:
    return tr(lang, f"status_{status.value}")


def user_link(user_id: int, name: str) -> Markup:
    """A text mention of a user (PTB's helper escapes the name)."""
    return Markup(mention_html(user_id, name))


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
    return Markup("、").join(staff_mention(svc, s.user_id, s.name) for s in people)


# A member may send 4096 characters, and the card quotes the question beside its own lines: the quote and
# each note are shortened so the card always fits Telegram's 4096 (the full text: the link, /ticket N).
CARD_QUOTE = 2000
CARD_NOTE = 200


def shorten(text: str, limit: int, more: str) -> str:
    """``text`` within ``limit`` UTF-16 units, ending with ``more`` when cut."""
    if tg_len(text) <= limit:
        return text
    return split_plain(text, limit - tg_len(more))[0].rstrip() + more


def card_html(svc: Services, t: Ticket) -> Markup:
    """The card: number, topic, status, asker, group, question, link, deadlines, owner, answers, notes."""
    lang = svc.lang
    topic = svc.library.topic(t.topic).label(lang)
    kind = tr(lang, "card_kind_complaint") + " · " if t.is_complaint else ""
    lines = [Markup("#{} · {}{} · <b>{}</b>").format(t.number, kind, topic, status_label(lang, t.status))]
    if t.about is not None:
        lines.append(Markup("{}：#{}").format(tr(lang, "card_about"), t.about))
    group = t.chat_title or str(t.chat_id)
    lines.append(
        Markup("{}：{} · {}：{}").format(
            tr(lang, "card_asker"), t.asker_name or "—", tr(lang, "card_group"), group
        )
    )
    more = plain(lang, "card_more", total=len(t.text), n=t.number)
    lines.append(Markup("<blockquote>{}</blockquote>").format(shorten(t.text, CARD_QUOTE, more)))
    link = message_link(t.chat_id, t.message_id)
    if link:
        lines.append(Markup('<a href="{}">{}</a>').format(link, tr(lang, "card_link")))
    first = (
        "✓"
        if t.first_response_at is not None
        else Markup("{} {}").format(when(svc, t.first_response_due), tr(lang, "card_before"))
    )
    res = (
        "✓"
        if t.closed_at is not None
        else Markup("{} {}").format(when(svc, t.resolution_due), tr(lang, "card_before"))
    )
    lines.append(
        Markup("{}：{} · {}：{}").format(
            tr(lang, "card_first_due"), first, tr(lang, "card_resolution_due"), res
        )
    )
    if t.faq_offered:
        lines.append(faq_offer_line(svc, t))
    owner: Markup
    if t.owner_id is not None:
        owner = escape(t.owner_name)
    else:  # nobody took it: waiting, or closed by the asker's 已解决 under the FAQ offer
        owner = tr(lang, "card_self_solved" if t.status is Status.CLOSED else "card_nobody")
    if t.auto_assigned and t.owner_id is not None:
        owner += tr(lang, "card_auto")
    line = Markup("{}：{}").format(tr(lang, "card_owner"), owner)
    if t.answers:
        line += " · " + tr(lang, "card_answers", n=len(t.answers))
    lines.append(line)
    if t.is_complaint and t.owner_id is None and t.status is Status.OPEN:
        sup = Markup("、").join(staff_mention(svc, s.user_id, s.name) for s in svc.desk.roster.supervisors())
        # complaints go to them, not the owner
        lines.append(Markup("{}：{}").format(tr(lang, "card_supervisors"), sup or "—"))
    elif t.owner_id is None and t.status is Status.OPEN:
        on_duty = on_duty_html(svc, t)  # routing at intake: the topic's on-duty staff are mentioned at once
        if on_duty:
            lines.append(Markup("{}：{}").format(tr(lang, "card_on_duty"), on_duty))
    if t.outcome:
        lines.append(Markup("{}：{}").format(tr(lang, "card_outcome"), shorten(t.outcome, CARD_NOTE, "…")))
    if t.notes:
        lines.append(Markup("{}：").format(tr(lang, "card_notes")))
        lines += [
            Markup("• {}：{}").format(n.staff_name, shorten(n.text, CARD_NOTE, "…")) for n in t.notes[-5:]
        ]
    from bot.chat import assist  # lazily: assist.py imports this module

    lines += [Markup(line) for line in assist.card_lines(svc, t)]  # 智能帮办: the draft and its sources, 一类事 (HTML)
    return Markup("\n").join(lines)


def faq_offer_line(svc: Services, t: Ticket) -> Markup:
    """The card says an FAQ answer was offered (which entry; how many editorial marks it carries, which
    the member did not see) and what the asker did with it: 已解决 (self-served), 转人工, or nothing yet."""
    lang = svc.lang
    entry = svc.library.entry(t.faq_offered or "")
    question = entry.question if entry is not None else ""
    line = tr(lang, "card_faq_offered", entry=t.faq_offered or "", question=question)
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


def card_keyboard(
    lang: str, t: Ticket, extra: list[list[InlineKeyboardButton]] | None = None
) -> InlineKeyboardMarkup | None:
    """认领 while nobody owns it, 转交 once someone does (an unclaimed ticket is claimed, not handed on);
    备注 / 关闭 until closed; none once closed. ``extra``: the assistant's rows (bot/chat/assist.py)."""
    if t.status is Status.CLOSED or t.is_complaint:
        return None  # a complaint is closed by a supervisor with its outcome: /resolve N 结果
    row = []
    if t.owner_id is None:
        row.append(InlineKeyboardButton(plain(lang, "btn_claim"), callback_data=f"tk:claim:{t.number}"))
    else:
        row.append(InlineKeyboardButton(plain(lang, "btn_transfer"), callback_data=f"tk:xfer:{t.number}"))
    row.append(InlineKeyboardButton(plain(lang, "btn_note"), callback_data=f"tk:note:{t.number}"))
    row.append(InlineKeyboardButton(plain(lang, "btn_close"), callback_data=f"tk:close:{t.number}"))
    return InlineKeyboardMarkup([row, *(extra or [])])


def assisted_keyboard(svc: Services, t: Ticket) -> InlineKeyboardMarkup | None:
    """The card's keyboard with the assistant's rows (send/edit the draft, canned replies, 一类事, 存为问答)."""
    from bot.chat import assist  # lazily: assist.py imports this module

    return card_keyboard(svc.lang, t, assist.card_rows(svc, t))


def picker_keyboard(svc: Services, t: Ticket) -> InlineKeyboardMarkup:
    """The staff who could take the ticket over (everyone on the roster except the owner)."""
    rows = [
        [InlineKeyboardButton(s.name, callback_data=f"tk:to:{t.number}:{s.user_id}")]
        for s in svc.desk.roster.staff
        if s.user_id != t.owner_id
    ]
    rows.append([InlineKeyboardButton(plain(svc.lang, "btn_cancel"), callback_data=f"tk:card:{t.number}")])
    return InlineKeyboardMarkup(rows)


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
    return Markup("、").join(user_link(s.user_id, s.name) for s in svc.desk.roster.supervisors()) or Markup(
        "—"
    )


# -- the desk's actions with their chat effects ----------------------------------------------------


ANSWER_MARGIN = 200  # room for the header and signature of each part (UTF-16 units)


def answer_parts(lang: str, number: int, text: str, name: str) -> list[Markup]:
    """The answer as the group shows it: one message, or parts of at most 4096 UTF-16 units each."""
    if tg_len(text) + ANSWER_MARGIN <= MAX_MESSAGE:
        return [tr(lang, "answer_html", n=number, text=text, name=name)]
    pieces = split_plain(text, MAX_MESSAGE - ANSWER_MARGIN)
    k = len(pieces)
    return [
        tr(
            lang,
            "answer_last_part_html" if i == k else "answer_part_html",
            n=number,
            i=i,
            k=k,
            text=piece,
            name=name,
        )
        for i, piece in enumerate(pieces, 1)
    ]


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


def complain_keyboard(lang: str, number: int) -> InlineKeyboardMarkup:
    """投诉 under an answer: the asker's complaint about ticket ``number`` (bot/chat/complaints.py)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(plain(lang, "btn_complain"), callback_data=f"cp:{number}")]]
    )


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


async def on_card_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """认领 / 转交 / 备注 / 关闭 on a card: the desk decides, the card is edited in place."""
    svc = services(context)
    query = update.callback_query
    if query is None or query.data is None:
        return
    m = _DATA.match(query.data)
    if m is None:
        await answer_query(query)
        return
    action, number, extra = m.group(1), int(m.group(2)), m.group(3)
    user = query.from_user.id
    lang = svc.lang
    try:
        if not svc.desk.roster.is_staff(user):
            raise NotStaff()
        t = svc.desk.get(number)
        if action == "claim":
            t = svc.desk.claim(number, by=user, now=svc.clock.now())
            await refresh_card(svc, t)
            await answer_query(query, plain(lang, "claimed_ok", n=number))
        elif action == "xfer":
            svc.desk.check_may_transfer(t, user)
            if t.card_message_id is not None:
                await svc.outbox.edit(
                    svc.config.chats.staff,
                    t.card_message_id,
                    card_html(svc, t) + "\n\n" + tr(lang, "pick_owner", n=number),
                    keyboard=picker_keyboard(svc, t),
                )
            await answer_query(query)
        elif action == "to" and extra is not None:
            svc.desk.check_may_transfer(t, user)
            target = svc.desk.roster.get(int(extra))
            name = target.name if target else extra
            await refresh_card(svc, t)
            await _prompt(
                svc,
                query,
                tr(lang, "transfer_prompt", n=number, name=name),
                Prompt("transfer", number, user, int(extra)),
            )
            await answer_query(query)
        elif action == "note":
            await _prompt(svc, query, tr(lang, "note_prompt", n=number), Prompt("note", number, user))
            await answer_query(query)
        elif action == "close":
            await close_ticket(svc, number, user)
            await answer_query(query, plain(lang, "closed_ok", n=number))
        else:  # card: back to the card's own buttons
            await refresh_card(svc, t)
            await answer_query(query)
    except DeskError as exc:
        log.info("card button %s by %s refused: %s", query.data, user, exc.code)
        await answer_query(query, error_text(lang, exc).unescape(), show_alert=True)


# -- replies in the staff chat ------------------------------------------------------------------------


async def on_staff_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to a card answers the ticket; a reply to a prompt gives a note or a transfer reason."""
    svc = services(context)
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
                        reason=shorten(msg.text.strip(), CARD_QUOTE, "…"),  # within 4096
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


def _queue_lines(svc: Services, tickets: list[Ticket]) -> list[str]:
    lang = svc.lang
    now = svc.clock.now()
    out = []
    for t in tickets:
        first = t.first_response_at is None
        due = t.first_response_due if first else t.resolution_due
        overdue = plain(lang, "queue_overdue") if now >= due else ""
        text = t.text if len(t.text) <= 30 else t.text[:29] + "…"
        out.append(
            plain(
                lang,
                "queue_line",
                overdue=overdue,
                n=t.number,
                topic=svc.library.topic(t.topic).label(lang),
                status=status_label(lang, t.status),
                owner=t.owner_name or plain(lang, "card_nobody"),
                due_label=plain(lang, "due_first" if first else "due_resolution"),
                due=when(svc, due),
                text=text,
            )
        )
    return out


async def _reply_tickets(svc: Services, msg: Message, tickets: list[Ticket], empty: str, title: str) -> None:
    """A ticket list (or the empty text) as a reply, split within Telegram's limit."""
    if not tickets:
        await msg.reply_text(tr(svc.lang, empty))
        return
    text = plain(svc.lang, title, n=len(tickets)) + "\n" + "\n".join(_queue_lines(svc, tickets))
    await svc.outbox.send_long(msg.chat_id, text, reply_to=msg.message_id)


async def on_queue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/queue: open tickets, the most urgent deadline first."""
    svc = services(context)
    guard = await _staff_guard(update, svc)
    if guard is not None:
        await _reply_tickets(svc, guard[0], svc.desk.queue(), "queue_empty", "queue_title")


async def on_mine(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mine: the tickets I own, by deadline."""
    svc = services(context)
    guard = await _staff_guard(update, svc)
    if guard is not None:
        msg, user = guard
        await _reply_tickets(svc, msg, svc.desk.mine(user), "mine_empty", "mine_title")


def history_text(svc: Services, t: Ticket) -> str:
    """/ticket N: the ticket and its audit trail, who and when (plain text)."""
    lang = svc.lang
    names = {s.user_id: s.name for s in svc.desk.roster.staff}
    if t.asker_id:
        names.setdefault(t.asker_id, t.asker_name)
    lines = [
        plain(
            lang,
            "history_title",
            n=t.number,
            topic=svc.library.topic(t.topic).label(lang),
            status=status_label(lang, t.status),
            asker=t.asker_name or "—",
            text=t.text,
        )
    ]
    for e in t.events:
        who = "🤖" if e.actor_id is None else names.get(e.actor_id, str(e.actor_id))
        detail = _event_detail(svc, e.kind.value, e.details, names)
        stamp = e.at.astimezone(svc.config.tz).strftime("%m-%d %H:%M")
        lines.append(f"{stamp} {plain(lang, f'event_{e.kind.value}')} · {who}{detail}")
    return "\n".join(lines)


def _event_detail(svc: Services, kind: str, d: dict[str, Any], names: dict[int, str]) -> str:
    if kind == "transferred":
        to = d.get("to_id")
        return f" → {names.get(to, str(to)) if isinstance(to, int) else to}：{d.get('reason', '')}"
    if kind == "assigned":
        to = d.get("to_id")
        return f" → {names.get(to, str(to)) if isinstance(to, int) else to}"
    if kind == "rated":
        try:
            r = Rating(str(d.get("rating")))
        except ValueError:
            return ""
        return "：" + plain(svc.lang, f"rating_{r.value}")
    if kind in ("warned", "escalated") and d.get("deadline"):
        return (
            f"（{plain(svc.lang, 'due_first' if d['deadline'] == 'first_response' else 'due_resolution')}）"
        )
    if kind == "reopened" and d.get("reason"):
        # the desk records stable words ("unsatisfied", "asker replied"); shown in the configured language
        reason = str(d["reason"])
        key = {
            "unsatisfied": "reopen_unsatisfied",
            "asker replied": "reopen_asker_replied",
            "staff": "reopen_staff",
        }.get(reason)
        return f"（{plain(svc.lang, key) if key else reason}）"
    return ""


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


async def on_ticket(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ticket 128: the ticket's history from its audit events."""
    svc = services(context)
    guard = await _staff_guard(update, svc)
    if guard is None:
        return
    msg, _ = guard
    number = one_ticket_number(context.args)
    if number is None:
        await msg.reply_text(tr(svc.lang, "ticket_usage"))
        return
    try:
        t = svc.desk.get(number)
    except DeskError as exc:
        await msg.reply_text(error_text(svc.lang, exc))
        return
    await svc.outbox.send_long(msg.chat_id, history_text(svc, t), reply_to=msg.message_id)


async def on_reopen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reopen 128: an answered or closed ticket back to work (owner or supervisor; recorded)."""
    svc = services(context)
    guard = await _staff_guard(update, svc)
    if guard is None:
        return
    msg, user = guard
    number = one_ticket_number(context.args)
    if number is None:
        await msg.reply_text(tr(svc.lang, "reopen_usage"))
        return
    try:
        t = svc.desk.reopen(number, by=user, now=svc.clock.now(), reason="staff")
    except DeskError as exc:
        log.info("/reopen by %s refused: %s", user, exc.code)
        await msg.reply_text(error_text(svc.lang, exc))
        return
    await refresh_card(svc, t)
    await msg.reply_text(tr(svc.lang, "reopened_ok", n=t.number, due=when(svc, t.resolution_due)))


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:g}%"


def _minutes(lang: str, v: float | None) -> str:
    """A median in minutes, or "none yet" when no ticket got that far (never "— 分钟")."""
    return plain(lang, "stats_none") if v is None else plain(lang, "stats_minutes", v=f"{v:g}")


def stats_text(svc: Services, now: datetime, days: int = 7) -> str:
    from bot.chat import assist  # lazily: assist.py imports this module

    text = format_stats(svc.lang, svc.library, svc.desk.stats(now, days), days=days)
    drafts = assist.stats_line(svc, now - timedelta(days=days), now)  # sent as-is / edited / ignored
    return f"{text}\n{drafts}" if drafts else text


def format_stats(lang: str, library: FaqLibrary, s: Stats, *, days: int | None = None) -> str:
    """/stats' text for the figures ``s``: titled by ``days`` (the last N days), else by its dates.

    ``servicebot stats`` prints the same text for any period (bot/cli.py).
    """
    if days is not None:
        title = plain(lang, "stats_title", days=days, count=s.count, open=s.open, closed=s.closed)
    else:
        last = s.until - timedelta(microseconds=1)  # the period ends before ``until``
        title = plain(
            lang,
            "stats_title_period",
            start=f"{s.since:%Y-%m-%d}",
            end=f"{last:%Y-%m-%d}",
            count=s.count,
            open=s.open,
            closed=s.closed,
        )
    lines = [
        title,
        plain(
            lang,
            "stats_times",
            first=_minutes(lang, s.median_first_response_minutes),
            res=_minutes(lang, s.median_resolution_minutes),
        ),
        plain(
            lang, "stats_sla", first=_pct(s.first_response_met_percent), res=_pct(s.resolution_met_percent)
        ),
    ]
    if s.by_topic:
        lines.append(plain(lang, "stats_topics"))
        for ts in s.by_topic:
            lines.append(
                f"• {library.topic(ts.topic).label(lang)}：{ts.count}（{_pct(ts.sla_met_percent)}）"
            )
    if s.faq_offered:
        lines.append(plain(lang, "stats_faq", offered=s.faq_offered, solved=s.self_served, human=s.human_requested))
    if s.complaints:
        lines.append(
            plain(
                lang,
                "stats_complaints",
                count=s.complaints,
                closed=s.complaints_closed,
                met=_pct(s.complaints_met_percent),
            )
        )
    if s.ratings:
        shown = "、".join(
            plain(lang, f"rating_{k}") + f" {v}"
            for k, v in sorted(s.ratings.items())
            if k in {r.value for r in Rating}
        )
        lines.append(plain(lang, "stats_ratings", ratings=shown))
    return "\n".join(lines)


async def on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: the last 7 days — count, median times, SLA met %, by topic."""
    svc = services(context)
    guard = await _staff_guard(update, svc)
    if guard is None:
        return
    msg, _ = guard
    await svc.outbox.send_long(msg.chat_id, stats_text(svc, svc.clock.now()), reply_to=msg.message_id)


async def on_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reply 128 text: answer a ticket without replying to its card."""
    svc = services(context)
    guard = await _staff_guard(update, svc)
    if guard is None:
        return
    msg, user = guard
    parsed = number_and_text(msg.text)
    if parsed is None:
        await msg.reply_text(tr(svc.lang, "reply_usage"))
        return
    number, text = parsed
    try:
        t = await answer_ticket(svc, context.bot, number, user, text)
    except DeskError as exc:
        log.info("/reply %s by %s refused: %s", number, user, exc.code)
        await msg.reply_text(error_text(svc.lang, exc))
        return
    await msg.reply_text(tr(svc.lang, "answered_ok", n=t.number))
