"""The editors' scheduled work: content files re-read on change, announcements sent exactly once,
items expired after their end date.

* **Content files.** ``content/queue/*.md`` is read when the application is built (:func:`load_content`)
  and re-read every minute when a file changed (:class:`~bot.editorial.ContentWatcher`) or on /reload.
  A broken file is skipped (its last good version stays in the queue) and each problem is told to the
  ops chat once, as ``file:line: message`` — again only if it goes away and comes back.
* **Announcements.** Every minute, each approved announcement whose time has come goes to every member
  group exactly once (the rules: :mod:`bot.delivery.announcements`); here it is rendered as Telegram
  HTML parts, sent through the outbox, and what went wrong is told to the ops chat.
* **Expiry.** Daily just after midnight (and at start-up): open items whose end date passed expire.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from telegram.ext import Application

from bot.chat.context import BotContext, Services, services_of
from bot.chat.outbox import html_to_plain, split_plain, tg_len
from bot.checks import content_problems
from bot.delivery.announcements import AnnouncementMissed, AnnouncementNotice
from bot.editorial.content import ContentWatcher, load_queue_dir, present_keys
from bot.editorial.model import QueueItem
from bot.editorial.queue import FileSync
from bot.texts import Markup, escape, plain, tr
from bot.texts.measure import PART_LIMIT

__all__ = [
    "EditorialState",
    "deliver_announcements",
    "expire_items",
    "load_content",
    "on_announcements",
    "on_content_watch",
    "on_expire",
    "on_startup_report",
    "reload_content",
    "render_announcement",
    "schedule",
]

log = logging.getLogger(__name__)

EXPIRE_AT = time(0, 5)


@dataclass
class EditorialState:
    """What the editors' jobs remember between runs (in memory; the queue itself is in the store)."""

    watcher: ContentWatcher
    reported: set[str] = field(default_factory=set)
    at_start: list[str] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _state(svc: Services) -> EditorialState:
    if svc.editorial_state is None:
        svc.editorial_state = EditorialState(ContentWatcher(svc.config.content_dir / "queue"))
    return svc.editorial_state


def _sync(svc: Services) -> tuple[FileSync, list[str]]:
    """Read content/queue and merge it into the queue; every content problem (bot.checks, the same
    check as ``servicebot check``) as ``file:line: message``."""
    now = svc.clock.now()
    directory = svc.config.content_dir / "queue"
    items, _queue_problems = load_queue_dir(directory, svc.editorial.sections, tz=svc.config.tz, loaded_at=now)
    sync = svc.queue.sync_files(items, now, present_keys(directory))
    base = f"{svc.config.content_dir.parent}/"
    return sync, [p.removeprefix(base) for p in content_problems(svc.config)]


def load_content(svc: Services) -> list[str]:
    """At start-up (synchronous, no network): read the queue files and expire what is past.

    The problems are kept for :func:`on_startup_report` (a job right after start) to tell the ops
    chat. Returns them.
    """
    state = _state(svc)
    _sync_result, problems = _sync(svc)
    now = svc.clock.now()
    svc.queue.expire(now.date(), now)
    state.at_start = problems
    for line in problems:
        log.warning("content: %s", line)
    return problems


async def on_startup_report(context: BotContext) -> None:
    """Once, right after start: the content problems found while loading."""
    svc = context.svc
    await _report(svc, _state(svc).at_start)


async def _report(svc: Services, problems: list[str]) -> None:
    """Tell the ops chat about problems not told yet; forget the ones that went away."""
    state = _state(svc)
    new = [p for p in problems if p not in state.reported]
    state.reported = set(problems)
    if new:
        shown = "\n".join(new[:20])
        await svc.outbox.alert(plain(svc.lang, "ops_problems", count=len(new), lines=shown))


async def reload_content(svc: Services) -> tuple[FileSync, list[str]]:
    """Re-read content/queue now (/reload and the watcher); new problems go to the ops chat once."""
    state = _state(svc)
    async with state.lock:
        state.watcher.changed()  # take in the current state of the files: no second reload next minute
        sync, problems = _sync(svc)
    await _report(svc, problems)
    if sync.changed:
        log.info("content reloaded: %s", sync)
    return sync, problems


