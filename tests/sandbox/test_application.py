"""A real python-telegram-bot Application polls the sandbox over HTTP and answers a user."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from sandbox import GROUP_ID, Sandbox

from .conftest import TOKEN

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def test_application_long_polls_and_replies(sandbox: Sandbox) -> None:
    async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Reply in Chinese."""
        assert update.effective_message is not None
        await update.effective_message.reply_html("<b>您好</b>，我是服务助手")

    app = (Application.builder().token(TOKEN).base_url(sandbox.api_base).base_file_url(sandbox.file_base)
           .get_updates_read_timeout(5).build())
    app.add_handler(CommandHandler("start", on_start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=2, poll_interval=0)
        try:
            sandbox.send_user_message(101, GROUP_ID, "/start@servicebot")
            for _ in range(100):
                if len(sandbox.messages(GROUP_ID)) >= 2:
                    break
                await asyncio.sleep(0.05)
            question, answer = sandbox.messages(GROUP_ID)
            assert answer["sender_id"] == 9000 and answer["plain_text"] == "您好，我是服务助手"
            assert answer["reply_to_message_id"] == question["message_id"]
        finally:
            await app.updater.stop()
            await app.stop()
