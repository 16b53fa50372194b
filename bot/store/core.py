"""The store: one data directory, owned by one process, holding TinyDB tables durably.

See docs/storage.md for the design. Reads are served from memory; every write is journalled
(one fsynced record) before the call returns; snapshots compact the journal now and then.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from tinydb.table import Document

from bot.store.disk import REAL, Disk, Locked
from bot.store.errors import StoreCorruptError, StoreError, StoreLockedError
from bot.store.journal import (
    Journal,
    PendingSnapshot,
    Recovered,
    Tables,
    TableState,
    dumps,
    holds_store,
    recover,
)
from bot.store.table import StoreTable, Undo

log = logging.getLogger(__name__)

#: compact once the journal since the last snapshot exceeds this, and is larger than the snapshot
DEFAULT_COMPACT_AFTER_BYTES = 64 * 1024 * 1024

#: after a failed compaction, the next try waits this long, doubling up to COMPACT_RETRY_MAX_S
COMPACT_RETRY_FIRST_S = 60.0
COMPACT_RETRY_MAX_S = 3600.0

_now = time.monotonic  # the back-off's clock (tests replace it)


class Store:
    """Durable TinyDB tables in a directory (:meth:`open`) or in memory (:meth:`in_memory`)."""

    def __init__(
        self,
        tables: Tables,
        journal: Journal | None,
        *,
        directory: Path | None = None,
        recovery: list[str] | None = None,
        lock: object | None = None,
        disk: Disk = REAL,
        compact_after_bytes: int = DEFAULT_COMPACT_AFTER_BYTES,
    ) -> None:
        """Use :meth:`open` or :meth:`in_memory`."""
        self._tables = tables
        self._journal = journal
        self.directory = directory
        self.recovery: list[str] = recovery or []
        self._lock = lock
        self._disk = disk
        #: called with one line when durable writes start failing and when they work again, and when compaction
        #: does (from any thread); the bot forwards it to the ops chat (without writing to the store: it
        #: may be the store that cannot write). Never raises into the store.
        self.on_alert: Callable[[str], None] | None = None
        #: while durable writes fail: the last error, since when (time.time()), how many failed; None when they work
        self.write_error: str | None = None
        self.write_failing_since: float | None = None
        self.write_failures = 0
        self._compactor: threading.Thread | None = None
        self._compaction_failures = 0
        self._retry_at = 0.0
        self._compact_after = compact_after_bytes
        self._snapshot_wanted = False  # a table's indexes were rebuilt the slow way: snapshot at the next write
        self._views: dict[str, StoreTable] = {}
        self._mutex = threading.RLock()
        self._batch_depth = 0
        self._unsynced_depth = 0
        self._pending_ops: list[str] = []
        self._pending_undo: list[Undo] = []
        self._closed = False
        self._read_only = False

    # ------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        compact_after_bytes: int = DEFAULT_COMPACT_AFTER_BYTES,
        fsync: bool = True,
        disk: Disk = REAL,
    ) -> Store:
        """Lock ``directory``, restore its last good state, and open it.

        A directory that does not exist is created with a new, empty store (:meth:`init`); one that exists
        but holds no store is refused (StoreMissingError: an unmounted volume must not open as an empty
        store). ``store.recovery`` lists, in plain words, anything recovery had to do (empty when clean).
        Raises StoreLockedError if another process owns the directory, StoreCorruptError if nothing
        intact can be restored or files are missing, StoreFormatError for a newer servicebot's files,
        StoreError for anything else the disk refuses (full, unreadable). ``fsync=False`` is for throwaway
        data only (it drops guarantee (a)). ``disk`` is for tests (a simulated disk).
        """
        directory = Path(directory)
        if not disk.exists(directory):
            cls.init(directory, fsync=fsync, disk=disk)
        lock = _lock(directory, disk)
        try:
            recovered: Recovered = recover(directory, disk=disk)
            journal = Journal(directory, recovered, sync=fsync, disk=disk)
        except OSError as exc:
            disk.unlock(lock)
            raise StoreError(
                f"{directory}: cannot open the store: {exc}. Nothing acknowledged was lost; fix the cause "
                "(free space, permissions) and start again"
            ) from exc
        except BaseException:
            disk.unlock(lock)
            raise
        return cls(
            recovered.tables,
            journal,
            directory=directory,
            recovery=recovered.messages,
            lock=lock,
            disk=disk,
            compact_after_bytes=compact_after_bytes,
        )

    @classmethod
    def init(cls, directory: Path, *, fsync: bool = True, disk: Disk = REAL) -> None:
        """Start a new, empty store in ``directory`` (created if missing; an existing one must hold no store).

        A missing directory is built beside it under a temporary name and renamed into place once its files
        are durable, so a crash half-way never leaves an empty ``directory`` (which open would refuse).
        """
        directory = Path(directory)
        target = directory
        try:
            if not disk.exists(directory):
                target = directory.with_name(f".{directory.name}.init-{os.getpid()}")
                disk.mkdir(target)
        except OSError as exc:
            raise StoreError(f"cannot create data directory {directory}: {exc}") from exc
        lock = _lock(target, disk)
        try:
            if holds_store(disk.entries(target)):
                raise StoreError(f"{directory} already holds a store; nothing was changed")
            Journal(target, Recovered(0, {}, [], None, [], 0), sync=fsync, disk=disk).close()
        except OSError as exc:
            raise StoreError(f"{directory}: cannot start a new store: {exc}") from exc
        finally:
            disk.unlock(lock)
        if target != directory:
            try:
                disk.replace(target, directory)
                if fsync:
                    disk.fsync_dir(directory.parent)
            except OSError as exc:
                raise StoreError(f"cannot create data directory {directory}: {exc}") from exc

    @classmethod
    def open_read_only(cls, directory: Path, *, attempts: int = 5) -> Store:
        """The state the owner of ``directory`` has written so far, as a copy in memory; no lock taken.

        For commands that only look (``servicebot preview``, ``stats``) while the bot owns the directory:
        the one-writer rule holds because this store never writes (a write raises StoreError) and changes
        nothing on disk, not even a repair. Reading beside a live writer can catch a record half-written
        or a compaction removing files; the directory is read again then (up to ``attempts`` times).
        ``store.recovery`` lists what still looked damaged after that (the owner repairs it when it opens
        the directory). Raises StoreError if ``directory`` does not exist, StoreCorruptError if nothing
        intact can be read.
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise StoreError(f"no data directory at {directory} (the bot has not run there yet)")
        for attempt in range(1, attempts + 1):
            try:
                recovered = recover(directory, repair=False)
            except (FileNotFoundError, StoreCorruptError):  # a file removed by a compaction meanwhile
                if attempt == attempts:
                    raise
                time.sleep(0.01 * attempt)
                continue
            if not recovered.messages or attempt == attempts:
                break
            time.sleep(0.01 * attempt)  # a record half-written just now, most likely: read again
        store = cls(recovered.tables, None, directory=directory, recovery=recovered.messages)
        store._read_only = True
        return store

    @classmethod
    def in_memory(cls) -> Store:
        """The same API with no files: for tests and previews."""
        return cls({}, None)

    # ------------------------------------------------------------ tables

    def table(self, name: str, index: Iterable[str] = ()) -> StoreTable:
        """The table ``name`` (created on first write), with hash indexes on the ``index`` fields."""
        self._check_open()
        view = self._views.get(name)
        if view is None:
            state = self._tables.setdefault(name, TableState())
            view = self._views[name] = StoreTable(self, name, state, index)
        else:
            view.add_index(*index)
        return view

    def tables(self) -> set[str]:
        """Names of the tables holding documents or written to."""
        return {name for name, state in self._tables.items() if state.docs}

    def drop_table(self, name: str) -> None:
        """Remove a table and its documents."""
        self._check_open()
        if name not in self._tables:
            return
        view = self._views.get(name)
        if view is not None:
            view.truncate()
        else:
            self.table(name).truncate()

    # ------------------------------------------------------------ writing

    def insert_new(self, table: str, docs: Mapping[int, Mapping[str, Any]]) -> list[int]:
        """Insert each document under its id unless ``table`` holds that id already; the ids inserted.

        One durable write for all of them (nothing written when every id is there). A document already
        stored is never changed, so repeating the call (a redelivered webhook update) is harmless. On
        PostgreSQL this is the one write a process without the lease may make, for the tables named in
        ``PgStore.fence_exempt`` (the inbox: bot/store/pg.py explains why that is safe).
        """
        t = self.table(table)
        with self.batch():
            fresh = [int(i) for i in docs if not t.contains(doc_id=int(i))]
            for doc_id in fresh:
                t.insert(Document(dict(docs[doc_id]), doc_id=doc_id))
        return fresh

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Make every write inside one journal record: all of them survive a crash, or none.

        If the block raises, its writes are undone in memory too. Batches nest (the outer one commits).
        """
        self._check_open()
        with self._mutex:
            self._batch_depth += 1
            outer = self._batch_depth == 1
            try:
                yield
            except BaseException:
                self._batch_depth -= 1
                if outer:
                    undo, self._pending_undo, self._pending_ops = self._pending_undo, [], []
                    self._rollback(undo)
                raise
            self._batch_depth -= 1
            if outer:
                ops, undo = self._pending_ops, self._pending_undo
                self._pending_ops, self._pending_undo = [], []
                if ops:
                    self._write(ops, undo)

    @contextlib.contextmanager
    def unsynced(self) -> Iterator[None]:
        """Writes inside are journalled (written, so they survive the process being killed) but not fsynced.

        They become durable with the next ordinary write (its fdatasync covers the whole file) or at
        :meth:`close`; only a power failure before then can lose them. Only for bookkeeping the bot
        acknowledges to nobody and can live without (e.g. which staff-chat message is a ticket's card) —
        never for a write the bot answers for.
        """
        self._check_open()
        with self._mutex:
            self._unsynced_depth += 1
            try:
                yield
            finally:
                self._unsynced_depth -= 1

    def _commit(self, ops: list[str], undo: list[Undo]) -> None:
        """Called by tables after they changed memory: journal ``ops`` (or join the open batch)."""
        with self._mutex:
            if self._closed:
                self._rollback(undo)
                self._check_open()
            if self._read_only:
                self._rollback(undo)
                raise StoreError(f"the store at {self.directory} was opened read-only: nothing can be written")
            if self._batch_depth:
                self._pending_ops.extend(ops)
                self._pending_undo.extend(undo)
                return
            self._write(ops, undo)

    def _write(self, ops: list[str], undo: list[Undo]) -> None:
        for view in self._views.values():
            view.clear_cache()
        if self._journal is None:
            return
        try:
            self._journal.append(ops, sync=not self._unsynced_depth)
        except StoreError as exc:
            self._rollback(undo)
            self._write_failed(exc)
            raise
        except BaseException:
            self._rollback(undo)
            raise
        if self.write_failures:
            self._write_worked()
        self._maybe_compact()

    # ------------------------------------------------------------ writes failing and healing

    def _write_failed(self, exc: StoreError) -> None:
        """A durable write failed (disk full, I/O error, read-only file system): ops is told once per outage.

        The write itself raised to its caller (nothing was acknowledged); the next one is tried again.
        """
        self.write_failures += 1
        self.write_error = str(exc.__cause__ or exc)
        if self.write_failing_since is not None:
            log.warning("store %s: a write failed again (%d since the outage began): %s", self.directory,
                        self.write_failures, self.write_error)
            return
        self.write_failing_since = time.time()
        text = (
            f"store {self.directory}: writes fail ({self.write_error}). Nothing that needs the store is confirmed "
            "meanwhile (questions stay with Telegram and are fetched again); every write is tried again, and "
            "this chat is told when they work. Free space / fix the disk."
        )
        log.error("%s", text)
        self._alert(text)

    def _write_worked(self) -> None:
        since = self.write_failing_since
        took = time.time() - since if since is not None else 0.0
        text = (
            f"store {self.directory}: writes work again, after {self.write_failures} failed over "
            f"{_duration(took)} (last error: {self.write_error})"
        )
        self.write_failures, self.write_error, self.write_failing_since = 0, None, None
        log.warning("%s", text)
        self._alert(text)

    # ------------------------------------------------------------ compaction

    def _maybe_compact(self) -> None:
        """Start a compaction in a thread once the journal is large enough (never fails the write)."""
        j = self._journal
        assert j is not None
        if j.bytes_since_snapshot <= max(self._compact_after, j.snapshot_bytes) and not self._snapshot_wanted:
            return
        if self._compactor is not None and self._compactor.is_alive():
            return
        if _now() < self._retry_at:
            return  # backing off after a failure
        try:
            pending = j.begin_snapshot(self._tables, self._index_fields())
            self._snapshot_wanted = False
        except (OSError, StoreError) as exc:  # the write itself is durable: do not fail it
            self._compaction_failed(exc)
            return
        if pending is None:
            return
        # The snapshot is written from a frozen image of the state by a thread: serialising 100k tickets
        # takes about a second, which the event loop (every question's promise) must not wait for.
        self._compactor = threading.Thread(
            target=self._finish_compaction, args=(pending,), name="store-compaction", daemon=True
        )
        self._compactor.start()

    def _index_fields(self) -> dict[str, tuple[str, ...]]:
        """Table -> the fields its view indexes: what a snapshot writes indexes for."""
        return {name: view.indexes for name, view in self._views.items() if view.indexes}

    def _snapshot_soon(self) -> None:
        """Called by a table that rebuilt large indexes by decoding every document (a snapshot without them,
        e.g. written by an older servicebot): the next write starts a compaction, whose snapshot has them."""
        if self._journal is not None and not self._read_only:
            self._snapshot_wanted = True

    def _finish_compaction(self, pending: PendingSnapshot) -> None:
        assert self._journal is not None
        try:
            self._journal.finish_snapshot(pending)
        except Exception as exc:  # a thread has no caller to raise to: report, back off, retry later
            self._compaction_failed(exc)
        else:
            self._compaction_worked()

    def _compaction_failed(self, exc: BaseException) -> None:
        self._compaction_failures += 1
        delay = min(COMPACT_RETRY_FIRST_S * 2 ** (self._compaction_failures - 1), COMPACT_RETRY_MAX_S)
        self._retry_at = _now() + delay
        if self._compaction_failures == 1:
            text = (
                f"store {self.directory}: compaction failed ({exc}); writes go on, but the journal grows until "
                f"it works: next try in {delay:.0f} s, then less and less often (at most every "
                f"{COMPACT_RETRY_MAX_S // 60:.0f} min)"
            )
            log.error("%s", text)
            self._alert(text)
        else:
            log.warning("store %s: compaction failed again (%d times; next try in %.0f s): %s",
                        self.directory, self._compaction_failures, delay, exc)

    def _compaction_worked(self) -> None:
        if self._compaction_failures:
            text = f"store {self.directory}: compaction works again (after {self._compaction_failures} failures)"
            log.warning("%s", text)
            self._alert(text)
        self._compaction_failures = 0
        self._retry_at = 0.0

    def _alert(self, text: str) -> None:
        if self.on_alert is None:
            return
        try:
            self.on_alert(text)
        except Exception:
            log.exception("store %s: the alert callback failed", self.directory)

    def wait_compaction(self, timeout: float | None = None) -> bool:
        """Wait for a compaction running in the background; False if it is still running after ``timeout``."""
        thread = self._compactor
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    @staticmethod
    def _rollback(undo: list[Undo]) -> None:
        for revert in reversed(undo):
            revert()

    def flush(self) -> None:
        """Nothing to do: every write is durable when it returns. Kept for callers that flush."""
        self._check_open()

    def compact(self) -> None:
        """Write a snapshot of the current state and drop journal segments no longer needed."""
        self._check_open()
        with self._mutex:
            if self._batch_depth:
                raise StoreError("cannot compact inside store.batch()")
            if self._journal is None:
                return
            self.wait_compaction()
            try:
                self._journal.snapshot(self._tables, self._index_fields())
            except OSError as exc:
                raise StoreError(f"store {self.directory}: compaction failed: {exc}") from exc

    # ------------------------------------------------------------ closing

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store{' at ' + str(self.directory) if self.directory else ''} is closed")

    def close(self) -> None:
        """Release the directory. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.wait_compaction()
        if self._journal is not None:
            self._journal.close()
        if self._lock is not None:
            self._disk.unlock(self._lock)
            self._lock = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        where = str(self.directory) if self.directory else "memory"
        return f"<Store {where} tables={sorted(self.tables())}>"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _lock(directory: Path, disk: Disk) -> object:
    try:
        return disk.lock(directory)
    except Locked as exc:
        raise StoreLockedError(directory, exc.owner_pid) from None
    except OSError as exc:
        raise StoreError(f"{directory}: cannot lock the data directory: {exc}") from exc


__all__ = ["DEFAULT_COMPACT_AFTER_BYTES", "Store", "dumps"]
