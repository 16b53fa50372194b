"""`make bench`'s runner: the floor is measured first, a benchmark that raises never stops the others, and
figures measured against the floor are recorded as a multiple of it. (The benchmarks themselves run in
`make bench`, never in the suite.)"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

import bench.__main__ as runner
from bench.common import Floor, Result, append_results, measure_floor


def _module(name: str, run: object) -> types.ModuleType:
    module = types.ModuleType(name)
    module.run = run  # type: ignore[attr-defined]
    return module


def test_a_benchmark_that_raises_is_reported_and_the_rest_still_run(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def crash() -> list[Result]:
        raise AssertionError("unexpected failures: ['feed21', 'feed40']")

    def fine() -> list[Result]:
        return [Result.time("store.insert p50 @1k", 0.5, 10.0, floor="p50"),
                Result.expect("healthy feeds fetched (goal 40)", 33, 40, "feeds")]

    monkeypatch.setitem(sys.modules, "bench.bench_zcrash", _module("bench.bench_zcrash", crash))
    monkeypatch.setitem(sys.modules, "bench.bench_zfine", _module("bench.bench_zfine", fine))
    monkeypatch.setattr(runner, "discover", lambda: ["zcrash", "zfine"])
    monkeypatch.setattr(runner, "measure_floor", lambda: Floor(0.25, 1.0, 10, "/tmp"))
    assert runner.main(["--no-record"]) == 1
    out = capsys.readouterr()
    assert "zcrash: did not finish (AssertionError: unexpected failures: ['feed21', 'feed40'])" in out.out
    assert "store.insert p50 @1k" in out.out and "2.00x" in out.out        # 0.5 ms = 2x the 0.25 ms floor
    assert "expectations missed (see their figures above): healthy feeds fetched (goal 40)" in out.out
    assert "benchmarks that raised (the others ran): zcrash" in out.err


def test_results_carry_the_floor_and_the_multiple(tmp_path: Path) -> None:
    floor = measure_floor(str(tmp_path), samples=5)
    assert 0 < floor.p50 <= floor.p99
    path = tmp_path / "results.json"
    append_results([Result.time("intake p99", 3 * floor.p99, 100.0, floor="p99"),
                    Result.time("second build bytes", 0.0, 5.0, "bytes")], path, floor=floor)
    rows = json.loads(path.read_text(encoding="utf-8"))
    assert rows[0]["x_floor"] == 3.0 and rows[0]["floor_ms"] == round(floor.p99, 4) and "floor" not in rows[0]
    assert rows[1]["ratio"] is None and "x_floor" not in rows[1]     # infinite ratio: valid JSON, not Infinity
