"""Documents are held encoded (compact JSON bytes) and a snapshot keeps one document a line, so a store
opens without decoding every document (issue 11, part 6: footprint). What that must not cost: damage is
still named, never opened as if it were a state, and a document reads back as it was written."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from bot.store import Store, StoreCorruptError
from bot.store.journal import TableState, frame, write_snapshot


def _rewrite_body(path: Path, change: bytes, to: bytes) -> None:
    """Replace ``change`` by ``to`` in the snapshot's body and give the header a matching CRC (so it is no
    torn write: a file written like this by something else)."""
    data = path.read_bytes()
    nl = data.index(b"\n")
    header = json.loads(data[9:nl])
    body = data[nl + 1 : nl + 1 + header["body_bytes"]]
    assert change in body
    body = body.replace(change, to)
    header.update(body_bytes=len(body), body_crc32=zlib.crc32(body))
    path.write_bytes(frame(json.dumps(header).encode()) + body + b"\n")


def _snapshot(d: Path) -> Path:
    d.mkdir()
    return write_snapshot(d, 1, {"t": TableState({1: {"a": "一"}, 2: {"b": [1, {"c": None}]}, 3: {"d": 3}}, 4)})


@pytest.mark.parametrize(
    ("change", "to"),
    [
        (b'"2":{"b"', b'"x":{"b"'),  # an id that is no number
        (b'"2":{"b"', b'"0":{"b"'),  # id 0
        (b'"2":{"b":[1,{"c":null}]},', b'"2":{"b":[1,{"c":null}]}'),  # a comma missing between documents
        (b'"2":{"b":[1,{"c":null}]},', b'"2":5,'),  # not a document
        (b'\n}\n}', b'\n}'),  # the last table never ends
        (b'"t":{', b'5:{'),  # a table name that is no string
    ],
)
def test_a_damaged_line_with_a_valid_checksum_is_named_and_never_opened(tmp_path: Path, change: bytes, to: bytes) -> None:
    d = tmp_path / "data"
    path = _snapshot(d)
    _rewrite_body(path, change, to)
    with pytest.raises(StoreCorruptError, match=r"snapshot-000000000001\.json: damaged \(.*\)"):
        Store.open(d)


def test_a_document_unreadable_inside_a_valid_line_is_named_when_read(tmp_path: Path) -> None:
    d = tmp_path / "data"
    _rewrite_body(_snapshot(d), b'{"d":3}', b'{"d":}')
    with Store.open(d) as store:
        t = store.table("t")
        assert t.get(doc_id=1) == {"a": "一"}
        with pytest.raises(StoreCorruptError, match=r"table 't', document 3: unreadable"):
            t.get(doc_id=3)


def test_documents_read_back_as_written_through_compaction_and_reopen(tmp_path: Path) -> None:
    d = tmp_path / "data"
    docs = [{"text": "第一行\n第二行\u2028", "n": i, "nested": {"k": [1, 2.5, None, True]}, "空": ""} for i in range(50)]
    with Store.open(d, compact_after_bytes=500) as store:
        t = store.table("t", index=("n",))
        for doc in docs:
            t.insert(doc)
        store.wait_compaction()
        t.update({"n": 99}, doc_ids=[3])
        assert t.find("n", 99)[0].doc_id == 3
    assert list(d.glob("snapshot-*.json"))
    with Store.open(d) as store:
        t = store.table("t", index=("n",))
        got = [dict(x) for x in t.all()]
        assert got == [{**doc, "n": 99} if i == 2 else doc for i, doc in enumerate(docs)]
        assert t.find("n", 99)[0].doc_id == 3 and not t.find("n", 2)
        first = t.get(doc_id=1)
        assert first is not None
        first["text"] = "changed"  # a returned document is a copy
        assert t.get(doc_id=1) == docs[0]
