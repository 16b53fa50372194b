"""Documents are held encoded (compact JSON bytes) and a snapshot keeps one document a line, so a store
opens without decoding every document (issue 11, part 6: footprint). What that must not cost: damage is
still named, never opened as if it were a state, and a document reads back as it was written."""

from __future__ import annotations

import json
import random
import zlib
from pathlib import Path

import pytest

import bot.store.table
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


def _brute(t: object, field: str, value: object) -> list[int]:
    return [d.doc_id for d in t.all() if field in d and d[field] == value and type(d[field]) is type(value)]  # type: ignore[attr-defined]


def test_indexes_written_with_the_snapshot_are_taken_over_at_open_and_brought_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = tmp_path / "data"
    rng = random.Random(11)
    values: list[object] = ["open", "closed", 1, 1.0, True, None, [1], {"k": "v"}, "一"]
    with Store.open(d) as store:
        t = store.table("t", index=("status", "owner"))
        for i in range(1, 3001):
            t.insert({"status": rng.choice(values), "owner": i % 7, "text": f"问题 {i}"})
        store.compact()  # the snapshot carries both indexes
        # after the snapshot, in the journal only: changes, removals, new documents, a field taken away
        for i in rng.sample(range(1, 3001), 300):
            t.update({"status": rng.choice(values), "owner": rng.randrange(9)}, doc_ids=[i])
        t.remove(doc_ids=rng.sample(range(1, 3001), 50))
        for _ in range(40):
            t.insert({"status": rng.choice(values), "owner": 8})
        t.update(lambda doc: doc.pop("owner", None), doc_ids=[5, 6, 7])
    decoded = []
    real = bot.store.table.decode
    monkeypatch.setattr(bot.store.table, "decode", lambda raw: decoded.append(1) or real(raw))
    with Store.open(d) as store:
        t = store.table("t", index=("status", "owner"))
        assert len(decoded) < 800, "every document was decoded to rebuild the indexes"
        monkeypatch.setattr(bot.store.table, "decode", real)
        for value in values:
            assert [x.doc_id for x in t.find("status", value)] == _brute(t, "status", value), value
        for owner in range(10):
            assert [x.doc_id for x in t.find("owner", owner)] == _brute(t, "owner", owner), owner
        assert all(x.doc_id not in (5, 6, 7) for o in range(10) for x in t.find("owner", o))


@pytest.mark.parametrize(
    "written",
    [[["x", "not an id"]], {"k": [1], "v": [999]}, {"k": [1, 2], "v": [[1], 3]}, {"k": [[[1]]], "v": [1]},
     {"k": [1], "v": []}],
)
def test_an_index_in_the_header_that_does_not_fit_is_rebuilt_not_damage(tmp_path: Path, written: object) -> None:
    d = tmp_path / "data"
    with Store.open(d) as store:
        t = store.table("t", index=("n",))
        for i in range(1, 21):
            t.insert({"n": i % 3})
        store.compact()
    path = max(d.glob("snapshot-*.json"))
    data = path.read_bytes()
    nl = data.index(b"\n")
    header = json.loads(data[9:nl])
    assert set(header["indexes"]["t"]) == {"n"}
    header["indexes"]["t"]["n"] = written
    path.write_bytes(frame(json.dumps(header).encode()) + data[nl + 1 :])
    with Store.open(d) as store:
        assert store.recovery == []
        t = store.table("t", index=("n",))
        assert [x.doc_id for x in t.find("n", 1)] == [i for i in range(1, 21) if i % 3 == 1]


def test_a_large_table_whose_indexes_had_to_be_rebuilt_gets_a_snapshot_with_them_at_the_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.store.table, "REBUILT_IS_SLOW", 100)
    d = tmp_path / "data"
    d.mkdir()
    write_snapshot(d, 1, {"t": TableState({i: {"n": i % 5} for i in range(1, 201)}, 201)})  # no indexes in it
    with Store.open(d) as store:
        t = store.table("t", index=("n",))
        t.insert({"n": 1})
        assert store.wait_compaction(30)
    newest = max(d.glob("snapshot-*.json"))
    assert newest.name != "snapshot-000000000001.json"
    header = json.loads(newest.read_bytes()[9 : newest.read_bytes().index(b"\n")])
    assert set(header["indexes"]) == {"t"}
