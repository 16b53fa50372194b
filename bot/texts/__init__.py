"""Every word a person reads: ``zh.yaml`` (the default) and ``en.yaml`` (config ``language: en``).

One catalogue for members, staff, editors and the ops chat, alerts included; digest texts (titles,
headings) live in content/templates/ as data. A reviewable YAML file per language instead of gettext:
no compile step, editors can read it, and tests/test_texts.py checks that both files have the same
keys and the same placeholders and that every key is used.

The one escaping rule: every value is an HTML template (Telegram's HTML subset), and its parameters
are escaped on the way in. ``tr()`` returns :class:`markupsafe.Markup`; a parameter that is already
HTML (a mention, an item's body, another ``tr()``) is passed as ``Markup`` and goes in as it is,
anything else (names, questions, reasons) is escaped. So no caller calls ``html.escape``: build HTML
with ``Markup``/``escape`` from here, plain strings are text. Where Telegram shows plain text (button
labels, callback answers, command menus, plain-text messages) use ``plain()``: the same template,
the same parameters, entities turned back into characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources import files

import yaml
from markupsafe import Markup, escape

__all__ = ["LANGUAGES", "Markup", "catalogue", "escape", "has", "lang_of", "plain", "tr"]

LANGUAGES = ("zh", "en")


def lang_of(lang: str) -> str:
    """``"en"`` for any English setting (``en``, ``en-GB``), else the default ``"zh"``."""
    return "en" if lang.startswith("en") else "zh"


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """The templates of one language, read once from its YAML file."""
    name = lang_of(lang)
    data = yaml.safe_load(files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"bot/texts/{name}.yaml: expected a mapping of key -> text")
    return data


def has(key: str) -> bool:
    return key in catalogue("zh")


def tr(lang: str, key: str, **params: object) -> Markup:
    """The text ``key`` in ``lang`` as HTML, each parameter escaped unless it is ``Markup`` already."""
    template = Markup(catalogue(lang)[key])
    return template.format(**params) if params else template


def plain(lang: str, key: str, **params: object) -> str:
    """The same text for a place Telegram shows as plain text (buttons, callback answers, menus)."""
    return tr(lang, key, **params).unescape()
