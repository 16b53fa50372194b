"""The store's reports in the ops chat: what recovery did at start, and compaction failing or healing."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.ext import Application

from bot.chat.context import services_of
from bot.texts import plain
from bot.texts.measure import shorten

#: Telegram's limit is 4096 characters a message (https://core.telegram.org/bots/api#sendmessage)
_MAX_CHARS = 3500


async def report_store(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Tell the ops chat what recovery did (if anything), and forward the store's later alerts there."""
    svc = services_of(app)
    loop = asyncio.get_running_loop()

    def forward(text: str) -> None:  # called from the store's compaction thread
        loop.call_soon_threadsafe(
            lambda: app.create_task(svc.outbox.alert(plain(svc.lang, "store_alert", text=text)))
        )

    svc.store.on_alert = forward
    lines = svc.store.recovery
    if lines:
        shown = "\n".join(f"• {line}" for line in lines)
        shown = shorten(shown, _MAX_CHARS + 1)
        await svc.outbox.alert(plain(svc.lang, "store_recovered", count=len(lines), lines=shown))
