"""Telegram's text rules: the HTML parse_mode parser and the entities found in user messages.

Both follow TDLib (the library Telegram's Bot API server is built on), td/telegram/MessageEntity.cpp:
``parse_html`` and ``match_mentions`` / ``match_bot_commands`` / ``match_urls``, and the tag set of
https://core.telegram.org/bots/api#html-style. Error texts are Telegram's, word for word; what the Bot
API server puts in front ("Bad Request: can't parse entities: ") is added by the caller.

Offsets and lengths are in UTF-16 code units, as the Bot API counts them
(https://core.telegram.org/bots/api#messageentity): an emoji outside the BMP counts 2, a Chinese
character 1. Byte offsets in error messages are offsets into the UTF-8 encoded input, as TDLib reports.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

__all__ = ["EntityParseError", "compute_entities", "parse_html", "utf16_len"]


class EntityParseError(ValueError):
    """The HTML could not be parsed; ``str(err)`` is Telegram's wording (without the prefix)."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (what Telegram counts for the 4096 limit and for entities)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


# Supported tags: https://core.telegram.org/bots/api#html-style
_TAGS = frozenset({"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
                   "tg-emoji", "span", "pre", "code", "blockquote"})
_SIMPLE = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
           "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
           "tg-spoiler": "spoiler", "span": "spoiler", "code": "code"}
_SPACES = " \t\n\r\f\v"
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """TDLib decode_html_entity: &lt; &gt; &amp; &quot; and numeric references, ';' optional.

    Anything else (``&nbsp;``, a lone ``&``) is not an error: it stays in the text as written.
    """
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        value = 0
        if end < n and text[end] == "x":
            end += 1
            while end < n and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
        else:
            while end < n and text[end].isascii() and text[end].isdigit():
                value = value * 10 + int(text[end])
                end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        ch = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED.get(text[pos + 1:end])
        if named is None:
            return None
        ch = named
    if end < n and text[end] == ";":
        end += 1
    return ch, end


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int          # UTF-16 offset in the result
    start: int           # index in the result (str)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _normalise_url(url: str) -> str | None:
    """Roughly TDLib's check_url: add http:// to a bare host, a '/' after a bare host; reject junk."""
    url = url.strip()
    if not url:
        return None
    if url.startswith("tg://"):
        return url
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url):
        url = "http://" + url
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://([^/?#]+)(.*)$", url)
    if m is None:
        return None
    scheme, host, rest = m.groups()
    if scheme.lower() not in ("http", "https", "ftp", "tonsite"):
        return None
    if not rest.startswith("/"):
        rest = "/" + rest
    return f"{scheme.lower()}://{host}{rest}"


