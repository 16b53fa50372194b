"""Failover time of the hot standby (issue 16 item 5): kill -9 of the active process -> the first question
answered by the standby (its ticket in the database), p50 and max over 10 kills.

Two `servicebot run` on one throwaway PostgreSQL (Debian's binaries, durable defaults) and the sandbox,
the same scenario as tests/standby/test_failover.py, with the shipped lease (store.lease_seconds, 10 s):
the standby takes over once the dead process's lease has run out, then starts as any bot does.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import Result, percentile
from bot.config import StoreConfig
from tests.pgcluster import running_cluster
from tests.standby.test_failover import FAILOVER_LIMIT, run_failover

KILLS = 10


def run(kills: int = KILLS) -> list[Result]:
    lease = StoreConfig().lease_seconds
    with tempfile.TemporaryDirectory(prefix="bench-failover-") as tmp, running_cluster(durable=True) as cluster:
        dsn = cluster.create_database()
        got = run_failover(Path(tmp), dsn, kills, lease_seconds=lease, digest=False)
    times = got["failovers"]
    print(f"failover seconds over {kills} kills (lease {lease:.0f} s): {[round(t, 1) for t in times]}")
    return [
        Result.time(f"failover: kill -9 -> standby answers, p50 of {kills} (lease {lease:.0f} s; goal < 30 s)",
                    percentile(times, 50), FAILOVER_LIMIT, "s"),
        Result.time(f"failover: kill -9 -> standby answers, max of {kills} (goal < 30 s)",
                    max(times), FAILOVER_LIMIT, "s"),
        Result.expect(f"failover: questions with exactly one ticket after {kills} kills (goal {got['questions']})",
                      len(set(got["tickets"])), got["questions"], "tickets"),
    ]


if __name__ == "__main__":
    for r in run():
        print(r)
