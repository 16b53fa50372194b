"""OPML 2.0: the feed sources out (to share, to load into a reader) and in (to propose config).

Export writes one ``<outline type="rss" text title xmlUrl/>`` per feed-shaped source (``feed`` and
``jobs``; json/html/weather sources are not feeds and no reader could use them). Import reads every
outline with an ``xmlUrl`` at any depth (categories are folders of outlines) with defusedxml, so a
file declaring entities (billion laughs, external entities) is refused, and returns what it found;
the caller decides what is safe (:func:`digests.sources.http.check_url`) and what is new.
OPML 2.0: http://opml.org/spec2.opml (head/title, body/outline; type="rss" with xmlUrl, htmlUrl).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree

__all__ = ["FEED_KINDS", "OpmlEntry", "OpmlError", "export_opml", "parse_opml", "source_name"]

FEED_KINDS = ("feed", "jobs")
#: an OPML file of a few hundred feeds is tens of KB; refused above this
MAX_BYTES = 2_000_000


class OpmlError(ValueError):
    """The file is not OPML we accept; the message says why (and where, for a parse error)."""


@dataclass(frozen=True, slots=True)
class OpmlEntry:
    """One feed outline: its title (text or title attribute), feed URL and site URL."""

    title: str
    xml_url: str
    html_url: str | None = None
    category: str | None = None


def export_opml(sources: Iterable[tuple[str, str, str]], *, title: str, now: datetime | None = None) -> str:
    """OPML for ``(name, kind, url)`` triples; only feed-shaped kinds are written."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = title
    if now is not None:
        ElementTree.SubElement(head, "dateCreated").text = format_datetime(now)
    body = ElementTree.SubElement(root, "body")
    for name, kind, url in sources:
        if kind in FEED_KINDS:
            ElementTree.SubElement(body, "outline", type="rss", text=name, title=name, xmlUrl=url)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def _outlines(node: Any, category: str | None, found: list[OpmlEntry]) -> None:
    for child in node:
        if child.tag != "outline":
            continue
        label = (child.get("text") or child.get("title") or "").strip()
        url = (child.get("xmlUrl") or child.get("xmlurl") or "").strip()
        if url:
            found.append(OpmlEntry(label or url, url, (child.get("htmlUrl") or "").strip() or None, category))
        _outlines(child, label or category, found)


def parse_opml(data: bytes, where: str = "OPML") -> list[OpmlEntry]:
    """Every feed outline in ``data``, in document order; raises :class:`OpmlError`."""
    import defusedxml.ElementTree as SafeTree
    from defusedxml import DefusedXmlException

    if len(data) > MAX_BYTES:
        raise OpmlError(f"{where}: {len(data)} bytes, above the {MAX_BYTES} byte cap")
    try:
        root = SafeTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise OpmlError(f"{where}: refused: {exc} (DTDs and entities are not accepted)") from exc
    except ElementTree.ParseError as exc:
        line, column = exc.position
        raise OpmlError(f"{where}:{line}:{column}: not well-formed XML") from exc
    if root.tag != "opml":
        raise OpmlError(f"{where}: expected an <opml> root element, got <{root.tag}>")
    body = root.find("body")
    if body is None:
        raise OpmlError(f"{where}: expected a <body> element")
    found: list[OpmlEntry] = []
    _outlines(body, None, found)
    return found


def source_name(title: str, url: str, taken: Sequence[str] | set[str]) -> str:
    """A config source name for an imported feed: a slug of its title, else of its host; unique."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    if len(slug) < 3:  # a Chinese title: the host and path say more than nothing
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        slug = re.sub(r"[^a-z0-9]+", "-", f"{parts.hostname or ''} {parts.path}".lower()).strip("-")
    slug = (slug or "feed")[:40].strip("-")
    name, n = slug, 2
    while name in taken:
        name, n = f"{slug}-{n}", n + 1
    return name
