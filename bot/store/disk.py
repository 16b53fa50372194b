"""Every file operation the store makes, in one place.

The store reaches the disk only through a :class:`Disk`. The real one (:data:`REAL`) calls ``os``;
tests put a simulated disk in its place (tests/store/powercut.py) that can lose, at any moment,
whatever was written since the last fsync — the one way to see that each fsync the durability rules
depend on is really there.

Durability vocabulary used by the store: data written to a file is durable once ``fdatasync``/``fsync``
of that file returned; a name created, renamed or removed in a directory is durable once
``fsync_dir`` of the directory returned.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from pathlib import Path


class Locked(Exception):
    """Another process holds the directory's lock; ``owner_pid`` as written in LOCK, if readable."""

    def __init__(self, owner_pid: int | None) -> None:
        super().__init__(owner_pid)
        self.owner_pid = owner_pid


class Disk:
    """The real disk (``os`` calls). A subclass may simulate one; the store needs nothing else."""

    # ------------------------------------------------------------ names

    def exists(self, path: Path) -> bool:
        return os.path.lexists(path)

    def entries(self, directory: Path) -> dict[str, bool]:
        """Names in ``directory`` -> whether each is a regular file (symlinks are followed)."""
        found = {}
        with os.scandir(directory) as it:
            for entry in it:
                try:
                    found[entry.name] = entry.is_file()
                except OSError:
                    found[entry.name] = False
        return found

    def mkdir(self, directory: Path) -> None:
        """Create ``directory`` (and missing parents) durably; an existing one is an error."""
        missing = []
        d = directory
        while not os.path.lexists(d):
            missing.append(d)
            d = d.parent
        if not missing:
            raise FileExistsError(17, "File exists", str(directory))
        for m in reversed(missing):
            os.mkdir(m)
            self.fsync_dir(m.parent)

    # ------------------------------------------------------------ reading

    def read(self, path: Path) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def size(self, path: Path) -> int:
        return os.stat(path).st_size

    # ------------------------------------------------------------ writing

    def create(self, path: Path) -> int:
        """A new, empty file open for writing (an existing one is emptied)."""
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)

    def open_append(self, path: Path) -> int:
        return os.open(path, os.O_WRONLY | os.O_APPEND)

    def write(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]

    def fsync(self, fd: int) -> None:
        os.fsync(fd)

    def fdatasync(self, fd: int) -> None:
        os.fdatasync(fd)

    def close(self, fd: int) -> None:
        os.close(fd)

    def replace(self, src: Path, dst: Path) -> None:
        os.replace(src, dst)

    def unlink(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    def truncate(self, path: Path, size: int) -> None:
        """Cut ``path`` to ``size`` bytes, durably."""
        fd = os.open(path, os.O_WRONLY)
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        finally:
            os.close(fd)

    def fsync_dir(self, directory: Path) -> None:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # ------------------------------------------------------------ one owner

    def lock(self, directory: Path) -> object:
        """Own ``directory`` until :meth:`unlock`; raises :class:`Locked` if another owner has it.

        The lock is taken on the directory itself (``flock`` on an fd of the directory), so deleting or
        replacing ``LOCK`` while the owner runs lets nobody in; ``LOCK`` is flock'ed as well (what older
        versions lock) and holds the owner's pid for the error message.
        """
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(dir_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(dir_fd)
            raise Locked(_owner(directory / "LOCK")) from None
        try:
            fd = os.open(directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        except BaseException:
            os.close(dir_fd)
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            os.close(dir_fd)
            raise Locked(_owner(directory / "LOCK")) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            os.close(dir_fd)
            raise
        return (dir_fd, fd)

    def unlock(self, token: object) -> None:
        for fd in token:  # type: ignore[attr-defined]
            with contextlib.suppress(OSError):
                os.close(fd)


def _owner(lock_file: Path) -> int | None:
    try:
        fd = os.open(lock_file, os.O_RDONLY)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return int(os.pread(fd, 32, 0).decode().strip() or "x")
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


REAL = Disk()
