"""Hash indexes on top-level document fields: the key of a value, buckets of document ids, and the form an
index takes in a snapshot's header (so opening a store need not decode every document to rebuild it)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

# An index maps a key to the one document id that has it (most keys of a unique field), or to a set of
# them: an int costs 28 bytes, a one-element set 216 (100k tickets: ~20 MB per unique index).
Bucket = int | set[int]
Index = dict[Any, Bucket]


def index_key(value: Any) -> Any:
    """The hash key of a field's value: a plain str or int is its own key (the common case, no tuple per
    document); other scalars are tagged with their type, so True, 1 and 1.0 stay apart from each other
    (and from any str or int); anything else is its canonical JSON."""
    kind = type(value)
    if kind is str or kind is int:
        return value
    if value is None or isinstance(value, str | int | float | bool):
        return (kind.__name__, value)
    return ("json", json.dumps(value, sort_keys=True, ensure_ascii=False))


def bucket_add(idx: Index, key: Any, doc_id: int) -> None:
    bucket = idx.get(key)
    if bucket is None:
        idx[key] = doc_id
    elif isinstance(bucket, set):
        bucket.add(doc_id)
    elif bucket != doc_id:
        idx[key] = {bucket, doc_id}


def bucket_remove(idx: Index, key: Any, doc_id: int) -> None:
    bucket = idx.get(key)
    if bucket is None:
        return
    if isinstance(bucket, set):
        bucket.discard(doc_id)
        if len(bucket) == 1:
            idx[key] = next(iter(bucket))
        elif not bucket:
            del idx[key]
    elif bucket == doc_id:
        del idx[key]


def bucket_ids(bucket: Bucket | None) -> list[int]:
    if bucket is None:
        return []
    return sorted(bucket) if isinstance(bucket, set) else [bucket]


def build(docs: Iterable[tuple[int, dict[str, Any]]], fields: Iterable[str]) -> dict[str, Index]:
    """Indexes on ``fields`` over (id, document) pairs, in one pass."""
    built: dict[str, Index] = {name: {} for name in dict.fromkeys(fields)}
    for doc_id, doc in docs:
        for name, idx in built.items():
            if name in doc:
                bucket_add(idx, index_key(doc[name]), doc_id)
    return built


# ---------------------------------------------------------------- in a snapshot's header

#: index entries per json.dumps call when a compaction thread writes them (the GIL is given back between)
_PIECE = 1000


def _array_pieces(values: Iterator[Any]) -> Iterator[str]:
    yield "["
    first = True
    while batch := list(islice(values, _PIECE)):
        text = json.dumps(batch, ensure_ascii=False, separators=(",", ":"))[1:-1]
        yield text if first else "," + text
        first = False
    yield "]"


def dump_pieces(idx: Index) -> Iterator[str]:
    """``idx`` as ``{"k": [keys], "v": [id or [ids]]}`` in pieces (a tuple key as an array: a str or int
    key is never one). Two flat arrays: far fewer objects to parse at open than one pair per key."""
    yield '{"k":'
    yield from _array_pieces(list(k) if isinstance(k, tuple) else k for k in idx)
    yield ',"v":'
    yield from _array_pieces(sorted(b) if isinstance(b, set) else b for b in idx.values())
    yield "}"


def load(entries: Any) -> Index | None:
    """The index written by :func:`dump_pieces`, or None if ``entries`` is not one (then it is rebuilt).
    Its ids are checked against the documents by :func:`fits`."""
    if not isinstance(entries, dict):
        return None
    keys, ids = entries.get("k"), entries.get("v")
    if not isinstance(keys, list) or not isinstance(ids, list) or len(keys) != len(ids):
        return None
    try:
        keys = [tuple(k) if type(k) is list else k for k in keys]
        ids = [set(v) if type(v) is list else v for v in ids]
        return dict(zip(keys, ids, strict=True))
    except TypeError:  # a key that cannot be one (a nested array, an object)
        return None


def fits(idx: Index, docs: dict[int, Any]) -> bool:
    """Whether every id in ``idx`` is a document of ``docs`` (and every bucket an id or a set of them)."""
    have = docs.keys()
    for bucket in idx.values():
        if type(bucket) is set:
            if len(bucket) < 2 or not bucket <= have:
                return False
        elif type(bucket) is not int or bucket not in docs:
            return False
    return True