async def on_content_watch(context: BotContext) -> None:
    """Every minute: re-read the queue files if any changed."""
    svc = context.svc
    if _state(svc).watcher.changed():
        await reload_content(svc)


ANNOUNCE_PART = PART_LIMIT  # UTF-16 units of text per part (Telegram: 4096 after entity parsing; a margin kept)


def _units(part_html: str) -> int:
    return tg_len(html_to_plain(part_html))


def render_announcement(svc: Services, item: QueueItem) -> list[str]:
    """The announcement as Telegram-HTML parts (the text as the editor wrote it, with its link).

    A queue file may hold far more than one message: a long text goes in parts, split between
    paragraphs (each paragraph's markup stays whole); a paragraph too long for a message on its own is
    sent as plain text in pieces."""
    more = tr(svc.lang, "announce_more")
    link = Markup('\n\n<a href="{}">{}</a>').format(item.link, more) if item.link else ""
    body = svc.publisher.mention_bot(item.html)
    whole = f"📢 {body}{link}"
    if _units(whole) <= ANNOUNCE_PART:
        return [whole]
    blocks: list[str] = []
    for para in body.split("\n\n"):
        if _units(para) <= ANNOUNCE_PART - 10:
            blocks.append(para)
        else:
            blocks += [escape(p) for p in split_plain(html_to_plain(para), ANNOUNCE_PART - 10)]
    parts: list[str] = []
    current = "📢"
    for block in [*blocks, link.strip()] if link else blocks:
        candidate = f"{current}\n\n{block}" if current != "📢" else f"📢 {block}"
        if _units(candidate) <= ANNOUNCE_PART:
            current = candidate
        else:
            parts.append(current)
            current = block
    parts.append(current)
    return parts


async def deliver_announcements(app: Application[Any, Any, Any, Any, Any, Any]) -> list[int]:
    """Send every due announcement to every member group exactly once; returns the numbers finished."""
    svc = services_of(app)

    async def notify(notice: AnnouncementNotice) -> None:
        item = notice.item
        if isinstance(notice, AnnouncementMissed):
            assert item.announce_at is not None
            await svc.outbox.alert(
                plain(svc.lang, "alert_announcement_missed", number=item.number, at=f"{item.announce_at:%Y-%m-%d %H:%M}")
            )
        else:
            group = notice.group
            await svc.outbox.alert(plain(svc.lang, "announce_failed", number=item.number, group=group.title or group.name))

    return await svc.announcements.deliver_due(
        svc.clock.now(),
        render=lambda item: render_announcement(svc, item),
        send_to=svc.outbox.part_sender,
        notify=notify,
    )


async def on_announcements(context: BotContext) -> None:
    """Every minute: due announcements."""
    await deliver_announcements(context.application)


async def expire_items(app: Application[Any, Any, Any, Any, Any, Any]) -> list[QueueItem]:
    """Expire open items whose end date passed; tell the editors chat which."""
    svc = services_of(app)
    now = svc.clock.now()
    expired = svc.queue.expire(now.date(), now)
    if expired:
        numbers = ", ".join(f"#{i.number}" for i in expired)
        await svc.outbox.send(
            svc.config.chats.editors, tr(svc.lang, "expired_note", count=len(expired), numbers=numbers),
            quiet=True,
        )
    return expired


async def on_expire(context: BotContext) -> None:
    """Daily: expire items past their end date."""
    await expire_items(context.application)


def schedule(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Read the content files now; then the three jobs: editorial:content, editorial:announce,
    editorial:expire."""
    svc = services_of(app)
    load_content(svc)
    assert app.job_queue is not None
    app.job_queue.run_once(on_startup_report, when=0, name="editorial:startup")
    app.job_queue.run_repeating(on_content_watch, interval=60, first=60, name="editorial:content")
    app.job_queue.run_repeating(on_announcements, interval=60, first=5, name="editorial:announce")
    app.job_queue.run_daily(
        on_expire, time=EXPIRE_AT.replace(tzinfo=svc.config.tz), name="editorial:expire"
    )
