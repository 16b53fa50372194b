"""Durability: reopen, recovery from damage, the directory lock, and SIGKILL during writes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.store import Store, StoreCorruptError, StoreError, StoreLockedError
from bot.store.journal import TableState, write_snapshot

from .faulty import FullDisk

ROOT = Path(__file__).resolve().parents[2]


def _fill(directory: Path, n: int, **kw: int) -> None:
    with Store.open(directory, **kw) as store:
        t = store.table("tickets", index=("n",))
        for i in range(1, n + 1):
            t.insert({"n": i, "text": f"问题 {i}"})


def _ns(directory: Path) -> list[int]:
    with Store.open(directory) as store:
        return [d["n"] for d in store.table("tickets").all()]


def _segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("journal-[0-9]*.log"))


def _snapshots(directory: Path) -> list[Path]:
    return sorted(directory.glob("snapshot-*.json"))


def test_reopen_after_close_keeps_everything(tmp_path: Path) -> None:
    d = tmp_path / "data"
    with Store.open(d) as store:
        t = store.table("tickets", index=("n",))
        t.insert_multiple([{"n": i} for i in range(1, 6)])
        t.update({"state": "closed"}, doc_ids=[2])
        t.remove(doc_ids=[3])
        with store.batch():
            t.insert({"n": 6})
            store.table("audit").insert({"ticket": 6})
    with Store.open(d) as store:
        assert store.recovery == []
        t = store.table("tickets", index=("n",))
        assert [d["n"] for d in t.all()] == [1, 2, 4, 5, 6]
        assert t.get(doc_id=2) == {"n": 2, "state": "closed"}
        assert [x.doc_id for x in t.find("n", 6)] == [6]
        assert store.table("audit").all() == [{"ticket": 6}]
        t.remove(doc_ids=[6])
    with Store.open(d) as store:
        assert store.table("tickets").insert({"n": 7}) == 7  # ids continue, never reused


def test_compaction_keeps_state_and_prunes_files(tmp_path: Path) -> None:
    d = tmp_path / "data"
    _fill(d, 300, compact_after_bytes=2_000)
    assert len(_snapshots(d)) == 2  # the newest and one older
    assert len(_segments(d)) <= 3
    assert _ns(d) == list(range(1, 301))


def test_bulk_loaded_snapshot_opens(tmp_path: Path) -> None:
    d = tmp_path / "data"
    d.mkdir()
    write_snapshot(d, 1, {"tickets": TableState({i: {"n": i} for i in range(1, 1001)}, 1001)})
    with Store.open(d) as store:
        t = store.table("tickets")
        assert len(t) == 1000
        assert t.insert({"n": 1001}) == 1001
    assert len(_ns(d)) == 1001


def test_truncated_last_record_is_dropped_and_reported(tmp_path: Path) -> None:
    d = tmp_path / "data"
    _fill(d, 10)
    seg = _segments(d)[-1]
    size = seg.stat().st_size
    os.truncate(seg, size - 7)
    with Store.open(d) as store:
        assert len(store.recovery) == 1
        # what is known, not a guess: which record was cut, after which one, and that more may be gone
        assert "dropped 1 incomplete record after record 9 (record 10," in store.recovery[0]
        assert "before it was acknowledged, or the file was cut short" in store.recovery[0]
        assert seg.name in store.recovery[0]
        t = store.table("tickets")
        assert [x["n"] for x in t.all()] == list(range(1, 10))
        t.insert({"n": 10})
    assert _ns(d) == list(range(1, 11))
    assert list(d.glob("journal-*.damaged-*"))  # the torn bytes are kept for inspection


def test_garbage_appended_is_cut_off(tmp_path: Path) -> None:
    d = tmp_path / "data"
    _fill(d, 5)
    with _segments(d)[-1].open("ab") as f:
        f.write(b"\x00\xff garbage\nmore garbage")
    with Store.open(d) as store:
        assert any("dropped" in m for m in store.recovery)
        assert [x["n"] for x in store.table("tickets").all()] == [1, 2, 3, 4, 5]
    with Store.open(d) as store:
        assert store.recovery == []


def test_damaged_record_in_the_middle_stops_replay_and_keeps_the_rest_aside(tmp_path: Path) -> None:
    d = tmp_path / "data"
    _fill(d, 6)
    seg = _segments(d)[-1]
    lines = seg.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"3", b"8", 1)  # a bit flip in record 3
    seg.write_bytes(b"\n".join(lines))
    with Store.open(d) as store:
        assert any("restored up to record 2" in m and "3 later records set aside" in m for m in store.recovery)
        assert [x["n"] for x in store.table("tickets").all()] == [1, 2]


def test_zero_length_newest_snapshot_falls_back_to_the_older_one(tmp_path: Path) -> None:
    d = tmp_path / "data"
    with Store.open(d) as store:
        t = store.table("tickets")
        for i in range(1, 4):
            t.insert({"n": i})
        store.compact()
        for i in range(4, 7):
            t.insert({"n": i})
        store.compact()
        t.insert({"n": 7})
    _older, newest = _snapshots(d)
    newest.write_bytes(b"")
    with Store.open(d) as store:
        assert any(newest.name in m and "empty" in m for m in store.recovery)
        assert [x["n"] for x in store.table("tickets").all()] == list(range(1, 8))


def test_corrupt_snapshot_with_intact_older_one(tmp_path: Path) -> None:
    d = tmp_path / "data"
    with Store.open(d) as store:
        t = store.table("tickets")
        t.insert({"n": 1})
        store.compact()
        t.insert({"n": 2})
        store.compact()
    newest = _snapshots(d)[-1]
    data = bytearray(newest.read_bytes())
    data[-5] ^= 0x01
    newest.write_bytes(bytes(data))
    with Store.open(d) as store:
        assert any("CRC mismatch" in m for m in store.recovery)
        assert [x["n"] for x in store.table("tickets").all()] == [1, 2]


def test_nothing_intact_refuses_to_open_as_empty(tmp_path: Path) -> None:
    d = tmp_path / "data"
    with Store.open(d) as store:
        store.table("tickets").insert({"n": 1})
        store.compact()
    for p in [*_snapshots(d), *_segments(d)]:
        p.write_bytes(b"")
    before = sorted(p.name for p in d.iterdir())
    with pytest.raises(StoreCorruptError, match="Nothing was changed"):
        Store.open(d)
    assert sorted(p.name for p in d.iterdir()) == before


def test_zero_length_journal_with_no_snapshot_refuses(tmp_path: Path) -> None:
    d = tmp_path / "data"
    _fill(d, 3)
    _segments(d)[0].write_bytes(b"")
    with pytest.raises(StoreCorruptError, match="refusing to open it as an empty store"):
        Store.open(d)


def test_unfinished_temp_file_is_removed_and_reported(tmp_path: Path) -> None:
    d = tmp_path / "data"
    _fill(d, 2)
    (d / "snapshot-000000000002.json.tmp").write_bytes(b"half")
    with Store.open(d) as store:
        assert any("interrupted" in m for m in store.recovery)
        assert len(store.table("tickets")) == 2
    assert not list(d.glob("*.tmp"))


def test_second_owner_in_another_process_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "data"
    code = (
        "import sys; from pathlib import Path; from bot.store import Store, StoreLockedError\n"
        "try:\n    Store.open(Path(sys.argv[1]))\n"
        "except StoreLockedError as e:\n    print(e); sys.exit(3)\n"
    )
    with Store.open(d):
        out = subprocess.run([sys.executable, "-c", code, str(d)], capture_output=True, text=True, cwd=ROOT)
        assert out.returncode == 3, out.stderr
        assert str(d) in out.stdout and f"process {os.getpid()}" in out.stdout
        with pytest.raises(StoreLockedError):
            Store.open(d)  # a second opener in the same process is refused as well
    Store.open(d).close()  # free again once closed


def test_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot create data directory"):
        Store.open(tmp_path / "file" / "data")


def _kill_run(d: Path, rng: random.Random) -> tuple[set[int], set[int]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.store.writer", str(d), "3000"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    acked: set[int] = set()
    claimed: set[int] = set()
    deadline = time.monotonic() + 10
    target = rng.randint(5, 150)
    while len(acked) < target and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        kind, n = line.split()
        (acked if kind == "ack" else claimed).add(int(n))
    os.kill(proc.pid, signal.SIGKILL)
    rest, err = proc.communicate()
    for line in rest.splitlines():  # printed before the kill: acknowledged too
        kind, n = line.split()
        (acked if kind == "ack" else claimed).add(int(n))
    assert acked, err
    return acked, claimed


def _check_survivors(d: Path, acked: set[int], claimed: set[int]) -> None:
    with Store.open(d) as store:
        tickets = {x["n"]: x for x in store.table("tickets").all()}
        audit = {x["n"] for x in store.table("audit").all()}
    missing = acked - tickets.keys()
    assert not missing, f"acknowledged writes lost: {sorted(missing)[:10]}"
    for n in claimed:
        assert tickets[n]["state"] == "claimed"
    for n in tickets:  # a batch is all or nothing
        assert (n % 3 == 0) == (n in audit)


@pytest.mark.parametrize("seed", range(5))
def test_sigkill_never_loses_an_acknowledged_write(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    d = tmp_path / "data"
    acked, claimed = _kill_run(d, rng)
    _check_survivors(d, acked, claimed)


@pytest.mark.soak
@pytest.mark.skipif(not os.environ.get("SERVICEBOT_SOAK"), reason="set SERVICEBOT_SOAK=1 (make soak)")
def test_sigkill_soak_repeated_kills_on_one_directory(tmp_path: Path) -> None:
    rng = random.Random()
    d = tmp_path / "data"
    all_acked: set[int] = set()
    all_claimed: set[int] = set()
    for _ in range(100):
        acked, claimed = _kill_run(d, rng)
        all_acked |= acked
        all_claimed |= claimed
        _check_survivors(d, all_acked, all_claimed)


def test_damage_in_journal_already_covered_by_the_snapshot_is_harmless(tmp_path: Path) -> None:
    d = tmp_path / "data"
    with Store.open(d) as store:
        t = store.table("tickets")
        t.insert({"n": 1})
        store.compact()  # snapshot-1; journal-1 kept for the fallback
        t.insert({"n": 2})
    first = _segments(d)[0]
    first.write_bytes(first.read_bytes()[:-3])
    with Store.open(d) as store:
        assert store.recovery == []
        assert [x["n"] for x in store.table("tickets").all()] == [1, 2]


def test_failed_compaction_does_not_fail_the_durable_write(tmp_path: Path) -> None:
    d = tmp_path / "data"
    disk = FullDisk("snapshot-*")
    disk.full = True
    with Store.open(d, compact_after_bytes=1, disk=disk) as store:
        assert store.table("t").insert({"n": 1}) == 1
        store.wait_compaction()
        assert disk.failed_writes == 1
    with Store.open(d) as store:
        assert store.table("t").all() == [{"n": 1}]


def test_a_missing_journal_segment_is_a_gap_not_a_torn_write(tmp_path: Path) -> None:
    d = tmp_path / "data"
    with Store.open(d) as store:
        t = store.table("tickets")
        t.insert({"n": 1})
        store.compact()
        t.insert({"n": 2})
        store.compact()
        t.insert({"n": 3})
    # lose the newest snapshot and the segment after the older one: record 2 is gone for good
    _snapshots(d)[-1].unlink()
    assert [p.name for p in _segments(d)] == ["journal-000000000002.log", "journal-000000000003.log"]
    _segments(d)[0].unlink()
    before = sorted(p.name for p in d.iterdir())
    # MANIFEST knows record 2 was written: opening with record 1 alone would be starting wrong
    with pytest.raises(StoreCorruptError, match=r"gap: expected record 2, found 3.*Nothing was changed"):
        Store.open(d)
    assert sorted(p.name for p in d.iterdir()) == before
    (d / "MANIFEST").rename(tmp_path / "MANIFEST.old")  # the operator accepts the loss, explicitly
    with Store.open(d) as store:
        assert any("gap: expected record 2, found 3" in m and "1 later records set aside" in m
                   for m in store.recovery), store.recovery
        assert any("no MANIFEST" in m for m in store.recovery)
        assert [x["n"] for x in store.table("tickets").all()] == [1]
