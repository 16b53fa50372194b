"""Logging: one line per event; no secret and no member's words ever reach a log, at any level.

- The bot token, the webhook secret (:func:`add_secret`) and anything shaped like a token are replaced in
  the *whole* formatted record, traceback included (PTB's ``InvalidToken`` names the token it was given).
- python-telegram-bot's and httpx's loggers stay at INFO/WARNING even under ``--log-level DEBUG``: at DEBUG
  PTB prints every Bot API call's parameters and return value (``setWebhook … 'secret_token': …``, every
  update's text, every message the bot sends) and httpx every URL (which contains the token). Our own
  loggers do go to DEBUG.
- Telegram objects and raw JSON handed to a ``telegram.*`` log call as arguments are shown as their type
  and update id only (PTB logs "Error while building CallbackContext for update %s" with the update).
- A rejected token (``InvalidToken``) is one line, without a traceback: PTB's own record of it is dropped,
  since every command that meets it ends with its own line (bot/cli.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

_TOKEN_RE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")

#: third-party loggers that print payloads below this level (PTB: call parameters and results; httpx and
#: httpcore: request URLs with the token in them; aiohttp.access: request lines)
_CAPPED = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "apscheduler": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "tornado": logging.WARNING,
}

_SECRETS: set[str] = set()


def add_secret(secret: str | None) -> None:
    """Never print ``secret`` (the token, the webhook secret) in any log line from now on."""
    if secret:
        _SECRETS.add(secret)


def redact(text: str) -> str:
    """``text`` with every registered secret and every token-shaped string replaced."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "<secret>")
    return _TOKEN_RE.sub("<token>", text)


def _describe(value: object) -> object:
    """A Telegram object or raw update data as ``<Update 12>``: never its text."""
    try:
        from telegram import TelegramObject
    except ImportError:  # pragma: no cover - telegram is a dependency
        return value
    if isinstance(value, TelegramObject):
        update_id = getattr(value, "update_id", None)
        return f"<{type(value).__name__}{' ' + str(update_id) if update_id is not None else ''}>"
    if isinstance(value, Mapping):
        update_id = value.get("update_id")
        return f"<data{' of update ' + str(update_id) if update_id is not None else ''}>"
    if isinstance(value, (list, tuple)):
        return f"<{len(value)} item(s)>"
    return value


class RedactTokenFilter(logging.Filter):
    """Redacts each record's message; Telegram objects passed to PTB's loggers are shown without content."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        add_secret(token)

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if isinstance(record.exc_info, tuple) else None
        if record.name.startswith("telegram") and exc is not None and _is_invalid_token(exc):
            return False  # PTB's "Invalid token. Aborting retry loop.": `servicebot` says it in its one line
        if record.name.startswith("telegram") and record.args:
            args: Any = record.args
            if isinstance(args, Mapping):
                record.args = {k: _describe(v) for k, v in args.items()}
            else:
                record.args = tuple(_describe(a) for a in args)
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RedactingFormatter(logging.Formatter):
    """``time level logger: message``; the whole output redacted (tracebacks too); a rejected token is one line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        exc = record.exc_info[1] if isinstance(record.exc_info, tuple) else None
        if exc is not None and _is_invalid_token(exc):
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
            record.msg, record.args = f"{record.getMessage()} (Telegram rejected the bot token)", None
        elif exc is not None and record.name.startswith("telegram") and _is_telegram_error(exc):
            # a network error or an API refusal seen by PTB's loops: what happened, in one line (the
            # traceback through PTB's and httpx's internals tells an operator nothing more)
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
            record.msg, record.args = f"{record.getMessage()} {type(exc).__name__}: {exc}", None
        return redact(super().format(record))


def _is_invalid_token(exc: BaseException) -> bool:
    try:
        from telegram.error import InvalidToken
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, InvalidToken)


def _is_telegram_error(exc: BaseException) -> bool:
    try:
        from telegram.error import TelegramError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, TelegramError)


def setup_logging(level: str = "INFO", token: str | None = None) -> None:
    """Configure the root logger once: one line per event, secrets redacted, payload loggers capped."""
    add_secret(token)
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter())
    handler.addFilter(RedactTokenFilter(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    effective = root.getEffectiveLevel()
    for name, floor in _CAPPED.items():
        logging.getLogger(name).setLevel(max(floor, effective))
