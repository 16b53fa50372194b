"""The store on disk: framed records, journal segments, snapshots, the manifest, recovery.

In memory, and in a snapshot's body, each document is kept as its compact UTF-8 JSON (``bytes``): 100k
tickets take ~50 MB so instead of ~155 MB as dicts, a snapshot is read without decoding every document,
and written without encoding them again. A document is decoded when it is read (:func:`decode`).

Every line written is framed as ``<crc32 as 8 hex digits> <compact JSON>\\n``; a line whose CRC does
not match, or that lacks its newline, was never acknowledged (torn write) or is damage.

A data directory holds::

    LOCK                          flock'ed (as is the directory itself), holds the owner's pid
    MANIFEST                      one framed line: {"format", "segment": first seq of the journal in use}
    snapshot-<seq>.json           header line (framed) + TinyDB's JSON document format as the body
    journal-<first seq>.log       header line, then one record per durable write: {"seq": n, "ops": [...]}

ops are ``["put", table, id, doc]``, ``["del", table, id]``, ``["clear", table]``, ``["drop", table]``.
State = the newest intact snapshot + every journal record after its seq, in order, without gaps.
Every file operation goes through a :class:`bot.store.disk.Disk`.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import logging
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bot.store.disk import REAL, Disk
from bot.store.errors import StoreCorruptError, StoreError, StoreFormatError, StoreMissingError
from bot.store.index import Index, dump_pieces
from bot.store.index import build as build_indexes
from bot.store.index import load as load_index

log = logging.getLogger(__name__)

FORMAT_NAME = "servicebot-store"
FORMAT_VERSION = 1
FORMAT = f"{FORMAT_NAME}/{FORMAT_VERSION}"
MANIFEST = "MANIFEST"
#: an empty file, made durable in advance, that the next segment is renamed from (see Journal._start_segment)
SPARE = "journal-next.log"
_SNAPSHOT_RE = re.compile(r"^snapshot-(\d{12})\.json$")
_SEGMENT_RE = re.compile(r"^journal-(\d{12})\.log$")
_FORMAT_RE = re.compile(rf"^{FORMAT_NAME}/(\d+)$")
#: documents joined per piece when writing a snapshot: a thread writing a snapshot gives the GIL back
#: between pieces (joining encoded documents takes microseconds)
SNAPSHOT_BATCH = 500
#: a large file written atomically is fdatasynced every this many bytes as it goes
SYNC_EVERY_BYTES = 4 << 20

Doc = dict[str, Any]
#: a document as the store holds it: its compact JSON, UTF-8 (never changed in place: a write replaces it)
Raw = bytes


def encode(doc: Any) -> Raw:
    """The held form of a JSON document."""
    return dumps(doc).encode()


def decode(raw: Raw) -> Any:
    """A held document as a new dict (mutating it never changes the store)."""
    return json.loads(raw)


@dataclass
class TableState:
    """One table's documents (by int id, held encoded: :data:`Raw`) and the next id it will hand out.

    Documents given as dicts (a bulk load, a test) are encoded into a new dict; the caller's is not touched.
    """

    docs: dict[int, Raw] = field(default_factory=dict)
    next_id: int = 1
    #: indexes read from the snapshot's header (as of its record), for the table's view to take over instead
    #: of decoding every document; ``replaced``: documents the journal changed after that record -> what
    #: they were in the snapshot (None: not there), so the view can bring those indexes up to date
    prebuilt: dict[str, Index] | None = field(default=None, compare=False, repr=False)
    replaced: dict[int, Raw | None] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not all(type(d) is bytes for d in self.docs.values()):
            self.docs = {i: d if type(d) is bytes else encode(d) for i, d in self.docs.items()}


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


def segment_header(first_seq: int) -> bytes:
    """The first line of ``journal-<first_seq>.log``."""
    return frame(dumps({"segment": first_seq, "format": FORMAT}).encode())


def snapshot_name(seq: int) -> str:
    return f"snapshot-{seq:012d}.json"


def segment_name(first_seq: int) -> str:
    return f"journal-{first_seq:012d}.log"


def _numbered(entries: dict[str, bool], directory: Path, pattern: re.Pattern[str]) -> list[tuple[int, Path]]:
    found = []
    for name, is_file in entries.items():
        m = pattern.match(name)
        if m:
            if not is_file:
                raise StoreCorruptError(
                    f"{directory / name}: not a regular file (a directory or something else named like a store "
                    "file); move it out of the data directory. Nothing was changed."
                )
            found.append((int(m.group(1)), directory / name))
    return sorted(found)


def check_format(value: Any, path: Path) -> bool:
    """True for our format; raises StoreFormatError for a newer one; False for anything else."""
    if value == FORMAT:
        return True
    m = _FORMAT_RE.match(value) if isinstance(value, str) else None
    if m and int(m.group(1)) > FORMAT_VERSION:
        raise StoreFormatError(
            f"{path}: written by a newer servicebot (format {value}; this version reads {FORMAT}). Upgrade "
            "servicebot to open this data directory. Nothing was changed."
        )
    return False


# ---------------------------------------------------------------- writing files


def write_file_atomically(
    path: Path, chunks: Iterable[bytes], *, sync: bool = True, disk: Disk = REAL
) -> int:
    """Write ``path`` via a temp file + fsync + rename + directory fsync; returns bytes written.

    If anything fails, the temp file is removed (a full disk must not fill up with ``*.tmp``).
    """
    tmp = path.with_name(path.name + ".tmp")
    size = 0
    try:
        fd = disk.create(tmp)
        try:
            unsynced = 0
            for chunk in chunks:
                disk.write(fd, chunk)
                size += len(chunk)
                unsynced += len(chunk)
                if sync and unsynced >= SYNC_EVERY_BYTES:
                    # a snapshot is flushed as it is written, a few MB at a time: one fsync of 85 MB at the end
                    # would hold up the journal's fdatasyncs (every question's write) behind it on the disk
                    disk.fdatasync(fd)
                    unsynced = 0
            if sync:
                disk.fsync(fd)
        finally:
            disk.close(fd)
        disk.replace(tmp, path)
    except BaseException:
        try:
            disk.unlink(tmp)
        except OSError as exc:
            log.warning("could not remove %s after a failed write: %s", tmp, exc)
        raise
    if sync:
        disk.fsync_dir(path.parent)
    return size


def write_manifest(directory: Path, segment: int, *, sync: bool = True, disk: Disk = REAL) -> None:
    """Name ``journal-<segment>.log`` as the journal in use (records from ``segment`` on are written there)."""
    line = frame(dumps({"format": FORMAT, "segment": segment}).encode())
    write_file_atomically(directory / MANIFEST, [line], sync=sync, disk=disk)


# ---------------------------------------------------------------- ops


_OP_ARITY = {"put": 4, "del": 3, "clear": 2, "drop": 2}


def check_op(op: Any) -> None:
    """Raise ValueError (saying what is wrong) unless ``op`` is a well-formed journal op."""
    if not isinstance(op, list) or not op:
        raise ValueError(f"op {str(op)[:60]!r} is not a list")
    kind = op[0]
    if kind not in _OP_ARITY:
        raise ValueError(f"unknown op {str(kind)[:40]!r}")
    if len(op) != _OP_ARITY[kind] or not isinstance(op[1], str):
        raise ValueError(f"malformed {kind} op {str(op)[:60]!r}")
    if kind in ("put", "del") and (type(op[2]) is not int or op[2] < 1):
        raise ValueError(f"{kind} op with id {str(op[2])[:20]!r}, expected a positive integer")
    if kind == "put" and not isinstance(op[3], dict):
        raise ValueError(f"put op whose document is {type(op[3]).__name__}, expected an object")


def apply_op(tables: Tables, op: list[Any]) -> None:
    """Apply one journal op to ``tables`` (idempotent: put replaces, del of a missing id is fine)."""
    kind, name = op[0], op[1]
    if kind == "put":
        state = tables.setdefault(name, TableState())
        doc_id = int(op[2])
        if state.prebuilt is not None and doc_id not in state.replaced:
            state.replaced[doc_id] = state.docs.get(doc_id)
        state.docs[doc_id] = encode(op[3])
        state.next_id = max(state.next_id, doc_id + 1)
    elif kind == "del":
        if name in tables:
            state = tables[name]
            doc_id = int(op[2])
            if state.prebuilt is not None and doc_id not in state.replaced:
                state.replaced[doc_id] = state.docs.get(doc_id)
            state.docs.pop(doc_id, None)
    elif kind == "clear":
        if name in tables:
            tables[name].docs.clear()
            tables[name].prebuilt, tables[name].replaced = None, {}
    elif kind == "drop":
        tables.pop(name, None)
    else:
        raise ValueError(f"unknown journal op {kind!r}")


def parse_record(payload: bytes) -> tuple[int, list[list[Any]]]:
    """(seq, ops) of a record whose CRC matched; ValueError saying what is wrong otherwise."""
    record = json.loads(payload)
    if not isinstance(record, dict):
        raise ValueError(f"a record is a JSON object, found {type(record).__name__}")
    if "ops" not in record or "seq" not in record:
        raise ValueError(f"a record without {'ops' if 'ops' not in record else 'seq'}")
    seq, ops = record["seq"], record["ops"]
    if type(seq) is not int or seq < 1:
        raise ValueError(f"record number {str(seq)[:20]!r}, expected a positive integer")
    if not isinstance(ops, list):
        raise ValueError(f"record {seq}: ops is {type(ops).__name__}, expected a list")
    for op in ops:
        try:
            check_op(op)
        except ValueError as exc:
            raise ValueError(f"record {seq}: {exc}") from None
    return seq, ops


# ---------------------------------------------------------------- snapshots

#: a table's documents and next id, as of one moment; the documents themselves are never changed in place
#: by the store (a write replaces a document), so a shallow copy of each table's dict is a consistent image
Frozen = dict[str, tuple[dict[int, Raw], int]]


def freeze(tables: Tables) -> Frozen:
    """A consistent image of ``tables`` that later writes do not change (costs a dict copy per table)."""
    return {name: (dict(state.docs), state.next_id) for name, state in tables.items()}


def _body_chunks(frozen: Frozen) -> Iterable[bytes]:
    """TinyDB's JSONStorage document, ``{"table": {"1": {...}}}``, one document per line (see
    :func:`_parse_lines`), in pieces of SNAPSHOT_BATCH documents: the documents are already JSON."""
    yield b"{"
    for t, (name, (docs, _next)) in enumerate(frozen.items()):
        yield (("," if t else "") + "\n" + dumps(name) + ":{").encode()
        items = iter(docs.items())
        first = True
        while batch := list(itertools.islice(items, SNAPSHOT_BATCH)):
            piece = b",".join([b'\n"%d":%s' % (i, raw) for i, raw in batch])
            yield piece if first else b"," + piece
            first = False
        yield b"\n}"
    yield b"\n}"


_DOC_LINE = re.compile(rb'"([1-9][0-9]{0,17})":(\{.*\})(,?)')


def _parse_lines(data: bytes, start: int, end: int) -> dict[str, dict[int, Raw]]:
    """The tables of a body written by :func:`_body_chunks` (``data[start:end]``), documents kept encoded.

    Lines: ``{``; per table ``"name":{``, then ``"<id>":{...}`` per document (a comma after all but the
    last), then ``}`` (``},`` before the next table); ``}``. Each line's shape is checked here (the body's
    CRC already matched); a document itself is decoded when it is read.
    """
    if data[start : start + 2] != b"{\n" or data[end - 2 : end] != b"\n}":
        raise _Damaged("its body is not one document per line")
    tables: dict[str, dict[int, Raw]] = {}
    current: dict[int, Raw] | None = None
    more = False  # the line before ended with a comma
    pos = start + 2
    match = _DOC_LINE.fullmatch
    while pos < end:
        nl = data.find(b"\n", pos, end)
        if nl < 0:
            nl = end
        if current is None:
            line = data[pos:nl]
            if nl == end and line == b"}" and not more:
                break
            if not line.endswith(b":{"):
                raise _Damaged(f"body offset {pos - start}: expected a table, found {line[:40]!r}")
            name = json.loads(line[:-2])
            if not isinstance(name, str):
                raise _Damaged(f"body offset {pos - start}: a table name that is not a string")
            current = tables[name] = {}
            more = False
        elif data[pos] == 0x7D:  # "}": the table ends
            line = data[pos:nl]
            if line not in (b"}", b"},") or (more and current):
                raise _Damaged(f"body offset {pos - start}: damaged end of a table ({line[:40]!r})")
            more = line == b"},"
            current = None
        else:
            m = match(data, pos, nl)
            if m is None or (current and not more):
                raise _Damaged(f"body offset {pos - start}: not a document line ({data[pos:min(nl, pos + 40)]!r})")
            current[int(m.group(1))] = m.group(2)
            more = bool(m.group(3))
        pos = nl + 1
    else:
        raise _Damaged("its body ends before its last table does")
    return tables


#: documents a compaction thread decodes between two moments it gives the GIL away (time.sleep(0))
DECODE_BATCH = 200


def _decoded_yielding(docs: dict[int, Raw]) -> Iterator[tuple[int, Doc]]:
    """(id, decoded document) of ``docs``, letting the event loop's thread in every DECODE_BATCH documents.

    Without that a thread decoding lends the GIL only every switch interval (5 ms), and the loop, which
    needs it back after each system call, waited 30-45 ms per compaction at 100k; with it, about 1 ms.
    """
    for n, (doc_id, raw) in enumerate(docs.items(), 1):
        yield doc_id, json.loads(raw)
        if n % DECODE_BATCH == 0:
            time.sleep(0)


def _indexes_json(frozen: Frozen, index_fields: dict[str, tuple[str, ...]]) -> str | None:
    """The header's ``indexes``: per table, its indexes on ``index_fields`` as of ``frozen`` (built by
    decoding the documents: a compaction thread does it, not the event loop; a table holding a document
    that does not decode gets none, and its view rebuilds them, reporting the document, at open)."""
    tables: list[str] = []
    for name, fields in index_fields.items():
        if name not in frozen or not fields:
            continue
        try:
            built = build_indexes(_decoded_yielding(frozen[name][0]), fields)
        except ValueError:
            continue
        parts = [dumps(field_name) + ":" + "".join(dump_pieces(idx)) for field_name, idx in built.items()]
        tables.append(dumps(name) + ":{" + ",".join(parts) + "}")
    return "{" + ",".join(tables) + "}" if tables else None


def write_frozen_snapshot(
    directory: Path, seq: int, frozen: Frozen, *, sync: bool = True, disk: Disk = REAL,
    index_fields: dict[str, tuple[str, ...]] | None = None,
) -> Path:
    """Write ``snapshot-<seq>.json`` from ``frozen`` atomically and durably (safe in a thread); with the
    indexes on ``index_fields`` (table -> fields) in its header, when given."""
    if seq < 1:
        raise StoreError(f"snapshot seq must be >= 1, got {seq}")
    body: list[bytes] = []
    crc = size = 0
    for chunk in _body_chunks(frozen):
        body.append(chunk)
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
    header = {
        "format": FORMAT,
        "seq": seq,
        "next_ids": {name: next_id for name, (_docs, next_id) in frozen.items()},
        "body_bytes": size,
        "body_crc32": crc,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    header_text = dumps(header)
    indexes = _indexes_json(frozen, index_fields) if index_fields else None
    if indexes is not None:
        header_text = header_text[:-1] + ',"indexes":' + indexes + "}"
    path = directory / snapshot_name(seq)
    write_file_atomically(path, [frame(header_text.encode()), *_grouped(body), b"\n"], sync=sync, disk=disk)
    return path


def _grouped(chunks: list[bytes], size: int = 1 << 20) -> Iterable[bytes]:
    group: list[bytes] = []
    n = 0
    for chunk in chunks:
        group.append(chunk)
        n += len(chunk)
        if n >= size:
            yield b"".join(group)
            group, n = [], 0
    if group:
        yield b"".join(group)


def write_snapshot(
    directory: Path, seq: int, tables: Tables, *, sync: bool = True, disk: Disk = REAL,
    index_fields: dict[str, tuple[str, ...]] | None = None,
) -> Path:
    """Write ``snapshot-<seq>.json`` atomically and durably. Also used to bulk-load a store (seq >= 1)."""
    return write_frozen_snapshot(directory, seq, freeze(tables), sync=sync, disk=disk, index_fields=index_fields)


class _Damaged(Exception):
    pass


def _parse_whole(body: memoryview) -> dict[str, dict[int, Raw]]:
    gc_was_on = gc.isenabled()
    gc.disable()  # loading many small dicts: the cyclic GC would rescan them over and over
    try:
        raw = json.loads(bytes(body))
    finally:
        if gc_was_on:
            gc.enable()
    if not isinstance(raw, dict):
        raise _Damaged("its body is not a JSON object")
    held: dict[str, dict[int, Raw]] = {}
    for name, docs in raw.items():
        if not isinstance(docs, dict):
            raise _Damaged(f"table {str(name)[:40]!r} is not an object")
        if not all(isinstance(d, dict) for d in docs.values()):
            raise _Damaged(f"table {str(name)[:40]!r} holds something that is not a document")
        held[name] = {int(i): encode(d) for i, d in docs.items()}
    return held


def read_snapshot(path: Path, *, parse: bool = True, disk: Disk = REAL) -> tuple[int, Tables, int]:
    """(seq, tables, trailing garbage bytes) of an intact snapshot; raises _Damaged otherwise.

    With ``parse=False`` only the header and the body's length and CRC are checked (tables is empty).
    A snapshot of a newer format raises StoreFormatError.
    """
    data = disk.read(path)
    if not data:
        raise _Damaged("the file is empty")
    nl = data.find(b"\n")
    payload = unframe(data[:nl]) if nl >= 0 else None
    if payload is None:
        raise _Damaged("its header line is damaged")
    try:
        header = json.loads(payload)
        if not isinstance(header, dict):
            raise _Damaged("its header is not a JSON object")
        if not check_format(header.get("format"), path):
            raise _Damaged(f"unknown format {header.get('format')!r}")
        size = int(header["body_bytes"])
        body = memoryview(data)[nl + 1 : nl + 1 + size]
        if len(body) != size or zlib.crc32(body) != int(header["body_crc32"]):
            raise _Damaged("its body is truncated or damaged (CRC mismatch)")
        trailing = max(len(data) - (nl + 1 + size + 1), 0)
        seq = int(header["seq"])
        if seq < 1 or path.name != snapshot_name(seq):
            raise _Damaged(f"its header says record {seq}, its name another")
        if not parse:
            return seq, {}, trailing
        next_ids = header["next_ids"]
        if data[nl + 1 : nl + 3] == b"{\n":  # one document per line: kept encoded, not decoded
            held = _parse_lines(data, nl + 1, nl + 1 + size)
        else:  # a whole-document body (written before 2026-12): decoded once, encoded for memory
            held = _parse_whole(body)
        del data, body
        indexes = header.get("indexes")
        tables: Tables = {}
        for name, docs in held.items():
            state = TableState(docs)
            state.next_id = max(int(next_ids.get(name, 1)), max(state.docs, default=0) + 1)
            written = indexes.get(name) if isinstance(indexes, dict) else None
            if isinstance(written, dict):  # derived data: anything unexpected is rebuilt, not damage
                loaded = {f: load_index(entries) for f, entries in written.items() if isinstance(f, str)}
                state.prebuilt = {f: idx for f, idx in loaded.items() if idx is not None} or None
            tables[name] = state
        return seq, tables, trailing
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
    manifest_segment: int | None = None  # the journal MANIFEST names (None: no readable MANIFEST)


def _aside_name(path: Path, stamp: str) -> Path:
    return path.with_name(f"{path.name}.damaged-{stamp}")


def holds_store(entries: dict[str, bool]) -> bool:
    """Whether a directory listing shows a store (a MANIFEST, a snapshot or a journal segment)."""
    return any(
        name == MANIFEST or _SNAPSHOT_RE.match(name) or _SEGMENT_RE.match(name) for name in entries
    )


_FRAGMENT_SEQ_RE = re.compile(rb'^[0-9a-f]{8} \{"seq":(\d+)')


def _torn_tail(where: str, path: Path, pos: int, rest: bytes, seq: int, reason: str, aside: Path) -> str:
    """What is known about unreadable bytes at the end of the last segment, in one sentence."""
    pieces = [p for p in rest.split(b"\n") if p]
    torn = len(pieces) == 1 and not rest.endswith(b"\n")
    m = _FRAGMENT_SEQ_RE.match(pieces[0]) if pieces else None
    if torn and m and int(m.group(1)) == seq + 1:
        what = (
            f"dropped 1 incomplete record after record {seq} (record {seq + 1}, {len(rest)} bytes at offset {pos}): "
            "either the process stopped while writing it, before it was acknowledged, or the file was cut "
            "short, and then any records after it are lost too and cannot be counted"
        )
    else:
        what = (
            f"dropped {len(pieces)} unreadable record(s) after record {seq} ({len(rest)} bytes at offset {pos}; "
            f"{reason}): an unfinished write or damage; if the file was cut short or overwritten, records after "
            "them are lost too and cannot be counted"
        )
    return f"{where}/{path.name}: {what}. Restored up to record {seq}; the bytes are kept in {aside.name}"


def _read(disk: Disk, path: Path) -> bytes:
    try:
        return disk.read(path)
    except FileNotFoundError:
        raise  # removed since the directory was listed (a reader beside a compacting owner reads again)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read it ({exc.strerror or exc}). Nothing was changed.") from exc


def _read_manifest(directory: Path, entries: dict[str, bool], disk: Disk, messages: list[str]) -> int | None:
    path = directory / MANIFEST
    if MANIFEST not in entries:
        return None
    if not entries[MANIFEST]:
        raise StoreCorruptError(f"{path}: not a regular file; move it out of the data directory. Nothing was changed.")
    data = _read(disk, path)
    payload = unframe(data[:-1]) if data.endswith(b"\n") else None
    try:
        manifest = json.loads(payload) if payload is not None else None
        if isinstance(manifest, dict) and check_format(manifest.get("format"), path):
            segment = manifest.get("segment")
            if type(segment) is int and segment >= 1:
                return segment
    except ValueError:
        pass
    messages.append(f"{path}: damaged; cannot check that no journal file is missing; it will be rewritten")
    return None


def recover(directory: Path, *, repair: bool = True, disk: Disk = REAL) -> Recovered:
    """Restore the last good state of ``directory``.

    Changes on disk (dropping a torn tail, moving damaged files aside as ``*.damaged-<time>``,
    removing unfinished ``*.tmp`` files) happen only once a consistent state has been found;
    otherwise :class:`StoreCorruptError` is raised and nothing is touched. A file of a newer format
    raises :class:`StoreFormatError`; a directory holding no store at all raises StoreMissingError.

    ``repair=False`` (a reader beside the owning process) changes nothing on disk: a ``*.tmp`` file is
    the owner's write in progress, and ``messages`` say what the owner would repair at its next start.
    """
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    messages: list[str] = []
    actions: list[Callable[[], object]] = []
    where = str(directory)
    try:
        entries = disk.entries(directory)
    except OSError as exc:
        raise StoreError(f"{directory}: cannot list the data directory ({exc.strerror or exc})") from exc
    if not holds_store(entries):
        raise StoreMissingError(
            f"{directory} exists but holds no store (no {MANIFEST}, snapshot or journal) — is its volume not "
            "mounted? To start a new, empty store there, run `servicebot init`"
        )

    for name in sorted(entries) if repair else ():
        if name.endswith(".tmp"):
            if not entries[name]:
                raise StoreCorruptError(
                    f"{directory / name}: not a regular file; move it out of the data directory. Nothing was changed."
                )
            messages.append(f"{where}: removed {name}, left unfinished by an interrupted write")
            actions.append(partial(disk.unlink, directory / name))

    snapshots = _numbered(entries, directory, _SNAPSHOT_RE)
    segments = _numbered(entries, directory, _SEGMENT_RE)
    if entries.get(SPARE):
        spare = directory / SPARE
        data = _read(disk, spare)
        m = re.match(rb'^[0-9a-f]{8} \{"segment":(\d+),', data)
        if m and unframe(data[: data.find(b"\n")]) == segment_header(int(m.group(1)))[9:-1]:
            first = int(m.group(1))
            if segment_name(first) in entries:
                raise StoreCorruptError(
                    f"{spare}: holds journal segment {first}, and {segment_name(first)} exists as well; move one "
                    "of them out of the data directory. Nothing was changed."
                )
            if repair:  # a pure name repair (the content is the segment's), done at once
                disk.replace(spare, directory / segment_name(first))
                disk.fsync_dir(directory)
                messages.append(f"{where}: {SPARE} renamed to {segment_name(first)} (a crash undid that rename)")
                entries = {**entries, segment_name(first): True}
                del entries[SPARE]
                segments = sorted([*segments, (first, directory / segment_name(first))])
            else:
                segments = sorted([*segments, (first, spare)])
    manifest_segment = _read_manifest(directory, entries, disk, messages)
    had_files = bool(snapshots or segments)
    if MANIFEST not in entries and had_files:
        messages.append(
            f"{where}: no {MANIFEST} (written by servicebot before 2026-12, or deleted): a missing newest journal "
            "file cannot be noticed this time; a new one is written"
        )

    seq, tables = 0, {}
    intact: list[int] = []
    base_found = False
    for snap_seq, path in reversed(snapshots):
        try:
            got_seq, got_tables, trailing = read_snapshot(path, parse=not base_found, disk=disk)
        except _Damaged as exc:
            messages.append(f"{where}/{path.name}: damaged ({exc}); moved aside, using an older state")
            actions.append(partial(_move_aside, disk, path, stamp))
            continue
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise StoreError(f"{path}: cannot read it ({exc.strerror or exc}). Nothing was changed.") from exc
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
    intact_header = False
    journal_bytes = 0
    for i, (first, path) in enumerate(segments):
        is_last = i == len(segments) - 1
        if stopped:
            messages.append(f"{where}/{path.name}: set aside (it follows a damaged record)")
            actions.append(partial(_move_aside, disk, path, stamp))
            continue
        if not is_last and segments[i + 1][0] - 1 <= base_seq:
            continue  # every record in it is already in the base snapshot
        data = _read(disk, path)
        nl = data.find(b"\n")
        header_payload = unframe(data[:nl]) if nl >= 0 else None
        header: Any = None
        if header_payload is not None:
            try:
                header = json.loads(header_payload)
            except ValueError:
                header = None
            if not isinstance(header, dict):
                raise StoreCorruptError(
                    f"{path}: offset 0: the header's checksum is valid but it is not a segment header "
                    f"({header_payload[:60]!r}): written by something other than servicebot. Nothing was changed."
                )
            check_format(header.get("format"), path)
        if is_last and len(data) < len(segment_header(first)) and segment_header(first).startswith(data):
            # a rotation cut short: the header is written without its own fsync (the first record's
            # fdatasync covers it), so a crash before any record leaves it empty or in part; nothing was in it;
            # it is rewritten in place, never removed: MANIFEST may name it already
            messages.append(
                f"{where}/{path.name}: header completed; a new segment whose creation was interrupted (no records)"
            )
            actions.append(partial(write_file_atomically, path, [segment_header(first)], disk=disk))
            active = path
            continue
        if header is None or header.get("segment") != first or header.get("format") != FORMAT:
            what = "is empty" if not data else "has a damaged header"
            messages.append(f"{where}/{path.name}: {what}; moved aside")
            actions.append(partial(_move_aside, disk, path, stamp))
            stopped = True
            active = None
            continue
        intact_header = True  # a segment that starts right: an empty store is a state, not damage
        pos = nl + 1
        bad_reason = ""
        while pos < len(data):
            nl = data.find(b"\n", pos)
            payload = unframe(data[pos:nl]) if nl >= 0 else None
            if payload is None:
                bad_reason = "incomplete or damaged record"
                break
            try:
                rseq, ops = parse_record(payload)
            except ValueError as exc:
                raise StoreCorruptError(
                    f"{path}: offset {pos}: {exc}. Its checksum is valid, so it is no torn write: it was written "
                    "like this, by something other than this servicebot. Nothing was changed; restore the file "
                    "from a backup."
                ) from None
            if rseq > seq + 1:
                bad_reason = f"gap: expected record {seq + 1}, found {rseq}"
                break
            if rseq == seq + 1:
                for op in ops:
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
                messages.append(_torn_tail(where, path, pos, rest, seq, bad_reason, aside))
            else:
                messages.append(
                    f"{where}/{path.name}: {bad_reason} at offset {pos}; restored up to record {seq}, "
                    f"{later_intact} later records set aside in {aside.name}"
                )
                stopped = True
            actions.append(partial(_cut_tail, disk, path, aside, rest, pos))
        active = path

    known_max = max([s for s, _ in snapshots], default=0)
    if seq < known_max:
        raise StoreCorruptError(
            f"{where}: cannot restore: the newest state (record {known_max}) is damaged and the journal "
            f"only reaches record {seq}. Problems: " + " | ".join(messages) + ". Nothing was changed."
        )
    if manifest_segment is not None:
        name = segment_name(manifest_segment)
        set_aside = any(n.startswith(name + ".damaged-") for n in entries)
        if name not in entries and not set_aside:
            raise StoreCorruptError(
                f"{where}/{name} is missing: {MANIFEST} names it as the journal in use, so the writes made since "
                f"record {manifest_segment - 1} cannot be restored (the files left reach record {seq}). Put the "
                f"file back (a backup, the right volume); to start from what is left instead, move {where}/"
                f"{MANIFEST} aside. Nothing was changed."
            )
        if seq < manifest_segment - 1 and not set_aside:
            raise StoreCorruptError(
                f"{where}: cannot restore: {MANIFEST} says records up to {manifest_segment - 1} were written, the "
                f"files left reach record {seq}. Problems: {' | '.join(messages) or 'none'}. Nothing was changed."
            )
    if had_files and messages and seq == 0 and not intact_header and not any(t.docs for t in tables.values()):
        raise StoreCorruptError(
            f"{where}: nothing intact to restore (" + " | ".join(messages) + "); refusing to open it as an "
            "empty store. Nothing was changed; move the files aside to start empty."
        )
    if not repair:
        actions = []
    for action in actions:
        action()
    if actions:
        disk.fsync_dir(directory)
    return Recovered(seq, tables, messages, active, sorted(intact), journal_bytes, manifest_segment)


def _move_aside(disk: Disk, path: Path, stamp: str) -> None:
    disk.replace(path, _aside_name(path, stamp))


def _cut_tail(disk: Disk, path: Path, aside: Path, rest: bytes, at: int) -> None:
    write_file_atomically(aside, [rest], disk=disk)
    disk.truncate(path, at)


# ---------------------------------------------------------------- the writer


@dataclass
class PendingSnapshot:
    """A compaction begun under the store's lock: the state at ``seq``, to be written by any thread."""

    seq: int
    frozen: Frozen
    carry: int  # journal bytes appended up to ``seq``: they no longer count once the snapshot is written
    segment: int  # the segment begun for the records after ``seq``
    index_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)  # table -> indexed fields


