"""Small pieces every view uses: times as people read them, status names, mentions, message links."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from telegram.helpers import mention_html

from bot.texts import Markup, lang_of, tr
from bot.tickets.model import Status

__all__ = ["message_link", "status_label", "user_link", "when"]


_LOCALES = {"zh": "zh_CN", "en": "en_GB"}  # Babel's locale for each catalogue language (bot/texts)


def when(moment: datetime, lang: str, tz: ZoneInfo, now: datetime, *, weekday: bool = False) -> str:
    """A deadline as people read it: HH:MM on the day of ``now``, else with its date (12月4日 10:30; 12-04
    10:30 in English). ``weekday``: the date as members read it, with its weekday, from Babel's CLDR data
    (11月30日周一 10:00; Mon 30 Nov 10:00), so "next Monday" is plain without a calendar."""
    local = moment.astimezone(tz)
    today = now.astimezone(tz).date()
    if local.date() == today:
        return f"{local:%H:%M}"
    if weekday:  # a promise's deadline is days away: no year, even across New Year
        return f"{format_skeleton('MMMdE', local, locale=_LOCALES[lang_of(lang)])} {local:%H:%M}"
    if lang.startswith("en"):
        return f"{local:%m-%d %H:%M}" if local.year == today.year else f"{local:%Y-%m-%d %H:%M}"
    day = f"{local.month}月{local.day}日" if local.year == today.year else f"{local.year}年{local.month}月{local.day}日"
    return f"{day} {local:%H:%M}"


def status_label(lang: str, status: Status) -> Markup:
    return tr(lang, f"status_{status.value}")


def user_link(user_id: int, name: str) -> Markup:
    """A text mention of a user (PTB's helper escapes the name)."""
    return Markup(mention_html(user_id, name))


def message_link(chat_id: int, message_id: int) -> str | None:
    """t.me/c/<id without -100>/<message id> for a supergroup message; None for other chats.

    The same link ``telegram.Message.link`` gives for a supergroup without a username; a ticket keeps
    only the chat and message ids, not the Message, so the link is built from them."""
    raw = str(chat_id)
    if not raw.startswith("-100"):
        return None
    return f"https://t.me/c/{raw[4:]}/{message_id}"
