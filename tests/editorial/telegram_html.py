"""A checker for Telegram's HTML parse mode: allowed tags only, balanced, attributes only on <a href>."""

from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED = {"b", "i", "u", "s", "a", "code", "pre", "blockquote"}
_TAG = re.compile(r'</?(?:b|i|u|s|code|pre|blockquote)>|<a href="[^"<>]*">|</a>')
_BAD_AMP = re.compile(r"&(?!(?:amp|lt|gt|quot|#\d+);)")


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.errors.append(f"tag <{tag}> not allowed")
        if tag == "a":
            if [k for k, _ in attrs] != ["href"]:
                self.errors.append(f"<a> attributes {attrs}")
        elif attrs:
            self.errors.append(f"<{tag}> has attributes {attrs}")
        if tag == "blockquote" and "blockquote" in self.stack:
            self.errors.append("nested blockquote")
        if "pre" in self.stack or "code" in self.stack:
            self.errors.append(f"<{tag}> inside code/pre")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack})")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def telegram_html_errors(html: str) -> list[str]:
    """Problems Telegram would reject with "can't parse entities"; empty when fine."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    errors = list(checker.errors)
    if checker.stack:
        errors.append(f"unclosed {checker.stack}")
    # a bare "<" or an "&" that is not one of Telegram's entities is rejected too
    rest = _TAG.sub("", html)
    if "<" in rest or ">" in rest:
        errors.append("bare < or > in text")
    if _BAD_AMP.search(rest):
        errors.append("bare & in text")
    return errors


def visible_text(html: str) -> str:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return "".join(checker.text)
