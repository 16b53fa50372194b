"""How long a text is as Telegram counts it, and the one way to cut it: one limit, one split, one shorten.

Telegram counts message length in UTF-16 code units after entity parsing, at most 4096 a message
(https://core.telegram.org/bots/api#sendmessage); digests/render.py counts the same way
(:func:`digests.render.utf16_len`, reused here so there is one count).
"""

from __future__ import annotations

import html
import re

from digests.render import PART_LIMIT, utf16_len

__all__ = ["MAX_MESSAGE", "PART_LIMIT", "html_to_plain", "shorten", "split_plain", "tg_len", "utf16_len"]

MAX_MESSAGE = 4096  # UTF-16 units of a message's text, the Bot API's limit
# PART_LIMIT (digests/render.py, 4000): a part we build ourselves (a digest, an announcement, a preview)
# stays this far under MAX_MESSAGE, room for a header joined to it later
_TAG = re.compile(r"<[^>]+>")

tg_len = utf16_len  # the name the chat side has always used


def html_to_plain(text: str) -> str:
    """Telegram-HTML -> the same words as plain text (a link keeps its address in brackets)."""
    text = re.sub(r"<a\s+href=\"([^\"]*)\"[^>]*>(.*?)</a>", r"\2 (\1)", text, flags=re.S)
    return html.unescape(_TAG.sub("", text))


def split_plain(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split plain text into pieces of at most ``limit`` UTF-16 units, preferring line breaks."""
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = _fit(rest, limit)
        nl = rest.rfind("\n", 0, cut)
        if nl > cut // 2:
            cut = nl + 1
        parts.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:]
    if rest or not parts:
        parts.append(rest)
    return parts


def _fit(text: str, limit: int) -> int:
    """The largest prefix length (in code points) whose UTF-16 length is within ``limit``."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return i
    return len(text)


def shorten(text: str, limit: int, more: str = "…") -> str:
    """``text`` within ``limit`` UTF-16 units, ending with ``more`` when cut."""
    if utf16_len(text) <= limit:
        return text
    return split_plain(text, limit - utf16_len(more))[0].rstrip() + more
