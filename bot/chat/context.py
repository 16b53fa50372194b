"""The services every handler and job works with, reachable from a python-telegram-bot context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext

from bot.chat.outbox import Outbox
from bot.clock import Clock
from bot.config import Config

SERVICES_KEY = "services"


@dataclass
class Services:
    """Built once in build_application; handlers reach it through :func:`services`."""

    config: Config
    clock: Clock
    outbox: Outbox
    store: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def lang(self) -> str:
        return self.config.language


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    svc = context.application.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc


def services_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    svc = app.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc
