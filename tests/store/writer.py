"""A writer process for the crash tests: prints each id once its write has returned (= acknowledged).

Usage: python -m tests.store.writer DATA_DIR COMPACT_AFTER_BYTES
Mixes single inserts, updates and two-table batches; compaction runs often so kills land in it too.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.store import Store


def main() -> None:
    directory, compact_after = Path(sys.argv[1]), int(sys.argv[2])
    store = Store.open(directory, compact_after_bytes=compact_after)
    tickets = store.table("tickets", index=("n",))
    audit = store.table("audit")
    n = max((d["n"] for d in tickets.all()), default=0)
    pad = "工单内容" * 60  # ~1 KB documents
    while True:
        n += 1
        if n % 3 == 0:
            with store.batch():
                doc_id = tickets.insert({"n": n, "text": pad, "state": "open"})
                audit.insert({"ticket": doc_id, "n": n})
        else:
            doc_id = tickets.insert({"n": n, "text": pad, "state": "open"})
        if n % 5 == 0:
            tickets.update({"state": "claimed"}, doc_ids=[doc_id])
            print(f"claimed {n}", flush=True)
        print(f"ack {n}", flush=True)


if __name__ == "__main__":
    main()
