"""P1 fan-out: 100 groups x a 3-part digest through the sandbox with Telegram's limits on.

Ours: the real delivery path (bot.chat.jobs.deliver_slot -> ledger -> outbox -> python-telegram-bot
with AIORateLimiter) against the sandbox over HTTP, flood control on as Telegram's: 30 messages/s
overall, 20/minute per group, about 1/s per chat with a small burst.
Peer: the rate floor, the least time Telegram's limits allow for the same messages (N / 30 s).
Ratio = floor / ours (goal >= 0.91, i.e. within 1.10x of the floor); also 429s seen (goal 0) and
messages lost (goal 0).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import yaml

from bench.common import Result
from bot.chat import jobs
from bot.chat.app import build_application
from bot.chat.context import services_of
from bot.config import parse_config
from bot.store import Store
from bot.store.ledger import DeliveryKey
from sandbox import DEFAULT_WORLD, Sandbox
from sandbox.world import dump_world, parse_world

ROOT = Path(__file__).resolve().parents[1]
GROUPS = 100
PARTS = 3
RATE = 30.0


def _world() -> object:
    raw = yaml.safe_load(dump_world(DEFAULT_WORLD))
    for i in range(GROUPS):
        raw["chats"].append(
            {"id": -1009000000 - i, "type": "supergroup", "title": f"疏解之友 {i + 1} 群", "members": [101, 9000],
             "admins": [9000]}
        )
    return parse_world(raw, "bench world")


async def _run() -> tuple[float, int, int]:
    sandbox = Sandbox(_world())  # flood control on
    await sandbox.start()
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        data["data_dir"] = str(Path(tmp) / "data")
        data["content_dir"] = str(ROOT / "content")
        data["telegram"]["base_url"] = sandbox.api_base
        data["chats"]["groups"] = [
            {"id": -1009000000 - i, "name": f"g{i}", "digests": ["morning"]} for i in range(GROUPS)
        ]
        config = parse_config(data, "bench config")
        store = Store.open(Path(tmp) / "data")
        app = build_application(config, "9000:bench", store=store)
        async with app:
            svc = services_of(app)
            day = svc.clock.now().date()
            for g in config.chats.groups:
                parts = [f"<b>第 {n + 1} 部分</b> · {g.name}\n" + "• 示例条目\n" * 40 for n in range(PARTS)]
                svc.digest_parts.put(DeliveryKey.of(g.id, day, "morning"), parts)
            started = time.perf_counter()
            outcomes = await jobs.deliver_slot(app, "morning", day)
            elapsed = time.perf_counter() - started
        store.close()
    sent = sum(1 for c in sandbox.calls("sendMessage") if c.get("ok"))
    too_many = sum(1 for c in sandbox.calls("sendMessage") if c.get("error_code") == 429)
    await sandbox.stop()
    delivered = sum(1 for o in outcomes if o.outcome == "sent")
    return elapsed, sent, too_many, delivered


def run() -> list[Result]:
    elapsed, sent, too_many, delivered = asyncio.run(_run())
    total = GROUPS * PARTS
    floor = total / RATE
    print(f"P1: {total} messages in {elapsed:.2f} s (floor {floor:.1f} s); 429s: {too_many}; lost: {total - sent}")
    return [
        Result.time(f"P1 fan-out {GROUPS} groups x {PARTS} parts (floor = peer)", round(elapsed, 3), floor, "s"),
        Result("P1 429 responses (goal 0)", float(too_many), 0.0, "count", 1.0 if too_many == 0 else 0.0),
        Result("P1 messages lost (goal 0)", float(total - sent), 0.0, "count", 1.0 if sent == total else 0.0),
        Result.expect(f"P1 groups whose digest was sent (goal {GROUPS})", delivered, GROUPS, "groups"),
    ]
