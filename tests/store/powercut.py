"""A simulated disk that loses power: whatever was not fsynced is gone.

The store reaches the disk only through :class:`bot.store.disk.Disk`; :class:`PowerCutDisk` stands in
for it, in memory. It keeps, for every file, what was written and what is durable (as of the file's last
``fsync``/``fdatasync``), and for the directory, which names exist and which are durable (as of its last
``fsync_dir``). After ``cut_after`` operations the power goes: that operation and every later one raise
:class:`PowerCut`. :meth:`reboot` then brings back only what was durable: files as of their last fsync
(or, when ``torn`` is set, that plus a random part of what was appended after it, as a disk that wrote
some of it before dying would), names as of the last directory fsync.

An fsync the store leaves out shows up as an acknowledged write lost after some cut.
"""

from __future__ import annotations

import itertools
import random
import threading
from pathlib import Path

from bot.store.disk import Disk


class PowerCut(Exception):
    """The power went: nothing more reaches this disk until :meth:`PowerCutDisk.reboot`."""


class _File:
    def __init__(self) -> None:
        self.data = bytearray()
        self.durable = b""


class _Dir:
    def __init__(self) -> None:
        self.names: dict[str, _File] = {}
        self.durable: dict[str, _File] = {}


class PowerCutDisk(Disk):
    """An in-memory disk for one data directory (and its parents) that can lose power at any operation."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.dirs: dict[Path, _Dir] = {}
        self.fds: dict[int, _File] = {}
        self._fd_numbers = itertools.count(1000)
        self._lock = threading.Lock()  # the store's compaction thread uses the disk too
        self.cut_after: int | None = None  # operations until the power goes (None: never)
        self.dead = False
        self.torn = False
        self.ops = 0

    # ------------------------------------------------------------ power

    def _tick(self) -> None:
        if self.dead:
            raise PowerCut()
        self.ops += 1
        if self.cut_after is not None:
            self.cut_after -= 1
            if self.cut_after <= 0:
                self.dead = True
                raise PowerCut()

    def reboot(self) -> None:
        """Only what was durable survives; open files are gone."""
        with self._lock:
            for d in self.dirs.values():
                d.names = dict(d.durable)
                for f in d.names.values():
                    kept = f.durable
                    if self.torn and bytes(f.data[: len(kept)]) == kept and len(f.data) > len(kept):
                        extra = bytes(f.data[len(kept) :])
                        kept += extra[: self.rng.randint(0, len(extra))]
                    f.data = bytearray(kept)
                    f.durable = kept
            self.fds.clear()
            self.dead = False
            self.cut_after = None

    # ------------------------------------------------------------ helpers

    def _dir(self, directory: Path) -> _Dir:
        try:
            return self.dirs[directory]
        except KeyError:
            raise FileNotFoundError(2, "No such file or directory", str(directory)) from None

    def _file(self, path: Path) -> _File:
        try:
            return self._dir(path.parent).names[path.name]
        except KeyError:
            raise FileNotFoundError(2, "No such file or directory", str(path)) from None

    def _open(self, f: _File) -> int:
        fd = next(self._fd_numbers)
        self.fds[fd] = f
        return fd

    # ------------------------------------------------------------ Disk

    def exists(self, path: Path) -> bool:
        with self._lock:
            self._tick()
            return path in self.dirs or (path.parent in self.dirs and path.name in self.dirs[path.parent].names)

    def entries(self, directory: Path) -> dict[str, bool]:
        with self._lock:
            self._tick()
            found = dict.fromkeys(self._dir(directory).names, True)
            found.update({p.name: False for p in self.dirs if p.parent == directory and p != directory})
            return found

    def mkdir(self, directory: Path) -> None:
        with self._lock:
            self._tick()
            for d in [*reversed(directory.parents), directory]:
                self.dirs.setdefault(d, _Dir())  # directories are made durable at once (simplification)

    def read(self, path: Path) -> bytes:
        with self._lock:
            self._tick()
            return bytes(self._file(path).data)

    def size(self, path: Path) -> int:
        with self._lock:
            self._tick()
            return len(self._file(path).data)

    def create(self, path: Path) -> int:
        with self._lock:
            self._tick()
            f = _File()
            self._dir(path.parent).names[path.name] = f
            return self._open(f)

    def open_append(self, path: Path) -> int:
        with self._lock:
            self._tick()
            return self._open(self._file(path))

    def write(self, fd: int, data: bytes) -> None:
        with self._lock:
            self._tick()
            self.fds[fd].data += data

    def fsync(self, fd: int) -> None:
        with self._lock:
            self._tick()
            f = self.fds[fd]
            f.durable = bytes(f.data)

    def fdatasync(self, fd: int) -> None:
        self.fsync(fd)

    def close(self, fd: int) -> None:
        with self._lock:
            self._tick()
            self.fds.pop(fd, None)

    def replace(self, src: Path, dst: Path) -> None:
        with self._lock:
            self._tick()
            if src in self.dirs:  # a directory (durable at once, like mkdir)
                for p in [p for p in self.dirs if p == src or src in p.parents]:
                    self.dirs[dst / p.relative_to(src)] = self.dirs.pop(p)
                return
            d = self._dir(src.parent)
            d.names[dst.name] = d.names.pop(src.name)

    def unlink(self, path: Path) -> None:
        with self._lock:
            self._tick()
            self._dir(path.parent).names.pop(path.name, None)

    def truncate(self, path: Path, size: int) -> None:
        with self._lock:
            self._tick()
            f = self._file(path)
            del f.data[size:]
            f.durable = bytes(f.data)

    def fsync_dir(self, directory: Path) -> None:
        with self._lock:
            self._tick()
            d = self._dir(directory)
            d.durable = dict(d.names)

    def lock(self, directory: Path) -> object:
        with self._lock:
            self._tick()
            self._dir(directory)
            return None

    def unlock(self, token: object) -> None:
        pass
