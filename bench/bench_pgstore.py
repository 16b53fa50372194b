"""PostgreSQL store vs journal store, in one run, at 100k tickets (issue 16 item 5).

One journal store is filled with 100k tickets as TicketStore stores them (a snapshot written directly),
then copied into a PostgreSQL database by ``servicebot store migrate``'s own code (timed too). Both then
take the same work:

- a durable ticket write: ``TicketStore.add`` of a new ticket (the ticket, its dedupe key and the
  counter in one batch: one fsynced journal record / one committed transaction) and ``TicketStore.save``
  of a changed one, one at a time, p50 and p99, the two stores taking turns write by write;
- intake through the real Application (bench_intake.timed_intake: process_update with the Bot API
  answered in-process), p50 and throughput, in rounds of 25 questions taking turns.

PostgreSQL writes as a running bot makes them (bot/chat/standby.py): the process holds the lease (a
``LeaseKeeper`` thread renewing it on a connection of its own) and every write transaction starts with the
fence (``SELECT … FOR SHARE`` of the lease row). The fence's own cost is measured beside it: the same
PostgreSQL store, the fence switched off for every other write.

"ours" is PostgreSQL, "peer" the journal store: a ratio below 1 is how much slower PostgreSQL is. The
database is a throwaway cluster of Debian's PostgreSQL (tests/pgcluster.py) on this machine, with its
durable defaults (fsync, synchronous_commit on), reached over TCP on 127.0.0.1: a database on another
machine adds its network round trips to every write (each add is ~5 statements in one transaction).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from bench.bench_intake import NOW, ROOT, _docs, _ticket, timed_intake
from bench.common import Result, percentile
from bot.config import parse_config
from bot.store import Store
from bot.store.inbox import TABLE as INBOX_TABLE
from bot.store.journal import TableState, write_snapshot
from bot.store.lease import Lease, LeaseKeeper
from bot.store.lease import connect as lease_connect
from bot.store.migrate import migrate_journal
from bot.store.pg import PgStore
from bot.store.tickets import TicketStore
from bot.tickets.model import Status
from tests.pgcluster import running_cluster

SIZE = 100_000
WRITES = 300
QUESTIONS = 200
ROUND = 25  # intake questions per turn


class Holding:
    """The lease held as ``servicebot run`` holds it: acquired, renewed by a keeper thread, the store fenced."""

    def __init__(self, store: Store, dsn: str) -> None:
        assert isinstance(store, PgStore)
        self.lease = Lease(lambda: lease_connect(dsn), ttl=10.0)
        self.lost: list[str] = []
        self.keeper = LeaseKeeper(self.lease, self.lost.append)
        self.store = store

    def __enter__(self) -> Holding:
        assert self.lease.acquire(), "the bench's database has another lease holder"
        self.keeper.start()
        self.store.fence = self.lease.fence
        self.store.fence_exempt = frozenset({INBOX_TABLE})
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.fence = None
        self.keeper.stop()
        self.lease.release()
        assert not self.lost, f"the bench lost its lease: {self.lost}"


def _writes(targets: list[tuple[Store, bool | None]], size: int,
            fence: Callable[[Any], None] | None = None) -> list[tuple[list[float], list[float]]]:
    """``WRITES`` timed adds, then ``WRITES`` timed saves (a claim) of those tickets, on each target in turn
    (interleaved: a busy moment of the machine hits all alike). A target is (store, fenced): for True/False
    the PostgreSQL store's fence is set to ``fence`` / none before each of its writes, so one store takes
    fenced and unfenced writes by turns (None: left as it is). (adds, saves) per target."""
    repos = [TicketStore(store) for store, _ in targets]
    out: list[tuple[list[float], list[float]]] = [([], []) for _ in targets]
    fresh: list[list[Any]] = [[] for _ in targets]

    def prepare(k: int) -> None:
        store, fenced = targets[k]
        if isinstance(store, PgStore) and fenced is not None:
            store.fence = fence if fenced else None

    for i in range(WRITES):
        for k, (repo, (adds, _)) in enumerate(zip(repos, out, strict=True)):
            t = _ticket(size + 1_000 + k * WRITES + i)
            t.status, t.closed_at, t.created_at = Status.OPEN, None, NOW
            prepare(k)
            start = time.perf_counter()
            repo.add(t)
            adds.append((time.perf_counter() - start) * 1000)
            fresh[k].append(t)
    for i in range(WRITES):
        for k, (repo, (_, saves)) in enumerate(zip(repos, out, strict=True)):
            t = fresh[k][i]
            t.status, t.owner_id, t.owner_name = Status.CLAIMED, 101, "张老师"
            t.first_response_at = NOW + timedelta(minutes=5)
            prepare(k)
            start = time.perf_counter()
            repo.save(t)
            saves.append((time.perf_counter() - start) * 1000)
    for store, fenced in targets:
        if isinstance(store, PgStore) and fenced is not None:
            store.fence = fence
    return out


def run(size: int = SIZE) -> list[Result]:
    label = f"{size // 1000}k"
    results: list[Result] = []
    docs = _docs(size)
    with tempfile.TemporaryDirectory(prefix="bench-pgstore-") as tmp, running_cluster(durable=True) as cluster:
        root = Path(tmp)
        tables = {"tickets": TableState(docs, size + 1), "tickets_meta": TableState({1: {"next": size + 1}}, 2)}
        for name in ("journal", "intake-journal"):
            (root / name).mkdir()
            write_snapshot(root / name, 1, tables)
        dsn, intake_dsn = cluster.create_database("bench"), cluster.create_database("bench_intake")
        migrate_s = 0.0
        for target_dsn in (dsn, intake_dsn):
            with PgStore.connect(target_dsn) as pg:
                assert isinstance(pg, PgStore)
                start = time.perf_counter()
                copied = migrate_journal(root / "journal", pg)
                migrate_s = time.perf_counter() - start
                assert copied.counts["tickets"] == size
                with pg._sql("analyze") as conn:  # as autovacuum would; the load's checkpoint done now
                    conn.execute("ANALYZE documents")
                    conn.execute("CHECKPOINT")

        with Store.open(root / "journal") as journal, PgStore.connect(dsn) as pg, Holding(pg, dsn) as held:
            (j_add, j_save), (p_add, p_save), (u_add, u_save) = _writes(
                [(journal, None), (pg, True), (pg, False)], size, held.lease.fence)
            assert len(TicketStore(journal)) == size + WRITES and len(TicketStore(pg)) == size + 2 * WRITES
        for what, ours, peer in (("add", p_add, j_add), ("save", p_save, j_save)):
            for p in (50, 99):
                results.append(Result.time(
                    f"pgstore: durable ticket {what} p{p} @{label}, PostgreSQL (fenced, as the bot) vs journal",
                    percentile(ours, p), percentile(peer, p)))
        for what, ours, peer in (("add", p_add, u_add), ("save", p_save, u_save)):
            for p in (50, 99):
                results.append(Result.time(
                    f"pgstore: the fence's cost, ticket {what} p{p} @{label}, PostgreSQL fenced vs not",
                    percentile(ours, p), percentile(peer, p)))

        raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        raw["data_dir"] = str(root / "intake-journal")
        raw["content_dir"] = str(ROOT / "content")
        config = parse_config(raw, "bench")
        j_intake: list[float] = []
        p_intake: list[float] = []
        j_made = p_made = 0
        with Store.open(root / "intake-journal") as journal, PgStore.connect(intake_dsn) as pg_intake, \
                Holding(pg_intake, intake_dsn):  # the Application's writes fenced, as in `servicebot run`
            for first in range(0, QUESTIONS, ROUND):  # rounds taking turns: a busy moment hits both alike
                got, made = asyncio.run(timed_intake(config, journal, ROUND, size, first=first))
                j_intake, j_made = j_intake + got, j_made + made
                got, made = asyncio.run(timed_intake(config, pg_intake, ROUND, size, first=first))
                p_intake, p_made = p_intake + got, p_made + made
        results += [
            Result.time(f"pgstore: intake p50 @{label} (process_update), PostgreSQL (fenced) vs journal",
                        percentile(p_intake, 50), percentile(j_intake, 50)),
            Result.rate(f"pgstore: intake throughput @{label}, PostgreSQL (fenced) vs journal",
                        1000 / (sum(p_intake) / len(p_intake)), 1000 / (sum(j_intake) / len(j_intake)),
                        "questions/s"),
            Result.expect(f"pgstore: intake questions that became tickets on PostgreSQL (goal {QUESTIONS})",
                          p_made, QUESTIONS, "tickets"),
            Result.expect(f"pgstore: intake questions that became tickets on the journal (goal {QUESTIONS})",
                          j_made, QUESTIONS, "tickets"),
            Result(f"pgstore: store migrate of {size // 1000}k tickets (copy + verify)", migrate_s, migrate_s,
                   "s", 1.0),
        ]
    return results


if __name__ == "__main__":
    import sys

    for r in run(int(sys.argv[1]) if len(sys.argv) > 1 else SIZE):
        print(f"{r.name}: ours {r.ours:.2f} {r.unit} · peer {r.peer:.2f} · {r.ratio:.2f}x")
