"""`servicebot demo`: the sandbox, the sample feeds and the bot, offline, with this morning's brief posted."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bot.chat.context import services_of
from bot.chat.demo import Demo, start_demo
from sandbox import BOT_ID, GROUP_ID, STAFF_CHAT_ID
from tests.chat.harness import minutes_to_warning_time

ROOT = Path(__file__).resolve().parents[2]


async def test_demo_starts_with_the_brief_in_the_group_and_a_working_hook(tmp_path: Path) -> None:
    base = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    demo = await start_demo(base, root=ROOT, port=0, data_dir=tmp_path / "data", seed_question=False)
    try:
        posted = [m for m in demo.sandbox.messages(GROUP_ID) if m["sender_id"] == 9000]
        assert len(posted) >= 1
        text = "\n".join(m["plain_text"] for m in posted)
        assert "服务早知道" in text and "今日天气" in text and "政务要闻" in text
        assert text.count("服务早知道 ·") == 1, "the brief was posted twice"
        # local sources shaped like the real ones: the 通知公告 page (GBK) and the job table
        assert "关于2026—2027年采暖季容东片区集中供暖有关事项的通知" in text, text
        assert "招聘信息" in text and " · 容东片区管理委员会 · 容东片区（雄安人才网 · 12月1日）" in text, text
        print(text)
        # the demo-only hook: the bot's clock moves forward on request
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{demo.samples_url}/demo/clock") as r:
                before = datetime.fromisoformat((await r.json())["now"])
            async with session.post(f"{demo.samples_url}/demo/advance", json={"minutes": 90}) as r:
                after = datetime.fromisoformat((await r.json())["now"])
        assert timedelta(minutes=89) < after - before < timedelta(minutes=95)
    finally:
        await demo.stop()


async def _wait_for(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Wait for an event (a message the bot posts), not for a fixed time."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := predicate()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout}s")
        await asyncio.sleep(0.05)
    return found


async def _advance(demo: Demo, minutes: int) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.post(
        f"{demo.samples_url}/demo/advance", json={"minutes": minutes}
    ) as r:
        body: dict[str, Any] = await r.json()
        assert r.status == 200, body
        return body


def _bot_texts(demo: Demo, chat_id: int) -> list[str]:
    return [m["plain_text"] or "" for m in demo.sandbox.messages(chat_id) if m["sender_id"] == BOT_ID]


async def test_the_training_clock_runs_the_sla_sweep_at_once(tmp_path: Path) -> None:
    base = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    demo = await start_demo(base, root=ROOT, port=0, data_dir=tmp_path / "data", seed_question=True)
    try:
        card = await _wait_for(lambda: [t for t in _bot_texts(demo, STAFF_CHAT_ID) if "#1" in t], "the staff card")
        assert card
        svc = services_of(demo.app)
        ticket = svc.desk.get(1)
        # to 20 service minutes before the first-response deadline: inside the 30-minute warning, before
        # escalation, and while the desk is open
        minutes = minutes_to_warning_time(svc, ticket.first_response_due)
        answer = await _advance(demo, minutes)
        # no waiting: the warning is in the staff chat when the clock panel gets its answer
        warnings = [t for t in _bot_texts(demo, STAFF_CHAT_ID) if t.startswith("⏰") and "#1" in t and "到期" in t]
        assert len(warnings) == 1, _bot_texts(demo, STAFF_CHAT_ID)[-3:]
        assert not [t for t in _bot_texts(demo, STAFF_CHAT_ID) if t.startswith("🚨")]
        assert "desk-sweep" in answer["ran"]
    finally:
        await demo.stop()


async def test_moving_the_clock_past_a_slot_posts_that_digest_on_the_bot_day(tmp_path: Path) -> None:
    base = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    demo = await start_demo(base, root=ROOT, port=0, data_dir=tmp_path / "data", seed_question=False)
    try:
        svc = services_of(demo.app)
        now = svc.clock.now()
        tomorrow = now.date() + timedelta(days=1)
        morning = datetime.combine(tomorrow, time(8, 5), tzinfo=svc.config.tz)
        answer = await _advance(demo, math.ceil((morning - now).total_seconds() / 60))
        title = f"服务早知道 · {tomorrow.month}月{tomorrow.day}日"
        briefs = [m for m in demo.sandbox.messages(GROUP_ID) if title in (m["plain_text"] or "")]
        assert len(briefs) == 1, [t[:30] for t in _bot_texts(demo, GROUP_ID)]
        # the sandbox's message times follow the training clock: the brief is dated tomorrow morning
        posted = datetime.fromtimestamp(briefs[0]["date"], svc.config.tz)
        assert posted.date() == tomorrow and posted.time() >= time(8, 0), posted
        assert "digest:morning" in answer["ran"]

        tea_at = datetime.combine(tomorrow, time(15, 5), tzinfo=svc.config.tz)
        answer = await _advance(demo, math.ceil((tea_at - svc.clock.now()).total_seconds() / 60))
        tea = f"生活下午茶 · {tomorrow.month}月{tomorrow.day}日"
        assert sum(tea in t for t in _bot_texts(demo, GROUP_ID)) == 1
        assert answer["ran"].count("digest:tea") == 1 and "digest:morning" not in answer["ran"]
    finally:
        await demo.stop()


async def test_the_clock_refuses_to_move_back_or_by_nonsense(tmp_path: Path) -> None:
    base = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    demo = await start_demo(base, root=ROOT, port=0, data_dir=tmp_path / "data", seed_question=False)
    try:
        before = services_of(demo.app).clock.offset
        async with aiohttp.ClientSession() as session:
            for minutes in (-60, 0, "x", 10081):
                async with session.post(f"{demo.samples_url}/demo/advance", json={"minutes": minutes}) as r:
                    assert r.status == 400
                    assert "minutes" in (await r.json())["description"]
        assert services_of(demo.app).clock.offset == before
    finally:
        await demo.stop()
