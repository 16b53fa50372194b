"""The editors' side's shared pieces: states and filters, the conversation's Turn and the @step /
@command wrappers, names (digests, sections, states, people), the item's card and one-line summary,
drafts in memory. Used by bot/chat/editor_flow.py (the /new conversation) and bot/chat/editors.py
(the commands)."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from telegram import CallbackQuery, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.ext import (
    ContextTypes,
    ConversationHandler,
    filters,
)

from bot.chat.callbacks import EDITOR_DIGEST, EDITOR_SECTION
from bot.chat.context import Services, services
from bot.chat.outbox import html_to_plain, tg_len
from bot.config import Config
from bot.editorial.content import SECTION_ALIASES
from bot.editorial.model import HistoryEntry, ItemSlot, QueueItem
from bot.texts import escape, has, plain, tr
from bot.texts.measure import shorten

log = logging.getLogger(__name__)

#: Handler group of every editors' handler: before the desk's (0), see the module docstring.
# every command of the editors' desk (app.py refuses them politely outside the editors chat and private chats)
COMMANDS = ("new", "announce", "edit", "item", "approve", "withdraw", "preview", "reload")

DIGEST, SECTION, TEXT, LINK, FIRST, UNTIL, ANNOUNCE_WHEN, ANNOUNCE_TEXT, EDIT_TEXT = range(9)
END = ConversationHandler.END

_SLOT_ALIASES: dict[str, ItemSlot] = {
    "morning": "morning",
    "早知道": "morning",
    "服务早知道": "morning",
    "tea": "tea",
    "下午茶": "tea",
    "生活下午茶": "tea",
}
_DRAFTS = "editor_drafts"


# --- filters: where the editors' handlers listen ------------------------------------------------


@dataclass(frozen=True)
class EditorFilters:
    """``desk``: the editors chat or any private chat (non-editors there are refused politely);
    ``queue``: the editors chat, or a private chat with a rostered editor; ``forward``: a forwarded
    message in the editors chat, or privately from a rostered editor."""

    desk: filters.BaseFilter
    queue: filters.BaseFilter
    forward: filters.BaseFilter

    @classmethod
    def of(cls, config: Config) -> EditorFilters:
        editors_chat = filters.Chat(chat_id=config.chats.editors)
        rostered = filters.User(user_id=config.editor_ids)
        private_editor = filters.ChatType.PRIVATE & rostered
        return cls(
            desk=editors_chat | filters.ChatType.PRIVATE,
            queue=editors_chat | private_editor,
            forward=filters.FORWARDED & (editors_chat | private_editor),
        )


def next_run_day(svc: Services, slot: ItemSlot, now: datetime) -> date:
    """The date of the next issue of ``slot`` that has not gone out yet (today if its time is ahead)."""
    if slot == "announcement":
        return now.date()
    return svc.schedule.next_run_day(slot, now)


# --- small helpers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One editor's message or button press in the editors' conversation."""

    svc: Services
    msg: Message
    chat: Chat
    user: User
    context: ContextTypes.DEFAULT_TYPE
    update: Update

    @property
    def query(self) -> CallbackQuery:
        assert self.update.callback_query is not None
        return self.update.callback_query


StepFn = Callable[[Turn], Awaitable[int]]


def step(fn: StepFn) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, int]]:
    """A step of the conversation: ``fn`` gets the :class:`Turn` and returns the next state (an update
    without a message, chat or user — or a button press without data — ends the conversation)."""

    @functools.wraps(fn)
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        msg, chat, user = update.effective_message, update.effective_chat, update.effective_user
        if msg is None or chat is None or user is None:
            return END
        if update.callback_query is not None and update.callback_query.data is None:
            return END
        return await fn(Turn(services(context), msg, chat, user, context, update))

    return handler


class _Done(Exception):
    """A command answered already (a refusal, a usage line): nothing more to do."""


CommandFn = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def command(fn: CommandFn) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """An editors' command: :func:`_editor_message` and :func:`_item_arg` end it early with :class:`_Done`."""

    @functools.wraps(fn)
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        with contextlib.suppress(_Done):
            await fn(update, context)

    return handler


def _digest_name(svc: Services, digest: ItemSlot) -> str:
    return plain(svc.lang, f"digest_{digest}")


