"""DigestParts: the rendered parts of a delivery, kept so a resumed digest sends exactly the same text.

Keyed like the delivery ledger: (chat id, date ISO, slot). Written once, before the first part goes out.
"""

from __future__ import annotations

from bot.store.core import Store
from bot.store.ledger import DeliveryKey


class DigestParts:
    """Rendered digest parts, in table ``digest_parts``."""

    def __init__(self, store: Store) -> None:
        self._t = store.table("digest_parts", index=("key",))

    def get(self, key: DeliveryKey) -> list[str] | None:
        found = self._t.find("key", DeliveryKey(*key).text())
        return list(found[0]["parts"]) if found else None

    def put(self, key: DeliveryKey, parts: list[str]) -> None:
        text = DeliveryKey(*key).text()
        found = self._t.find("key", text)
        if found:
            self._t.update({"parts": parts}, doc_ids=[found[0].doc_id])
        else:
            self._t.insert({"key": text, "parts": parts})
