"""Webhook mode on PostgreSQL: how soon the active process handles an update a standby's endpoint took
(issue 16 item 3), against one posted to the active process's own endpoint, in one run.

Two `servicebot run` in webhook mode on one throwaway PostgreSQL (durable defaults) and the sandbox, as in
tests/standby/test_webhook_standby.py. Questions are POSTed (with the shared secret, as Telegram would) to the
standby's port and to the active's port by turns; timed from the 200 to the ticket in the database. The
standby's path adds the wait for the active process's inbox sweep (every second: about half a second on
average, a second at most).
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.common import Result, percentile
from bot.store.pg import PgStore
from bot.store.tickets import TicketStore
from sandbox import GROUP_ID
from sandbox.server import SandboxThread
from tests.chat.harness import SHANGHAI, FeedServer
from tests.chat.test_process import _free_port
from tests.chat.test_webhook import _post
from tests.pgcluster import running_cluster
from tests.standby.cluster import Standby, wait_until
from tests.standby.test_failover import TOPICS
from tests.standby.test_webhook_standby import SECRET, _health, _update

QUESTIONS = 20  # per endpoint


def run(questions: int = QUESTIONS) -> list[Result]:
    ports = [_free_port(), _free_port()]
    rnd = random.Random(16)
    via: dict[str, list[float]] = {"standby": [], "active": []}
    with tempfile.TemporaryDirectory(prefix="bench-standby-webhook-") as tmp, running_cluster(durable=True) as cluster, \
            SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        dsn = cluster.create_database()
        nodes = Standby(Path(tmp), dsn, sb.api_base, feeds.url, lease_seconds=10.0, webhook_ports=ports,
                        public_url=f"http://127.0.0.1:{ports[1]}/hook", env={"WEBHOOK_SECRET": SECRET},
                        **{"digests.morning.time": "23:58", "digests.tea.time": "23:59"})
        reader = None
        try:
            nodes.start(0)
            assert nodes.wait_active() == 0
            nodes.start(1)
            wait_until(lambda: (_health(ports[1]) or {}).get("role") == "standby", what="the standby's endpoint")
            reader = PgStore.connect(dsn, read_only=True)
            tickets = TicketStore(reader)
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            for i in range(2 * questions + 2):  # the first two warm up (the FAQ index, the first ticket)
                role, port = ("standby", ports[1]) if i % 2 else ("active", ports[0])
                update = _update(500_000 + i, f"@servicebot {TOPICS[i % len(TOPICS)]}（第{i}问）")
                body = json.dumps(update, ensure_ascii=False).encode()
                assert _post(f"http://127.0.0.1:{port}/hook", body, headers) == 200
                acked = time.perf_counter()
                message_id = update["message"]["message_id"]
                deadline = acked + 30
                while tickets.by_message(GROUP_ID, message_id) is None:
                    assert time.perf_counter() < deadline, f"question {i} via the {role} never became a ticket"
                    time.sleep(0.005)
                if i >= 2:
                    via[role].append(time.perf_counter() - acked)
                # the answer goes out before the next one; a random gap, so the posts do not fall into step
                # with the sweep's period (measured so, every one waited the same part of a second)
                time.sleep(0.2 + rnd.random())
            assert nodes.active() == 0
        finally:
            nodes.stop_all()
            if reader is not None:
                reader.close()
    standby, active = via["standby"], via["active"]
    print(f"200 -> ticket, s: via the standby {[round(t, 2) for t in standby]}; "
          f"via the active {[round(t, 2) for t in active]}")
    return [
        Result.time(f"standby webhook: 200 -> ticket p50, via the standby vs the active's own endpoint ({questions} each)",
                    percentile(standby, 50), percentile(active, 50), "s"),
        Result.time("standby webhook: 200 -> ticket max, via the standby vs the active's own endpoint",
                    max(standby), max(active), "s"),
    ]


if __name__ == "__main__":
    for r in run():
        print(r)