def _section_name(svc: Services, digest: ItemSlot, key: str | None) -> str:
    if not key:
        return ""
    cfg = svc.publisher.digest_config(digest) if digest in ("morning", "tea") else None  # type: ignore[arg-type]
    for s in cfg.sections if cfg is not None else ():
        if s.key == key and s.title:
            return s.title
    try:
        heading = svc.publisher.templates.sections.get(key)
    except Exception:
        heading = None
    if heading:
        return heading
    zh = next((name for name, k in SECTION_ALIASES.items() if k == key), key)
    return key if svc.lang == "en" else zh


def _state_name(svc: Services, item: QueueItem) -> str:
    return plain(svc.lang, f"item_status_{item.status}")


def content_path(svc: Services, path: str) -> str:
    """A queue file as editors know it: relative to the content folder ("queue/x.md"), never the server's
    absolute path. Items keep their file name relative to content/queue; the first read logs the full path."""
    if not path:
        return ""
    p = Path(path)
    if not p.is_absolute():
        return (Path("queue") / p).as_posix()
    try:
        return p.resolve().relative_to(svc.config.content_dir.resolve()).as_posix()
    except ValueError:
        return p.name


def _action_name(svc: Services, action: str) -> str:
    key = f"action_{action}"
    return plain(svc.lang, key) if has(key) else action


_STATUS_CHANGE = re.compile(r"^status (\w+) -> (\w+)$")
_MISSED = re.compile(r"^missed by (.+)$")
_UNTIL = re.compile(r"^until (\d{4}-\d{2}-\d{2})$")


def _history_detail(svc: Services, h: HistoryEntry) -> str:
    """The detail of a history line in the configured language: paths relative, field names translated.

    The store keeps the details as the rules wrote them (stable words); they are rendered here."""
    lang, d = svc.lang, h.detail.strip()
    if not d:
        return ""
    if h.action in ("read", "loaded"):
        shown = content_path(svc, d)
    elif h.action == "withdrawn" and d == "file removed":
        shown = plain(lang, "detail_file_removed")
    elif h.action == "expired" and (m := _MISSED.match(d) or _UNTIL.match(d)):
        key = "detail_missed" if d.startswith("missed") else "detail_until"
        shown = plain(lang, key, delay=m.group(1), day=m.group(1))
    elif h.action in ("edited", "reloaded"):
        words = []
        for part in re.split(r"[;,]\s*", d):
            if part == "back to draft (four-eyes)":
                words.append(plain(lang, "detail_back_to_draft"))
            elif m := _STATUS_CHANGE.match(part):
                old, new = (
                    plain(lang, f"item_status_{x}") if has(f"item_status_{x}") else x for x in m.groups()
                )
                words.append(plain(lang, "detail_status", old=old, new=new))
            elif has(f"field_{part}"):
                words.append(plain(lang, f"field_{part}"))
            else:
                words.append(part)
        shown = "、".join(words) if lang != "en" else ", ".join(words)
    else:
        shown = d  # an editor's own words (a withdrawal reason) or a date
    return f"（{shown}）" if lang != "en" else f" ({shown})"


def _who(svc: Services, user_id: int | None) -> str:
    if user_id is None:
        return tr(svc.lang, "bot")
    for e in svc.config.people.editors:
        if e.id == user_id:
            return e.name
    for s in svc.config.people.staff:
        if s.id == user_id:
            return s.name
    return str(user_id)


def _snippet(item_html: str, limit: int = 40) -> str:
    return shorten(" ".join(html_to_plain(item_html).split()), limit)


def _fmt_when(svc: Services, when: datetime) -> str:
    return when.astimezone(svc.config.tz).strftime("%Y-%m-%d %H:%M")


def _is_editor(svc: Services, user_id: int | None) -> bool:
    return user_id is not None and user_id in svc.editorial.editors


