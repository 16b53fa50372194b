"""A TinyDB ``Table`` that keeps its documents in memory and journals each write.

Stock ``Table`` reads and rebuilds the whole table through its storage on every write, so a write
costs time proportional to the table. This subclass mutates one in-memory dict, keeps declared hash
indexes in step, and hands the store one journal record per public write call (a multi-document
``update(cond)`` is one atomic record). Queries (``tinydb.Query``) work unchanged.

Documents go in as JSON (they are normalised through ``json``: tuples become lists, keys become
strings) and come out as copies, so mutating a returned document never changes the store. They are
held encoded (compact JSON bytes, :data:`bot.store.journal.Raw`) and decoded when read or matched.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

from tinydb.queries import QueryLike
from tinydb.storages import Storage
from tinydb.table import Document, Table
from tinydb.utils import LRUCache

from bot.store.errors import StoreCorruptError, StoreError
from bot.store.index import Bucket, bucket_add, bucket_ids, bucket_remove, fits, index_key
from bot.store.index import build as build_indexes
from bot.store.journal import Doc, Raw, TableState, decode, dumps

Undo = Callable[[], None]


class Transactions(Protocol):
    """What a table needs of its store (:class:`bot.store.Store` implements it): one lock for writers,
    a durable commit of a write's journal records (with how to undo it in memory if that fails), and
    batches. A Protocol, so table.py does not import core.py (which builds the tables)."""

    _mutex: threading.RLock

    def _commit(self, ops: list[str], undo: list[Undo]) -> None: ...

    @staticmethod
    def _rollback(undo: list[Undo]) -> None: ...

    def batch(self) -> contextlib.AbstractContextManager[None]: ...

    def _snapshot_soon(self) -> None: ...
Fields = Mapping[str, Any] | Callable[[MutableMapping[str, Any]], None]


class _NoStorage(Storage):
    """Stands where TinyDB expects a storage; the store journals writes itself."""

    def read(self) -> dict[str, dict[str, Any]] | None:
        raise StoreError("internal: a store table never reads through a TinyDB storage")

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        raise StoreError("internal: a store table never writes through a TinyDB storage")


#: a table this large whose indexes had to be rebuilt by decoding every document asks for a snapshot soon
REBUILT_IS_SLOW = 10_000

P = ParamSpec("P")
R = TypeVar("R")


def _locked(method: Callable[Concatenate[StoreTable, P], R]) -> Callable[Concatenate[StoreTable, P], R]:
    """Run a write under the store's lock, so writers in several threads do not interleave."""

    def wrapper(self: StoreTable, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._store._mutex:
            return method(self, *args, **kwargs)

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class StoreTable(Table):
    """One table of a :class:`bot.store.Store`; the usual TinyDB API plus :meth:`find`."""

    def __init__(self, store: Transactions, name: str, state: TableState, index: Iterable[str] = ()) -> None:
        super().__init__(_NoStorage(), name)
        self._store = store
        self._state = state
        self._ids: LRUCache[QueryLike, list[int]] = LRUCache(capacity=self.default_query_cache_capacity)
        self._indexes: dict[str, dict[Any, Bucket]] = {}
        self.add_index(*index)
        # indexes from the snapshot are only good until the first write through this view: what it does not
        # declare now is rebuilt from the documents if declared later
        state.prebuilt, state.replaced = None, {}

    # ------------------------------------------------------------ indexes

    @property
    def indexes(self) -> tuple[str, ...]:
        """The fields with a hash index."""
        return tuple(self._indexes)

    def add_index(self, *fields: str) -> None:
        """Declare hash indexes on top-level ``fields`` (built now, in one pass over the documents, and kept in
        step with every write)."""
        wanted = [name for name in dict.fromkeys(fields) if name not in self._indexes]
        if not wanted:
            return
        state = self._state
        taken: dict[str, dict[Any, Bucket]] = {}
        if state.prebuilt is not None:  # written with the snapshot: brought up to date, not rebuilt
            taken = {name: state.prebuilt.pop(name) for name in wanted if name in state.prebuilt}
            for doc_id, was in state.replaced.items():
                if was is not None:
                    doc = self._load(doc_id, was)
                    for name, idx in taken.items():
                        if name in doc:
                            bucket_remove(idx, index_key(doc[name]), doc_id)
                now = state.docs.get(doc_id)
                if now is not None:
                    doc = self._load(doc_id, now)
                    for name, idx in taken.items():
                        if name in doc:
                            bucket_add(idx, index_key(doc[name]), doc_id)
            if not state.prebuilt:
                state.prebuilt, state.replaced = None, {}
            taken = {name: idx for name, idx in taken.items() if fits(idx, state.docs)}  # else: rebuilt
        rest = [name for name in wanted if name not in taken]
        built = build_indexes(self._items(), rest) if rest else {}
        if built and len(state.docs) >= REBUILT_IS_SLOW:
            self._store._snapshot_soon()  # the next snapshot carries these indexes: the next open is quick
        self._indexes.update(taken)
        self._indexes.update(built)

    def _load(self, doc_id: int, raw: Raw) -> Doc:
        try:
            doc = decode(raw)
        except ValueError as exc:
            raise StoreCorruptError(
                f"table {self.name!r}, document {doc_id}: unreadable ({exc}); its checksum was valid, so it was "
                "written like this by something other than servicebot. Restore the data directory from a backup."
            ) from None
        if not isinstance(doc, dict):
            raise StoreCorruptError(f"table {self.name!r}, document {doc_id}: not a JSON object")
        return doc

    def _items(self) -> Iterator[tuple[int, Doc]]:
        """Every (id, decoded document): what a query that is not an index lookup goes through."""
        load = self._load
        for doc_id, raw in list(self._state.docs.items()):
            yield doc_id, load(doc_id, raw)

    def _matching(self, cond: QueryLike) -> list[int]:
        return [i for i, d in self._items() if cond(d)]

    def find(self, field: str, value: Any) -> list[Document]:
        """Documents whose ``field`` equals ``value``, in id order, through the hash index on ``field``."""
        try:
            idx = self._indexes[field]
        except KeyError:
            raise StoreError(
                f"table {self.name!r}: no index on {field!r} (declared: {', '.join(self._indexes) or 'none'}); "
                f"declare it with store.table({self.name!r}, index=(..., {field!r}))"
            ) from None
        return [self._doc(i) for i in bucket_ids(idx.get(index_key(value)))]

    def _index_add(self, doc_id: int, doc: Doc) -> None:
        for name, idx in self._indexes.items():
            if name in doc:
                bucket_add(idx, index_key(doc[name]), doc_id)

    def _index_remove(self, doc_id: int, doc: Doc) -> None:
        for name, idx in self._indexes.items():
            if name in doc:
                bucket_remove(idx, index_key(doc[name]), doc_id)

    # ------------------------------------------------------------ write primitives (memory + op + undo)

    def _put(self, doc_id: int, doc: Mapping[str, Any], ops: list[str], undo: list[Undo]) -> None:
        try:
            text = dumps(doc)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"table {self.name!r}, document {doc_id}: not storable as JSON ({exc})") from exc
        raw = text.encode()
        indexed = bool(self._indexes)
        new: Doc = json.loads(text) if indexed else {}  # what the indexes see: the document as JSON reads it
        docs = self._state.docs
        old_raw = docs.get(doc_id)
        old = self._load(doc_id, old_raw) if indexed and old_raw is not None else None
        old_next = self._state.next_id
        if old is not None:
            self._index_remove(doc_id, old)
        docs[doc_id] = raw
        self._index_add(doc_id, new)
        self._state.next_id = max(old_next, doc_id + 1)
        ops.append(f"[\"put\",{dumps(self.name)},{doc_id},{text}]")

        def revert() -> None:
            self._index_remove(doc_id, new)
            if old_raw is None:
                docs.pop(doc_id, None)
            else:
                docs[doc_id] = old_raw
                if old is not None:
                    self._index_add(doc_id, old)
            self._state.next_id = old_next

        undo.append(revert)

    def _delete(self, doc_id: int, ops: list[str], undo: list[Undo]) -> None:
        docs = self._state.docs
        old_raw = docs[doc_id]
        old = self._load(doc_id, old_raw) if self._indexes else {}
        del docs[doc_id]
        self._index_remove(doc_id, old)
        ops.append(f"[\"del\",{dumps(self.name)},{doc_id}]")

        def revert() -> None:
            docs[doc_id] = old_raw
            self._index_add(doc_id, old)

        undo.append(revert)

    def _commit(self, ops: list[str], undo: list[Undo]) -> None:
        self._ids.clear()
        self._store._commit(ops, undo)

    def _next(self) -> int:
        doc_id = self._state.next_id
        self._state.next_id += 1
        return doc_id

    def _doc(self, doc_id: int) -> Document:
        return self.document_class(self._load(doc_id, self._state.docs[doc_id]), doc_id)

    # ------------------------------------------------------------ TinyDB's write API

    def insert(self, document: Mapping[str, Any]) -> int:
        return self.insert_multiple([document])[0]

    @_locked
    def insert_multiple(self, documents: Iterable[Mapping[str, Any]]) -> list[int]:
        ops: list[str] = []
        undo: list[Undo] = []
        ids: list[int] = []
        next_before = self._state.next_id

        def restore_next_id() -> None:
            self._state.next_id = next_before

        undo.append(restore_next_id)  # runs last on rollback (undo runs in reverse)
        try:
            for document in documents:
                if not isinstance(document, Mapping):
                    raise ValueError("Document is not a Mapping")
                if isinstance(document, self.document_class):
                    doc_id = int(document.doc_id)
                    if doc_id in self._state.docs:
                        raise ValueError(f"Document with ID {doc_id} already exists")
                else:
                    doc_id = self._next()
                self._put(doc_id, document, ops, undo)
                ids.append(doc_id)
        except BaseException:
            self._store._rollback(undo)
            raise
        self._commit(ops, undo)
        return ids

    def update(  # type: ignore[override]
        self,
        fields: Fields,
        cond: QueryLike | None = None,
        doc_ids: Iterable[int] | None = None,
    ) -> list[int]:
        if doc_ids is not None:
            targets = [int(i) for i in doc_ids if int(i) in self._state.docs]
        elif cond is not None:
            targets = self._matching(cond)
        else:
            targets = list(self._state.docs)
        return self._apply_updates([(fields, targets)])

    def update_multiple(  # type: ignore[override]
        self, updates: Iterable[tuple[Fields, QueryLike]]
    ) -> list[int]:
        updates = list(updates)
        plan: list[tuple[Fields, list[int]]] = [
            (fields, self._matching(cond)) for fields, cond in updates
        ]
        return self._apply_updates(plan)

    @_locked
    def _apply_updates(self, plan: list[tuple[Fields, list[int]]]) -> list[int]:
        ops: list[str] = []
        undo: list[Undo] = []
        updated: list[int] = []
        try:
            for fields, targets in plan:
                for doc_id in targets:
                    new = self._load(doc_id, self._state.docs[doc_id])
                    if callable(fields):
                        fields(new)
                    else:
                        new.update(fields)
                    self._put(doc_id, new, ops, undo)
                    updated.append(doc_id)
        except BaseException:
            self._store._rollback(undo)
            raise
        if ops:
            self._commit(ops, undo)
        return updated

    def upsert(self, document: Mapping[str, Any], cond: QueryLike | None = None) -> list[int]:
        if isinstance(document, self.document_class) and hasattr(document, "doc_id"):
            with self._store.batch():
                if int(document.doc_id) in self._state.docs:
                    return self.update(document, doc_ids=[int(document.doc_id)])
                return [self.insert(document)]
        if cond is None:
            raise ValueError(
                "If you don't specify a search query, you must specify a doc_id. "
                "Hint: use a table.Document object."
            )
        with self._store.batch():
            updated = self.update(document, cond)
            return updated or [self.insert(document)]

    @_locked
    def remove(  # type: ignore[override]
        self, cond: QueryLike | None = None, doc_ids: Iterable[int] | None = None
    ) -> list[int]:
        if doc_ids is not None:
            targets = [int(i) for i in doc_ids if int(i) in self._state.docs]
        elif cond is not None:
            targets = self._matching(cond)
        else:
            raise RuntimeError("Use truncate() to remove all documents")
        ops: list[str] = []
        undo: list[Undo] = []
        for doc_id in dict.fromkeys(targets):
            self._delete(doc_id, ops, undo)
        if ops:
            self._commit(ops, undo)
        return targets

    @_locked
    def truncate(self) -> None:
        docs = self._state.docs
        saved = dict(docs)
        indexes = {
            k: {v: set(b) if isinstance(b, set) else b for v, b in idx.items()} for k, idx in self._indexes.items()
        }
        docs.clear()
        for idx in self._indexes.values():
            idx.clear()

        def revert() -> None:
            docs.update(saved)
            self._indexes.update(indexes)

        self._commit([f"[\"clear\",{dumps(self.name)}]"], [revert])

    # ------------------------------------------------------------ TinyDB's read API

    def all(self) -> list[Document]:
        return [self._doc(i) for i in self._state.docs]

    def search(self, cond: QueryLike) -> list[Document]:
        ids = self._ids.get(cond)
        if ids is not None:
            return [self._doc(i) for i in ids if i in self._state.docs]
        found = [(i, d) for i, d in self._items() if cond(d)]
        is_cacheable: Callable[[], bool] = getattr(cond, "is_cacheable", lambda: True)
        if is_cacheable():
            self._ids[cond] = [i for i, _d in found]
        # the dicts cond saw are this call's own decoding: handed out as they are, no second copy
        return [self.document_class(d, i) for i, d in found]

    def get(  # type: ignore[override]
        self,
        cond: QueryLike | None = None,
        doc_id: int | None = None,
        doc_ids: list[int] | None = None,
    ) -> Document | list[Document] | None:
        docs = self._state.docs
        if doc_id is not None:
            return self._doc(int(doc_id)) if int(doc_id) in docs else None
        if doc_ids is not None:
            wanted = {int(i) for i in doc_ids}
            return [self._doc(i) for i in docs if i in wanted]
        if cond is not None:
            for i, d in self._items():
                if cond(d):
                    return self.document_class(d, i)
            return None
        raise RuntimeError("You have to pass either cond or doc_id or doc_ids")

    def contains(self, cond: QueryLike | None = None, doc_id: int | None = None) -> bool:
        if doc_id is not None:
            return int(doc_id) in self._state.docs
        if cond is not None:
            return any(cond(d) for _i, d in self._items())
        raise RuntimeError("You have to pass either cond or doc_id")

    def count(self, cond: QueryLike) -> int:
        return sum(1 for _i, d in self._items() if cond(d))

    def clear_cache(self) -> None:
        self._ids.clear()

    def __len__(self) -> int:
        return len(self._state.docs)

    def __iter__(self) -> Iterator[Document]:
        for i in list(self._state.docs):
            if i in self._state.docs:
                yield self._doc(i)

    def newest_first(self) -> Iterator[Document]:
        """Documents from the highest id down, decoded one at a time: a reader that wants the latest few
        (the tickets of the last days, numbered in order of creation) stops early instead of reading all."""
        return self._in_order(reverse=True)

    def oldest_first(self) -> Iterator[Document]:
        """Documents in id order, decoded one at a time (a pass that never holds the whole table)."""
        return self._in_order(reverse=False)

    def _in_order(self, *, reverse: bool) -> Iterator[Document]:
        for i in sorted(self._state.docs, reverse=reverse):
            if i in self._state.docs:
                yield self._doc(i)

    def __repr__(self) -> str:
        return f"<StoreTable name={self.name!r}, total={len(self)}, indexes={self.indexes}>"

    # TinyDB internals that would go through a storage: never used by this class
    def _read_table(self) -> dict[str, Mapping[str, Any]]:
        return cast(dict[str, Mapping[str, Any]], {str(i): d for i, d in self._items()})

    def _update_table(self, updater: Callable[[dict[int, Mapping[str, Any]]], None]) -> None:
        raise StoreError(f"table {self.name!r}: internal: _update_table is not supported by the store")

    def _get_next_id(self) -> int:
        return self._next()
