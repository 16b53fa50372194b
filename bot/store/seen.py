"""SeenItems: which feed items a chat (or group of chats) has already been shown, with their titles.

Keyed by (scope, source, item id); a scope is a chat id or a group name. The digest selector compares
titles to tell a new item from an updated one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.store.clock import Now, default_now, to_text
from bot.store.core import Store


@dataclass(frozen=True)
class SeenItem:
    """An item as last shown: its title, and when it was first and last seen."""

    item_id: str
    title: str
    first_seen: str
    last_seen: str


def _bucket(scope: int | str, source: str) -> str:
    return f"{scope}|{source}"


class SeenItems:
    """Seen items, in table ``seen``."""

    def __init__(self, store: Store, *, clock: Now = default_now) -> None:
        self._store = store
        self._t = store.table("seen", index=("bucket",))
        self._clock = clock

    def get(self, scope: int | str, source: str) -> dict[str, SeenItem]:
        """Item id -> what was seen, for one scope and source."""
        return {
            d["item"]: SeenItem(d["item"], d["title"], d["first_seen"], d["last_seen"])
            for d in self._t.find("bucket", _bucket(scope, source))
        }

    def mark_many(
        self, scope: int | str, source: str, items: Iterable[tuple[str, str]], *, at: datetime | None = None
    ) -> int:
        """Record (item id, title) pairs as seen now, in one durable write; returns how many changed."""
        now = to_text(at or self._clock())
        bucket = _bucket(scope, source)
        known = {d["item"]: d.doc_id for d in self._t.find("bucket", bucket)}
        changed = 0
        with self._store.batch():
            for item_id, title in items:
                item_id = str(item_id)
                if item_id in known:
                    self._t.update({"title": title, "last_seen": now}, doc_ids=[known[item_id]])
                else:
                    known[item_id] = self._t.insert(
                        {"bucket": bucket, "item": item_id, "title": title, "first_seen": now, "last_seen": now}
                    )
                changed += 1
        return changed

    def forget_before(self, cutoff: datetime) -> int:
        """Drop items last seen before ``cutoff``; returns how many."""
        to_text(cutoff)  # refuses a naive cutoff
        old = [d.doc_id for d in self._t.all() if datetime.fromisoformat(d["last_seen"]) < cutoff]
        return len(self._t.remove(doc_ids=old)) if old else 0
