"""The TinyDB API on store tables: a contract, identical on disk, in memory and on PostgreSQL."""

from __future__ import annotations

import pytest
from tinydb import Query
from tinydb.table import Document, Table

from bot.store import Store, StoreError

Q = Query()


def test_a_store_table_is_a_tinydb_table(any_store: Store) -> None:
    assert isinstance(any_store.table("tickets"), Table)


def test_insert_get_search_all_len(any_store: Store) -> None:
    t = any_store.table("tickets")
    a = t.insert({"number": 1, "text": "物业费怎么交？"})
    b = t.insert({"number": 2, "text": "公交卡"})
    assert (a, b) == (1, 2)
    assert t.get(doc_id=a) == {"number": 1, "text": "物业费怎么交？"}
    assert t.get(doc_id=a).doc_id == a  # type: ignore[union-attr]
    assert t.get(doc_id=99) is None
    assert [d.doc_id for d in t.search(Q.number == 2)] == [b]
    assert [d["number"] for d in t.all()] == [1, 2]
    assert len(t) == 2
    assert t.count(Q.number >= 1) == 2
    assert t.contains(doc_id=b) and not t.contains(Q.number == 3)
    assert t.get(Q.number == 2) == {"number": 2, "text": "公交卡"}
    assert [d.doc_id for d in t.get(doc_ids=[2, 1, 7])] == [1, 2]  # type: ignore[union-attr]


def test_insert_with_explicit_id_and_duplicate_refused(any_store: Store) -> None:
    t = any_store.table("tickets")
    assert t.insert(Document({"number": 42}, doc_id=42)) == 42
    assert t.insert({"number": 43}) == 43
    with pytest.raises(ValueError, match="42 already exists"):
        t.insert(Document({"x": 1}, doc_id=42))
    assert t.get(doc_id=42) == {"number": 42}


def test_update_by_ids_cond_and_callable(any_store: Store) -> None:
    t = any_store.table("tickets")
    t.insert_multiple([{"n": i, "state": "open"} for i in range(5)])
    assert t.update({"state": "claimed"}, doc_ids=[1, 2, 99]) == [1, 2]
    assert t.update({"state": "closed"}, Q.n == 4) == [5]

    def bump(doc: dict) -> None:  # type: ignore[type-arg]
        doc["n"] += 100

    t.update(bump, doc_ids=[3])
    assert [(d["n"], d["state"]) for d in t.all()] == [
        (0, "claimed"), (1, "claimed"), (102, "open"), (3, "open"), (4, "closed")
    ]
    assert t.update_multiple([({"x": 1}, Q.n == 0), ({"x": 2}, Q.n == 1)]) == [1, 2]


def test_upsert_and_remove(any_store: Store) -> None:
    t = any_store.table("seen")
    assert t.upsert({"k": "a", "v": 1}, Q.k == "a") == [1]
    assert t.upsert({"k": "a", "v": 2}, Q.k == "a") == [1]
    assert t.upsert(Document({"k": "b"}, doc_id=10)) == [10]
    assert t.upsert(Document({"v": 3}, doc_id=10)) == [10]
    assert t.get(doc_id=10) == {"k": "b", "v": 3}
    assert t.remove(doc_ids=[1, 77]) == [1]
    assert t.remove(Q.k == "b") == [10]
    assert len(t) == 0
    with pytest.raises(RuntimeError):
        t.remove()


def test_ids_are_never_reused(any_store: Store) -> None:
    t = any_store.table("t")
    t.insert({"a": 1})
    t.remove(doc_ids=[1])
    t.truncate()
    assert t.insert({"a": 2}) == 2


def test_returned_documents_are_copies(any_store: Store) -> None:
    t = any_store.table("t")
    src = {"tags": ["a"], "meta": {"x": 1}}
    t.insert(src)
    src["tags"].append("from caller")
    got = t.get(doc_id=1)
    assert got == {"tags": ["a"], "meta": {"x": 1}}
    got["tags"].append("mutated")  # type: ignore[index]
    t.all()[0]["meta"]["x"] = 5
    assert t.get(doc_id=1) == {"tags": ["a"], "meta": {"x": 1}}


def test_documents_must_be_json(any_store: Store) -> None:
    t = any_store.table("t")
    with pytest.raises(StoreError, match=r"table 't', document 1: not storable as JSON"):
        t.insert({"when": object()})
    assert len(t) == 0
    assert t.insert({"ok": True}) == 1  # the failed id was handed back


def test_find_uses_indexes_kept_in_step(any_store: Store) -> None:
    t = any_store.table("tickets", index=("number", "asker_id"))
    t.insert_multiple([{"number": i, "asker_id": i % 3} for i in range(1, 10)])
    assert [d["number"] for d in t.find("asker_id", 1)] == [1, 4, 7]
    t.update({"asker_id": 2}, doc_ids=[4])
    t.remove(doc_ids=[7])
    assert [d["number"] for d in t.find("asker_id", 1)] == [1]
    assert [d["number"] for d in t.find("asker_id", 2)] == [2, 4, 5, 8]
    assert t.find("number", "1") == []  # types are kept apart
    t.truncate()
    assert t.find("asker_id", 2) == []
    with pytest.raises(StoreError, match="no index on 'state'"):
        t.find("state", "open")


