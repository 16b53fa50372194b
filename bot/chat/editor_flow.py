"""The editors' conversation: /new (and forwarded messages), /announce, /edit — one ConversationHandler,
per chat and user, each step a @step (bot/chat/editor_common.py)."""

from __future__ import annotations

import logging
import re
import warnings
from datetime import date, datetime, timedelta
from typing import Any

from telegram import Message
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.chat.callbacks import EDITOR_DIGEST, EDITOR_SECTION
from bot.chat.context import Services
from bot.chat.editor_common import (
    ANNOUNCE_TEXT,
    ANNOUNCE_WHEN,
    DIGEST,
    EDIT_TEXT,
    END,
    FIRST,
    LINK,
    SECTION,
    TEXT,
    UNTIL,
    EditorFilters,
    Turn,
    _digest_keyboard,
    _digest_name,
    _draft,
    _drop_draft,
    _fmt_when,
    _is_editor,
    _message_html,
    _number_arg,
    _refuse,
    _reply,
    _section_keyboard,
    _section_name,
    _state_name,
    _summary,
    next_run_day,
    step,
)
from bot.chat.outbox import answer_query
from bot.chat.views.errors import error_text
from bot.editorial.dates import parse_day, parse_when
from bot.editorial.model import ItemSlot, QueueItem
from bot.editorial.rules import EditorialError, InvalidTransition, create_item, edit
from bot.texts import Markup, tr

log = logging.getLogger(__name__)

__all__ = ["conversation"]


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


