"""Compaction at 100k tickets: the longest event-loop stall while it runs, ours (a thread writes the
snapshot from a frozen image) vs in-line compaction on the loop (what the store did before: the write
that crossed the threshold serialised and wrote the whole snapshot before returning).

An asyncio probe sleeps 1 ms at a time and records how late it wakes; the stall is the longest gap
beyond the 1 ms asked for, from the write that starts the compaction until the snapshot is on disk, with
a durable ticket write every 20 ms meanwhile (each write's own fdatasync is part of what the probe sees).
Goal (issue 11): the longest stall during a compaction at 100k <= 50 ms (the median of three compactions'
longest stalls: on a shared 2-core machine the scheduler alone stalls an idle loop by tens of ms now and
then, which the idle-loop figure measured in the same run shows).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.bench_store import ticket
from bench.common import Result
from bot.store import Store
from bot.store.journal import TableState, write_snapshot

SIZE = 100_000
GOAL_MS = 50.0
RUNS = 3


async def _stall_during(
    start: Callable[[], None], done: Callable[[], bool], write: Callable[[], None] | None = None
) -> tuple[float, float]:
    """(longest loop stall in ms, compaction wall time in s) while ``start()`` runs and until ``done()``;
    ``write`` (a question's durable write) runs every 20 ms meanwhile, as the desk's would."""
    worst = 0.0
    stop = asyncio.Event()

    async def probe() -> None:
        nonlocal worst
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst = max(worst, (now - last) * 1000 - 1.0)
            last = now

    async def writer() -> None:
        while write is not None and not stop.is_set():
            write()
            await asyncio.sleep(0.02)

    task = asyncio.create_task(probe())
    writes = asyncio.create_task(writer())
    await asyncio.sleep(0.05)  # the probe is running
    began = time.perf_counter()
    start()  # on the loop, as a handler's write would be
    while not done():
        await asyncio.sleep(0.005)
    took = time.perf_counter() - began
    await asyncio.sleep(0.05)
    stop.set()
    await task
    await writes
    return worst, took


def _prefilled(root: Path, name: str) -> Path:
    d = root / name
    d.mkdir()
    # as a running store's compaction leaves it: with the index the tables below declare
    write_snapshot(d, 1, {"tickets": TableState({i: ticket(i) for i in range(1, SIZE + 1)}, SIZE + 1)},
                   index_fields={"tickets": ("number",)})
    return d


def _ours(root: Path, name: str, *, writes: bool, runs: int = 1) -> list[tuple[float, float]]:
    """``runs`` compactions one after another on one store: (longest stall, wall time) of each."""
    got = []
    with Store.open(_prefilled(root, name)) as store:
        t = store.table("tickets", index=("number",))
        assert store._journal is not None
        for _ in range(runs):
            assert store.wait_compaction(600)  # none in flight: the next one starts where the probe sees it
            t.insert(ticket(SIZE + 1))
            store._compact_after = 0  # the next write crosses the threshold
            store._journal.snapshot_bytes = 0
            before = store._compactor

            def thread_done(before: object = before) -> bool:
                thread = store._compactor
                return thread is not before and thread is not None and not thread.is_alive()

            got.append(asyncio.run(_stall_during(lambda: t.insert(ticket(SIZE + 2)), thread_done,
                                                 (lambda: t.insert(ticket(0))) if writes else None)))
            store._compact_after = 1 << 40
    return got


def _no_compaction(root: Path, seconds: float, *, writes: bool) -> float:
    """The longest stall over ``seconds`` without a compaction (with the writes, or the loop alone): what
    the machine and the disk stall by themselves."""
    with Store.open(_prefilled(root, f"none-{writes}")) as store:
        t = store.table("tickets", index=("number",))
        end = [0.0]

        def start() -> None:
            end[0] = time.perf_counter() + seconds

        worst, _took = asyncio.run(_stall_during(start, lambda: time.perf_counter() > end[0],
                                                 (lambda: t.insert(ticket(0))) if writes else None))
        return worst


def _inline(root: Path) -> tuple[float, float]:
    with Store.open(_prefilled(root, "inline")) as store:
        t = store.table("tickets", index=("number",))
        t.insert(ticket(SIZE + 1))
        assert store._journal is not None
        journal = store._journal
        finished = []

        def write_and_compact() -> None:  # the previous store: append, then snapshot in the same call
            t.insert(ticket(SIZE + 2))
            journal.snapshot(store._tables)
            finished.append(True)

        return asyncio.run(_stall_during(write_and_compact, lambda: bool(finished)))


def run() -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="bench-compaction-") as tmp:
        quiet_runs = _ours(Path(tmp), "ours-quiet", writes=False, runs=RUNS)
        busy_runs = _ours(Path(tmp), "ours-busy", writes=True, runs=RUNS)
        took = statistics.median(t for _s, t in quiet_runs)
        idle = _no_compaction(Path(tmp), took, writes=False)
        floor = _no_compaction(Path(tmp), took, writes=True)
        inline, inline_took = _inline(Path(tmp))
    quiet = statistics.median(s for s, _t in quiet_runs)
    busy = statistics.median(s for s, _t in busy_runs)
    print(f"compaction at 100k, {RUNS} runs: longest stall {', '.join(f'{s:.1f}' for s, _ in quiet_runs)} ms "
          f"({', '.join(f'{s:.1f}' for s, _ in busy_runs)} ms with a write every 20 ms); {took:.2f} s in a thread; "
          f"in-line {inline_took:.2f} s on the loop. Without a compaction, over {took:.1f} s: the loop alone "
          f"stalls up to {idle:.1f} ms, with the writes {floor:.1f} ms")
    return [
        Result.time(f"store.compaction @100k: longest event-loop stall (median of {RUNS}) vs in-line", quiet, inline),
        Result.time("store.compaction @100k: the same, a write every 20 ms, vs in-line", busy, inline),
        Result.time("store.compaction @100k: longest stall with those writes, vs the writes alone", busy, floor),
        Result.time("store.compaction @100k: longest stall vs the idle loop's own", quiet, idle),
        Result.time("store.compaction @100k: wall time (thread) vs in-line", took, inline_took, "s"),
        Result.expect(f"store.compaction @100k: longest stall <= {GOAL_MS:.0f} ms (1 = met)",
                      1.0 if quiet <= GOAL_MS else 0.0, 1.0),
    ]
