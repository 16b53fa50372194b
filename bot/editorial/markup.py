"""Markdown (as editors write it in ``content/queue/*.md``) -> Telegram HTML.

Telegram's HTML parse mode accepts only a few tags; this renderer emits only ``b i u s a code pre
blockquote`` and escapes every text character that matters (``& < > "``), so its output is always
accepted by ``sendMessage(parse_mode=HTML)``. Parsing is mistune 3's; only the rendering is ours:

==========================  =============================================================
Markdown                    Telegram HTML
==========================  =============================================================
paragraph                   its text, then a blank line
``# heading``               ``<b>heading</b>``, then a blank line
``*em*`` / ``**strong**``   ``<i>`` / ``<b>``
``~~strike~~``              ``<s>``
``^^insert^^``              ``<u>`` (underline)
```` `code` ```` / fences   ``<code>`` / ``<pre>``
``> quote``                 ``<blockquote>`` (Telegram cannot nest them: inner quotes flatten)
``- item`` / ``1. item``    ``• item`` / ``1. item`` lines, nested lists indented
``[text](url)``             ``<a href="url">`` for http(s), tg: and mailto: links; text only otherwise
``![alt](url)``             a link with the alt text (Telegram messages carry no inline images)
raw HTML                    shown as text (escaped), never passed through
line break inside a para    kept as a line break (editors write line by line, as in Telegram)
==========================  =============================================================
"""

from __future__ import annotations

import html
from typing import Any, cast

import mistune
from mistune.core import BaseRenderer, BlockState

__all__ = ["ALLOWED_TAGS", "markdown_to_telegram_html"]

ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "a", "code", "pre", "blockquote"})
_SAFE_SCHEMES = ("http://", "https://", "tg://", "mailto:")

Token = dict[str, Any]


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


class TelegramHTMLRenderer(BaseRenderer):
    """A mistune renderer whose output is Telegram's HTML subset."""

    NAME = "telegram-html"

    def __init__(self) -> None:
        super().__init__()
        self._quote_depth = 0
        self._list_depth = 0

    def __call__(self, tokens: Any, state: BlockState) -> str:
        out = self.render_tokens(tokens, state)
        return "\n".join(line.rstrip() for line in out.strip().split("\n"))

    def _children(self, token: Token, state: BlockState) -> str:
        return self.render_tokens(cast("list[Token]", token.get("children", [])), state)

    # inline ------------------------------------------------------------------------------------
    def text(self, token: Token, state: BlockState) -> str:
        return _esc(cast(str, token["raw"]))

    def emphasis(self, token: Token, state: BlockState) -> str:
        return "<i>" + self._children(token, state) + "</i>"

    def strong(self, token: Token, state: BlockState) -> str:
        return "<b>" + self._children(token, state) + "</b>"

    def strikethrough(self, token: Token, state: BlockState) -> str:
        return "<s>" + self._children(token, state) + "</s>"

    def insert(self, token: Token, state: BlockState) -> str:
        return "<u>" + self._children(token, state) + "</u>"

    def mark(self, token: Token, state: BlockState) -> str:
        return "<b>" + self._children(token, state) + "</b>"

    def link(self, token: Token, state: BlockState) -> str:
        text = self._children(token, state)
        url = cast(str, token["attrs"]["url"]).strip()
        if not url.lower().startswith(_SAFE_SCHEMES):
            return text
        return f'<a href="{html.escape(url, quote=True)}">{text or _esc(url)}</a>'

    def image(self, token: Token, state: BlockState) -> str:
        return self.link(token, state)

    def codespan(self, token: Token, state: BlockState) -> str:
        return "<code>" + _esc(cast(str, token["raw"])) + "</code>"

    def linebreak(self, token: Token, state: BlockState) -> str:
        return "\n"

    def softbreak(self, token: Token, state: BlockState) -> str:
        return "\n"

    def inline_html(self, token: Token, state: BlockState) -> str:
        return _esc(cast(str, token["raw"]))

    # blocks ------------------------------------------------------------------------------------
    def paragraph(self, token: Token, state: BlockState) -> str:
        return self._children(token, state) + "\n\n"

    def block_text(self, token: Token, state: BlockState) -> str:
        return self._children(token, state) + "\n"

    def heading(self, token: Token, state: BlockState) -> str:
        return "<b>" + self._children(token, state) + "</b>\n\n"

    def blank_line(self, token: Token, state: BlockState) -> str:
        return ""

    def thematic_break(self, token: Token, state: BlockState) -> str:
        return "——————\n\n"

    def block_code(self, token: Token, state: BlockState) -> str:
        code = cast(str, token["raw"]).rstrip("\n")
        return "<pre>" + _esc(code) + "</pre>\n\n"

    def block_quote(self, token: Token, state: BlockState) -> str:
        self._quote_depth += 1
        try:
            inner = self._children(token, state).strip()
        finally:
            self._quote_depth -= 1
        if self._quote_depth > 0:  # Telegram cannot nest blockquotes
            return inner + "\n\n"
        return "<blockquote>" + inner + "</blockquote>\n\n"

    def block_html(self, token: Token, state: BlockState) -> str:
        return _esc(cast(str, token["raw"]).strip()) + "\n\n"

    def block_error(self, token: Token, state: BlockState) -> str:
        return ""

    def list(self, token: Token, state: BlockState) -> str:
        attrs = token.get("attrs", {})
        ordered = bool(attrs.get("ordered"))
        number = int(attrs.get("start", 1) or 1)
        indent = "  " * self._list_depth
        self._list_depth += 1
        lines: list[str] = []
        try:
            for item in cast("list[Token]", token["children"]):
                marker = f"{number}. " if ordered else ("• " if self._list_depth == 1 else "◦ ")
                number += 1
                body = self._children(item, state).strip("\n")
                first, *rest = body.split("\n") if body else [""]
                lines.append(indent + marker + first.lstrip())
                # nested lists already carry their own indent; continuation lines get the item's
                lines.extend(
                    line if line.startswith(indent + "  ") or not line else indent + "  " + line
                    for line in rest
                )
        finally:
            self._list_depth -= 1
        text = "\n".join(line for line in lines)
        return text + ("\n" if self._list_depth else "\n\n")

    def list_item(self, token: Token, state: BlockState) -> str:  # pragma: no cover - list() renders items
        return self._children(token, state)


def markdown_to_telegram_html(text: str) -> str:
    """Render ``text`` (CommonMark plus ~~strike~~, ^^underline^^, bare URLs) as Telegram HTML."""
    md = mistune.create_markdown(renderer=TelegramHTMLRenderer(), plugins=["strikethrough", "insert", "url"])
    return cast(str, md(text))
