"""Compaction runs in a thread from a frozen image of the state; when it fails it cleans up, backs off
and alerts once (issue 11, part 4)."""

from __future__ import annotations

import json
import threading
import zlib
from pathlib import Path

import pytest

import bot.store.core
from bot.store import Store, StoreError
from bot.store.journal import (
    TableState,
    decode,
    encode,
    frame,
    freeze,
    read_snapshot,
    write_frozen_snapshot,
    write_snapshot,
)

from .faulty import FullDisk


class SlowSnapshotDisk(FullDisk):
    """Writing a snapshot blocks until ``release`` is set (``blocked`` says it got there)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked = threading.Event()
        self.release = threading.Event()

    def write(self, fd: int, data: bytes) -> None:
        path = self._paths.get(fd)
        if path is not None and path.name.startswith("snapshot-"):
            self.blocked.set()
            assert self.release.wait(30), "the test never released the snapshot"
        super().write(fd, data)


def test_a_compaction_does_not_hold_up_the_writer(tmp_path: Path) -> None:
    disk = SlowSnapshotDisk()
    d = tmp_path / "data"
    with Store.open(d, compact_after_bytes=2_000, disk=disk) as store:
        t = store.table("t")
        n = 0
        while not disk.blocked.is_set():  # each write returns; one of them started a compaction
            n += 1
            t.insert({"n": n, "pad": "x" * 100})
            if n > 200:
                assert disk.blocked.wait(10), "no compaction started"
        # the snapshot is stuck on the disk, and writes still go through, durably, into the new segment
        for _ in range(20):
            n += 1
            t.insert({"n": n, "pad": "x" * 100})
        assert not list(d.glob("snapshot-*.json"))
        disk.release.set()
        assert store.wait_compaction(30)
        assert list(d.glob("snapshot-*.json"))
    with Store.open(d) as store:
        assert store.recovery == []
        assert [x["n"] for x in store.table("t").all()] == list(range(1, n + 1))


def test_the_frozen_image_is_the_state_when_the_compaction_began(tmp_path: Path) -> None:
    tables = {"t": TableState({1: {"a": 1}, 2: {"a": 2}}, 3)}
    frozen = freeze(tables)
    tables["t"].docs[3] = encode({"a": 3})
    tables["t"].docs[1] = encode({"a": "changed"})
    del tables["t"].docs[2]
    tables["t"].next_id = 4
    d = tmp_path / "data"
    d.mkdir()
    path = write_frozen_snapshot(d, 7, frozen)
    body = json.loads(path.read_bytes().split(b"\n", 1)[1])
    assert body == {"t": {"1": {"a": 1}, "2": {"a": 2}}}
    assert json.loads(path.read_bytes()[9:].split(b"\n", 1)[0])["next_ids"] == {"t": 3}


def test_a_snapshot_is_tinydbs_document_one_document_a_line(tmp_path: Path) -> None:
    tables = {
        "tickets": TableState({i: {"n": i, "text": f"问题 {i}\n第二行"} for i in range(1, 1000)}, 1000),
        "empty": TableState({}, 1),
        "one": TableState({5: {"x": [1, {"y": None}]}}, 6),
    }
    d = tmp_path / "data"
    d.mkdir()
    path = write_snapshot(d, 1, tables)
    body = path.read_bytes().split(b"\n", 1)[1].rstrip(b"\n")
    whole = {name: {str(i): decode(raw) for i, raw in s.docs.items()} for name, s in tables.items()}
    assert json.loads(body) == whole  # what TinyDB's JSONStorage (and an older servicebot) reads
    lines = body.split(b"\n")
    assert len(lines) == 1 + 3 * 2 + 999 + 1 + 1  # {, (table, end) x 3, a line per document, }
    _seq, read, _trailing = read_snapshot(path)
    assert {n: (s.docs, s.next_id) for n, s in read.items()} == {n: (s.docs, s.next_id) for n, s in tables.items()}


def test_a_snapshot_of_the_older_whole_document_body_still_opens(tmp_path: Path) -> None:
    d = tmp_path / "data"
    d.mkdir()
    body = json.dumps({"t": {"1": {"a": "一"}, "3": {"b": [1]}}}, ensure_ascii=False, separators=(",", ":")).encode()
    header = {"format": "servicebot-store/1", "seq": 1, "next_ids": {"t": 4}, "body_bytes": len(body),
              "body_crc32": zlib.crc32(body)}
    (d / "snapshot-000000000001.json").write_bytes(frame(json.dumps(header).encode()) + body + b"\n")
    with Store.open(d) as store:
        assert [dict(x) for x in store.table("t").all()] == [{"a": "一"}, {"b": [1]}]
        assert store.table("t").insert({"c": 1}) == 4


def test_a_failed_compaction_leaves_no_tmp_backs_off_and_alerts_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(bot.store.core, "_now", lambda: now[0])
    disk = FullDisk("snapshot-*")
    d = tmp_path / "data"
    alerts: list[str] = []
    with Store.open(d, compact_after_bytes=1_000, disk=disk) as store:
        store.on_alert = alerts.append
        t = store.table("t")
        disk.full = True
        for i in range(1, 301):  # the journal passes the threshold again and again
            t.insert({"n": i, "pad": "x" * 50})
            store.wait_compaction()
        tries = [n for n in disk.created if n.startswith("snapshot-")]
        assert len(tries) == 1, tries  # backing off: not one try per write
        assert not list(d.glob("*.tmp"))  # the failed snapshot's temp file is gone
        assert len(alerts) == 1 and "compaction failed" in alerts[0] and "No space left" in alerts[0]
        assert "next try in 60 s" in alerts[0]

        now[0] += 61  # the back-off has passed, still full: tried again, not alerted again
        t.insert({"n": 301})
        store.wait_compaction()
        assert len([n for n in disk.created if n.startswith("snapshot-")]) == 2
        assert len(alerts) == 1
        assert not list(d.glob("*.tmp"))

        now[0] += 61  # 120 s back-off now: nothing yet
        t.insert({"n": 302})
        store.wait_compaction()
        assert len([n for n in disk.created if n.startswith("snapshot-")]) == 2

        disk.full = False  # room again
        now[0] += 120
        t.insert({"n": 303})
        store.wait_compaction()
        assert list(d.glob("snapshot-*.json"))
        assert len(alerts) == 2 and "works again" in alerts[1]
    with Store.open(d) as store:
        assert store.recovery == []
        assert [x["n"] for x in store.table("t").all()] == list(range(1, 304))


def test_an_explicit_compaction_that_fails_says_so_and_leaves_no_tmp(tmp_path: Path) -> None:
    disk = FullDisk("snapshot-*")
    d = tmp_path / "data"
    with Store.open(d, disk=disk) as store:
        store.table("t").insert({"n": 1})
        disk.full = True
        with pytest.raises(StoreError, match=r"compaction failed: .*No space left"):
            store.compact()
        assert not list(d.glob("*.tmp"))
        store.table("t").insert({"n": 2})
    with Store.open(d) as store:
        assert [x["n"] for x in store.table("t").all()] == [1, 2]
