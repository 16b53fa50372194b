"""Loud when a source breaks (issue 15 item 6): at the slot itself, ops hears which section is short,
which source failed, why and since when — not only after health.alert_after_failures; a source with
nothing new for health.stale_after_days is flagged; /health in the ops chat shows the board."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.chat import jobs
from sandbox import GROUP_ID, OPS_CHAT_ID

from .harness import running_bot


def break_jobs_source(h) -> None:  # type: ignore[no-untyped-def]
    h.services.publisher.config = h.config.model_copy(update={"sources": tuple(
        s.model_copy(update={"url": s.url.replace("jobs.rss", "missing.rss")}) for s in h.config.sources)})


async def test_a_source_failing_once_at_the_slot_is_reported_at_once_with_section_reason_and_since(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as h:  # alert_after_failures: 3, as shipped
        assert h.config.health.alert_after_failures == 3
        break_jobs_source(h)
        await jobs.deliver_slot(h.app, "morning")
        alert = await h.wait_for_message(OPS_CHAT_ID, lambda m: "内容不足" in (m["plain_text"] or ""))
        text = alert["plain_text"]
        assert "服务早知道 11/27" in text
        assert "• 💼 招聘信息（0/5 条）：jobs 获取失败，自 11-27 10:00 起（连续 1 次）：" in text
        assert "404" in text
        # the board in the ops chat: the failing source with since-when and why, the others working
        await h.say(204, OPS_CHAT_ID, "/health")
        board = await h.wait_for_message(OPS_CHAT_ID, lambda m: "信息源状态" in (m["plain_text"] or ""))
        assert "❌ jobs：失败 1 次，自 11-27 10:00 起：" in board["plain_text"]
        assert "✅ weather：正常" in board["plain_text"]
        # the next slot, still broken: said again, with the same since-when and the count
        h.set_time(h.clock.now() + timedelta(days=1))
        await jobs.deliver_slot(h.app, "morning")
        again = await h.wait_for_message(OPS_CHAT_ID, lambda m: "连续 2 次" in (m["plain_text"] or ""))
        assert "自 11-27 10:00 起" in again["plain_text"]


async def test_a_full_section_is_not_reported_and_health_answers_only_in_the_ops_chat(tmp_path: Path) -> None:
    async with running_bot(tmp_path, **{"health.stale_after_days": 0}) as h:
        await jobs.deliver_slot(h.app, "morning")
        await h.say(101, GROUP_ID, "/health")
        await h.say(204, OPS_CHAT_ID, "/health")
        await h.wait_for_message(OPS_CHAT_ID, lambda m: "信息源状态" in (m["plain_text"] or ""))
        assert not any("内容不足" in (m["plain_text"] or "") for m in h.messages(OPS_CHAT_ID))
        assert not any("信息源状态" in (m["plain_text"] or "") for m in h.messages(GROUP_ID))


async def test_a_stale_source_is_flagged_once(tmp_path: Path) -> None:
    # the fixture feeds' newest items are from 2022-2026; the bot's day is 2026-11-27
    async with running_bot(tmp_path, **{"health.stale_after_days": 30}) as h:
        await jobs.deliver_slot(h.app, "morning")
        alert = await h.wait_for_message(OPS_CHAT_ID, lambda m: "长时间无新内容" in (m["plain_text"] or ""))
        assert "jobs：" in alert["plain_text"] and "天没有新内容" in alert["plain_text"]
        assert "weather" not in alert["plain_text"]  # a forecast has no item dates
        h.set_time(h.clock.now() + timedelta(hours=5))
        await jobs.deliver_slot(h.app, "tea")
        await h.say(204, OPS_CHAT_ID, "/health")
        board = await h.wait_for_message(OPS_CHAT_ID, lambda m: "信息源状态" in (m["plain_text"] or ""))
        assert "🕸 jobs：" in board["plain_text"]
        flagged = [m for m in h.messages(OPS_CHAT_ID) if "长时间无新内容" in (m["plain_text"] or "") and "jobs" in m["plain_text"]]
        assert len(flagged) == 1, "a stale source is flagged once, not every slot"