def test_index_declared_later_is_built_from_existing_docs(any_store: Store) -> None:
    any_store.table("t").insert({"chat": [1, 2]})
    t = any_store.table("t", index=("chat",))
    assert [d.doc_id for d in t.find("chat", [1, 2])] == [1]


def test_query_cache_is_invalidated_by_writes(any_store: Store) -> None:
    t = any_store.table("t")
    t.insert({"s": "open"})
    assert len(t.search(Q.s == "open")) == 1
    t.insert({"s": "open"})
    assert len(t.search(Q.s == "open")) == 2
    t.update({"s": "closed"}, doc_ids=[1])
    assert [d.doc_id for d in t.search(Q.s == "open")] == [2]


def test_batch_is_all_or_nothing_in_memory(any_store: Store) -> None:
    tickets, audit = any_store.table("tickets"), any_store.table("audit")
    tickets.insert({"n": 1})
    with pytest.raises(KeyError), any_store.batch():
        tickets.update({"state": "claimed"}, doc_ids=[1])
        tickets.insert({"n": 2})
        audit.insert({"event": "claimed"})
        raise KeyError("boom")
    assert tickets.all() == [{"n": 1}]
    assert audit.all() == []
    with any_store.batch():
        with any_store.batch():
            tickets.insert({"n": 2})
        audit.insert({"event": "opened"})
    assert len(tickets) == 2 and len(audit) == 1


def test_drop_table_and_tables(any_store: Store) -> None:
    any_store.table("a").insert({"x": 1})
    any_store.table("b")
    assert any_store.tables() == {"a"}
    any_store.drop_table("a")
    assert any_store.tables() == set()
    assert any_store.table("a").all() == []


def test_closed_store_refuses(any_store: Store) -> None:
    t = any_store.table("t")
    any_store.close()
    with pytest.raises(StoreError, match="is closed"):
        t.insert({"x": 1})
    try:
        n = len(t)
    except StoreError as exc:  # PostgreSQL: a read needs the connection, closed with the store
        assert "is closed" in str(exc)
    else:
        assert n == 0  # the journal store reads from memory: the refused write left nothing


def test_index_keeps_values_of_other_types_apart_and_follows_every_write(any_store: Store) -> None:
    """One id per key is kept as a bare int, several as a set: finds must not tell the difference."""
    t = any_store.table("typed", index=("v",))
    ids = {repr(v): t.insert({"v": v}) for v in (1, True, 1.0, "1", None, [1], {"a": 1})}
    for v in (1, True, 1.0, "1", None, [1], {"a": 1}):
        assert [d.doc_id for d in t.find("v", v)] == [ids[repr(v)]], v
    second = t.insert({"v": 1})
    assert [d.doc_id for d in t.find("v", 1)] == [ids["1"], second]
    t.remove(doc_ids=[ids["1"]])
    assert [d.doc_id for d in t.find("v", 1)] == [second]
    t.update({"v": 2}, doc_ids=[second])
    assert t.find("v", 1) == [] and [d.doc_id for d in t.find("v", 2)] == [second]
    t.truncate()
    assert t.find("v", 2) == [] and t.find("v", True) == []


def test_a_refused_write_inside_a_batch_leaves_nothing_and_the_batch_goes_on(any_store: Store) -> None:
    t = any_store.table("t", index=("k",))
    t.insert(Document({"k": "a"}, doc_id=5))

    def boom(doc: dict) -> None:  # type: ignore[type-arg]
        doc["k"] = "half-changed"
        raise KeyError("caller's bug")

    with any_store.batch():
        t.insert({"k": "b"})  # id 6
        with pytest.raises(ValueError, match="5 already exists"):
            t.insert_multiple([{"k": "lost"}, Document({"k": "dup"}, doc_id=5)])
        with pytest.raises(StoreError, match="not storable as JSON"):
            t.insert({"k": object()})
        with pytest.raises(KeyError):
            t.update(boom, doc_ids=[5])
        t.insert({"k": "c"})
    assert [(d.doc_id, d["k"]) for d in t.all()] == [(5, "a"), (6, "b"), (7, "c")]
    assert t.find("k", "lost") == [] and t.find("k", "half-changed") == []


def test_upsert_by_id_merges_and_moves_the_next_id_on(any_store: Store) -> None:
    t = any_store.table("t")
    assert t.upsert(Document({"a": 1, "b": 2}, doc_id=3)) == [3]
    assert t.upsert(Document({"b": 20, "c": 30}, doc_id=3)) == [3]
    assert t.get(doc_id=3) == {"a": 1, "b": 20, "c": 30}
    assert t.update({"a": 10}, doc_ids=[3, 3, 9]) == [3, 3]  # listed as often as given

    def bump(doc: dict) -> None:  # type: ignore[type-arg]
        doc["b"] += 1

    assert t.update(bump, doc_ids=[3, 3]) == [3, 3]  # applied as often as given
    assert t.get(doc_id=3) == {"a": 10, "b": 22, "c": 30}
    assert t.insert({"x": 1}) == 4
