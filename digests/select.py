"""Choosing what a section shows: freshness, keywords, dedupe against what was seen, updates, limit."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from digests.model import Item, SectionSpec

__all__ = ["Selection", "content_key", "select"]

#: between the title and the hash of the rest in a seen record
_KEY_SEP = "\x1f"


def content_key(item: Item) -> str:
    """What a seen record remembers of an item: its title, plus a hash of what else a member reads.

    The title alone when there is nothing else (so records written before hashes still match);
    otherwise ``title<US>sha1(summary, employer, location)[:16]``: a changed summary with the same
    id and title is an update too.
    """
    rest = "\n".join((item.summary, item.employer or "", item.location or ""))
    if not rest.strip():
        return item.title
    digest = hashlib.sha1(rest.encode("utf-8")).hexdigest()[:16]
    return f"{item.title}{_KEY_SEP}{digest}"


def _unchanged(shown: str, item: Item) -> bool:
    # a record from before content hashes holds the bare title: same title counts as unchanged
    return shown in (content_key(item), item.title)


@dataclass(frozen=True, slots=True)
class Selection:
    """The items to show, newest first, and the seen records to persist once they are sent."""

    items: tuple[Item, ...]
    seen_updates: Mapping[str, str]


def _matches(item: Item, words: tuple[str, ...]) -> bool:
    text = f"{item.title}\n{item.summary}\n{item.employer or ''}\n{item.location or ''}".casefold()
    return any(word.casefold() in text for word in words if word)


def select(
    items: Iterable[Item],
    spec: SectionSpec,
    seen: Mapping[str, str],
    now: datetime,
    *,
    exclude_ids: Iterable[str] = (),
) -> Selection:
    """Pick at most ``spec.limit`` items for a section.

    - dropped when older than ``spec.max_age_hours``, or without a date (nothing proves it is not
      months old, and every line a member reads carries its date);
    - kept only if they contain an include keyword (when any are set), never with an exclude one;
    - an id in ``seen`` with the same content (title, summary, employer, place: :func:`content_key`)
      is dropped; with a changed one it is kept, marked updated;
    - ``exclude_ids`` are ids already taken by an earlier section of the same digest.
    """
    if now.tzinfo is None:
        raise ValueError("select: now must be timezone-aware")
    oldest = now - timedelta(hours=spec.max_age_hours)
    taken = set(exclude_ids)
    chosen: list[Item] = []
    for item in items:
        if item.id in taken:
            continue
        if item.published is None or item.published < oldest or item.published > now + timedelta(days=1):
            continue
        if spec.include and not _matches(item, spec.include):
            continue
        if spec.exclude and _matches(item, spec.exclude):
            continue
        shown = seen.get(item.id)
        if shown is not None:
            if _unchanged(shown, item):
                continue
            item = replace(item, updated=True)
        taken.add(item.id)
        chosen.append(item)
    # newest first; equal times in feed order (sort is stable)
    chosen.sort(key=lambda i: i.published.timestamp() if i.published else 0.0, reverse=True)
    picked = tuple(chosen[: spec.limit])
    return Selection(picked, {item.id: content_key(item) for item in picked})
