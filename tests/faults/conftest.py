"""The faults suite's figures: each test records what it injected and what it counted; the session ends
with a table (test, runs, faults injected, lost, duplicated, max time, max memory).

    def test_x(figures: Figures) -> None:
        with figures.run() as run:          # one run: time and peak memory measured
            ...
            run.faults += 1; run.duplicated += dup; run.lost += lost

``make soak`` sets SERVICEBOT_SOAK=1: the @soak variants run (longer loops); otherwise they are skipped.
"""

from __future__ import annotations

import contextlib
import os
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

SOAK = bool(os.environ.get("SERVICEBOT_SOAK"))
soak = pytest.mark.soak
only_soak = pytest.mark.skipif(not SOAK, reason="set SERVICEBOT_SOAK=1 (make soak)")


@pytest.fixture(scope="session", autouse=True)
def _segmenter_loaded() -> None:
    """The segmenter's dictionary is loaded once per process, before any run is traced: on a machine with
    no cache yet it is built (in a child process, a second or more with both cores busy), and a bot started
    inside a traced run would spend its first question's wait on it. The figures are about each run, not
    this one-off load."""
    from bot.knowledge.retrieval import load_segmenter

    load_segmenter()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soak: long-running variants (make soak; SERVICEBOT_SOAK=1)")


@dataclass
class Row:
    runs: int = 0
    faults: int = 0
    lost: int = 0
    duplicated: int = 0
    max_seconds: float = 0.0
    max_mb: float = -1.0  # -1: not measured


@dataclass
class Run:
    faults: int = 0
    lost: int = 0
    duplicated: int = 0
    memory_mb: float | None = None  # set by a test that measures another process (RSS)


_ROWS: dict[str, Row] = {}


@dataclass
class Figures:
    name: str
    row: Row = field(default_factory=Row)

    @contextlib.contextmanager
    def run(self, *, trace_memory: bool = True) -> Iterator[Run]:
        """One run: wall time and (with tracemalloc) the peak Python memory allocated during it."""
        run = Run()
        tracing = trace_memory and not tracemalloc.is_tracing()
        if tracing:
            tracemalloc.start()
        started = time.monotonic()
        try:
            yield run
        finally:
            elapsed = time.monotonic() - started
            peak = tracemalloc.get_traced_memory()[1] / 2**20 if tracing else -1.0
            if tracing:
                tracemalloc.stop()
            self.add(run, elapsed, run.memory_mb if run.memory_mb is not None else peak)

    def add(self, run: Run, seconds: float, memory_mb: float) -> None:
        row = _ROWS.setdefault(self.name, self.row)
        row.runs += 1
        row.faults += run.faults
        row.lost += run.lost
        row.duplicated += run.duplicated
        row.max_seconds = max(row.max_seconds, seconds)
        row.max_mb = max(row.max_mb, memory_mb)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    name = request.node.name.removeprefix("test_").split("[", 1)[0]  # each case/seed is one run of the row
    return Figures(name, _ROWS.get(name, Row()))


def table() -> str:
    lines = [
        "| test | runs | faults injected | lost | duplicated | max time (s) | max memory (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in _ROWS.items():
        mem = f"{r.max_mb:.1f}" if r.max_mb >= 0 else "—"
        lines.append(
            f"| {name} | {r.runs} | {r.faults} | {r.lost} | {r.duplicated} | {r.max_seconds:.2f} | {mem} |"
        )
    return "\n".join(lines)


def merge(rows: dict[str, dict[str, float]]) -> None:
    """Add another process's rows (a pytest-xdist worker's, see tests/conftest.py) to this one's."""
    for name, r in rows.items():
        row = _ROWS.setdefault(name, Row())
        row.runs += int(r["runs"])
        row.faults += int(r["faults"])
        row.lost += int(r["lost"])
        row.duplicated += int(r["duplicated"])
        row.max_seconds = max(row.max_seconds, r["max_seconds"])
        row.max_mb = max(row.max_mb, r["max_mb"])


def summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The table at the end of the session (called from tests/conftest.py, which every process loads)."""
    if not _ROWS:
        return
    terminalreporter.section("faults: nothing lost" + (" (soak)" if SOAK else ""))
    terminalreporter.write_line(table())
