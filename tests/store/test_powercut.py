"""Power cuts: 1,000 of them at random moments, and no acknowledged write is lost.

The store runs on :class:`PowerCutDisk`, which keeps only what was fsynced when the power goes. The
SIGKILL tests cannot see a missing fsync (a killed process's writes are still in the page cache); this
one can: the last test removes one fsync (the journal's fdatasync, by a disk that ignores it) and the
same workload loses acknowledged writes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store

from .powercut import PowerCut, PowerCutDisk

D = Path("/sim/data")
HISTORIES = 20
CUTS_PER_HISTORY = 50  # 1,000 power cuts in all


@dataclass
class Model:
    """What the store acknowledged: every call that returned."""

    tickets: dict[int, dict[str, Any] | None] = field(default_factory=dict)  # n -> doc (None: removed)
    in_flight: tuple[int, dict[str, Any] | None] | None = None  # the write the power cut: either outcome
    batches: set[int] = field(default_factory=set)  # tickets inserted with their audit record
    next_n: int = 1


def _check(store: Store, model: Model) -> list[str]:
    """What the store lost or got wrong, against the model (empty: nothing)."""
    t = store.table("tickets", index=("n",))
    found = {d["n"]: dict(d) for d in t.all()}
    audit = {d["n"] for d in store.table("audit").all()}
    problems = []
    for n, want in model.tickets.items():
        got = found.get(n)
        if model.in_flight is not None and model.in_flight[0] == n and got == model.in_flight[1]:
            continue
        if got != want:
            problems.append(f"ticket {n}: acknowledged {want}, found {got}")
    for n in found.keys() - model.tickets.keys():
        if not (model.in_flight is not None and model.in_flight[0] == n):
            problems.append(f"ticket {n} was never acknowledged")
    for n, doc in found.items():
        if (n in model.batches or (doc or {}).get("batch")) and n not in audit:
            problems.append(f"ticket {n}: half a batch (no audit record)")
    return problems


def _settle(store: Store, model: Model) -> None:
    """The write the power cut either happened or not: the model takes what the store shows."""
    if model.in_flight is None:
        return
    n = model.in_flight[0]
    found = [dict(d) for d in store.table("tickets", index=("n",)).find("n", n)]
    model.tickets[n] = found[0] if found else None
    if not found:
        model.batches.discard(n)
    model.in_flight = None


def _work(store: Store, model: Model, rng: random.Random) -> None:
    """Random writes until the power goes (PowerCut propagates)."""
    t = store.table("tickets", index=("n",))
    audit = store.table("audit")
    cards = store.table("cards")
    while True:
        r = rng.random()
        live = [n for n, d in model.tickets.items() if d is not None]
        if r < 0.45 or not live:
            n = model.next_n
            model.next_n += 1
            doc = {"n": n, "v": 0, "text": "工单" * rng.randint(1, 40)}
            model.in_flight = (n, doc)
            t.insert(doc)
            model.tickets[n] = doc
        elif r < 0.65:
            n = rng.choice(live)
            doc = {**(model.tickets[n] or {}), "v": (model.tickets[n] or {})["v"] + 1}
            model.in_flight = (n, doc)
            t.update({"v": doc["v"]}, doc_ids=[x.doc_id for x in t.find("n", n)])
            model.tickets[n] = doc
        elif r < 0.75:
            n = model.next_n
            model.next_n += 1
            doc = {"n": n, "v": 0, "batch": True}
            model.in_flight = (n, doc)
            with store.batch():
                t.insert(doc)
                audit.insert({"n": n})
            model.tickets[n] = doc
            model.batches.add(n)
        elif r < 0.87:
            n = rng.choice(live)
            model.in_flight = (n, None)
            t.remove(doc_ids=[x.doc_id for x in t.find("n", n)])
            model.tickets[n] = None
        elif r < 0.95:
            with store.unsynced():  # bookkeeping nobody was promised: may be lost, never checked
                cards.insert({"card": rng.randint(1, 10**6)})
            model.in_flight = None
        else:
            model.in_flight = None
            store.compact()
        model.in_flight = None


def _history(seed: int, disk_class: type[PowerCutDisk], cuts: int) -> tuple[int, list[str]]:
    """``cuts`` power cuts on one store; (acknowledged writes, problems found after the cuts)."""
    rng = random.Random(seed)
    disk = disk_class(rng)
    model = Model()
    problems: list[str] = []
    for _cut in range(cuts):
        disk.torn = rng.random() < 0.5
        disk.cut_after = rng.randint(1, 300)  # the moment: any disk operation, inside open and compaction too
        store = None
        try:
            store = Store.open(D, compact_after_bytes=rng.choice([400, 1500, 6000]), disk=disk)
            problems += _check(store, model)
            _settle(store, model)
            _work(store, model, rng)
        except PowerCut:
            pass
        if store is not None:
            store.wait_compaction()
        disk.reboot()
        if problems:
            break
    with Store.open(D, disk=disk) as store:
        problems += _check(store, model)
    return sum(1 for d in model.tickets.values() if d is not None), problems


@pytest.mark.parametrize("seed", range(HISTORIES))
def test_power_cuts_never_lose_an_acknowledged_write(seed: int) -> None:
    acked, problems = _history(seed, PowerCutDisk, CUTS_PER_HISTORY)
    assert not problems, problems[:5]
    assert acked > 0


class NoJournalFsync(PowerCutDisk):
    """The store with its journal fdatasync removed (the disk ignores it)."""

    def fdatasync(self, fd: int) -> None:
        with self._lock:
            self._tick()


class NoDirectoryFsync(PowerCutDisk):
    """The store with its directory fsyncs removed: new segments and renames are never made durable."""

    def fsync_dir(self, directory: Path) -> None:
        with self._lock:
            self._tick()


@pytest.mark.parametrize("disk_class", [NoJournalFsync, NoDirectoryFsync])
def test_the_same_test_fails_when_an_fsync_is_removed(disk_class: type[PowerCutDisk]) -> None:
    lost = []
    for seed in range(HISTORIES):
        try:
            _acked, problems = _history(seed, disk_class, CUTS_PER_HISTORY)
        except Exception as exc:  # e.g. a store that no longer opens: also a failure the test would report
            problems = [f"{type(exc).__name__}: {exc}"]
        lost += problems
        if lost:
            break
    assert lost, "removing an fsync went unnoticed"
