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
import logging
from collections.abc import Iterable, Sequence

from telegram import Message, Update
from telegram.ext import (
    ContextTypes,
)

from bot.chat.context import Services, services
from bot.chat.editor_common import (
    _SLOT_ALIASES,
    COMMANDS,
    EditorFilters,
    _card,
    _digest_name,
    _Done,
    _fmt_when,
    _is_editor,
    _number_arg,
    _refuse,
    _reply,
    _summary,
    command,
    next_run_day,
)
from bot.chat.editor_flow import conversation
from bot.chat.editor_jobs import reload_content
from bot.chat.outbox import html_to_plain, tg_len
from bot.chat.views.errors import error_text
from bot.editorial.dates import parse_day
from bot.editorial.model import QueueItem
from bot.editorial.rules import EditorialError, approve, withdraw
from bot.texts import Markup, tr
from bot.texts.measure import PART_LIMIT

log = logging.getLogger(__name__)

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
]


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
        if chunk and tg_len("\n".join([*chunk, line])) > PART_LIMIT:
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
    if tg_len(html_to_plain(head + "\n\n" + Markup(parts[0]))) <= PART_LIMIT:
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