def _draft(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> dict[str, Any]:
    """This user's unfinished item in this chat (in memory only)."""
    assert context.user_data is not None
    drafts: dict[int, dict[str, Any]] = context.user_data.setdefault(_DRAFTS, {})
    return drafts.setdefault(chat_id, {})


def _drop_draft(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    if context.user_data is not None:
        context.user_data.get(_DRAFTS, {}).pop(chat_id, None)


def _message_html(msg: Message) -> str:
    """The message's text (or caption) as Telegram HTML, formatting kept from its entities."""
    if msg.text is not None:
        return msg.text_html
    if msg.caption is not None:
        return msg.caption_html
    return ""


def _number_arg(context: ContextTypes.DEFAULT_TYPE) -> int | None:
    args = context.args or []
    if not args:
        return None
    try:
        return int(args[0].lstrip("#"))
    except ValueError:
        return None


async def _reply(msg: Message, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    await msg.reply_text(text, reply_markup=keyboard)


async def _refuse(svc: Services, msg: Message) -> None:
    # recorded (issue 7 item 8): the command only, never a forwarded message's text
    text = msg.text or ""
    action = text.split(maxsplit=1)[0][:32] if text.startswith("/") else "forward"
    who = msg.from_user.id if msg.from_user is not None else None
    log.warning("editor action %s refused: user %s is not an editor (chat %s)", action, who, msg.chat_id)
    await _reply(msg, tr(svc.lang, "error_not_editor"))


def _digest_keyboard(svc: Services) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_digest_name(svc, "morning"), callback_data=EDITOR_DIGEST.pack("morning")),
                InlineKeyboardButton(_digest_name(svc, "tea"), callback_data=EDITOR_DIGEST.pack("tea")),
            ]
        ]
    )


def _section_keyboard(svc: Services, digest: ItemSlot) -> InlineKeyboardMarkup:
    keys = [s.key for s in svc.publisher.digest_config(digest).sections]  # type: ignore[arg-type]
    buttons = [InlineKeyboardButton(_section_name(svc, digest, k), callback_data=EDITOR_SECTION.pack(k)) for k in keys]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def _summary(svc: Services, item: QueueItem) -> str:
    """One line per item for /queue and confirmations (HTML, escaped)."""
    lang = svc.lang
    if item.digest == "announcement" and item.announce_at is not None:
        dates = tr(lang, "queue_at", when=_fmt_when(svc, item.announce_at))
    elif item.until is not None:
        dates = tr(lang, "queue_range", first=item.first_date.isoformat(), until=item.until.isoformat())
    else:
        dates = tr(lang, "queue_from", day=item.first_date.isoformat())
    section = _section_name(svc, item.digest, item.section)
    return tr(
        lang,
        "editors_queue_line",
        number=item.number,
        state=f"[{_state_name(svc, item)}]",
        dates=dates,
        section=section + " · " if section else "",
        snippet=_snippet(item.html),
    )


ITEM_CARD_TEXT = 2500  # UTF-16 units of the item's text on its /item card


def _card(svc: Services, item: QueueItem) -> str:
    """Everything about one item (/item 12), HTML."""
    lang = svc.lang
    section = _section_name(svc, item.digest, item.section)
    lines: list[str] = [
        tr(
            lang,
            "item_title",
            number=item.number,
            digest=_digest_name(svc, item.digest),
            section=" · " + section if section else "",
            state=_state_name(svc, item),
        )
    ]
    if item.announce_at is not None:
        lines.append(tr(lang, "item_at", when=_fmt_when(svc, item.announce_at)))
    elif item.until is not None:
        lines.append(tr(lang, "item_dates_range", first=item.first_date, until=item.until))
    else:
        lines.append(tr(lang, "item_dates_once", first=item.first_date))
    if item.link:
        lines.append(tr(lang, "item_link", link=item.link))
    source = (
        tr(lang, "item_source_file", path=content_path(svc, item.path or ""))
        if item.origin == "file"
        else tr(lang, "item_source_chat", author=_who(svc, item.author_id))
    )
    lines.append(tr(lang, "item_source", source=source))
    if item.approver_id is not None:
        lines.append(tr(lang, "item_approver", approver=_who(svc, item.approver_id)))
    if item.published_on:
        lines.append(tr(lang, "item_published", days=", ".join(d.isoformat() for d in item.published_on)))
    # the card must fit one message with its history: a long text is shown shortened, as plain text
    body = item.html
    if tg_len(html_to_plain(body)) > ITEM_CARD_TEXT:
        body = escape(shorten(html_to_plain(body), ITEM_CARD_TEXT))
    lines += ["", body, "", tr(lang, "item_history")]
    for h in item.history[-10:]:
        lines.append(
            tr(
                lang,
                "history_line",
                when=_fmt_when(svc, h.when),
                who=_who(svc, h.who),
                action=_action_name(svc, h.action),
                detail=_history_detail(svc, h),
            )
        )
    return "\n".join(lines)


