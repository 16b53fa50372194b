"""Benchmarks: `python -m bench [name ...]` runs bench/bench_*.py and appends to bench/results.json."""
