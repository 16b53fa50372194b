"""P1 fan-out: 100 groups x a 3-part digest, then 500 members' private copies, through the sandbox
with Telegram's limits on.

Ours: the real delivery path (bot.chat.jobs.deliver_slot -> ledger -> outbox -> python-telegram-bot
with AIORateLimiter) against the sandbox over HTTP, flood control on as Telegram's: 30 messages/s
overall, 20/minute per group, about 1/s per chat with a small burst. Then the slot's private copies
(bot.chat.copies.send_copies: 500 subscribers x a 3-part copy, each a ledger delivery, one part a
second per member's chat), as the copies job sends them once the groups are done.
Peer: the rate floor, the least time Telegram's limits allow for the same messages (N / 30 s).
Ratio = floor / ours (goal >= 0.91, i.e. within 1.10x of the floor), for the groups alone and for the
groups and copies together; also 429s seen (goal 0), messages lost (goal 0), and the groups' digests
all out before the first copy (groups first).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.common import Result
from bot.chat import copies, jobs
from bot.chat.app import build_application
from bot.chat.context import services_of
from bot.config import parse_config
from bot.store import Store
from bot.store.ledger import DeliveryKey
from bot.store.subscribers import CopyRun, CopyRuns, Edition, Subscribers, Subscription
from sandbox import DEFAULT_WORLD, Sandbox
from sandbox.world import dump_world, parse_world

ROOT = Path(__file__).resolve().parents[1]
GROUPS = 100
PARTS = 3
MEMBERS = 500
RATE = 30.0
MEMBER_IDS = [7_000_001 + i for i in range(MEMBERS)]


def _world() -> object:
    raw = yaml.safe_load(dump_world(DEFAULT_WORLD))
    for i in range(GROUPS):
        raw["chats"].append(
            {"id": -1009000000 - i, "type": "supergroup", "title": f"疏解之友 {i + 1} 群", "members": [101, 9000],
             "admins": [9000]}
        )
    raw["users"] += [{"id": uid, "first_name": f"居民{i + 1}"} for i, uid in enumerate(MEMBER_IDS)]
    return parse_world(raw, "bench world")


@dataclass
class Figures:
    groups_s: float = 0.0
    total_s: float = 0.0
    group_sent: int = 0
    copies_sent: int = 0
    too_many: int = 0
    delivered: int = 0
    members_served: int = 0
    groups_first: bool = False


async def _run() -> Figures:
    fig = Figures()
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
            # the members and the slot's run as the groups' delivery prepares it (no sources fetched here)
            subscribers = Subscribers(store)
            with store.batch():
                for uid in MEMBER_IDS:
                    subscribers.put(Subscription(uid, {"morning": ("policy", "jobs")}, "zh"))
            copy = [f"<b>第 {n + 1} 部分</b> · 私信副本\n" + "• 示例条目\n" * 30 for n in range(PARTS)]
            CopyRuns(store).put(CopyRun(day.isoformat(), "morning", {"jobs,policy": Edition(copy)},
                                        [(uid, "jobs,policy") for uid in MEMBER_IDS]))
            started = time.perf_counter()
            outcomes = await jobs.deliver_slot(app, "morning", day)
            fig.groups_s = time.perf_counter() - started
            counts = await copies.send_copies(svc, "morning", day)
            fig.total_s = time.perf_counter() - started
            fig.members_served = sum(
                1 for uid in MEMBER_IDS if svc.ledger.outcome(DeliveryKey.of(uid, day, "morning")) == "sent"
            )
            log_counts = dict(counts)
        store.close()
    calls = sandbox.calls("sendMessage")
    ok = [c for c in calls if c.get("ok")]
    fig.group_sent = sum(1 for c in ok if int(c["params"]["chat_id"]) < 0)
    fig.copies_sent = sum(1 for c in ok if int(c["params"]["chat_id"]) > 0)
    fig.too_many = sum(1 for c in calls if c.get("error_code") == 429)
    group_times = [c["time"] for c in ok if int(c["params"]["chat_id"]) < 0]
    copy_times = [c["time"] for c in ok if int(c["params"]["chat_id"]) > 0]
    fig.groups_first = bool(group_times and copy_times) and max(group_times) <= min(copy_times)
    await sandbox.stop()
    fig.delivered = sum(1 for o in outcomes if o.outcome == "sent")
    print(f"P1 copies: {log_counts}")
    return fig


def run() -> list[Result]:
    fig = asyncio.run(_run())
    total = GROUPS * PARTS
    floor = total / RATE
    copies_total = MEMBERS * PARTS
    floor_all = (total + copies_total) / RATE
    print(f"P1: {total} messages in {fig.groups_s:.2f} s (floor {floor:.1f} s); with {copies_total} private copy "
          f"parts {fig.total_s:.2f} s (floor {floor_all:.1f} s, {fig.total_s / floor_all:.3f}x); 429s: {fig.too_many}; "
          f"lost: {total - fig.group_sent} + {copies_total - fig.copies_sent}")
    return [
        Result.time(f"P1 fan-out {GROUPS} groups x {PARTS} parts (floor = peer)", round(fig.groups_s, 3), floor, "s"),
        Result.time(f"P1 + {MEMBERS} private copies x {PARTS} parts, in all (floor = peer)", round(fig.total_s, 3),
                    floor_all, "s"),
        Result("P1 429 responses (goal 0)", float(fig.too_many), 0.0, "count", 1.0 if fig.too_many == 0 else 0.0),
        Result("P1 messages lost (goal 0)", float(total + copies_total - fig.group_sent - fig.copies_sent), 0.0,
               "count", 1.0 if fig.group_sent == total and fig.copies_sent == copies_total else 0.0),
        Result.expect(f"P1 groups whose digest was sent (goal {GROUPS})", fig.delivered, GROUPS, "groups"),
        Result.expect(f"P1 members whose copy was sent (goal {MEMBERS})", fig.members_served, MEMBERS, "members"),
        Result.expect("P1 groups' digests all out before the first copy (goal 1)", int(fig.groups_first), 1, "yes"),
    ]
