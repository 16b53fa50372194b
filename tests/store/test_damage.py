"""Every damage found at open is explained (file, offset, what), and the store never starts wrong.

Issue 11, part 4: valid-CRC garbage, unknown ops, directories named like store files, newer formats,
a full disk at reopen, missing files (MANIFEST), an empty directory (an unmounted volume), the lock.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import yaml

from bot.store import (
    Store,
    StoreCorruptError,
    StoreError,
    StoreFormatError,
    StoreLockedError,
    StoreMissingError,
)
from bot.store.journal import frame

from .faulty import FullDisk

ROOT = Path(__file__).resolve().parents[2]


def _store(d: Path, n: int = 3) -> Path:
    with Store.open(d) as store:
        t = store.table("tickets")
        for i in range(1, n + 1):
            t.insert({"n": i})
    return d


def _segment(d: Path) -> Path:
    return sorted(d.glob("journal-[0-9]*.log"))[-1]


def _append_record(d: Path, payload: bytes) -> int:
    """Append a line with a valid CRC to the newest segment; returns the offset it starts at."""
    seg = _segment(d)
    offset = seg.stat().st_size
    with seg.open("ab") as f:
        f.write(frame(payload))
    return offset


def _listing(d: Path) -> list[tuple[str, int]]:
    return sorted((p.name, p.stat().st_size if p.is_file() else -1) for p in d.iterdir())


# ---------------------------------------------------------------- valid-CRC garbage


@pytest.mark.parametrize(
    ("payload", "what"),
    [
        (b'{"seq":4,"ops":[["frobnicate","tickets",4]]}', "record 4: unknown op 'frobnicate'"),
        (b'{"seq":4}', "a record without ops"),
        (b'{"ops":[]}', "a record without seq"),
        (b"not json at all", "Expecting value"),
        (b"[4, 5]", "a record is a JSON object, found list"),
        (b'{"seq":4,"ops":{"put":1}}', "ops is dict, expected a list"),
        (b'{"seq":"4","ops":[]}', "record number '4', expected a positive integer"),
        (b'{"seq":4,"ops":[["put","tickets",4,"text"]]}', "put op whose document is str"),
        (b'{"seq":4,"ops":[["put","tickets","x",{}]]}', "put op with id 'x'"),
        (b'{"seq":4,"ops":[["del",5,4]]}', "malformed del op"),
        (b'{"seq":4,"ops":[7]}', "op '7' is not a list"),
    ],
)
def test_a_record_with_a_valid_crc_but_garbage_inside_is_named_with_file_and_offset(
    tmp_path: Path, payload: bytes, what: str
) -> None:
    d = _store(tmp_path / "data")
    offset = _append_record(d, payload)
    before = _listing(d)
    with pytest.raises(StoreCorruptError) as info:
        Store.open(d)
    message = str(info.value)
    assert f"{_segment(d)}: offset {offset}: " in message
    assert what in message
    assert "Nothing was changed" in message
    assert _listing(d) == before


def test_a_segment_header_with_a_valid_crc_but_garbage_is_named(tmp_path: Path) -> None:
    d = _store(tmp_path / "data")
    seg = _segment(d)
    seg.write_bytes(frame(b"[1,2,3]") + seg.read_bytes().split(b"\n", 1)[1])
    with pytest.raises(StoreCorruptError, match=rf"{seg.name}: offset 0: .*not a segment header"):
        Store.open(d)


@pytest.mark.parametrize("name", ["snapshot-000000000009.json", "journal-000000000009.log", "x.json.tmp"])
def test_a_directory_named_like_a_store_file_is_named(tmp_path: Path, name: str) -> None:
    d = _store(tmp_path / "data")
    (d / name).mkdir()
    with pytest.raises(StoreCorruptError, match=rf"{name}: not a regular file"):
        Store.open(d)
    assert (d / name).is_dir()


# ---------------------------------------------------------------- newer formats


def _reframe_first_line(path: Path, change: dict[str, object]) -> None:
    data = path.read_bytes()
    nl = data.index(b"\n")
    header = json.loads(data[9:nl])
    header.update(change)
    path.write_bytes(frame(json.dumps(header).encode()) + data[nl + 1 :])


def test_a_newer_segment_format_is_refused_not_opened(tmp_path: Path) -> None:
    d = _store(tmp_path / "data")
    _reframe_first_line(_segment(d), {"format": "servicebot-store/2"})
    before = _listing(d)
    with pytest.raises(StoreFormatError, match=r"journal-000000000001.log: written by a newer servicebot"):
        Store.open(d)
    assert _listing(d) == before


def test_a_newer_snapshot_format_is_refused_not_moved_aside(tmp_path: Path) -> None:
    d = tmp_path / "data"
    with Store.open(d) as store:
        store.table("tickets").insert({"n": 1})
        store.compact()
        store.table("tickets").insert({"n": 2})
        store.compact()
    newest = sorted(d.glob("snapshot-*.json"))[-1]
    _reframe_first_line(newest, {"format": "servicebot-store/2"})
    before = _listing(d)
    with pytest.raises(StoreFormatError, match=rf"{newest.name}: written by a newer servicebot"):
        Store.open(d)
    assert _listing(d) == before
    assert not list(d.glob("*.damaged-*"))


def test_a_newer_manifest_is_refused(tmp_path: Path) -> None:
    d = _store(tmp_path / "data")
    (d / "MANIFEST").write_bytes(frame(b'{"format":"servicebot-store/3","segment":1}'))
    with pytest.raises(StoreFormatError, match="MANIFEST: written by a newer servicebot"):
        Store.open(d)


def test_an_unknown_snapshot_format_that_is_not_newer_is_damage(tmp_path: Path) -> None:
    d = tmp_path / "data"
    with Store.open(d) as store:
        store.table("tickets").insert({"n": 1})
        store.compact()
        store.table("tickets").insert({"n": 2})
        store.compact()
    newest = sorted(d.glob("snapshot-*.json"))[-1]
    _reframe_first_line(newest, {"format": "someone-else/9"})
    with Store.open(d) as store:
        assert any("unknown format" in m and "moved aside" in m for m in store.recovery)
        assert [x["n"] for x in store.table("tickets").all()] == [1, 2]


# ---------------------------------------------------------------- a full disk at reopen


def _torn(d: Path) -> None:
    with _segment(d).open("ab") as f:
        f.write(b"0badc0de " + b"x" * 3000)  # an unfinished write: recovery must keep these bytes aside


def test_reopen_on_a_full_disk_is_a_clear_store_error_and_changes_nothing(tmp_path: Path) -> None:
    d = _store(tmp_path / "data")
    _torn(d)
    before = _listing(d)
    disk = FullDisk("*.damaged-*")
    disk.full = True
    with pytest.raises(StoreError, match=r"cannot open the store: \[Errno 28\] No space left on device") as info:
        Store.open(d, disk=disk)
    assert not isinstance(info.value, StoreCorruptError)
    assert disk.failed_writes == 1
    assert _listing(d) == before  # no half-written .tmp left behind, the torn tail still there
    with Store.open(d) as store:  # room again
        assert any("dropped 1 unreadable record(s) after record 3" in m for m in store.recovery)
        assert len(store.table("tickets")) == 3


def _fsize_limit(limit: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return apply


def test_servicebot_run_on_a_full_disk_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    d = _store(tmp_path / "data")
    _torn(d)
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["data_dir"] = str(d)
    data["content_dir"] = str(ROOT / "content")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, preexec_fn=_fsize_limit(1000),
        env={**os.environ, "BOT_TOKEN": "123456:" + "A" * 35},
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "File too large" in proc.stderr and "cannot open the store" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


# ---------------------------------------------------------------- files that went missing


def _compacted(d: Path) -> Path:
    with Store.open(d) as store:
        t = store.table("tickets")
        t.insert({"n": 1})
        store.compact()
        t.insert({"n": 2})
        store.compact()
        t.insert({"n": 3})
        t.insert({"n": 4})
    return d


@pytest.mark.parametrize("lose", ["last segment", "all segments", "newest snapshot and last segment"])
def test_deleted_newest_files_are_noticed_not_opened_without_them(tmp_path: Path, lose: str) -> None:
    d = _compacted(tmp_path / "data")
    segments = sorted(d.glob("journal-[0-9]*.log"))
    snapshots = sorted(d.glob("snapshot-*.json"))
    gone = {"last segment": segments[-1:], "all segments": segments,
            "newest snapshot and last segment": [snapshots[-1], segments[-1]]}[lose]
    for p in gone:
        p.unlink()
    before = _listing(d)
    with pytest.raises(StoreCorruptError, match=r"journal-000000000003.log is missing: MANIFEST names it") as info:
        Store.open(d)
    assert "records 3" not in str(info.value) and "since record 2" in str(info.value)
    assert "move" in str(info.value) and "MANIFEST aside" in str(info.value)
    assert _listing(d) == before


def test_moving_the_manifest_aside_accepts_the_loss_and_reports_it(tmp_path: Path) -> None:
    d = _compacted(tmp_path / "data")
    sorted(d.glob("journal-[0-9]*.log"))[-1].unlink()
    (d / "MANIFEST").rename(tmp_path / "MANIFEST.old")
    with Store.open(d) as store:
        assert any("no MANIFEST" in m for m in store.recovery)
        assert [x["n"] for x in store.table("tickets").all()] == [1, 2]
        store.table("tickets").insert({"n": 5})
    with Store.open(d) as store:
        assert store.recovery == []
        assert (d / "MANIFEST").exists()


def test_a_damaged_manifest_is_reported_and_rewritten(tmp_path: Path) -> None:
    d = _store(tmp_path / "data")
    (d / "MANIFEST").write_bytes(b"garbage\n")
    with Store.open(d) as store:
        assert any("MANIFEST: damaged" in m for m in store.recovery)
    with Store.open(d) as store:
        assert store.recovery == []


def test_the_manifest_follows_compaction(tmp_path: Path) -> None:
    d = tmp_path / "data"
    with Store.open(d, compact_after_bytes=500) as store:
        for i in range(60):
            store.table("t").insert({"n": i, "pad": "x" * 40})
    newest = sorted(d.glob("journal-[0-9]*.log"))[-1]
    assert newest.name != "journal-000000000001.log"
    payload = (d / "MANIFEST").read_bytes()[9:-1]
    assert zlib.crc32(payload) == int((d / "MANIFEST").read_bytes()[:8], 16)
    assert json.loads(payload)["segment"] == int(newest.name[8:20])


# ---------------------------------------------------------------- an empty directory, init


def test_an_existing_empty_directory_is_refused_in_one_line(tmp_path: Path) -> None:
    d = tmp_path / "mnt"
    d.mkdir()
    with pytest.raises(StoreMissingError) as info:
        Store.open(d)
    assert "\n" not in str(info.value)
    assert "holds no store" in str(info.value) and "servicebot init" in str(info.value)
    assert list(d.iterdir()) == [] or [p.name for p in d.iterdir()] == ["LOCK"]


def test_a_directory_that_did_not_exist_starts_a_new_store(tmp_path: Path) -> None:
    d = tmp_path / "new" / "data"
    with Store.open(d) as store:
        assert store.recovery == []
        store.table("t").insert({"n": 1})
    with Store.open(d) as store:
        assert store.table("t").all() == [{"n": 1}]


def test_init_starts_a_store_in_an_empty_directory_and_never_over_one(tmp_path: Path) -> None:
    d = tmp_path / "mnt"
    d.mkdir()
    Store.init(d)
    with Store.open(d) as store:
        assert store.recovery == []
        store.table("t").insert({"n": 1})
    with pytest.raises(StoreError, match="already holds a store"):
        Store.init(d)
    with Store.open(d) as store:
        assert store.table("t").all() == [{"n": 1}]


def test_servicebot_init(tmp_path: Path) -> None:
    d = tmp_path / "mnt"
    d.mkdir()
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["data_dir"] = str(d)
    data["content_dir"] = str(ROOT / "content")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", "--config", str(config), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)

    refused = cli("tickets")
    assert refused.returncode == 2 and "holds no store" in refused.stderr and "Traceback" not in refused.stderr
    done = cli("init")
    assert done.returncode == 0, done.stderr
    assert str(d) in done.stdout
    assert cli("tickets").returncode == 0
    again = cli("init")
    assert again.returncode == 2 and "already holds a store" in again.stderr


# ---------------------------------------------------------------- the lock


def test_deleting_lock_while_the_owner_runs_lets_no_second_process_in(tmp_path: Path) -> None:
    d = tmp_path / "data"
    code = (
        "import sys; from pathlib import Path; from bot.store import Store, StoreLockedError\n"
        "try:\n    Store.open(Path(sys.argv[1]))\n"
        "except StoreLockedError as e:\n    print(e); sys.exit(3)\n"
    )
    with Store.open(d) as store:
        (d / "LOCK").unlink()
        out = subprocess.run([sys.executable, "-c", code, str(d)], capture_output=True, text=True, cwd=ROOT)
        assert out.returncode == 3, out.stdout + out.stderr
        assert "in use by" in out.stdout
        with pytest.raises(StoreLockedError):
            Store.open(d)
        store.table("t").insert({"n": 1})  # the owner carries on
    with Store.open(d) as store:
        assert store.table("t").all() == [{"n": 1}]
