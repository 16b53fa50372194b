"""JSON list sources: gov.cn publishes its latest policies as an array of
``{"TITLE", "SUB_TITLE", "URL", "DOCRELPUBTIME": "YYYY-MM-DD"}``, not as RSS.

A field mapping (our name -> the JSON key) says where each value is: ``title`` and ``link`` are
required, ``published``, ``summary``, ``id``, and for job lists ``employer`` and ``location``
optional; a key may be dotted for a nested value (``company.name``). ``items`` may name the key
holding the array when the top level is an object (dotted too, e.g. ``data.list``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from digests.model import Item
from digests.sources.encoding import decode
from digests.sources.text import clean_text, parse_date, resolve_link, shorten, stable_id

__all__ = ["GOV_CN_FIELDS", "JsonListError", "parse_json_list"]

GOV_CN_FIELDS: Mapping[str, str] = {
    "title": "TITLE",
    "link": "URL",
    "published": "DOCRELPUBTIME",
    "summary": "SUB_TITLE",
}
_SUMMARY_LIMIT = 200


class JsonListError(ValueError):
    """The JSON is not the list the mapping expects; the message says what and where."""


def _rows(document: Any, path: str | None) -> list[Any]:
    node = document
    if path:
        for key in path.split("."):
            if not isinstance(node, Mapping) or key not in node:
                raise JsonListError(f"expected key {key!r} of items path {path!r} in the JSON document")
            node = node[key]
    if not isinstance(node, list):
        raise JsonListError(f"expected a JSON array of items, got {type(node).__name__}")
    return node


def _text(row: Mapping[str, Any], key: str | None) -> str | None:
    if not key:
        return None
    value: Any = row.get(key)
    if value is None and "." in key:  # a nested value: {"company": {"name": ...}}
        value = row
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, Mapping | list):
        return None
    return None if value is None else str(value)


def parse_json_list(
    data: bytes,
    fields: Mapping[str, str],
    *,
    source: str = "",
    section: str = "",
    base_url: str | None = None,
) -> list[Item]:
    """Parse a JSON array into items with ``fields``; rows missing a title are skipped."""
    missing = {"title", "link"} - set(fields)
    if missing:
        raise JsonListError(f"expected fields.{sorted(missing)[0]} in the field mapping of source {source!r}")
    try:
        document = json.loads(decode(data).text)  # UTF-8 by the RFC; GBK from some sites all the same
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JsonListError(f"not JSON: {exc}") from exc
    items: list[Item] = []
    taken: set[str] = set()
    for index, row in enumerate(_rows(document, fields.get("items"))):
        if not isinstance(row, Mapping):
            raise JsonListError(f"item [{index}]: expected an object, got {type(row).__name__}")
        title = clean_text(_text(row, fields["title"]))
        if not title:
            continue
        link = resolve_link(_text(row, fields["link"]), base_url)
        item_id = _text(row, fields.get("id")) or link or stable_id(link, title)
        if item_id in taken:
            continue
        taken.add(item_id)
        items.append(
            Item(
                id=item_id,
                title=title,
                link=link,
                summary=shorten(clean_text(_text(row, fields.get("summary"))), _SUMMARY_LIMIT),
                published=parse_date(_text(row, fields.get("published"))),
                source=source,
                section=section,
                employer=clean_text(_text(row, fields.get("employer"))) or None,
                location=clean_text(_text(row, fields.get("location"))) or None,
            )
        )
    return items
