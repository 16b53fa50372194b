"""`python -m bench [name ...]`: run every bench/bench_*.py (or the named ones), print, record.

The machine's floor (fdatasync of a small append) is measured first, in the same run, and the durable
write figures are shown as a multiple of it. A benchmark that raises is reported and the others run;
the exit status is 1 only then (a missed expectation is a figure, not a failure).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from pathlib import Path

from bench.common import RESULTS, Result, append_results, measure_floor, table


def discover() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    known = discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(known)})")
    parser.add_argument("--no-record", action="store_true", help=f"do not append to {RESULTS.name}")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(known)}")
    floor = measure_floor()
    print(f"== floor: fdatasync of a small append in {floor.directory}: p50 {floor.p50:.3f} ms, "
          f"p99 {floor.p99:.3f} ms ({floor.samples} samples)", flush=True)
    results: list[Result] = floor.results()
    crashed: list[str] = []
    for name in args.names or known:
        print(f"== {name}", flush=True)
        try:
            module = importlib.import_module(f"bench.bench_{name}")
            got: list[Result] = module.run()
        except Exception as exc:  # one benchmark's bug never stops the others
            traceback.print_exc()
            crashed.append(name)
            got = [Result(f"{name}: did not finish ({type(exc).__name__}: {exc})"[:200], 0.0, 0.0, "error", 0.0)]
        print(table(got, floor), flush=True)
        results.extend(got)
    if len(args.names or known) > 1:
        print("\n== all\n" + table(results, floor))
    missed = [r.name for r in results if r.unit != "error" and r.ratio == 0.0]
    if missed:
        print("\nexpectations missed (see their figures above): " + "; ".join(missed))
    if crashed:
        print(f"\nbenchmarks that raised (the others ran): {', '.join(crashed)}", file=sys.stderr)
    if not args.no_record:
        append_results(results, floor=floor)
        print(f"appended {len(results)} results to {RESULTS}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
