"""A real disk that fails on purpose: writes to chosen files raise ENOSPC (a full disk) while ``full``."""

from __future__ import annotations

import errno
import fnmatch
import os
from pathlib import Path

from bot.store.disk import Disk


class FullDisk(Disk):
    """The real disk, except that while ``full`` is set, writing a file whose name matches ``pattern`` fails."""

    def __init__(self, pattern: str = "*") -> None:
        self.pattern = pattern
        self.full = False
        self.failed_writes = 0
        self.created: list[str] = []  # names of every file created, in order
        self._paths: dict[int, Path] = {}

    def create(self, path: Path) -> int:
        fd = super().create(path)
        self._paths[fd] = path
        self.created.append(path.name)
        return fd

    def write(self, fd: int, data: bytes) -> None:
        path = self._paths.get(fd)
        if self.full and path is not None and fnmatch.fnmatch(path.name, self.pattern):
            self.failed_writes += 1
            super().write(fd, data[: len(data) // 2])  # part of it lands, as on a real full disk
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super().write(fd, data)

    def close(self, fd: int) -> None:
        self._paths.pop(fd, None)
        super().close(fd)
