"""Refusals of the desk and of the editors' queue, rendered in the chat's language.

The domain raises a code with parameters (bot/tickets/errors.py, bot/editorial/rules.py); the words
are ``error_<code>`` in bot/texts."""

from __future__ import annotations

from bot.editorial.rules import EditorialError
from bot.texts import Markup, has, tr
from bot.tickets.errors import DeskError


def error_text(lang: str, exc: DeskError | EditorialError) -> Markup:
    """The refusal ``exc`` as the person who tried sees it (HTML; ``.unescape()`` for an alert)."""
    params: dict[str, object] = {}
    for name, value in exc.params.items():
        if value is None:  # a person nobody named
            value = tr(lang, "error_someone")
        elif name == "state":
            value = tr(lang, f"item_status_{value}")
        elif name == "action":
            value = tr(lang, f"verb_{value}")
        elif name == "digest" and has(f"digest_{value}"):
            value = tr(lang, f"digest_{value}")
        elif name == "known" and isinstance(value, list):
            value = ("、" if lang == "zh" else ", ").join(str(v) for v in value)
        params[name] = value
    return tr(lang, f"error_{exc.code}", **params)
