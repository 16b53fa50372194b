"""`python -m bench.rss_stacks OUT -- <servicebot arguments>`: run servicebot with a sampler thread that
writes, at each new high of VmRSS (8 MB steps, sampled every 2 ms), the time, the RSS and every thread's
stack to OUT: which start-up phase makes the peak, read off a real run (how the 442 MB peak at 100k
tickets was found; docs/reliability.md). Example, with the config the footprint bench writes:

    python -m bench.rss_stacks /tmp/stacks.txt -- --config /tmp/config.yaml run
"""

from __future__ import annotations

import runpy
import sys
import threading
import time
import traceback
from typing import TextIO

STEP_MB = 8
EVERY_SECONDS = 0.002


def _rss_mb() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


def _sample(out: TextIO) -> None:
    me = threading.get_ident()
    started = time.monotonic()
    best = 0
    while True:
        rss = _rss_mb()
        if rss >= best + STEP_MB:
            best = rss
            names = {t.ident: t.name for t in threading.enumerate()}
            out.write(f"=== {time.monotonic() - started:.3f} s  VmRSS {rss} MB\n")
            for ident, frame in sys._current_frames().items():
                if ident != me:
                    out.write(f"-- thread {names.get(ident, ident)}\n")
                    out.writelines(f"   {f.filename}:{f.lineno} {f.name}\n" for f in traceback.extract_stack(frame)[-16:])
            out.flush()
        time.sleep(EVERY_SECONDS)


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[2] != "--":
        raise SystemExit(__doc__)
    out = open(sys.argv[1], "w", encoding="utf-8")  # noqa: SIM115 (open for the life of the process)
    threading.Thread(target=_sample, args=(out,), daemon=True, name="rss-stacks").start()
    sys.argv = ["servicebot", *sys.argv[3:]]
    runpy.run_module("bot", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
