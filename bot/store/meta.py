"""Meta: a few named values about the bot itself (e.g. when it first ran), in table ``meta``."""

from __future__ import annotations

from typing import Any

from bot.store.core import Store
from bot.store.keyed import put_by


class Meta:
    """Named JSON values; each write durable."""

    def __init__(self, store: Store) -> None:
        self._t = store.table("meta", index=("name",))

    def get(self, name: str, default: Any = None) -> Any:
        found = self._t.find("name", name)
        return found[0]["value"] if found else default

    def set(self, name: str, value: Any) -> None:
        put_by(self._t, "name", {"name": name, "value": value})

    def setdefault(self, name: str, value: Any) -> Any:
        found = self._t.find("name", name)
        if found:
            return found[0]["value"]
        self._t.insert({"name": name, "value": value})
        return value
