"""Store: one durable ticket-sized write with N tickets stored, ours vs stock TinyDB JSONStorage.

Both stores are pre-filled directly on disk (a snapshot for ours, the JSON file for stock), then
single inserts are timed one by one. Ours fsyncs every write; stock JSONStorage does not fsync at all,
so the comparison favours the peer.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import JSONStorage

from bench.common import Result, percentile
from bot.store import Store
from bot.store.journal import TableState, write_snapshot

SIZES = (1_000, 10_000, 100_000)
OURS_SAMPLES = 200
PEER_SAMPLES = {1_000: 200, 10_000: 50, 100_000: 20}


def ticket(n: int) -> dict[str, Any]:
    """A ticket-sized document (~1 KB as JSON)."""
    return {
        "number": n,
        "chat_id": -1001001,
        "asker_id": 100000 + n % 5000,
        "asker_name": "郭超",
        "topic": "住房保障",
        "state": "open",
        "text": f"请问第{n}号安置房的物业费怎么交？公交卡在哪里办理？孩子转学需要哪些材料？" * 4,
        "opened_at": "2026-03-02T09:15:00+08:00",
        "first_response_due": "2026-03-02T11:15:00+08:00",
        "resolve_due": "2026-03-04T17:30:00+08:00",
        "checklist": ["身份证", "购房合同", "户口本"],
        "claimed_by": None,
        "events": [{"at": "2026-03-02T09:15:00+08:00", "kind": "opened", "by": 100000 + n % 5000}],
    }


def _ours(size: int, root: Path) -> list[float]:
    d = root / f"ours-{size}"
    d.mkdir()
    # as a running store's compaction leaves it: with the indexes declared below (else the first write would
    # start a compaction to write them, inside the timed writes)
    write_snapshot(d, 1, {"tickets": TableState({i: ticket(i) for i in range(1, size + 1)}, size + 1)},
                   index_fields={"tickets": ("number", "asker_id")})
    samples = []
    with Store.open(d) as store:
        t = store.table("tickets", index=("number", "asker_id"))
        for i in range(OURS_SAMPLES):
            doc = ticket(size + 1 + i)
            start = time.perf_counter()
            t.insert(doc)
            samples.append((time.perf_counter() - start) * 1000)
        assert len(t) == size + OURS_SAMPLES
    return samples


def _peer(size: int, root: Path) -> list[float]:
    path = root / f"stock-{size}.json"
    path.write_text(json.dumps({"tickets": {str(i): ticket(i) for i in range(1, size + 1)}}))
    samples = []
    db = TinyDB(path, storage=JSONStorage)
    t = db.table("tickets")
    for i in range(PEER_SAMPLES[size]):
        doc = ticket(size + 1 + i)
        start = time.perf_counter()
        t.insert(doc)
        samples.append((time.perf_counter() - start) * 1000)
    db.close()
    return samples


def run() -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        for size in SIZES:
            ours, peer = _ours(size, Path(tmp)), _peer(size, Path(tmp))
            label = f"{size // 1000}k"
            for p in (50, 99):
                results.append(
                    Result.time(f"store.insert p{p} @{label} (fsync) vs JSONStorage", percentile(ours, p),
                                percentile(peer, p), floor=f"p{p}")
                )
    return results
