"""FeedCache: per source URL, the validators of the last fetch and the raw items it gave.

Lets a fetcher send If-None-Match / If-Modified-Since and, on 304 or a failure, reuse the items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.store.clock import Now, default_now, to_text
from bot.store.core import Store
from bot.store.keyed import put_by


@dataclass(frozen=True)
class CachedFeed:
    """What the last successful fetch of ``url`` returned."""

    url: str
    etag: str | None
    last_modified: str | None
    items: list[Any]  # JSON-able raw items, as the source module stored them
    fetched_at: str


class FeedCache:
    """Cached feeds, in table ``feeds``."""

    def __init__(self, store: Store, *, clock: Now = default_now) -> None:
        self._t = store.table("feeds", index=("url",))
        self._clock = clock

    def get(self, url: str) -> CachedFeed | None:
        found = self._t.find("url", url)
        if not found:
            return None
        d = found[0]
        return CachedFeed(d["url"], d["etag"], d["last_modified"], d["items"], d["fetched_at"])

    def put(
        self,
        url: str,
        *,
        etag: str | None,
        last_modified: str | None,
        items: list[Any],
        at: datetime | None = None,
    ) -> None:
        """Replace what is cached for ``url`` (one durable write)."""
        doc = {"url": url, "etag": etag, "last_modified": last_modified, "items": items,
               "fetched_at": to_text(at or self._clock())}
        put_by(self._t, "url", doc)
