"""RSS/Atom bytes -> items, as Chinese feeds really are.

``feedparser.parse`` only ever sees bytes we fetched (never a URL or a path), decoded first by
:mod:`digests.sources.encoding` (header, declaration, detection) and handed over as UTF-8. Documents declaring XML
entities are refused before parsing (billion laughs, external entities).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from digests.model import Item
from digests.sources.encoding import as_utf8_xml, decode
from digests.sources.text import clean_text, parse_date, resolve_link, shorten, stable_id

__all__ = ["SUMMARY_LIMIT", "FeedError", "parse_feed", "parse_jobs"]

SUMMARY_LIMIT = 200
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_LOCATION = re.compile(r"(?:Headquarters|Location)\s*:\s*(.+?)(?:\s+URL\s*:|$)")
# Chinese job feeds (RSSHub routes of local talent sites, WeChat accounts): labels in the description
_ZH_LOCATION = re.compile(r"(?:工作地点|工作地址|地点)\s*[:：]\s*([^\s，,；;。]+)")
_ZH_EMPLOYER = re.compile(r"(?:招聘单位|用人单位|招聘企业|单位名称|公司)\s*[:：]\s*([^\s，,；;。]+)")


class FeedError(ValueError):
    """The bytes are not a feed we accept; the message says why."""


def _check_safe(data: bytes) -> None:
    # drop NULs so UTF-16/32 markup is searchable as ASCII too
    if _ENTITY_DECL.search(data.replace(b"\x00", b"")):
        raise FeedError("refused: the document declares XML entities (possible entity expansion attack)")


def _parse(data: bytes, headers: Mapping[str, str] | None, base_url: str | None) -> Any:
    _check_safe(data)
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if base_url and "content-location" not in response_headers:
        response_headers["content-location"] = base_url
    import feedparser  # on the first feed, not at start-up (docs/reliability.md, footprint)

    # We decode, not feedparser: with no charset anywhere it would need chardet, and a wrong
    # charset=utf-8 makes it fall back to windows-1252 (mojibake). It gets UTF-8 that says so.
    decoded = decode(data, response_headers.get("content-type"))
    media = (response_headers.get("content-type") or "application/xml").split(";", 1)[0].strip()
    response_headers["content-type"] = f"{media or 'application/xml'}; charset=utf-8"
    parsed = feedparser.parse(as_utf8_xml(decoded), response_headers=response_headers, sanitize_html=True)
    if not parsed.entries and not parsed.get("version"):
        reason = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise FeedError(f"not a feed: {reason}")
    return parsed


def _raw_date(entry: Any) -> str | None:
    for key in ("published", "updated", "created", "dc_date"):
        value = entry.get(key)
        if value:
            return str(value)
    return None


def _entries_to_items(parsed: Any, *, source: str, section: str, base_url: str | None) -> list[Item]:
    base = base_url or parsed.feed.get("link") or None
    rows: list[tuple[str | None, str, str | None, Any]] = []
    for entry in parsed.entries:
        title = clean_text(entry.get("title"))
        link = resolve_link(entry.get("link"), base)
        if not title and not link:
            continue
        rows.append((entry.get("id") or None, title, link, entry))

    # a guid shared by different entries (one list-page URL for ten notices) cannot tell them apart
    distinct_by_guid: dict[str, set[tuple[str, str | None]]] = {}
    for guid, title, link, _ in rows:
        if guid:
            distinct_by_guid.setdefault(guid, set()).add((title, link))

    items: list[Item] = []
    seen_ids: set[str] = set()
    for guid, title, link, entry in rows:
        item_id = str(guid) if guid and len(distinct_by_guid[guid]) == 1 else stable_id(link, title)
        if item_id in seen_ids:  # an exact repeat of an entry already taken
            continue
        seen_ids.add(item_id)
        summary = clean_text(entry.get("summary") or entry.get("description"))
        items.append(
            Item(
                id=item_id,
                title=title or (link or ""),
                link=link,
                summary=shorten(summary, SUMMARY_LIMIT),
                published=parse_date(_raw_date(entry)),
                source=source,
                section=section,
            )
        )
    return items


def parse_feed(
    data: bytes,
    *,
    source: str = "",
    section: str = "",
    headers: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> list[Item]:
    """Parse RSS/Atom ``data`` into items; raises :class:`FeedError` if it is not a feed at all."""
    return _entries_to_items(_parse(data, headers, base_url), source=source, section=section, base_url=base_url)


def parse_jobs(
    data: bytes,
    *,
    source: str = "",
    section: str = "",
    headers: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> list[Item]:
    """Parse a job feed: "Employer: Job title" (or "单位：岗位") titles, else 招聘单位：… in the
    description; region, Headquarters/Location or 工作地点：… as location."""
    parsed = _parse(data, headers, base_url)
    items = _entries_to_items(parsed, source=source, section=section, base_url=base_url)
    regions: dict[str, str] = {}
    for entry in parsed.entries:
        region = clean_text(entry.get("region"))
        if region:
            regions[clean_text(entry.get("title"))] = region
    jobs: list[Item] = []
    for item in items:
        employer: str | None = None
        title = item.title
        for separator in (": ", "："):
            if separator in title:
                employer, title = (part.strip() for part in title.split(separator, 1))
                break
        if employer is None:
            match = _ZH_EMPLOYER.search(item.summary)
            employer = match[1].strip() if match else None
        location = regions.get(item.title)
        if location is None:
            match = _LOCATION.search(item.summary) or _ZH_LOCATION.search(item.summary)
            location = match[1].strip() if match else None
        jobs.append(
            Item(
                id=item.id,
                title=title,
                link=item.link,
                summary=item.summary,
                published=item.published,
                source=item.source,
                section=item.section,
                employer=employer or None,
                location=location or None,
            )
        )
    return jobs