def parse_html(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (plain text, Bot API entities). Raises EntityParseError."""
    out: list[str] = []
    utf16 = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    n = len(html)
    i = 0

    def err(msg: str) -> EntityParseError:
        return EntityParseError(msg)

    while i < n:
        c = html[i]
        if c == "&":
            decoded = _decode_entity(html, i)
            if decoded is not None:
                ch, i = decoded
                if 0xD800 <= ord(ch) <= 0xDFFF:
                    raise err("Text contains invalid Unicode characters after decoding HTML entities, "
                              "check for unmatched surrogate code units")
                out.append(ch)
                utf16 += utf16_len(ch)
                continue
        if c != "<":
            out.append(c)
            utf16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        i += 1
        if i >= n or html[i] != "/":
            # a start tag
            while i < n and html[i] not in _SPACES and html[i] != ">":
                i += 1
            if i >= n:
                raise err(f"Unclosed start tag at byte offset {_byte_offset(html, begin)}")
            tag = html[begin + 1:i].lower()
            if tag not in _TAGS:
                raise err(f'Unsupported start tag "{tag}" at byte offset {_byte_offset(html, begin)}')
            argument = ""
            while i < n and html[i] != ">":
                while i < n and html[i] in _SPACES:
                    i += 1
                if i < n and html[i] == ">":
                    break
                name_begin = i
                while i < n and html[i] not in _SPACES and html[i] not in "=>":
                    i += 1
                name = html[name_begin:i]
                if not name:
                    raise err(f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(html, begin)}')
                while i < n and html[i] in _SPACES:
                    i += 1
                if i >= n or html[i] != "=":
                    if tag == "blockquote" and name.lower() == "expandable":
                        argument = "1"
                    continue
                i += 1
                while i < n and html[i] in _SPACES:
                    i += 1
                if i >= n:
                    raise err(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(html, begin)}')
                if html[i] not in "'\"":
                    token_begin = i
                    while i < n and (html[i].isascii() and (html[i].isalnum() or html[i] in ".-")):
                        i += 1
                    value = html[token_begin:i].lower()
                    if i < n and html[i] not in _SPACES and html[i] != ">":
                        raise err(f"Unexpected end of name token at byte offset {_byte_offset(html, token_begin)}")
                else:
                    quote = html[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and html[i] != quote:
                        if html[i] == "&":
                            dec = _decode_entity(html, i)
                            if dec is not None:
                                chars.append(dec[0])
                                i = dec[1]
                                continue
                        chars.append(html[i])
                        i += 1
                    if i < n:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise err(f"Unclosed start tag at byte offset {_byte_offset(html, begin)}")
                lname = name.lower()
                if tag == "a" and lname == "href":
                    argument = value
                elif tag == "code" and lname == "class" and value.startswith("language-"):
                    argument = value[len("language-"):]
                elif tag == "span" and lname == "class" and value.startswith("tg-"):
                    argument = value[len("tg-"):]
                elif tag == "tg-emoji" and lname == "emoji-id":
                    argument = value
                elif tag == "blockquote" and lname == "expandable":
                    argument = "1"
            if i >= n:
                raise err(f"Unclosed start tag at byte offset {_byte_offset(html, begin)}")
            if tag == "span" and argument != "spoiler":
                raise err(f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(html, begin)}')
            stack.append(_Open(tag, argument, utf16, len(out)))
            i += 1  # the '>'
            continue

        # an end tag
        if not stack:
            raise err(f"Unexpected end tag at byte offset {_byte_offset(html, begin)}")
        while i < n and html[i] not in _SPACES and html[i] != ">":
            i += 1
        end_name = html[begin + 2:i].lower()
        while i < n and html[i] in _SPACES:
            i += 1
        if i >= n or html[i] != ">":
            raise err(f"Unclosed end tag at byte offset {_byte_offset(html, begin)}")
        i += 1
        top = stack.pop()
        if end_name and end_name != top.tag:
            raise err(f'Unmatched end tag at byte offset {_byte_offset(html, begin)}, '
                      f'expected "</{top.tag}>", found "</{end_name}>"')
        length = utf16 - top.offset
        if length <= 0:
            continue
        entity: dict[str, Any] = {"offset": top.offset, "length": length}
        if top.tag in _SIMPLE:
            entity["type"] = _SIMPLE[top.tag]
            if top.tag == "code" and top.argument:
                entity["language"] = top.argument
        elif top.tag == "tg-emoji":
            entity.update(type="custom_emoji", custom_emoji_id=top.argument)
        elif top.tag == "blockquote":
            entity["type"] = "expandable_blockquote" if top.argument else "blockquote"
        elif top.tag == "pre":
            entity["type"] = "pre"
            # <pre><code class="language-x">…</code></pre> is one pre entity with a language
            inner = entities[-1] if entities else None
            if (inner is not None and inner["type"] == "code" and "language" in inner
                    and inner["offset"] == top.offset and inner["length"] == length):
                entities.pop()
                entity["language"] = inner["language"]
        else:  # "a"
            url = top.argument or "".join(out[top.start:])
            m = re.match(r"^tg://user\?id=(\d+)$", url)
            if m:
                entity.update(type="text_mention", user={"id": int(m.group(1)), "is_bot": False,
                                                         "first_name": ""})
            else:
                normalised = _normalise_url(url)
                if normalised is None:
                    continue
                entity.update(type="text_link", url=normalised)
        entities.append(entity)

    if stack:
        raise err(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for e in entities:
        if e["type"] == "code" and "language" in e:
            del e["language"]  # a language only survives on pre
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


# --------------------------------------------------------------------------- entities in user text


def _is_word(ch: str) -> bool:
    """TDLib is_word_character: a letter or number of any script (Chinese too), or '_'."""
    return ch == "_" or unicodedata.category(ch)[0] in "LN"


_ALNUM_ = re.compile(r"[A-Za-z0-9_]*")
_URL = re.compile(
    r"(?:(?:https?|ftp)://)?"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
    r"(?::\d{1,5})?"
    r"(?:[/?#][^\s<>\"'，。！？、；：（）【】《》「」]*)?",
)
# top-level domains TDLib accepts for a URL written without a scheme: the common ones are enough here
_BARE_TLDS = frozenset({"com", "cn", "net", "org", "gov", "edu", "io", "me", "info", "xyz", "top", "ru",
                        "uk", "de", "jp", "hk", "tw", "app", "dev", "co", "tv", "cc", "site", "online"})


def compute_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram derives from a user's plain text: mention, bot_command, url.

    As TDLib's match_mentions / match_bot_commands: '@name' (2-32 of [A-Za-z0-9_]) counts only when
    the characters on either side are not word characters — so in "请问@guochao老师" (no spaces) there
    is NO mention, exactly as in Telegram, because Chinese characters are letters. text_mention is
    never computed (it exists only when the sender supplies it).
    """
    found: list[tuple[int, int, dict[str, Any]]] = []  # (start index, end index, entity)
    n = len(text)
    for m in re.finditer("@", text):
        s = m.start()
        if s > 0 and _is_word(text[s - 1]):
            continue
        e = s + 1 + len(_ALNUM_.match(text, s + 1).group(0))  # type: ignore[union-attr]
        if not 2 <= e - s - 1 <= 32 or (e < n and _is_word(text[e])):
            continue
        found.append((s, e, {"type": "mention"}))
    for m in re.finditer("/", text):
        s = m.start()
        if s > 0 and (_is_word(text[s - 1]) or text[s - 1] in "/<>"):
            continue
        e = s + 1 + len(_ALNUM_.match(text, s + 1).group(0))  # type: ignore[union-attr]
        if not 1 <= e - s - 1 <= 64:
            continue
        if e < n and text[e] == "@":
            e2 = e + 1 + len(_ALNUM_.match(text, e + 1).group(0))  # type: ignore[union-attr]
            if not 3 <= e2 - e - 1 <= 32:
                continue
            e = e2
        if e < n and (_is_word(text[e]) or text[e] in "/<>"):
            continue
        found.append((s, e, {"type": "bot_command"}))
    for m in _URL.finditer(text):
        s, e = m.span()
        url = m.group(0).rstrip(".,;:!?)")
        e = s + len(url)
        if s > 0 and (text[s - 1] in "@/" or (text[s - 1].isascii() and _is_word(text[s - 1]))):
            continue
        if "://" not in url:
            host = url.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].split(":", 1)[0]
            if host.rsplit(".", 1)[-1].lower() not in _BARE_TLDS:
                continue
        if any(fs < e and s < fe for fs, fe, _ in found):
            continue
        found.append((s, e, {"type": "url"}))
    found.sort(key=lambda t: t[0])
    out: list[dict[str, Any]] = []
    for s, e, ent in found:
        out.append({"offset": utf16_len(text[:s]), "length": utf16_len(text[s:e]), **ent})
    return out
