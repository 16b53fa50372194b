"""The editors' queue in Telegram: /new (and forwarded messages), /announce, /edit, /queue, /item,
/approve, /withdraw, /preview, /reload. Rules live in bot.editorial; storage in bot.store.queue.

Where it works: the editors chat (anyone in it is checked against the roster) and private chats. In a
private chat /queue and forwarded messages are taken only from rostered editors (``people.editors``),
so a staff member's /queue and a member's forwarded question still reach the desk.

app.py registers these handlers first in group 0, before the desk's: within a group the first handler
that takes an update is the only one (PTB's Application.process_update), so an editor's private reply
inside the /new flow never also becomes a ticket — no handler group of their own, no
``ApplicationHandlerStop``. Each step of the conversation is a :func:`step` (the update's message,
chat and user as one :class:`Turn`); each command a :func:`command`; ``/skip`` has its own handlers.

The /new conversation is keyed per chat *and* per user (two editors can queue at once in the editors
chat). Its state lives in memory and does not survive a restart (the editor starts again with /new);
what it creates is stored durably in the queue the moment it is confirmed.

Dates an editor may type: ``YYYY-MM-DD``, ``M月D日``, 今天/明天/后天, today/tomorrow; for the first
date also 下次/next, and /skip means the next issue of the slot. Announcement times:
``YYYY-MM-DD HH:MM``, ``明天 09:30``, or ``HH:MM`` (today), in the configured time zone.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from telegram import CallbackQuery, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.chat.callbacks import EDITOR_DIGEST, EDITOR_SECTION
from bot.chat.context import Services, services
from bot.chat.editor_jobs import reload_content
from bot.chat.outbox import answer_query, html_to_plain, split_plain, tg_len
from bot.chat.views.errors import error_text
from bot.config import Config
from bot.editorial.content import SECTION_ALIASES
from bot.editorial.model import HistoryEntry, ItemSlot, QueueItem
from bot.editorial.rules import EditorialError, InvalidTransition, approve, create_item, edit, withdraw
from bot.texts import Markup, escape, has, plain, tr

__all__ = [
    "COMMANDS",
    "EditorFilters",
    "conversation",
    "next_run_day",
    "on_approve",
    "on_item",
    "on_preview",
    "on_queue",
    "on_reload",
    "on_withdraw",
    "parse_day",
    "parse_when",
]

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


# --- parsing what editors type -------------------------------------------------------------------

_WORD_DAYS = {"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2}
_CN_DAY = re.compile(r"^(\d{1,2})月(\d{1,2})[日号]?$")
_WHEN_ISO = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})[ T]+(\d{1,2})[:：](\d{2})$")
_WHEN_WORD = re.compile(r"^(今天|明天|后天|today|tomorrow)\s*(\d{1,2})[:：](\d{2})$", re.IGNORECASE)
_WHEN_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})$")


def parse_day(text: str, today: date) -> date | None:
    """``YYYY-MM-DD``, ``M月D日`` (this year, or next if it has passed), 今天/明天/后天, today/tomorrow."""
    s = text.strip().lower()
    if s in _WORD_DAYS:
        return today + timedelta(days=_WORD_DAYS[s])
    m = _CN_DAY.match(s)
    try:
        if m:
            day = date(today.year, int(m.group(1)), int(m.group(2)))
            return day if day >= today else date(today.year + 1, day.month, day.day)
        y, mo, d = (int(x) for x in s.split("-"))
        return date(y, mo, d)
    except ValueError:
        return None


def parse_when(text: str, now: datetime) -> datetime | None:
    """An announcement time in ``now``'s zone: ``YYYY-MM-DD HH:MM``, ``明天 09:30``, ``HH:MM`` (today)."""
    s = text.strip()
    day: date | None
    if (m := _WHEN_ISO.match(s)) or (m := _WHEN_WORD.match(s)):
        day, hh, mm = parse_day(m.group(1), now.date()), m.group(2), m.group(3)
    elif m := _WHEN_TIME.match(s):
        day, hh, mm = now.date(), m.group(1), m.group(2)
    else:
        return None
    if day is None or not (0 <= int(hh) <= 23 and 0 <= int(mm) <= 59):
        return None
    return datetime.combine(day, time(int(hh), int(mm)), tzinfo=now.tzinfo)


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
    plain = " ".join(html_to_plain(item_html).split())
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"


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
        body = escape(split_plain(html_to_plain(body), ITEM_CARD_TEXT)[0].rstrip() + "…")
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


# --- /new, forwarded messages, /announce, /edit: one conversation --------------------------------


