"""What every member can do: /start, /help."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.chat.context import services
from bot.texts import t


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet and explain in one message."""
    svc = services(context)
    if update.effective_message is None:
        return
    await update.effective_message.reply_text(t(svc.lang, "start", bot_name=context.bot.first_name))


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The commands, for members, staff and editors."""
    svc = services(context)
    if update.effective_message is None:
        return
    await update.effective_message.reply_text(t(svc.lang, "help"))