class Journal:
    """Appends records durably and rolls snapshots. One per open store."""

    def __init__(self, directory: Path, recovered: Recovered, *, sync: bool = True, disk: Disk = REAL) -> None:
        self.directory = directory
        self.disk = disk
        self.seq = recovered.seq
        self.sync = sync
        self._appended = recovered.journal_bytes  # journal bytes after the base snapshot (the writer counts)
        self._compacted = 0  # of those, the ones a later snapshot holds (a compaction thread counts)
        self.snapshot_bytes = 0
        self._snapshots = list(recovered.snapshot_seqs)
        self._files = threading.Lock()  # snapshot bookkeeping and pruning (a compaction thread runs it)
        if self._snapshots:
            newest = directory / snapshot_name(self._snapshots[-1])
            try:
                self.snapshot_bytes = disk.size(newest)
            except OSError:
                self.snapshot_bytes = 0
        # A failed append leaves its torn tail here (the offset the last good record ends at) until it is cut
        # off; the next append cuts it first, so one failed write (disk full, I/O error) never stops the ones
        # after it: they succeed as soon as the disk takes them again.
        self._torn_at: int | None = None
        self._end: int | None = None  # where the active segment ends (None: ask the disk)
        self._unsynced = False  # records written since the last fdatasync
        self._fd = -1
        self._first = 0  # first seq of the segment in use
        if recovered.active_segment is not None:
            self._first = int(_SEGMENT_RE.match(recovered.active_segment.name).group(1))  # type: ignore[union-attr]
            self._fd = disk.open_append(recovered.active_segment)
            if recovered.manifest_segment != self._first:
                write_manifest(directory, self._first, sync=sync, disk=disk)
        else:
            self._start_segment(self.seq + 1)
        self._spare_ready = False
        self.prepare_spare()

    def prepare_spare(self) -> None:
        """Make an empty ``journal-next.log`` durable, for the next rotation to rename (logged if it fails)."""
        try:
            path = self.directory / SPARE
            fd = self.disk.create(path)
            self.disk.close(fd)
            if self.sync:
                self.disk.fsync_dir(self.directory)
        except OSError as exc:
            log.warning("store %s: could not prepare %s (%s); the next rotation makes its own", self.directory, SPARE, exc)
            return
        self._spare_ready = True

    def _start_segment(self, first: int, *, manifest: bool = True) -> None:
        """Start ``journal-<first>.log``, switch appends to it, and (unless told not to) name it in MANIFEST.

        Cheap enough for the writer's thread (it runs inside the write that starts a compaction): the header
        gets no fsync of its own (the first record's fdatasync makes it durable with that record; a crash
        before leaves a header-only or empty last segment, which recovery completes). The file is the spare
        ``journal-next.log``, made durable in advance, renamed: no directory fsync is needed before a record
        in it is acknowledged, because if a crash undoes the rename, recovery finds the segment under the
        spare's name by its header. Without a spare, the file is created and one directory fsync makes its
        name durable.
        """
        path = self.directory / segment_name(first)
        use_spare = getattr(self, "_spare_ready", False)
        self._spare_ready = False
        created = False
        if use_spare:
            fd = self.disk.open_append(self.directory / SPARE)
        else:
            fd = self.disk.create(path)
            created = True
        try:
            self.disk.write(fd, segment_header(first))
            if use_spare:
                self.disk.replace(self.directory / SPARE, path)
            elif self.sync:
                self.disk.fsync_dir(self.directory)
            if self._fd >= 0:
                self._sync_pending()
        except BaseException:
            self.disk.close(fd)
            if created:
                self.disk.unlink(path)
            raise
        if self._fd >= 0:
            self.disk.close(self._fd)
        self._fd, self._first = fd, first
        self._end = len(segment_header(first))
        self._unsynced = True  # the header: made durable by the next fdatasync (or close)
        if manifest:
            self.name_in_manifest(first)

    def name_in_manifest(self, first: int) -> None:
        """MANIFEST names ``journal-<first>.log`` as the journal in use (what notices a deleted newest journal).

        If it cannot be written, the old one still names a segment that exists: logged, not raised.
        """
        try:
            write_manifest(self.directory, first, sync=self.sync, disk=self.disk)
        except OSError as exc:
            log.warning("store %s: could not update %s (%s); it still names an older journal", self.directory, MANIFEST, exc)

    def _segment_path(self) -> Path:
        return self.directory / segment_name(self._first)

    def _cut_torn_tail(self) -> None:
        """Cut off what a failed append left in the segment (durably); StoreError if the disk refuses yet."""
        if self._torn_at is None:
            return
        try:
            self.disk.truncate(self._segment_path(), self._torn_at)
        except OSError as exc:
            raise StoreError(
                f"{self.directory}: the journal cannot be repaired after a failed write yet ({exc}); "
                "nothing is written until it can"
            ) from exc
        self._end, self._torn_at = self._torn_at, None

    def _sync_pending(self) -> None:
        if self._unsynced and self.sync:
            self.disk.fdatasync(self._fd)
        self._unsynced = False

    def append(self, ops_json: list[str], *, sync: bool = True) -> None:
        """Write one record holding ``ops_json`` (already JSON) and make it durable before returning.

        ``sync=False`` writes it without fdatasync: the next synced append (or :meth:`close`) makes it
        durable together with its own record.
        """
        self._cut_torn_tail()
        seq = self.seq + 1
        line = frame(f'{{"seq":{seq},"ops":[{",".join(ops_json)}]}}'.encode())
        try:
            start = self._end if self._end is not None else self.disk.size(self._segment_path())
        except OSError as exc:
            raise StoreError(f"{self.directory}: the journal cannot be read ({exc}); that write was not saved") from exc
        try:
            self.disk.write(self._fd, line)
            if sync:
                self._unsynced = False
                if self.sync:
                    self.disk.fdatasync(self._fd)
            else:
                self._unsynced = True
        except OSError as exc:
            self._torn_at, self._end = start, None
            with contextlib.suppress(StoreError):
                self._cut_torn_tail()  # at once if the disk allows (shrinking a file needs no space)
            raise StoreError(
                f"{self.directory}: a journal write failed ({exc}); that write was not saved, and the next one "
                "is tried again"
            ) from exc
        self._end = start + len(line)
        self.seq = seq
        self._appended += len(line)

    @property
    def bytes_since_snapshot(self) -> int:
        """Journal bytes written since the newest snapshot's record (what compaction would reclaim)."""
        return self._appended - self._compacted

    # ------------------------------------------------------------ compaction

    def begin_snapshot(
        self, tables: Tables, index_fields: dict[str, tuple[str, ...]] | None = None
    ) -> PendingSnapshot | None:
        """Under the store's lock: freeze the state at the current seq and start the next segment.

        Cheap (a dict copy per table, one small file); the snapshot itself is written by
        :meth:`finish_snapshot`, on any thread, while appends go on in the new segment.
        """
        self._cut_torn_tail()
        with self._files:
            newest = self._snapshots[-1] if self._snapshots else 0
        if self.seq == 0 or self.seq == newest:
            return None
        pending = PendingSnapshot(self.seq, freeze(tables), self._appended, self.seq + 1, dict(index_fields or {}))
        if self._first != self.seq + 1:
            self._start_segment(self.seq + 1, manifest=False)  # the compaction thread names it in MANIFEST
        return pending

    def finish_snapshot(self, pending: PendingSnapshot) -> None:
        """Write the snapshot begun by :meth:`begin_snapshot`, then drop the files no longer needed."""
        self.name_in_manifest(pending.segment)
        path = write_frozen_snapshot(self.directory, pending.seq, pending.frozen, sync=self.sync, disk=self.disk,
                                     index_fields=pending.index_fields)
        self.snapshot_bytes = self.disk.size(path)
        self._compacted = pending.carry  # each counter has one writer: no lost update between threads
        with self._files:
            if pending.seq not in self._snapshots:
                self._snapshots.append(pending.seq)
            self._prune()
        self.prepare_spare()

    def snapshot(self, tables: Tables, index_fields: dict[str, tuple[str, ...]] | None = None) -> None:
        """Compact now, on the calling thread: snapshot at the current seq, new segment, prune."""
        pending = self.begin_snapshot(tables, index_fields)
        if pending is not None:
            self.finish_snapshot(pending)

    def _prune(self) -> None:
        # keep the two newest snapshots and every record after the older of them
        keep = sorted(self._snapshots)[-2:]
        oldest_needed = keep[0] if len(keep) == 2 else 0
        entries = self.disk.entries(self.directory)
        for snap_seq, p in _numbered(entries, self.directory, _SNAPSHOT_RE):
            if snap_seq < keep[0]:
                self.disk.unlink(p)
        self._snapshots = keep
        segs = _numbered(entries, self.directory, _SEGMENT_RE)
        for (_first, p), (next_first, _) in itertools.pairwise(segs):
            if next_first - 1 <= oldest_needed:
                self.disk.unlink(p)
        self.disk.fsync_dir(self.directory)

    def close(self) -> None:
        if self._fd >= 0:
            try:
                self._sync_pending()
            except OSError as exc:
                log.warning("store %s: the last unsynced records could not be synced: %s", self.directory, exc)
            with contextlib.suppress(OSError):
                self.disk.close(self._fd)
            self._fd = -1