@step
async def on_new(turn: Turn) -> int:
    """Start a queue item: pick the digest first."""
    return await _start_item(turn, None)


@step
async def on_forwarded(turn: Turn) -> int:
    """A forwarded message becomes the text of a new draft: pick the digest."""
    return await _start_item(turn, _message_html(turn.msg))


async def _start_item(turn: Turn, text_html: str | None) -> int:
    svc, msg, chat, context = turn.svc, turn.msg, turn.chat, turn.context
    if not _is_editor(svc, turn.user.id):
        await _refuse(svc, msg)
        return END
    draft = _draft(context, chat.id)
    draft.clear()
    if text_html and text_html.strip():
        draft["html"] = text_html
    await _reply(msg, tr(svc.lang, "pick_digest"), _digest_keyboard(svc))
    return DIGEST


@step
async def on_pick_digest(turn: Turn) -> int:
    """Digest button: show the slot's sections."""
    svc, chat, context, query = turn.svc, turn.chat, turn.context, turn.query
    await answer_query(query)
    digest: ItemSlot = "tea" if context.match is not None and context.match["digest"] == "tea" else "morning"
    _draft(context, chat.id)["digest"] = digest
    if isinstance(query.message, Message):
        await query.edit_message_text(
            tr(svc.lang, "pick_section", digest=_digest_name(svc, digest)),
            reply_markup=_section_keyboard(svc, digest),
        )
    return SECTION


@step
async def on_pick_section(turn: Turn) -> int:
    """Section button: ask for the text (or, for a forwarded message, straight for the link)."""
    svc, chat, context, query = turn.svc, turn.chat, turn.context, turn.query
    await answer_query(query)
    draft = _draft(context, chat.id)
    draft["section"] = context.match["section"] if context.match is not None else ""
    digest: ItemSlot = draft.get("digest", "morning")
    chosen = Markup("{} · {}").format(_digest_name(svc, digest), _section_name(svc, digest, draft["section"]))
    await query.edit_message_text(chosen)
    if "html" in draft:
        await context.bot.send_message(chat.id, tr(svc.lang, "ask_link"))
        return LINK
    await context.bot.send_message(chat.id, tr(svc.lang, "ask_text"))
    return TEXT


@step
async def on_text(turn: Turn) -> int:
    """The item's text, formatting kept as Telegram HTML."""
    svc, msg, chat, context = turn.svc, turn.msg, turn.chat, turn.context
    _draft(context, chat.id)["html"] = _message_html(msg)
    await _reply(msg, tr(svc.lang, "ask_link"))
    return LINK


@step
async def on_link(turn: Turn) -> int:
    """An http(s) link."""
    text = (turn.msg.text or "").strip()
    if not re.match(r"^https?://\S+$", text):
        await _reply(turn.msg, tr(turn.svc.lang, "bad_link"))
        return LINK
    return await _ask_first(turn, text)


@step
async def on_skip_link(turn: Turn) -> int:
    """/skip: no link."""
    return await _ask_first(turn, None)


async def _ask_first(turn: Turn, link: str | None) -> int:
    draft = _draft(turn.context, turn.chat.id)
    draft["link"] = link
    nxt = next_run_day(turn.svc, draft.get("digest", "morning"), turn.svc.clock.now())
    await _reply(turn.msg, tr(turn.svc.lang, "ask_first", next=nxt.isoformat()))
    return FIRST


@step
async def on_skip_first_date(turn: Turn) -> int:
    """/skip: the next issue of the slot."""
    return await _first_date(turn, "next")


@step
async def on_first_date(turn: Turn) -> int:
    """First date (下次: the next issue of the slot)."""
    return await _first_date(turn, (turn.msg.text or "").strip())


async def _first_date(turn: Turn, text: str) -> int:
    svc, msg, chat, context = turn.svc, turn.msg, turn.chat, turn.context
    draft = _draft(context, chat.id)
    now = svc.clock.now()
    if text.lower() in ("next", "下次", "下一期"):
        day: date | None = next_run_day(svc, draft.get("digest", "morning"), now)
    else:
        day = parse_day(text, now.date())
    if day is None:
        await _reply(msg, tr(svc.lang, "bad_date", text=text))
        return FIRST
    if day < now.date():
        await _reply(msg, tr(svc.lang, "date_past", day=day.isoformat()))
        return FIRST
    draft["first"] = day
    await _reply(msg, tr(svc.lang, "ask_until"))
    return UNTIL


@step
async def on_until(turn: Turn) -> int:
    """End date; then the item is stored as a draft."""
    text = (turn.msg.text or "").strip()
    until = parse_day(text, turn.svc.clock.now().date())
    if until is None:
        await _reply(turn.msg, tr(turn.svc.lang, "bad_date", text=text))
        return UNTIL
    return await _store(turn, until)


