"""What every benchmark returns, and where the figures go.

A benchmark module ``bench/bench_<name>.py`` defines ``run() -> list[Result]``. ``python -m bench``
runs them all, prints "ours vs peer" and appends every result to ``bench/results.json``, a JSON list
of ``{"name", "ours", "peer", "unit", "ratio", "measured_at"}`` kept in git.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
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

    @classmethod
    def time(cls, name: str, ours: float, peer: float, unit: str = "ms") -> Result:
        return cls(name, ours, peer, unit, peer / ours if ours else math.inf)

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


def append_results(results: list[Result], path: Path = RESULTS) -> None:
    """Append ``results`` to the JSON list at ``path`` (atomically)."""
    existing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    if not isinstance(existing, list):
        raise ValueError(f"{path}: expected a JSON list")
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    existing.extend({**asdict(r), "ratio": round(r.ratio, 2), "measured_at": stamp} for r in results)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(existing, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def table(results: list[Result]) -> str:
    """The results as a plain-text table: ours vs peer, ratio."""
    rows = [("benchmark", "ours", "peer", "unit", "ratio")]
    rows += [(r.name, f"{r.ours:.4g}", f"{r.peer:.4g}", r.unit, (f"{r.ratio:.2f}x" if r.ratio < 10 else f"{r.ratio:.1f}x")) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(c.ljust(w) if i == 0 or i == 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
