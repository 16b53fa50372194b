"""`servicebot discover`: print the id, type and title of every chat and user that messages the bot."""

from __future__ import annotations

import asyncio

from telegram import Bot, Update


def _describe(update: Update) -> list[str]:
    lines = []
    chat = update.effective_chat
    user = update.effective_user
    if chat is not None:
        lines.append(f"chat  {chat.id:>16}  {chat.type:<10}  {chat.title or chat.full_name or ''}")
    if user is not None:
        name = user.full_name + (f" @{user.username}" if user.username else "")
        lines.append(f"user  {user.id:>16}  {'bot' if user.is_bot else 'person':<10}  {name}")
    return lines


async def discover(token: str, base_url: str, seconds: float = 60.0) -> None:
    """Poll for ``seconds`` and print each chat and user once, ready to paste into config.yaml."""
    seen: set[str] = set()
    async with Bot(token, base_url=base_url) as bot:
        me = await bot.get_me()
        print(f"bot   {me.id:>16}  @{me.username}  — send it a message (or add it to a group and write there)")
        await bot.delete_webhook()
        offset = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            timeout = max(1, min(20, int(deadline - loop.time())))
            for update in await bot.get_updates(offset=offset, timeout=timeout):
                offset = update.update_id + 1
                for line in _describe(update):
                    if line not in seen:
                        seen.add(line)
                        print(line, flush=True)
