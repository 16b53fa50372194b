"""The store on disk: framed records, journal segments, snapshots, recovery.

Every line written is framed as ``<crc32 as 8 hex digits> <compact JSON>\\n``; a line whose CRC does
not match, or that lacks its newline, was never acknowledged (torn write) or is damage.

A data directory holds::

    LOCK                          fcntl lock, holds the owner's pid
    snapshot-<seq>.json           header line (framed) + TinyDB's JSON document format as the body
    journal-<first seq>.log       header line, then one record per durable write: {"seq": n, "ops": [...]}

ops are ``["put", table, id, doc]``, ``["del", table, id]``, ``["clear", table]``, ``["drop", table]``.
State = the newest intact snapshot + every journal record after its seq, in order, without gaps.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import os
import re
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bot.store.errors import StoreCorruptError, StoreError

FORMAT = "servicebot-store/1"
_SNAPSHOT_RE = re.compile(r"^snapshot-(\d{12})\.json$")
_SEGMENT_RE = re.compile(r"^journal-(\d{12})\.log$")

Doc = dict[str, Any]


@dataclass
class TableState:
    """One table's documents (by int id) and the next id it will hand out."""

    docs: dict[int, Doc] = field(default_factory=dict)
    next_id: int = 1


Tables = dict[str, TableState]


# ---------------------------------------------------------------- framing


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 text kept readable (Chinese is not escaped)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def frame(payload: bytes) -> bytes:
    """``payload`` as one CRC-checked line."""
    return b"%08x " % zlib.crc32(payload) + payload + b"\n"


def unframe(line: bytes) -> bytes | None:
    """The payload of a framed line (without its newline), or None if it is not intact."""
    if len(line) < 10 or line[8:9] != b" ":
        return None
    try:
        crc = int(line[:8], 16)
    except ValueError:
        return None
    payload = line[9:]
    return payload if zlib.crc32(payload) == crc else None


def snapshot_name(seq: int) -> str:
    return f"snapshot-{seq:012d}.json"


def segment_name(first_seq: int) -> str:
    return f"journal-{first_seq:012d}.log"


def _numbered(directory: Path, pattern: re.Pattern[str]) -> list[tuple[int, Path]]:
    found = []
    for entry in directory.iterdir():
        m = pattern.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry))
    return sorted(found)


# ---------------------------------------------------------------- fsync helpers


def fsync_dir(directory: Path) -> None:
    """Make renames, creations and deletions in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def write_file_atomically(path: Path, chunks: Iterable[bytes], *, sync: bool = True) -> int:
    """Write ``path`` via a temp file + fsync + rename + directory fsync; returns bytes written."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    size = 0
    try:
        for chunk in chunks:
            write_all(fd, chunk)
            size += len(chunk)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if sync:
        fsync_dir(path.parent)
    return size


# ---------------------------------------------------------------- ops


def apply_op(tables: Tables, op: list[Any]) -> None:
    """Apply one journal op to ``tables`` (idempotent: put replaces, del of a missing id is fine)."""
    kind, name = op[0], op[1]
    if kind == "put":
        state = tables.setdefault(name, TableState())
        doc_id = int(op[2])
        state.docs[doc_id] = op[3]
        state.next_id = max(state.next_id, doc_id + 1)
    elif kind == "del":
        if name in tables:
            tables[name].docs.pop(int(op[2]), None)
    elif kind == "clear":
        if name in tables:
            tables[name].docs.clear()
    elif kind == "drop":
        tables.pop(name, None)
    else:
        raise ValueError(f"unknown journal op {kind!r}")


# ---------------------------------------------------------------- snapshots


