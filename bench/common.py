"""What every benchmark returns, and where the figures go.

A benchmark module ``bench/bench_<name>.py`` defines ``run() -> list[Result]``. ``python -m bench``
runs them all, prints "ours vs peer" and appends every result to ``bench/results.json``, a JSON list
of ``{"name", "ours", "peer", "unit", "ratio", "measured_at"}`` kept in git; a figure measured against
the machine's own floor also has ``"floor_ms"`` and ``"x_floor"`` (ours as a multiple of that floor).

Absolute times vary between machines and between a quiet and a busy hour, so every run first measures
the machine's floor (:func:`measure_floor`: fdatasync of a small append, where the benchmarks write)
and durable-write figures (``Result.floor`` set) are reported beside it.

A benchmark never aborts the run: what it expected and did not get is a figure too
(:meth:`Result.expect`), and a benchmark that raises is reported and the others still run.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass(frozen=True)
class Result:
    """One figure: ours against a peer (e.g. the stock library), in ``unit``.

    ``ratio`` is how many times better ours is: peer / ours for times (lower is better), ours / peer
    for rates. Use :meth:`time` or :meth:`rate` so it is computed the right way round.
    """

    name: str
    ours: float
    peer: float
    unit: str
    ratio: float
    floor: str | None = None  # "p50" / "p99": reported as a multiple of that percentile of the floor

    @classmethod
    def time(cls, name: str, ours: float, peer: float, unit: str = "ms", *, floor: str | None = None) -> Result:
        return cls(name, ours, peer, unit, peer / ours if ours else math.inf, floor)

    @classmethod
    def expect(cls, name: str, got: float, goal: float, unit: str = "count") -> Result:
        """An expectation as a figure: ``got`` against ``goal``; ratio 1.0 when met, else 0.0."""
        return cls(name, float(got), float(goal), unit, 1.0 if got == goal else 0.0)

    @classmethod
    def rate(cls, name: str, ours: float, peer: float, unit: str) -> Result:
        return cls(name, ours, peer, unit, ours / peer if peer else math.inf)


def percentile(samples: list[float], p: float) -> float:
    """The ``p``-th percentile (0..100) by nearest rank."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Floor:
    """The machine's own floor for a durable write: fdatasync of a small append, in ms."""

    p50: float
    p99: float
    samples: int
    directory: str

    def of(self, result: Result) -> float | None:
        """The floor figure ``result`` is compared with, or None."""
        return {"p50": self.p50, "p99": self.p99}.get(result.floor or "")

    def multiple(self, result: Result) -> float | None:
        base = self.of(result)
        return result.ours / base if base else None

    def results(self) -> list[Result]:
        return [Result(f"floor: fdatasync {p} of a {FLOOR_APPEND}-byte append ({self.samples} samples)", v, v,
                       "ms", 1.0) for p, v in (("p50", self.p50), ("p99", self.p99))]


FLOOR_APPEND = 200
FLOOR_SAMPLES = 300


def measure_floor(directory: str | None = None, samples: int = FLOOR_SAMPLES) -> Floor:
    """fdatasync p50/p99 of a small append, in a temporary file where the benchmarks write (``tempfile``)."""
    record = b"x" * (FLOOR_APPEND - 1) + b"\n"
    times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-floor-", dir=directory) as tmp:
        fd = os.open(Path(tmp) / "floor.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for _ in range(samples):
                start = time.perf_counter()
                os.write(fd, record)
                os.fdatasync(fd)
                times.append((time.perf_counter() - start) * 1000)
        finally:
            os.close(fd)
        where = str(Path(tmp).parent)
    return Floor(percentile(times, 50), percentile(times, 99), samples, where)


def append_results(results: list[Result], path: Path = RESULTS, floor: Floor | None = None) -> None:
    """Append ``results`` to the JSON list at ``path`` (atomically)."""
    existing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    if not isinstance(existing, list):
        raise ValueError(f"{path}: expected a JSON list")
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    for r in results:
        row = {k: v for k, v in asdict(r).items() if k != "floor"}
        row["ratio"] = round(r.ratio, 2) if math.isfinite(r.ratio) else None
        base = floor.of(r) if floor is not None else None
        if floor is not None and base:
            row["floor_ms"] = round(base, 4)
            row["x_floor"] = round(r.ours / base, 2)
        existing.append({**row, "measured_at": stamp})
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(existing, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def table(results: list[Result], floor: Floor | None = None) -> str:
    """The results as a plain-text table: ours vs peer, ratio, and ours as a multiple of the floor."""
    def times(x: float | None) -> str:
        if x is None:
            return ""
        return f"{x:.2f}x" if x < 10 else f"{x:.1f}x"

    rows = [("benchmark", "ours", "peer", "unit", "ratio", "x floor")]
    rows += [(r.name, f"{r.ours:.4g}", f"{r.peer:.4g}", r.unit, times(r.ratio),
              times(floor.multiple(r)) if floor is not None else "") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    lines = [
        "  ".join(c.ljust(w) if i == 0 or i == 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
