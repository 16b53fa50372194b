"""`servicebot demo`: the sandbox, the sample feeds and the bot, offline, with this morning's brief posted."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import yaml

from bot.chat.demo import start_demo
from sandbox import GROUP_ID

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
        # the demo-only hook: the bot's clock moves forward on request
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{demo.samples_url}/demo/clock") as r:
                before = datetime.fromisoformat((await r.json())["now"])
            async with session.post(f"{demo.samples_url}/demo/advance", json={"minutes": 90}) as r:
                after = datetime.fromisoformat((await r.json())["now"])
        assert timedelta(minutes=89) < after - before < timedelta(minutes=95)
    finally:
        await demo.stop()
