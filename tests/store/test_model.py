"""Property tests: any sequence of writes, reopened (with compactions anywhere), equals a plain dict model —
on the journal store and on PostgreSQL (a contract)."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tinydb import Query

import bot.store
from bot.store import Store, StoreError
from tests.conftest import Reopen

values = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text("工单ab", max_size=3))
docs = st.dictionaries(st.sampled_from(["k", "state", "text"]), values, max_size=3)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), docs),
        st.tuples(st.just("update"), docs, st.integers(1, 12)),
        st.tuples(st.just("update_k"), docs, values),
        st.tuples(st.just("remove"), st.integers(1, 12)),
        st.tuples(st.just("batch_fail"), docs),
        st.tuples(st.just("compact")),
        st.tuples(st.just("reopen")),
    ),
    max_size=30,
)


@pytest.fixture(params=["disk", "postgres"])
def fresh_store(request: pytest.FixtureRequest) -> Callable[[], contextlib.AbstractContextManager[Callable[[], Store]]]:
    """A factory: each call gives an empty store's opener (a new directory / the test's database emptied)."""
    if request.param == "disk":

        @contextlib.contextmanager
        def directory() -> Iterator[Callable[[], Store]]:
            with tempfile.TemporaryDirectory() as tmp:
                yield lambda: Store.open(Path(tmp) / "data")

        return directory
    from bot.store.pg import PgStore

    dsn: str = request.getfixturevalue("pg_dsn")

    @contextlib.contextmanager
    def database() -> Iterator[Callable[[], Store]]:
        with PgStore.connect(dsn) as store, store._sql("emptying") as conn:  # type: ignore[attr-defined]
            conn.execute("TRUNCATE documents, store_tables")
        yield lambda: PgStore.connect(dsn)

    return database


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=ops)
def test_replay_matches_model(
    fresh_store: Callable[[], contextlib.AbstractContextManager[Callable[[], Store]]], script: list[tuple[Any, ...]]
) -> None:
    model: dict[int, dict[str, Any]] = {}
    next_id = 1
    with fresh_store() as reopen:
        store = reopen()
        t = store.table("t", index=("k",))
        try:
            for op in script:
                kind = op[0]
                if kind == "insert":
                    assert t.insert(op[1]) == next_id
                    model[next_id] = dict(op[1])
                    next_id += 1
                elif kind == "update":
                    t.update(op[1], doc_ids=[op[2]])
                    if op[2] in model:
                        model[op[2]].update(op[1])
                elif kind == "update_k":
                    t.update(op[1], Query().k == op[2])
                    for doc in model.values():
                        if "k" in doc and doc["k"] == op[2]:  # TinyDB's Query: plain ==, so 0 == False
                            doc.update(op[1])
                elif kind == "remove":
                    t.remove(doc_ids=[op[1]])
                    model.pop(op[1], None)
                elif kind == "batch_fail":
                    with pytest.raises(ZeroDivisionError), store.batch():
                        t.insert(op[1])
                        t.remove(doc_ids=list(model)[:1])
                        1 / 0  # noqa: B018
                elif kind == "compact":
                    store.compact()
                else:
                    store.close()
                    store = reopen()
                    assert store.recovery == []
                    t = store.table("t", index=("k",))
                assert {x.doc_id: dict(x) for x in t.all()} == model
            store.close()
            store = reopen()
            t = store.table("t", index=("k",))
            assert {x.doc_id: dict(x) for x in t.all()} == model
            for key in {repr(v.get("k")): v.get("k") for v in model.values() if "k" in v}.values():
                want = sorted(i for i, v in model.items() if "k" in v and v["k"] == key and type(v["k"]) is type(key))
                assert [x.doc_id for x in t.find("k", key)] == want
        finally:
            store.close()


def test_a_failed_journal_write_is_undone_and_the_next_one_fails_while_the_disk_does(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    t = store.table("t", index=("k",))
    t.insert({"k": 1})
    assert store._journal is not None
    os.close(store._journal._fd)  # the next write fails like a dead disk would
    with pytest.raises(StoreError, match=r"journal write failed.*not saved"):
        t.insert({"k": 2})
    assert t.all() == [{"k": 1}] and t.find("k", 2) == []
    with pytest.raises(StoreError, match="journal write failed"):  # tried again (tests/store/test_write_heals.py)
        t.update({"k": 3}, doc_ids=[1])
    assert t.get(doc_id=1) == {"k": 1}
    store._journal._fd = -1
    store.close()
    with Store.open(tmp_path / "data") as again:
        assert again.table("t").all() == [{"k": 1}]


def test_writers_in_several_threads_do_not_lose_writes(durable_store: Reopen) -> None:
    with durable_store() as store:
        t = store.table("t")

        def work(w: int) -> None:
            for i in range(50):
                t.insert({"w": w, "i": i})

        threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    with durable_store() as store:
        t = store.table("t")
        assert len(t) == 200
        assert sorted(x.doc_id for x in t.all()) == list(range(1, 201))


def test_public_names() -> None:
    assert set(bot.store.__all__) == {
        "Store", "StoreCorruptError", "StoreError", "StoreFormatError", "StoreLockedError", "StoreMissingError",
        "StoreTable",
    }
