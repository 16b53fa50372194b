"""The benchmark harness: results, ratio direction, the results.json list, the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import discover
from bench.common import Result, append_results, percentile, table


def test_ratio_is_higher_when_ours_is_better() -> None:
    assert Result.time("w", ours=2.0, peer=100.0).ratio == 50.0
    assert Result.rate("r", ours=300.0, peer=100.0, unit="msg/s").ratio == 3.0


def test_percentile_nearest_rank() -> None:
    samples = [float(i) for i in range(1, 101)]
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 99) == 99.0
    assert percentile([5.0], 99) == 5.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_append_results_keeps_a_json_list(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    append_results([Result.time("a", 1.0, 2.0)], path)
    append_results([Result.time("b", 1.0, 3.0)], path)
    data = json.loads(path.read_text())
    assert [e["name"] for e in data] == ["a", "b"]
    assert set(data[0]) == {"name", "ours", "peer", "unit", "ratio", "measured_at"}
    assert data[1]["ratio"] == 3.0


def test_table_shows_ours_peer_ratio() -> None:
    text = table([Result.time("store.insert p99 @100k", 0.25, 700.0)])
    assert "ours" in text and "peer" in text and "2800.0x" in text


def test_store_benchmark_is_discovered() -> None:
    assert "store" in discover()


def test_committed_results_are_well_formed() -> None:
    data = json.loads((Path(__file__).resolve().parents[2] / "bench" / "results.json").read_text())
    assert isinstance(data, list) and data
    assert all({"name", "ours", "peer", "unit", "ratio", "measured_at"} <= set(e) for e in data)