def write_snapshot(directory: Path, seq: int, tables: Tables, *, sync: bool = True) -> Path:
    """Write ``snapshot-<seq>.json`` atomically and durably. Also used to bulk-load a store (seq >= 1)."""
    if seq < 1:
        raise StoreError(f"snapshot seq must be >= 1, got {seq}")
    body = dumps({name: {str(i): d for i, d in state.docs.items()} for name, state in tables.items()})
    body_bytes = body.encode()
    header = {
        "format": FORMAT,
        "seq": seq,
        "next_ids": {name: state.next_id for name, state in tables.items()},
        "body_bytes": len(body_bytes),
        "body_crc32": zlib.crc32(body_bytes),
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = directory / snapshot_name(seq)
    write_file_atomically(path, [frame(dumps(header).encode()), body_bytes, b"\n"], sync=sync)
    return path


class _Damaged(Exception):
    pass


def read_snapshot(path: Path, *, parse: bool = True) -> tuple[int, Tables, int]:
    """(seq, tables, trailing garbage bytes) of an intact snapshot; raises _Damaged otherwise.

    With ``parse=False`` only the header and the body's length and CRC are checked (tables is empty).
    """
    data = path.read_bytes()
    if not data:
        raise _Damaged("the file is empty")
    nl = data.find(b"\n")
    payload = unframe(data[:nl]) if nl >= 0 else None
    if payload is None:
        raise _Damaged("its header line is damaged")
    try:
        header = json.loads(payload)
        if header.get("format") != FORMAT:
            raise _Damaged(f"unknown format {header.get('format')!r}")
        size = int(header["body_bytes"])
        body = data[nl + 1 : nl + 1 + size]
        if len(body) != size or zlib.crc32(body) != int(header["body_crc32"]):
            raise _Damaged("its body is truncated or damaged (CRC mismatch)")
        trailing = max(len(data) - (nl + 1 + size + 1), 0)
        if not parse:
            return int(header["seq"]), {}, trailing
        gc_was_on = gc.isenabled()
        gc.disable()  # loading many small dicts: the cyclic GC would rescan them over and over
        try:
            raw = json.loads(body)
        finally:
            if gc_was_on:
                gc.enable()
        tables: Tables = {}
        for name, docs in raw.items():
            state = TableState({int(i): d for i, d in docs.items()})
            state.next_id = max(int(header["next_ids"].get(name, 1)), max(state.docs, default=0) + 1)
            tables[name] = state
        return int(header["seq"]), tables, trailing
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _Damaged(f"unreadable ({exc})") from exc


# ---------------------------------------------------------------- recovery


@dataclass
class Recovered:
    """What :func:`recover` restored."""

    seq: int
    tables: Tables
    messages: list[str]
    active_segment: Path | None  # the segment to keep appending to (None: start a new one)
    snapshot_seqs: list[int]  # intact snapshots left in the directory
    journal_bytes: int  # journal bytes after the base snapshot


def _aside_name(path: Path, stamp: str) -> Path:
    return path.with_name(f"{path.name}.damaged-{stamp}")


def recover(directory: Path, *, repair: bool = True) -> Recovered:
    """Restore the last good state of ``directory``.

    Changes on disk (dropping a torn tail, moving damaged files aside as ``*.damaged-<time>``,
    removing unfinished ``*.tmp`` files) happen only once a consistent state has been found;
    otherwise :class:`StoreCorruptError` is raised and nothing is touched.

    ``repair=False`` (a reader beside the owning process) changes nothing on disk: a ``*.tmp`` file is
    the owner's write in progress, and ``messages`` say what the owner would repair at its next start.
    """
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    messages: list[str] = []
    actions: list[Callable[[], None]] = []
    where = str(directory)

    for tmp in sorted(directory.glob("*.tmp")) if repair else ():
        messages.append(f"{where}: removed {tmp.name}, left unfinished by an interrupted write")
        actions.append(partial(tmp.unlink, missing_ok=True))

    snapshots = _numbered(directory, _SNAPSHOT_RE)
    segments = _numbered(directory, _SEGMENT_RE)
    had_files = bool(snapshots or segments)

    seq, tables = 0, {}
    intact: list[int] = []
    base_found = False
    for snap_seq, path in reversed(snapshots):
        try:
            got_seq, got_tables, trailing = read_snapshot(path, parse=not base_found)
        except _Damaged as exc:
            messages.append(f"{where}/{path.name}: damaged ({exc}); moved aside, using an older state")
            actions.append(partial(_move_aside, path, stamp))
            continue
        intact.append(snap_seq)
        if base_found:
            continue
        if trailing:
            messages.append(f"{where}/{path.name}: ignored {trailing} bytes appended after its end")
        seq, tables, base_found = got_seq, got_tables, True
    if snapshots and not base_found:
        messages.append(f"{where}: no intact snapshot; rebuilding from the journal alone")
    base_seq = seq

    active: Path | None = None
    stopped = False
    journal_bytes = 0
    for i, (first, path) in enumerate(segments):
        is_last = i == len(segments) - 1
        if stopped:
            messages.append(f"{where}/{path.name}: set aside (it follows a damaged record)")
            actions.append(partial(_move_aside, path, stamp))
            continue
        if not is_last and segments[i + 1][0] - 1 <= base_seq:
            continue  # every record in it is already in the base snapshot
        data = path.read_bytes()
        nl = data.find(b"\n")
        header = unframe(data[:nl]) if nl >= 0 else None
        if header is None or json.loads(header).get("segment") != first:
            what = "is empty" if not data else "has a damaged header"
            messages.append(f"{where}/{path.name}: {what}; moved aside")
            actions.append(partial(_move_aside, path, stamp))
            stopped = True
            active = None
            continue
        pos = nl + 1
        bad_reason = ""
        while pos < len(data):
            nl = data.find(b"\n", pos)
            payload = unframe(data[pos:nl]) if nl >= 0 else None
            if payload is None:
                bad_reason = "incomplete or damaged record"
                break
            record = json.loads(payload)
            rseq = int(record["seq"])
            if rseq > seq + 1:
                bad_reason = f"gap: expected record {seq + 1}, found {rseq}"
                break
            if rseq == seq + 1:
                for op in record["ops"]:
                    apply_op(tables, op)
                seq = rseq
            if rseq > base_seq:
                journal_bytes += nl + 1 - pos
            pos = nl + 1
        if bad_reason:
            rest = data[pos:]
            later_intact = sum(1 for line in rest.split(b"\n") if unframe(line) is not None)
            aside = _aside_name(path, stamp)
            if is_last and not later_intact:
                messages.append(
                    f"{where}/{path.name}: dropped {len(rest)} bytes at offset {pos} after the last intact "
                    f"record ({bad_reason}; a write that was never acknowledged); kept in {aside.name}"
                )
            else:
                messages.append(
                    f"{where}/{path.name}: {bad_reason} at offset {pos}; restored up to record {seq}, "
                    f"{later_intact} later records set aside in {aside.name}"
                )
                stopped = True
            actions.append(partial(_cut_tail, path, aside, rest, pos))
        active = path

    known_max = max([s for s, _ in snapshots], default=0)
    if seq < known_max:
        raise StoreCorruptError(
            f"{where}: cannot restore: the newest state (record {known_max}) is damaged and the journal "
            f"only reaches record {seq}. Problems: " + " | ".join(messages) + ". Nothing was changed."
        )
    if had_files and messages and seq == 0 and not any(t.docs for t in tables.values()):
        raise StoreCorruptError(
            f"{where}: nothing intact to restore (" + " | ".join(messages) + "); refusing to open it as an "
            "empty store. Nothing was changed; move the files aside to start empty."
        )
    if not repair:
        actions = []
    for action in actions:
        action()
    if actions:
        fsync_dir(directory)
    return Recovered(seq, tables, messages, active, sorted(intact), journal_bytes)


def _move_aside(path: Path, stamp: str) -> None:
    path.rename(_aside_name(path, stamp))


def _cut_tail(path: Path, aside: Path, rest: bytes, at: int) -> None:
    write_file_atomically(aside, [rest])
    with path.open("r+b") as f:
        f.truncate(at)
        f.flush()
        os.fsync(f.fileno())


# ---------------------------------------------------------------- the writer


class Journal:
    """Appends records durably and rolls snapshots. One per open store."""

    def __init__(self, directory: Path, recovered: Recovered, *, sync: bool = True) -> None:
        self.directory = directory
        self.seq = recovered.seq
        self.sync = sync
        self.bytes_since_snapshot = recovered.journal_bytes
        self.snapshot_bytes = 0
        self._snapshots = list(recovered.snapshot_seqs)
        if self._snapshots:
            newest = directory / snapshot_name(self._snapshots[-1])
            with contextlib.suppress(OSError):
                self.snapshot_bytes = newest.stat().st_size
        self._failed: str | None = None
        self._unsynced = False  # records written since the last fdatasync
        self._fd = -1
        if recovered.active_segment is not None:
            self._fd = os.open(recovered.active_segment, os.O_WRONLY | os.O_APPEND)
        else:
            self._start_segment(self.seq + 1)

    def _start_segment(self, first: int) -> None:
        path = self.directory / segment_name(first)
        write_file_atomically(path, [frame(dumps({"segment": first, "format": FORMAT}).encode())])
        if self._fd >= 0:
            self._sync_pending()
            os.close(self._fd)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    def _sync_pending(self) -> None:
        if self._unsynced and self.sync:
            os.fdatasync(self._fd)
        self._unsynced = False

    def append(self, ops_json: list[str], *, sync: bool = True) -> None:
        """Write one record holding ``ops_json`` (already JSON) and make it durable before returning.

        ``sync=False`` writes it without fdatasync: the next synced append (or :meth:`close`) makes it
        durable together with its own record.
        """
        if self._failed:
            raise StoreError(self._failed)
        seq = self.seq + 1
        line = frame(f'{{"seq":{seq},"ops":[{",".join(ops_json)}]}}'.encode())
        try:
            write_all(self._fd, line)
            if sync:
                self._unsynced = False
                if self.sync:
                    os.fdatasync(self._fd)
            else:
                self._unsynced = True
        except OSError as exc:
            self._failed = (
                f"{self.directory}: a journal write failed ({exc}); the store refuses further writes — "
                "restart to recover the last durable state"
            )
            raise StoreError(self._failed) from exc
        self.seq = seq
        self.bytes_since_snapshot += len(line)

    def snapshot(self, tables: Tables) -> None:
        """Compact: snapshot at the current seq, start a new segment, drop files no longer needed."""
        if self._failed:
            raise StoreError(self._failed)
        path = write_snapshot(self.directory, self.seq, tables, sync=self.sync) if self.seq else None
        if path is None:
            return
        self.snapshot_bytes = path.stat().st_size
        if self.seq not in self._snapshots:
            self._snapshots.append(self.seq)
        self._start_segment(self.seq + 1)
        self.bytes_since_snapshot = 0
        # keep the two newest snapshots and every record after the older of them
        keep = sorted(self._snapshots)[-2:]
        oldest_needed = keep[0] if len(keep) == 2 else 0
        for snap_seq, p in _numbered(self.directory, _SNAPSHOT_RE):
            if snap_seq < keep[0]:
                p.unlink(missing_ok=True)
        self._snapshots = keep
        segs = _numbered(self.directory, _SEGMENT_RE)
        for (_first, p), (next_first, _) in itertools.pairwise(segs):
            if next_first - 1 <= oldest_needed:
                p.unlink(missing_ok=True)
        fsync_dir(self.directory)

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                self._sync_pending()
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
