"""Text helpers shared by the parsers: HTML -> plain text, dates as Chinese feeds write them, ids."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import date, datetime, time
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import nh3

from digests.model import SHANGHAI

__all__ = ["clean_text", "parse_date", "resolve_link", "shorten", "stable_id"]

# every kind of whitespace, including U+3000 ideographic (full-width) spaces and NBSP
_SPACES = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")
# line and block boundaries become spaces so "来源: X<br/>正文" does not run together
_BREAKS = re.compile(r"<\s*/?\s*(?:br|p|div|li|ul|ol|h[1-6]|tr|td|blockquote)\b[^>]*>", re.IGNORECASE)
_ZONELESS_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")
_CHINESE_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日")


def clean_text(text: str | None) -> str:
    """HTML (tags, scripts, entities) -> one line of plain text with whitespace collapsed."""
    if not text:
        return ""
    stripped = nh3.clean(_BREAKS.sub(" ", text), tags=set())  # drops every tag, and <script>/<style> with their content
    return _SPACES.sub(" ", html.unescape(stripped)).strip()


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def parse_date(raw: str | None) -> datetime | None:
    """A feed's date string -> an aware datetime; date-only or zone-less means Asia/Shanghai.

    feedparser's ``*_parsed`` assumes UTC for zone-less dates (8 hours wrong for Chinese feeds),
    so we read the raw string ourselves.
    """
    if not raw or not raw.strip():
        return None
    value = raw.strip()
    found: datetime | None = None
    try:
        found = parsedate_to_datetime(value)  # RFC 822 (RSS pubDate)
    except (TypeError, ValueError, IndexError):
        found = None
    if found is None:
        found = _parse_iso(value)
    if found is None:
        for fmt in _ZONELESS_FORMATS:
            try:
                found = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if found is None:
        match = _CHINESE_DATE.match(value)
        if match:
            try:
                found = datetime(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                found = None
    if found is None:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=SHANGHAI)


def _parse_iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return datetime.combine(date.fromisoformat(value), time(0, 0))
    except ValueError:
        return None


def stable_id(link: str | None, title: str) -> str:
    """An id for an item without a usable guid, stable across fetches: hash of link and title."""
    digest = hashlib.sha1(f"{link or ''}\n{title}".encode()).hexdigest()
    return f"h:{digest[:20]}"


def resolve_link(link: str | None, base: str | None) -> str | None:
    """Resolve a relative link against ``base``; anything that is not http(s) is dropped."""
    if not link or not link.strip():
        return None
    resolved = urljoin(base or "", link.strip())
    return resolved if urlsplit(resolved).scheme in ("http", "https") else None
