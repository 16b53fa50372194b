"""Store.open_read_only: a copy of what the owner wrote, read beside it without the lock or any change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import Store, StoreError

ROOT = Path(__file__).resolve().parents[2]


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_read_only_beside_the_owner_sees_its_writes_and_changes_nothing(tmp_path: Path) -> None:
    d = tmp_path / "data"
    with Store.open(d) as owner:
        tickets = owner.table("tickets", index=("n",))
        for i in range(1, 4):
            tickets.insert({"n": i, "text": f"问题 {i}"})
        owner.compact()
        tickets.insert({"n": 4, "text": "问题 4"})  # after the snapshot: in the journal only
        with open(next(d.glob("journal-[0-9]*.log")), "ab") as segment:
            segment.write(b"0badc0de {\"seq\":")  # the owner's next record, half-written right now
        before = _files(d)
        copy = Store.open_read_only(d, attempts=2)
        with copy:
            assert [t["n"] for t in copy.table("tickets", index=("n",)).all()] == [1, 2, 3, 4]
            assert copy.table("tickets").find("n", 4)[0]["text"] == "问题 4"
            assert any("dropped" in m for m in copy.recovery), "what still looks torn is said"
            with pytest.raises(StoreError, match="read-only"):
                copy.table("tickets").insert({"n": 5})
            with pytest.raises(StoreError, match="read-only"), copy.batch():
                copy.table("audit").insert({"x": 1})
            assert len(copy.table("tickets")) == 4 and len(copy.table("audit")) == 0
        assert _files(d) == before, "a read-only open changed the directory"
        tickets.insert({"n": 6})  # the owner still owns it: its lock was never touched


def test_no_directory_is_a_clear_error_and_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no data directory"):
        Store.open_read_only(tmp_path / "nope")
    assert not (tmp_path / "nope").exists()


def test_reads_beside_a_live_writer_that_compacts_see_every_acknowledged_write(tmp_path: Path) -> None:
    d = tmp_path / "data"
    # the crash tests' writer: inserts, updates and batches, compacting every ~3 KB
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.store.writer", str(d), "3000"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    try:
        acked = 0
        for i in range(40):
            while acked < i * 5 + 1:  # wait for the writer's acknowledgements (the event), then read
                kind, n = proc.stdout.readline().split()
                if kind == "ack":
                    acked = int(n)
            with Store.open_read_only(d) as copy:
                ns = sorted(t["n"] for t in copy.table("tickets").all())
                audit = {a["n"] for a in copy.table("audit").all()}
            assert ns[: acked] == list(range(1, acked + 1)), f"acknowledged writes missing after ack {acked}"
            assert ns == list(range(1, len(ns) + 1)), "not a prefix of the writes"
            assert all((n % 3 == 0) == (n in audit) for n in ns), "half a batch seen"
    finally:
        proc.kill()
        proc.wait()
    assert os.path.isdir(d)
