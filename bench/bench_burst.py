"""P5 burst: 30 questions in one group within 10 s while a 3-part digest is posted there.

Ours: the real Application polling the sandbox with Telegram's flood limits on (20 messages a minute per
group, about one a second per chat), the group budget (bot/chat/outbox.py) and burst-aware
acknowledgements (bot/chat/burst.py). Peer, in the same run: today's behaviour before issue 13 item 3 —
one promise and one card per question, the budget never short (python-telegram-bot's limiter only).
Figures: when every asker sees an acknowledgement of their own question (a reply to it, or a mention of
them; goal <= 20 s), 429 responses (goal 0), digest complete, all cards (or the list of the burst's
tickets) in the staff chat (goal <= 60 s), messages in the group.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import Result
from bot.chat import jobs
from bot.chat.burst import acknowledger_of
from bot.chat.context import services_of
from bot.chat.outbox import GroupBudget
from bot.store.ledger import DeliveryKey
from sandbox import DEFAULT_WORLD, GROUP_ID, STAFF_CHAT_ID, Sandbox
from sandbox.world import User
from tests.chat.harness import SHANGHAI, running_bot

QUESTIONS = 30
SPREAD = 10.0  # seconds
PARTS = 3
BOT = 9000
ASKERS = list(range(1001, 1001 + QUESTIONS))
TEXTS = ("孩子转学需要什么材料？", "公积金怎么提取？", "医保怎么转移接续？", "雄才卡在哪里办理？", "住房补贴怎么申请？")


def _world() -> Any:
    users = (*DEFAULT_WORLD.users, *(User(u, f"居民{u - 1000}") for u in ASKERS))
    chats = tuple(
        dataclasses.replace(c, members=(*c.members, *ASKERS)) if c.id == GROUP_ID else c for c in DEFAULT_WORLD.chats
    )
    return dataclasses.replace(DEFAULT_WORLD, users=users, chats=chats)


def _acknowledges(m: dict[str, Any], question: int, asker: int) -> bool:
    if m["sender_id"] != BOT:
        return False
    if m["reply_to_message_id"] == question:
        return True
    return any(e["type"] == "text_mention" and e.get("user", {}).get("id") == asker for e in m["entities"])


async def _once(batching: bool) -> dict[str, float]:
    sandbox = Sandbox(_world())  # flood control on, as Telegram's
    await sandbox.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            now = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
            async with running_bot(Path(tmp), now=now, sandbox=sandbox) as h:
                svc = services_of(h.app)
                if not batching:  # today's: a promise and a card per question, never a short budget
                    acknowledger_of(svc).enabled = False
                    svc.outbox.budget = GroupBudget(per_minute=10**6, burst="1000000/1 second")
                day = svc.clock.now().date()
                svc.digest_parts.put(
                    DeliveryKey.of(GROUP_ID, day, "morning"),
                    [f"<b>服务早知道（{n + 1}/{PARTS}）</b>\n" + "• 示例条目\n" * 30 for n in range(PARTS)],
                )
                started = time.perf_counter()
                asked: list[tuple[int, int, float]] = []
                seen: dict[int, float] = {}
                cards_at: float | None = None

                async def ask_all() -> None:
                    for i, user in enumerate(ASKERS):
                        at = started + i * SPREAD / QUESTIONS
                        await asyncio.sleep(max(0.0, at - time.perf_counter()))
                        q = sandbox.send_user_message(user, GROUP_ID, f"@servicebot {TEXTS[i % len(TEXTS)]}（{i}）")
                        asked.append((q["message_id"], user, time.perf_counter()))

                async def digest() -> list[Any]:
                    await asyncio.sleep(1.0)
                    return await jobs.deliver_slot(h.app, "morning", day)

                async def watch() -> None:
                    nonlocal cards_at
                    while time.perf_counter() - started < 120:
                        group = sandbox.messages(GROUP_ID)
                        for qid, user, at in asked:
                            if qid not in seen and any(_acknowledges(m, qid, user) for m in group):
                                seen[qid] = time.perf_counter() - at
                        staff = " ".join(m["plain_text"] or "" for m in sandbox.messages(STAFF_CHAT_ID))
                        if cards_at is None and len(asked) == QUESTIONS and all(
                            f"#{n} " in staff for n in range(1, QUESTIONS + 1)
                        ):
                            cards_at = time.perf_counter() - started
                        if len(seen) == QUESTIONS and cards_at is not None:
                            return
                        await asyncio.sleep(0.05)

                _, outcomes, _ = await asyncio.gather(ask_all(), digest(), watch())
                await acknowledger_of(svc).drain()
                parts = [
                    m for m in sandbox.messages(GROUP_ID) if m["sender_id"] == BOT and "服务早知道（" in (m["plain_text"] or "")
                ]
                group_msgs = sum(1 for m in sandbox.messages(GROUP_ID) if m["sender_id"] == BOT)
        too_many = sum(1 for c in sandbox.calls() if c.get("error_code") == 429)
    finally:
        await sandbox.stop()
    return {
        "ack_max": max(seen.values()) if len(seen) == QUESTIONS else 120.0,  # not within the watch (120 s)
        "acked": float(len(seen)),
        "too_many": float(too_many),
        "digest_parts": float(len(parts)),
        "digest_sent": float(sum(1 for o in outcomes if o.outcome == "sent")),
        "cards_at": cards_at if cards_at is not None else 120.0,  # not within the watch (120 s)
        "group_messages": float(group_msgs),
    }


def run() -> list[Result]:
    ours = asyncio.run(_once(batching=True))
    peer = asyncio.run(_once(batching=False))
    print(f"P5 ours: {ours}\nP5 peer (one promise per question): {peer}")
    return [
        Result.time("P5 last asker acknowledged, s (goal <= 20)", round(ours["ack_max"], 2), round(peer["ack_max"], 2), "s"),
        Result("P5 429 responses (goal 0)", ours["too_many"], peer["too_many"], "count", 1.0 if ours["too_many"] == 0 else 0.0),
        Result.expect(f"P5 digest parts posted (goal {PARTS})", ours["digest_parts"], PARTS, "parts"),
        Result.time("P5 all tickets in the staff chat, s (goal <= 60)", round(ours["cards_at"], 2), round(peer["cards_at"], 2), "s"),
        Result.time("P5 bot messages in the group", ours["group_messages"], peer["group_messages"], "messages"),
    ]