@step
async def on_skip_until(turn: Turn) -> int:
    """/skip: no end date (runs once)."""
    return await _store(turn, None)


async def _store(turn: Turn, until: date | None) -> int:
    await _create(turn.svc, turn.msg, turn.user.id, _draft(turn.context, turn.chat.id), until=until)
    _drop_draft(turn.context, turn.chat.id)
    return END


async def _create(
    svc: Services,
    msg: Message,
    actor: int,
    draft: dict[str, Any],
    *,
    until: date | None = None,
    announce_at: datetime | None = None,
) -> None:
    now = svc.clock.now()
    digest: ItemSlot = "announcement" if announce_at is not None else draft.get("digest", "morning")

    def build(number: int) -> QueueItem:
        return create_item(
            svc.editorial,
            number=number,
            actor=actor,
            digest=digest,
            section=None if announce_at is not None else draft.get("section"),
            html=str(draft.get("html", "")),
            first_date=announce_at.date() if announce_at is not None else draft["first"],
            now=now,
            link=draft.get("link"),
            until=until,
            announce_at=announce_at,
        )

    try:
        item = svc.queue.add(build)
    except EditorialError as e:
        await _reply(msg, error_text(svc.lang, e))
        return
    status = tr(svc.lang, "four_eyes_hint") if svc.editorial.four_eyes else tr(svc.lang, "status_draft_hint")
    await _reply(
        msg,
        tr(svc.lang, "created", number=item.number, status=status, summary=_summary(svc, item)),
    )


@step
async def on_announce(turn: Turn) -> int:
    """Start a one-off announcement: ask for the time."""
    svc, msg, chat, user, context = turn.svc, turn.msg, turn.chat, turn.user, turn.context
    if not _is_editor(svc, user.id):
        await _refuse(svc, msg)
        return END
    _draft(context, chat.id).clear()
    await _reply(msg, tr(svc.lang, "ask_announce_when"))
    return ANNOUNCE_WHEN


@step
async def on_announce_when(turn: Turn) -> int:
    """The announcement's date and time; then ask for its text."""
    svc, msg, chat, context = turn.svc, turn.msg, turn.chat, turn.context
    now = svc.clock.now()
    text = (msg.text or "").strip()
    when = parse_when(text, now)
    if when is None:
        await _reply(msg, tr(svc.lang, "bad_when", text=text))
        return ANNOUNCE_WHEN
    if when <= now:
        await _reply(msg, tr(svc.lang, "when_past", when=_fmt_when(svc, when)))
        return ANNOUNCE_WHEN
    _draft(context, chat.id)["announce_at"] = when
    await _reply(msg, tr(svc.lang, "ask_announce_text", when=_fmt_when(svc, when)))
    return ANNOUNCE_TEXT


@step
async def on_announce_text(turn: Turn) -> int:
    """The announcement's text: stored as a draft announcement."""
    svc, msg, chat, user, context = turn.svc, turn.msg, turn.chat, turn.user, turn.context
    draft = _draft(context, chat.id)
    draft["html"] = _message_html(msg)
    await _create(svc, msg, user.id, draft, announce_at=draft["announce_at"])
    _drop_draft(context, chat.id)
    return END


@step
async def on_edit(turn: Turn) -> int:
    """/edit 12: the next message replaces the item's text."""
    svc, msg, chat, user, context = turn.svc, turn.msg, turn.chat, turn.user, turn.context
    if not _is_editor(svc, user.id):
        await _refuse(svc, msg)
        return END
    number = _number_arg(context)
    if number is None:
        await _reply(msg, tr(svc.lang, "usage_number", command="edit"))
        return END
    item = svc.queue.get(number)
    if item is None:
        await _reply(msg, tr(svc.lang, "no_item", number=number))
        return END
    if not item.is_open:
        await _reply(msg, error_text(svc.lang, InvalidTransition(item, "edit")))
        return END
    draft = _draft(context, chat.id)
    draft.clear()
    draft["edit"] = number
    await _reply(msg, tr(svc.lang, "ask_edit", number=number, html=Markup(item.html)))
    return EDIT_TEXT


@step
async def on_edit_text(turn: Turn) -> int:
    """The replacement text of the item being edited."""
    svc, msg, chat, user, context = turn.svc, turn.msg, turn.chat, turn.user, turn.context
    number = int(_draft(context, chat.id).get("edit", 0))
    _drop_draft(context, chat.id)
    item = svc.queue.get(number)
    if item is None:
        await _reply(msg, tr(svc.lang, "no_item", number=number))
        return END
    try:
        changed = edit(svc.editorial, item, user.id, svc.clock.now(), html=_message_html(msg))
    except EditorialError as e:
        await _reply(msg, error_text(svc.lang, e))
        return END
    svc.queue.save(changed)
    await _reply(msg, tr(svc.lang, "edited", number=number, status=_state_name(svc, changed)))
    return END


