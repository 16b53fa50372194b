"""The store's exceptions.

StoreError                  anything the store refuses or cannot do; the message says what and where
 ├── StoreLockedError       another process owns the data directory (names it and the owner pid)
 ├── StoreCorruptError      no intact state could be restored, or files are missing; nothing was changed
 ├── StoreFormatError       a file was written by a newer servicebot; nothing was changed
 └── StoreMissingError      the directory exists but holds no store (an unmounted volume?)
"""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """The store refused an operation or could not complete it."""


class StoreLockedError(StoreError):
    """Another process holds the lock on a data directory."""

    def __init__(self, directory: Path, owner_pid: int | None) -> None:
        self.directory = directory
        self.owner_pid = owner_pid
        owner = f"process {owner_pid}" if owner_pid is not None else "another process"
        super().__init__(
            f"data directory {directory} is in use by {owner}; "
            "only one servicebot may own it — stop the other instance or use another data directory"
        )


class StoreCorruptError(StoreError):
    """Nothing intact could be restored; the files were left untouched for inspection."""


class StoreFormatError(StoreError):
    """A file in the data directory was written by a newer servicebot (a newer format version)."""


class StoreMissingError(StoreError):
    """The data directory exists but holds no store; ``servicebot init`` starts one there."""
