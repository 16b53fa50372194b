"""Store faults beyond tests/store/test_durability.py: SIGKILL runs (15 here + 5 there = 20 in make test;
100 more in soak), and a full disk (RLIMIT_FSIZE on the writer process): the write that does not fit
fails loudly, everything acknowledged before it survives, the torn tail is reported, never an empty start.
"""

from __future__ import annotations

import random
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import Store
from tests.store.test_durability import ROOT, _check_survivors, _kill_run

from .conftest import Figures, only_soak, soak


def _lost(d: Path, acked: set[int]) -> int:
    with Store.open(d) as store:
        present = {x["n"] for x in store.table("tickets").all()}
    return len(acked - present)


@pytest.mark.parametrize("seed", range(100, 115))
def test_store_sigkill(tmp_path: Path, seed: int, figures: Figures) -> None:
    rng = random.Random(seed)
    d = tmp_path / "data"
    with figures.run(trace_memory=False) as run:
        acked, claimed = _kill_run(d, rng)
        run.faults += 1
        run.lost += _lost(d, acked)
        _check_survivors(d, acked, claimed)


@soak
@only_soak
def test_store_sigkill_soak(tmp_path: Path, figures: Figures) -> None:
    rng = random.Random()
    d = tmp_path / "data"
    every: set[int] = set()
    for _ in range(100):
        with figures.run(trace_memory=False) as run:
            acked, claimed = _kill_run(d, rng)
            every |= acked
            run.faults += 1
            run.lost += _lost(d, every)
            _check_survivors(d, every, claimed)


def _limited(max_bytes: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead

    return apply


@pytest.mark.parametrize("limit", [40_000, 150_000])
def test_store_disk_full(tmp_path: Path, limit: int, figures: Figures) -> None:
    d = tmp_path / "data"
    with figures.run(trace_memory=False) as run:
        proc = subprocess.run(
            [sys.executable, "-m", "tests.store.writer", str(d), "60000"],
            cwd=ROOT, capture_output=True, text=True, timeout=60, preexec_fn=_limited(limit),
        )
        run.faults += 1
        # the writer stops with an error, not silently
        assert proc.returncode != 0
        assert "File too large" in proc.stderr or "EFBIG" in proc.stderr or "No space" in proc.stderr, proc.stderr[-800:]
        acked = {int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("ack")}
        claimed = {int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("claimed")}
        assert len(acked) > 5
        with Store.open(d) as store:
            present = {x["n"] for x in store.table("tickets").all()}
            assert present, "an empty start after a full disk"
            run.lost += len(acked - present)
            # the last good state: every acknowledged write, and at most the one that failed besides
            assert acked <= present and len(present - acked) <= 1
            recovery = list(store.recovery)
            store.table("tickets").insert({"n": 10**6})  # room again: the store carries on
        _check_survivors(d, acked, claimed)
        with Store.open(d) as store:
            assert store.recovery == []
        # if the failed write left a torn record, it was reported (never silently dropped)
        torn = list(d.glob("journal-*.damaged-*"))
        assert bool(torn) == any("dropped" in m for m in recovery)
