"""Complaints and the published human path (issue 13, item 6; the MIIT customer-service guideline asks
for a visible hotline, a short way to a person, and complaint handling).

- ``/complain 内容`` (a member group or private), or the 投诉 button under an answer (the asker only),
  opens a ticket of kind complaint (bot/tickets/desk.py ``open_complaint``): it goes to the supervisors —
  its card mentions them, each is told privately — never to the question's owner, and it has its own
  deadlines (config ``service.complaint``), audit events, and an outcome.
- ``/resolve N 结果`` (a supervisor) closes it with that outcome; the member is told it.
- ``service.hotline`` is shown in /help and under every automated answer (the FAQ line of a promise).
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import ChatType

from bot.chat.callbacks import COMPLAIN
from bot.chat.cards import (
    CARD_QUOTE,
    post_card,
    refresh_card,
    supervisors_html,
    tell_privately,
    to_staff_chat,
    when,
)
from bot.chat.context import BotContext, Services
from bot.chat.outbox import answer_query
from bot.chat.staff import ticket_command
from bot.chat.views.errors import error_text
from bot.texts import Markup, plain, tr
from bot.texts.measure import shorten
from bot.tickets.errors import DeskError
from bot.tickets.model import Ticket

log = logging.getLogger(__name__)


def hotline_line(svc: Services) -> Markup:
    """ "人工热线：0312-…", or "" when ``service.hotline`` is not configured."""
    hotline = svc.config.service.hotline.strip()
    return tr(svc.lang, "hotline_line", hotline=hotline) if hotline else Markup()


def _about(svc: Services, t: Ticket) -> Markup:
    return (
        tr(svc.lang, "aside", text=Markup("{} #{}").format(tr(svc.lang, "card_about"), t.about))
        if t.about is not None
        else Markup()
    )


async def _route(svc: Services, t: Ticket) -> None:
    """The new complaint's card in the staff chat (mentioning the supervisors), and each supervisor privately."""
    t = await post_card(svc, t)
    await to_staff_chat(
        svc,
        t,
        tr(
            svc.lang,
            "complaint_staff_html",
            n=t.number,
            about=_about(svc, t),
            supervisors=supervisors_html(svc),
        ),
    )
    text = tr(
        svc.lang,
        "complaint_private",
        n=t.number,
        about=_about(svc, t),
        text=shorten(t.text, CARD_QUOTE),
        due=when(svc, t.resolution_due),
    )
    for s in svc.desk.roster.supervisors():
        await tell_privately(svc.outbox.bot, s.user_id, text)


def _received(svc: Services, t: Ticket) -> Markup:
    lines = [tr(svc.lang, "complain_received", n=t.number, due=when(svc, t.first_response_due))]
    if hotline_line(svc):
        lines.append(hotline_line(svc))
    return Markup("\n").join(lines)


async def on_complain(update: Update, context: BotContext) -> None:
    """/complain 内容 — in a member group or in private ("/complain #12 …" links the complaint to #12)."""
    svc = context.svc
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    parts = (message.text or "").split(maxsplit=1)
    text = parts[1].strip() if len(parts) > 1 else ""
    about = None
    first = text.split(maxsplit=1)[0] if text else ""
    if first.startswith("#") and first[1:].isdigit():
        about = int(first[1:])
    if about is not None and not any(ch.isalnum() for ch in text[len(first):]):
        text = ""  # "/complain #12" says nothing about what went wrong
    if not text:
        await message.reply_text(tr(svc.lang, "complain_usage"))
        return
    chat = message.chat
    try:
        t = svc.desk.open_complaint(
            chat_id=chat.id, message_id=message.message_id, asker_id=user.id, asker_name=user.full_name,
            text=text, now=svc.clock.now(), about=about,
            thread_id=message.message_thread_id if message.is_topic_message else None,
            chat_title=chat.title or ("私聊" if chat.type == ChatType.PRIVATE else ""),
        )
    except DeskError as exc:
        await message.reply_text(error_text(svc.lang, exc))
        return
    log.info("complaint #%s opened by %s (about %s)", t.number, user.id, t.about)
    if t.card_message_id is None:  # a redelivered /complain: routed already
        await _route(svc, t)
    await svc.outbox.send(
        chat.id,
        _received(svc, t),
        reply_to=message.message_id,
        thread_id=t.thread_id,
        quiet=True,
    )


async def on_complain_button(update: Update, context: BotContext) -> None:
    """投诉 under an answer: the asker's complaint about that ticket (once per answer message)."""
    svc = context.svc
    query = update.callback_query
    match = COMPLAIN.pattern.match(query.data) if query is not None and query.data is not None else None
    if query is None or match is None:
        if query is not None:
            await answer_query(query)
        return
    number = int(match["number"])
    msg = query.message
    lang = svc.lang
    try:
        asked = svc.desk.get(number)
        if query.from_user.id != asked.asker_id or not isinstance(msg, Message):
            await answer_query(query, plain(lang, "only_asker"), show_alert=True)
            return
        t = svc.desk.open_complaint(
            chat_id=msg.chat_id,
            message_id=msg.message_id,
            asker_id=query.from_user.id,
            asker_name=query.from_user.full_name,
            text=tr(lang, "complain_from_button", about=number),
            now=svc.clock.now(),
            about=number,
            thread_id=asked.thread_id,
            chat_title=asked.chat_title,
        )
    except DeskError as exc:
        await answer_query(query, error_text(lang, exc).unescape(), show_alert=True)
        return
    if t.card_message_id is None:
        await _route(svc, t)
    await answer_query(query, _received(svc, t), show_alert=True)


async def on_resolve(update: Update, context: BotContext) -> None:
    """/resolve N 结果 — a supervisor closes complaint N with its outcome; the member is told."""
    svc = context.svc
    cmd = await ticket_command(update, context, "resolve_usage", with_text=True)
    if cmd is None:
        return
    try:
        t = svc.desk.resolve_complaint(cmd.number, by=cmd.user, outcome=cmd.text, now=svc.clock.now())
    except DeskError as exc:
        await cmd.refused(svc, exc)
        return
    await refresh_card(svc, t)
    outcome = tr(svc.lang, "complaint_outcome", n=t.number, outcome=t.outcome)
    if t.chat_id:
        await svc.outbox.send(t.chat_id, outcome, reply_to=t.message_id, thread_id=t.thread_id)
    await cmd.msg.reply_text(tr(svc.lang, "resolved_ok", n=t.number))
