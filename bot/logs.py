"""Logging: one line per event, and the bot token never printed (not even inside a URL)."""

from __future__ import annotations

import logging
import re

_TOKEN_RE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")


class RedactTokenFilter(logging.Filter):
    """Replaces the bot token (and anything shaped like one) in every record with ``<token>``."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token

    def _clean(self, text: str) -> str:
        if self.token:
            text = text.replace(self.token, "<token>")
        return _TOKEN_RE.sub("<token>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(level: str = "INFO", token: str | None = None) -> None:
    """Configure the root logger once: ``time level logger: message``, token redacted."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokenFilter(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and the URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
