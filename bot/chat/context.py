"""The services every handler and job works with, reachable from a python-telegram-bot context."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext

from bot.chat.outbox import Outbox
from bot.clock import Clock
from bot.config import Config
from bot.store import Store
from bot.store.inbox import Inbox
from bot.wiring import Domain, wire

if TYPE_CHECKING:
    from bot.chat.assist import AssistState
    from bot.chat.burst import Acknowledger
    from bot.chat.editor_jobs import EditorialState
    from bot.chat.metrics import MetricsServer
    from bot.chat.questions import StaffUsernames
    from bot.chat.staff import Prompt

log = logging.getLogger(__name__)

SERVICES_KEY = "services"


class KeyedLocks:
    """One asyncio lock per key, alive only while someone holds or waits for it.

    Deliveries of the same Telegram message may overlap (a redelivery after a crash, the inbox's
    replay, a webhook retry); holding the message's lock makes their side effects happen once.
    """

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


@dataclass
class Services(Domain):
    """The domain objects (:mod:`bot.wiring`) plus the Telegram edge's own: the outbox and the state
    handlers and jobs keep in memory between updates. Built once in build_application; handlers reach
    it as ``context.svc`` (:class:`BotContext`)."""

    outbox: Outbox = field(kw_only=True)
    # one question handled at a time per (chat, message): overlapping deliveries post one card
    intake_locks: KeyedLocks = field(default_factory=KeyedLocks)
    inbox: Inbox | None = None  # the durable inbox (bot/chat/inbox.py), when the bot polls through it
    sweep_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # a manual sweep and the job never interleave
    usernames: StaffUsernames | None = None  # staff members' current @usernames (bot/chat/questions.py)
    prompts: dict[tuple[int, int], Prompt] = field(default_factory=dict)  # staff replies awaited (staff.py)
    acknowledger: Acknowledger | None = None  # a burst's one acknowledgement (bot/chat/burst.py)
    editorial_state: EditorialState | None = None  # the editors' jobs' memory (bot/chat/editor_jobs.py)
    metrics: MetricsServer | None = None  # opt-in Prometheus endpoint, started in post_init
    assist: AssistState | None = None  # 智能帮办: drafts, canned replies, 一类事 (bot/chat/assist.py)

    @property
    def lang(self) -> str:
        return self.config.language


def build_services(config: Config, store: Store, outbox: Outbox, clock: Clock) -> Services:
    """Everything the handlers need: the domain wired from config and the store, plus the outbox."""
    domain = wire(config, store, clock)
    return Services(**{f.name: getattr(domain, f.name) for f in fields(Domain)}, outbox=outbox)


class BotContext(CallbackContext[Any, Any, Any, Any]):
    """The context every handler and job gets (registered with ``ContextTypes(context=BotContext)``, as
    in PTB's contexttypesbot.py): ``context.svc`` is the bot's :class:`Services`, typed."""

    @property
    def svc(self) -> Services:
        return services_of(self.application)


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    return services_of(context.application)


def services_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    svc = app.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc
