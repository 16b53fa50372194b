"""Durable storage under TinyDB: one data directory, one owner process, no lost acknowledged write.

    from bot.store import Store
    with Store.open(Path("data")) as store:          # store.recovery: what recovery did, if anything
        tickets = store.table("tickets", index=("number", "asker_id"))
        with store.batch():                           # one journal record: all or nothing
            tickets.insert({...}); store.table("audit").insert({...})
        tickets.find("number", 42)

Design: docs/storage.md. Repositories built on it: ledger, seen, feedcache, health (one module each).
"""

from bot.store.core import Store
from bot.store.errors import (
    StoreCorruptError,
    StoreError,
    StoreFormatError,
    StoreLockedError,
    StoreMissingError,
)
from bot.store.table import StoreTable

__all__ = [
    "Store",
    "StoreCorruptError",
    "StoreError",
    "StoreFormatError",
    "StoreLockedError",
    "StoreMissingError",
    "StoreTable",
]
