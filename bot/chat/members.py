"""What every member can do: /start, /help, /mytickets, and rating a closed question."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import ChatType

from bot.chat.callbacks import RATE
from bot.chat.cards import refresh_card, supervisors_html, tell_privately, to_staff_chat
from bot.chat.commands import help_text, set_private_menu
from bot.chat.context import BotContext
from bot.chat.outbox import answer_query
from bot.chat.views.errors import error_text
from bot.chat.views.lists import mytickets_lines
from bot.texts import plain, tr
from bot.tickets.errors import DeskError, NotAsker
from bot.tickets.model import Rating

log = logging.getLogger(__name__)


async def on_start(update: Update, context: BotContext) -> None:
    """Greet and explain in one message; staff and editors get their own "/" menu in this private chat."""
    svc = context.svc
    msg = update.effective_message
    if msg is None:
        return
    text = tr(svc.lang, "start", bot_name=context.bot.first_name, username=context.bot.username)
    await msg.reply_text(text)
    if update.effective_user is not None and msg.chat.type == ChatType.PRIVATE:
        await set_private_menu(context.bot, svc, update.effective_user.id)


async def on_help(update: Update, context: BotContext) -> None:
    """The commands of the roles this person has, here (members see members' commands)."""
    svc = context.svc
    msg = update.effective_message
    user = update.effective_user
    if msg is None or user is None:
        return
    text = help_text(svc, msg.chat_id, msg.chat.type, user.id, context.bot.username)
    await msg.reply_text(text)


async def on_editor_command_elsewhere(update: Update, context: BotContext) -> None:
    """/new, /approve… outside the editors chat and private chats: a polite refusal, as /reply gets."""
    svc = context.svc
    msg = update.effective_message
    user = update.effective_user
    if msg is None or user is None:
        return
    editor = svc.config.is_editor(user.id)
    log.info("editors' command refused here: user %s, chat %s", user.id, msg.chat_id)
    await msg.reply_text(tr(svc.lang, "editors_only_here" if editor else "refused_editor"))


async def on_mytickets(update: Update, context: BotContext) -> None:
    """/mytickets (private): my questions, newest first, with their status."""
    svc = context.svc
    msg = update.effective_message
    user = update.effective_user
    if msg is None or user is None:
        return
    lang = svc.lang
    if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
        await msg.reply_text(tr(lang, "mytickets_private"))  # never list questions in a group
        return
    mine = sorted(svc.desk.repo.by_asker(user.id), key=lambda x: x.number, reverse=True)[:20]
    if not mine:
        await msg.reply_text(tr(lang, "mytickets_empty"))
        return
    lines = mytickets_lines(mine, svc.library, lang)
    await svc.outbox.send_long(msg.chat_id, "\n".join(lines), reply_to=msg.message_id)


_RATE = RATE.pattern  # bot/chat/callbacks.py


async def on_rate(update: Update, context: BotContext) -> None:
    """满意 / 基本满意 / 不满意 under a closed question: only the asker's tap counts."""
    svc = context.svc
    query = update.callback_query
    if query is None or query.data is None:
        return
    m = _RATE.match(query.data)
    if m is None:
        await answer_query(query)
        return
    lang = svc.lang
    number, rating = int(m.group(1)), Rating(m.group(2))
    try:
        tk = svc.desk.rate(number, by=query.from_user.id, rating=rating, now=svc.clock.now())
    except NotAsker:
        log.info("rating of #%s by %s refused: not the asker", number, query.from_user.id)
        await answer_query(query, plain(lang, "rate_alert_not_asker"), show_alert=True)
        return
    except DeskError as exc:
        await answer_query(query, error_text(lang, exc).unescape(), show_alert=True)
        return
    label = plain(lang, f"rating_{rating.value}")
    unsatisfied = rating is Rating.UNSATISFIED
    # 不满意 reopens the ticket: the message says so, never "closed, thank you" first
    done = (
        tr(lang, "rated_reopened", n=number, rating=label)
        if unsatisfied
        else tr(lang, "rated", n=number, rating=label)
    )
    msg = query.message
    if isinstance(msg, Message) and msg.message_id != tk.promise_message_id:
        await svc.outbox.edit(msg.chat_id, msg.message_id, done)  # an old, separate rating prompt
    await refresh_card(svc, tk)  # and the promise: 您的评价 …, or 已重新打开 after 不满意
    if unsatisfied:
        await to_staff_chat(
            svc, tk, tr(lang, "unsatisfied_staff", n=number, supervisors=supervisors_html(svc))
        )
        for s in svc.desk.roster.supervisors():
            await tell_privately(
                context.bot, s.user_id, tr(lang, "unsatisfied_staff", n=number, supervisors=s.name)
            )
    await answer_query(query, plain(lang, "rate_followup" if unsatisfied else "rate_thanks"))
