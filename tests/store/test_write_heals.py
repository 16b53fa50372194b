"""One failed store write (disk full, I/O error) fails that write only: the next ones are tried again and
succeed once the disk takes them, with nothing of the failed one left behind (issue 11, item 3).

The disk is the real one, except that while ``full`` is set, appends to the journal fail the way a full disk
fails them (part of the record lands, then ENOSPC) or the flush does (EIO from fdatasync).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from bot.store import Store, StoreError
from bot.store.disk import Disk


class FailingJournal(Disk):
    """Appends to journal segments fail while ``full`` (``how``: "enospc" mid-write, or "eio" on fdatasync)."""

    def __init__(self, how: str = "enospc") -> None:
        self.how = how
        self.full = False
        self.failures = 0
        self._journal_fds: set[int] = set()

    def open_append(self, path: Path) -> int:
        fd = super().open_append(path)
        if path.name.startswith("journal-"):
            self._journal_fds.add(fd)
        return fd

    def write(self, fd: int, data: bytes) -> None:
        if self.full and self.how == "enospc" and fd in self._journal_fds:
            self.failures += 1
            super().write(fd, data[: len(data) // 2])  # part of it lands, as on a real full disk
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super().write(fd, data)

    def fdatasync(self, fd: int) -> None:
        if self.full and self.how == "eio" and fd in self._journal_fds:
            self.failures += 1
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        super().fdatasync(fd)

    def close(self, fd: int) -> None:
        self._journal_fds.discard(fd)
        super().close(fd)


@pytest.mark.parametrize("how", ["enospc", "eio"])
def test_writes_after_a_failed_one_succeed_once_the_disk_takes_them(tmp_path: Path, how: str) -> None:
    disk = FailingJournal(how)
    d = tmp_path / "data"
    with Store.open(d, disk=disk) as store:
        t = store.table("tickets")
        t.insert({"n": 1})
        disk.full = True
        for n in (2, 3):  # the disk is full: each write fails on its own, loudly, and is undone in memory
            with pytest.raises(StoreError, match="journal write failed"):
                t.insert({"n": n})
        assert [x["n"] for x in t.all()] == [1]
        assert disk.failures == 2
        disk.full = False  # space is back
        t.insert({"n": 4})
        t.update({"answered": True}, doc_ids=[1])
        assert [x["n"] for x in t.all()] == [1, 4]
    with Store.open(d) as again:
        assert [(x["n"], x.get("answered")) for x in again.table("tickets").all()] == [(1, True), (4, None)]
        assert again.recovery == [], "the failed write's torn tail was left in the journal"


@pytest.mark.parametrize("how", ["enospc", "eio"])
def test_ops_is_told_once_when_writes_fail_and_once_when_they_work_again(tmp_path: Path, how: str) -> None:
    disk = FailingJournal(how)
    alerts: list[str] = []
    with Store.open(tmp_path / "data", disk=disk) as store:
        store.on_alert = alerts.append
        t = store.table("tickets")
        t.insert({"n": 1})
        assert store.write_error is None and alerts == []
        disk.full = True
        for n in range(2, 7):  # five writes refused: one alert, not five
            with pytest.raises(StoreError):
                t.insert({"n": n})
        assert len(alerts) == 1, alerts
        assert "writes fail" in alerts[0] and os.strerror(errno.ENOSPC if how == "enospc" else errno.EIO) in alerts[0]
        assert store.write_failures == 5 and store.write_failing_since is not None
        assert store.write_error is not None
        disk.full = False
        t.insert({"n": 7})
        assert len(alerts) == 2 and "writes work again, after 5 failed" in alerts[1], alerts
        assert store.write_error is None and store.write_failures == 0
        t.insert({"n": 8})  # healthy writes say nothing
        assert len(alerts) == 2


def test_an_alert_callback_that_raises_never_fails_the_store(tmp_path: Path) -> None:
    disk = FailingJournal()

    def broken(_text: str) -> None:
        raise RuntimeError("the ops chat is down too")

    with Store.open(tmp_path / "data", disk=disk) as store:
        store.on_alert = broken
        t = store.table("tickets")
        disk.full = True
        with pytest.raises(StoreError, match="journal write failed"):
            t.insert({"n": 1})
        disk.full = False
        t.insert({"n": 2})
        assert [x["n"] for x in t.all()] == [2]