@step
async def on_cancel(turn: Turn) -> int:
    """/cancel: drop the unfinished item."""
    _drop_draft(turn.context, turn.chat.id)
    await _reply(turn.msg, tr(turn.svc.lang, "cancelled"))
    return END


def conversation(f: EditorFilters) -> ConversationHandler[Any]:
    """/new, a forwarded message, /announce and /edit N, each with /cancel (per chat and user)."""
    text = (filters.TEXT | filters.CAPTION) & ~filters.COMMAND
    with warnings.catch_warnings():
        # PTB warns that per_message=False cannot track a button per message; we want the
        # conversation per chat and user, and its buttons are only pressed in that conversation.
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("new", on_new, filters=f.desk),
                CommandHandler("announce", on_announce, filters=f.desk),
                CommandHandler("edit", on_edit, filters=f.desk),
                MessageHandler(f.forward, on_forwarded),
            ],
            states={
                DIGEST: [CallbackQueryHandler(on_pick_digest, pattern=EDITOR_DIGEST.pattern)],
                SECTION: [CallbackQueryHandler(on_pick_section, pattern=EDITOR_SECTION.pattern)],
                TEXT: [MessageHandler(text, on_text)],
                LINK: [CommandHandler("skip", on_skip_link), MessageHandler(filters.TEXT & ~filters.COMMAND, on_link)],
                FIRST: [
                    CommandHandler("skip", on_skip_first_date),
                    MessageHandler(filters.TEXT & ~filters.COMMAND, on_first_date),
                ],
                UNTIL: [CommandHandler("skip", on_skip_until), MessageHandler(filters.TEXT & ~filters.COMMAND, on_until)],
                ANNOUNCE_WHEN: [MessageHandler(filters.TEXT & ~filters.COMMAND, on_announce_when)],
                ANNOUNCE_TEXT: [MessageHandler(text, on_announce_text)],
                EDIT_TEXT: [MessageHandler(text, on_edit_text)],
            },
            fallbacks=[CommandHandler("cancel", on_cancel)],
            per_chat=True,
            per_user=True,
            per_message=False,
            conversation_timeout=timedelta(minutes=30),
            name="editors:new",
        )


# --- commands ------------------------------------------------------------------------------------


async def _editor_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Services, Message, int]:
    """The services, the message and the editor's id; refuses (and stops) anyone else."""
    svc = services(context)
    msg, user = update.effective_message, update.effective_user
    if msg is None or user is None:
        raise _Done
    if not _is_editor(svc, user.id):
        await _refuse(svc, msg)
        raise _Done
    return svc, msg, user.id


def _order(items: Iterable[QueueItem]) -> list[QueueItem]:
    rank = {"morning": 0, "tea": 1, "announcement": 2}
    return sorted(items, key=lambda it: (rank[it.digest], it.announce_at or it.first_date, it.number))


@command
async def on_queue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/queue: open items by slot and date, with number and state."""
    svc, msg, _ = await _editor_message(update, context)
    items = _order(svc.queue.open_items())
    if not items:
        await _reply(msg, tr(svc.lang, "editors_queue_empty"))
        return
    lines: list[str] = [tr(svc.lang, "editors_queue_title", count=len(items))]
    current: str | None = None
    for item in items:
        if item.digest != current:
            current = item.digest
            lines += ["", Markup("<b>{}</b>").format(_digest_name(svc, item.digest))]
        lines.append(_summary(svc, item))
    await _send_lines(svc, msg, lines)
    return


async def _send_lines(svc: Services, msg: Message, lines: Sequence[str]) -> None:
    """HTML lines in as few messages as fit Telegram's limit."""
    chunk: list[str] = []
    for line in lines:
        if chunk and tg_len("\n".join([*chunk, line])) > 3800:
            await svc.outbox.send(msg.chat_id, "\n".join(chunk), thread_id=msg.message_thread_id)
            chunk = []
        chunk.append(line)
    if chunk:
        await svc.outbox.send(msg.chat_id, "\n".join(chunk), thread_id=msg.message_thread_id)


