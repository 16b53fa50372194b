"""`python -m bench [name ...]`: run every bench/bench_*.py (or the named ones), print, record."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from bench.common import RESULTS, Result, append_results, table


def discover() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    known = discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(known)})")
    parser.add_argument("--no-record", action="store_true", help=f"do not append to {RESULTS.name}")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(known)}")
    results: list[Result] = []
    for name in args.names or known:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"bench.bench_{name}")
        got: list[Result] = module.run()
        print(table(got), flush=True)
        results.extend(got)
    if len(args.names or known) > 1:
        print("\n== all\n" + table(results))
    if not args.no_record:
        append_results(results)
        print(f"appended {len(results)} results to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
