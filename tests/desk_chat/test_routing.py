"""Routing at intake (issue 13, item 4): the card mentions the topic's on-duty staff at once; escalations
reach the supervisors privately too and name the owner."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bot.chat import desk_jobs
from sandbox import DEFAULT_WORLD, STAFF_CHAT_ID, Sandbox
from tests.chat.harness import SHANGHAI, running_bot
from tests.desk_chat.test_desk_flow import ask, card_of, wait_card

FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
SUPERVISOR = 204  # 赵刚, topics: []


async def test_card_mentions_the_on_duty_staff_of_the_topic_at_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        await ask(h, 101, "@servicebot 孩子幼儿园怎么报名")  # education: 王敏 (@wangmin_edu)
        card = await card_of(h, 1)
        assert "@wangmin_edu" in card["plain_text"]
        mentions = [e for e in card.get("entities", []) if e["type"] in ("mention", "text_mention")]
        assert mentions, card
        # only the topic's staff: not 李强 (medical), not the supervisor
        assert "liqiang_yb" not in card["plain_text"] and "zhaogang_lead" not in card["plain_text"]
        # claimed: the line goes (the owner is named instead); auto-assign keeps its timer meanwhile
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        claimed = await wait_card(h, 1, lambda m: "@wangmin_edu" not in m["plain_text"])
        assert "王敏" in claimed["plain_text"]


async def test_card_outside_duty_hours_mentions_nobody_and_auto_assign_still_waits(tmp_path: Path) -> None:
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)  # not a duty day
    async with running_bot(tmp_path, now=saturday) as h:
        await ask(h, 101, "@servicebot 孩子幼儿园怎么报名")
        card = await card_of(h, 1)
        assert "@wangmin_edu" not in card["plain_text"] and "值班" not in card["plain_text"]


async def test_escalation_goes_to_the_supervisor_privately_and_names_the_owner(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        await ask(h, 101, "@servicebot 孩子幼儿园怎么报名")  # first response within 60 minutes
        card = await card_of(h, 1)
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        await wait_card(h, 1, lambda m: "王敏" in m["plain_text"])
        h.set_time(datetime(2026, 11, 27, 11, 5, tzinfo=SHANGHAI))
        assert (await desk_jobs.sweep(h.app)).escalated == [1]
        esc = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("🚨"))
        assert "负责人：王敏" in esc["plain_text"] and "赵刚" in esc["plain_text"]
        private = await h.wait_for_message(SUPERVISOR, lambda m: m["plain_text"].startswith("🚨"))
        assert "#1" in private["plain_text"] and "王敏" in private["plain_text"]
        assert "幼儿园怎么报名" in private["plain_text"]


async def test_escalation_survives_a_supervisor_who_never_started_the_bot(tmp_path: Path) -> None:
    world = replace(
        DEFAULT_WORLD,
        users=tuple(replace(u, started=False) if u.id == SUPERVISOR else u for u in DEFAULT_WORLD.users),
    )
    sb = Sandbox(world, flood=False)  # private messages to the supervisor meet 403
    await sb.start()
    try:
        await _escalate_unclaimed(tmp_path, sb)
    finally:
        await sb.stop()


async def _escalate_unclaimed(tmp_path: Path, sb: Sandbox) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10, sandbox=sb) as h:
        await ask(h, 101, "@servicebot 孩子幼儿园怎么报名")
        await card_of(h, 1)
        h.set_time(datetime(2026, 11, 27, 11, 5, tzinfo=SHANGHAI))
        assert (await desk_jobs.sweep(h.app)).escalated == [1]
        esc = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("🚨"))
        assert "负责人：王敏" in esc["plain_text"]  # auto-assigned by the same sweep, then escalated
        assert [m for m in h.messages(SUPERVISOR) if m["plain_text"].startswith("🚨")] == []
