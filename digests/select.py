"""Choosing what a section shows: freshness, keywords, dedupe against what was seen, updates, limit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from digests.model import Item, SectionSpec

__all__ = ["Selection", "select"]



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

    - dropped when older than ``spec.max_age_hours`` (items without a date are kept: we cannot tell);
    - kept only if they contain an include keyword (when any are set), never with an exclude one;
    - an id in ``seen`` with the same title is dropped; with a changed title it is kept, marked updated;
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
        if item.published is not None and (item.published < oldest or item.published > now + timedelta(days=1)):
            continue
        if spec.include and not _matches(item, spec.include):
            continue
        if spec.exclude and _matches(item, spec.exclude):
            continue
        shown = seen.get(item.id)
        if shown is not None:
            if shown == item.title:
                continue
            item = replace(item, updated=True)
        taken.add(item.id)
        chosen.append(item)
    # newest first; undated items after dated ones, in feed order (sort is stable)
    chosen.sort(key=lambda i: (i.published is not None, i.published.timestamp() if i.published else 0.0), reverse=True)
    picked = tuple(chosen[: spec.limit])
    return Selection(picked, {item.id: item.title for item in picked})