async def _item_arg(svc: Services, msg: Message, context: ContextTypes.DEFAULT_TYPE, command: str) -> QueueItem:
    number = _number_arg(context)
    if number is None:
        await _reply(msg, tr(svc.lang, "usage_number", command=command))
        raise _Done
    item = svc.queue.get(number)
    if item is None:
        await _reply(msg, tr(svc.lang, "no_item", number=number))
        raise _Done
    return item


@command
async def on_item(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/item 12: one item with its dates, text and history."""
    svc, msg, _ = await _editor_message(update, context)
    item = await _item_arg(svc, msg, context, "item")
    await svc.outbox.send(msg.chat_id, _card(svc, item), thread_id=msg.message_thread_id)
    return


@command
async def on_approve(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/approve 12 (四眼 review when configured: the domain refuses the author)."""
    svc, msg, actor = await _editor_message(update, context)
    item = await _item_arg(svc, msg, context, "approve")
    now = svc.clock.now()
    try:
        approved = approve(svc.editorial, item, actor, now)
    except EditorialError as e:
        await _reply(msg, error_text(svc.lang, e))
        return
    svc.queue.save(approved)
    if approved.announce_at is not None:
        text = tr(
            svc.lang, "approved_announcement", number=item.number, when=_fmt_when(svc, approved.announce_at)
        )
    else:
        when = max(approved.first_date, next_run_day(svc, approved.digest, now))
        text = tr(
            svc.lang,
            "approved",
            number=item.number,
            when=when.isoformat(),
            digest=_digest_name(svc, item.digest),
        )
    await _reply(msg, text)
    return


@command
async def on_withdraw(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/withdraw 12 reason: the item never runs."""
    svc, msg, actor = await _editor_message(update, context)
    args = context.args or []
    if len(args) < 2:
        await _reply(msg, tr(svc.lang, "usage_withdraw"))
        return
    item = await _item_arg(svc, msg, context, "withdraw")
    reason = " ".join(args[1:])
    try:
        gone = withdraw(svc.editorial, item, actor, reason, svc.clock.now())
    except EditorialError as e:
        await _reply(msg, error_text(svc.lang, e))
        return
    svc.queue.save(gone)
    await _reply(msg, tr(svc.lang, "withdrawn", number=item.number, reason=reason))
    return


@command
async def on_preview(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/preview morning|tea [date]: the digest as it would go out now, marked 【预览】; records nothing."""
    svc, msg, _ = await _editor_message(update, context)
    args = context.args or []
    slot = _SLOT_ALIASES.get(args[0].lower()) if args else None
    now = svc.clock.now()
    day = parse_day(args[1], now.date()) if slot is not None and len(args) > 1 else None
    if slot is None or (len(args) > 1 and day is None):
        await _reply(msg, tr(svc.lang, "usage_preview"))
        return
    day = day or next_run_day(svc, slot, now)
    group = next((g for g in svc.config.chats.groups if slot in g.digests), None)
    if group is None:
        await _reply(msg, tr(svc.lang, "preview_no_group", digest=_digest_name(svc, slot)))
        return
    fetched = await asyncio.to_thread(svc.publisher.fetch, slot)  # type: ignore[arg-type]
    plan = svc.publisher.plan(group, day, slot, fetched.results, now)  # type: ignore[arg-type]
    name = _digest_name(svc, slot)
    thread = msg.message_thread_id
    if plan.parts is None:
        await svc.outbox.send(msg.chat_id, tr(svc.lang, "preview_empty", digest=name, day=day))
        return
    head = tr(svc.lang, "preview_head", digest=name, day=day.isoformat())
    parts = list(plan.parts)
    if tg_len(html_to_plain(head + "\n\n" + Markup(parts[0]))) <= 4000:
        parts[0] = head + "\n\n" + Markup(parts[0])  # a built digest part is HTML already
    else:
        parts.insert(0, head)
    for part in parts:
        await svc.outbox.send(msg.chat_id, part, thread_id=thread)
    numbers = ", ".join(f"#{n}" for n in plan.queued_numbers)
    note = tr(svc.lang, "preview_queued", numbers=numbers) if numbers else tr(svc.lang, "preview_no_queue")
    await svc.outbox.send(msg.chat_id, note, thread_id=thread)
    return


@command
async def on_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload: re-read content/queue now; problems as file:line (also told to the ops chat once)."""
    svc, msg, _ = await _editor_message(update, context)
    sync, problems = await reload_content(svc)
    lines: list[str] = [
        tr(svc.lang, "reload_ok", added=len(sync.added), updated=len(sync.updated), removed=len(sync.removed))
    ]
    if problems:
        shown = "\n".join(problems[:30])
        lines.append(tr(svc.lang, "reload_problems", count=len(problems), lines=shown))
    await _send_lines(svc, msg, lines)
    return
