"""DigestParts: what a delivery is made of, kept so a resumed digest sends exactly the same thing.

Keyed like the delivery ledger: (chat id, date ISO, slot). Written once, before the first part goes out:
the rendered parts, and what to record once they are all out (the feed items shown, with their titles,
and the editor-queue items used), so a delivery resumed after a crash records them too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.store.core import Store
from bot.store.keyed import put_by
from bot.store.ledger import DeliveryKey


@dataclass(frozen=True)
class StoredDigest:
    parts: list[str]
    seen: dict[str, str] = field(default_factory=dict)  # item id -> title shown
    queued: list[int] = field(default_factory=list)  # editor-queue item numbers
    empty: bool = False  # nothing new: the parts are the "今日无更新" notice


class DigestParts:
    """Stored digests, in table ``digest_parts``."""

    def __init__(self, store: Store) -> None:
        self._t = store.table("digest_parts", index=("key",))

    def record(self, key: DeliveryKey) -> StoredDigest | None:
        found = self._t.find("key", DeliveryKey(*key).text())
        if not found:
            return None
        d = found[0]
        return StoredDigest(
            list(d["parts"]), dict(d.get("seen") or {}), [int(n) for n in d.get("queued") or []], bool(d.get("empty"))
        )

    def get(self, key: DeliveryKey) -> list[str] | None:
        stored = self.record(key)
        return stored.parts if stored is not None else None

    def put(
        self,
        key: DeliveryKey,
        parts: list[str],
        *,
        seen: Mapping[str, str] | None = None,
        queued: Sequence[int] = (),
        empty: bool = False,
    ) -> None:
        text = DeliveryKey(*key).text()
        doc = {"key": text, "parts": parts, "seen": dict(seen or {}), "queued": list(queued), "empty": empty}
        put_by(self._t, "key", doc)
