"""HTML listing pages (a government site's 通知公告 / 招聘 page) -> items, by CSS selectors.

Most local government sites publish no feed: a page lists ``<li><a href="./202612/t…html"
title="full title">shortened title…</a><span>2026-12-01</span></li>``. A mapping (our field -> a
CSS selector) says where each value is, like the ``json`` kind's field mapping:

- ``items`` (required): one element per item, e.g. ``ul.list li``;
- ``title`` (required): text of the element; its ``title`` attribute wins when present (sites cut
  the visible text with …, the attribute carries the whole title);
- ``link``: ``selector@attr``, default the ``href`` of the title element or of the first ``a[href]``
  in the item; resolved against ``<base href>`` and the page URL;
- ``published``, ``summary``, ``id``, ``employer``, ``location``: text (or ``selector@attr``).

A date is read from anywhere in its element's text (``[2026-12-01]``, ``发布时间：2026年12月1日``).
lxml (libxml2's HTML parser, which recovers from the broken markup these sites have and never
loads anything from the network) with cssselect to translate the selectors; the bytes are decoded
by :mod:`digests.sources.encoding` first (``<meta charset>``, GBK pages served as UTF-8).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from digests.model import Item
from digests.sources.encoding import decode
from digests.sources.text import clean_text, parse_date, resolve_link, shorten, stable_id

__all__ = ["HTML_FIELDS", "HtmlListError", "check_selectors", "find_date", "parse_html_list"]

#: the fields an html source may map (and that ``check_selectors`` accepts)
HTML_FIELDS = ("items", "title", "link", "published", "summary", "id", "employer", "location")
_SUMMARY_LIMIT = 200
_DATE_IN_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+(\d{1,2}):(\d{2}))?")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


class HtmlListError(ValueError):
    """The page is not the listing the selectors expect; the message says which selector."""


def _compile(selector: str) -> Any:
    from cssselect import SelectorError
    from lxml.cssselect import CSSSelector

    try:
        return CSSSelector(selector)
    except SelectorError as exc:
        raise HtmlListError(f"not a valid CSS selector {selector!r}: {exc}") from exc


def _check(selector: str) -> None:
    """Raise HtmlListError for a selector that does not translate; cssselect alone, without lxml (~7 MB
    that config validation at start-up need not load: lxml comes with the first page parsed)."""
    from cssselect import GenericTranslator, SelectorError

    try:
        GenericTranslator().css_to_xpath(selector)
    except SelectorError as exc:
        raise HtmlListError(f"not a valid CSS selector {selector!r}: {exc}") from exc


def _split(spec: str) -> tuple[str, str | None]:
    """``"a@href"`` -> ("a", "href"); ``"@title"`` -> ("", "title"): the element itself."""
    selector, _, attr = spec.rpartition("@") if "@" in spec else (spec, "", "")
    return selector.strip(), (attr.strip() or None)


def check_selectors(fields: Mapping[str, str]) -> None:
    """Raise :class:`HtmlListError` for an unknown field, a missing required one or a bad selector."""
    for key in ("items", "title"):
        if not fields.get(key):
            raise HtmlListError(f"expected fields.{key} (a CSS selector)")
    for key, spec in fields.items():
        if key not in HTML_FIELDS:
            raise HtmlListError(f"fields.{key}: unknown field (known: {', '.join(HTML_FIELDS)})")
        selector, _ = _split(spec) if key != "items" else (spec, None)
        if selector:
            try:
                _check(selector)
            except HtmlListError as exc:
                raise HtmlListError(f"fields.{key}: {exc}") from None


def find_date(text: str | None) -> str | None:
    """The first date written in ``text`` as ``YYYY-MM-DD[ HH:MM]`` (parse_date reads it)."""
    if not text:
        return None
    match = _DATE_IN_TEXT.search(text)
    if not match:
        return text.strip() or None
    year, month, day, hour, minute = match.groups()
    found = f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    return f"{found} {int(hour):02d}:{minute}" if hour else found


def _first(element: Any, selector: str) -> Any:
    if not selector:
        return element
    found = _compile(selector)(element)
    return found[0] if found else None


def _value(element: Any, spec: str | None) -> tuple[str | None, Any]:
    """(text or attribute value, the element it came from) of ``spec`` inside ``element``."""
    if not spec:
        return None, None
    selector, attr = _split(spec)
    node = _first(element, selector)
    if node is None:
        return None, None
    if attr:
        value = node.get(attr)
        return (None if value is None else str(value)), node
    return node.text_content(), node


def parse_html_list(
    data: bytes,
    fields: Mapping[str, str],
    *,
    source: str = "",
    section: str = "",
    base_url: str | None = None,
    content_type: str | None = None,
) -> list[Item]:
    """Parse a listing page into items; rows without a title are skipped."""
    check_selectors(fields)
    import lxml.html

    text = _XML_DECL.sub("", decode(data, content_type).text, count=1)
    if not text.strip():
        raise HtmlListError("empty page")
    try:
        document = lxml.html.document_fromstring(text)
    except (ValueError, lxml.etree.ParserError) as exc:
        raise HtmlListError(f"not HTML: {exc}") from exc
    base = base_url
    base_tag = document.find(".//base[@href]")
    if base_tag is not None:
        base = urljoin(base_url or "", str(base_tag.get("href")))
    rows = _compile(fields["items"])(document)
    if not rows:
        raise HtmlListError(f"fields.items {fields['items']!r} matched nothing on the page (has the layout changed?)")
    items: list[Item] = []
    taken: set[str] = set()
    for row in rows:
        raw_title, title_node = _value(row, fields["title"])
        if title_node is not None and not _split(fields["title"])[1] and title_node.get("title"):
            raw_title = str(title_node.get("title"))  # the whole title; the visible text is often cut
        title = clean_text(raw_title)
        if not title:
            continue
        if fields.get("link"):
            raw_link, _ = _value(row, fields["link"])
        else:
            anchor = title_node if title_node is not None and title_node.get("href") else _first(row, "a[href]")
            raw_link = None if anchor is None else anchor.get("href")
        link = resolve_link(raw_link, base)
        item_id = clean_text(_value(row, fields.get("id"))[0]) or link or stable_id(link, title)
        if item_id in taken:
            continue
        taken.add(item_id)
        employer = clean_text(_value(row, fields.get("employer"))[0]) or None
        location = clean_text(_value(row, fields.get("location"))[0]) or None
        items.append(
            Item(
                id=item_id,
                title=title,
                link=link,
                summary=shorten(clean_text(_value(row, fields.get("summary"))[0]), _SUMMARY_LIMIT),
                published=parse_date(find_date(_value(row, fields.get("published"))[0])),
                source=source,
                section=section,
                employer=employer,
                location=location,
            )
        )
    return items
