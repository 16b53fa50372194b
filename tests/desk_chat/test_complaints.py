"""Complaints and a published human path (issue 13, item 6): service.hotline in /help and under every
automated answer; /complain and the 投诉 button under an answer open a complaint for the supervisors (not
the question's owner) with its own deadline, audit and outcome, counted in /stats and the weekly report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.chat import desk_jobs
from bot.tickets.model import EventKind, Kind, Status
from sandbox import GROUP_ID, STAFF_CHAT_ID
from tests.chat.harness import SHANGHAI, running_bot
from tests.desk_chat.test_desk_flow import BOT, ask, buttons, card_of, wait_card

FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
HOTLINE = "0312-5550100"
SUPERVISOR = 204  # 赵刚


async def test_hotline_in_help_and_under_the_automated_answer(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10, **{"service.hotline": HOTLINE}) as h:
        q = await h.say(101, GROUP_ID, "/help")
        helped = await h.wait_for_message(GROUP_ID, lambda m: m["reply_to_message_id"] == q["message_id"])
        assert f"人工热线：{HOTLINE}" in helped["plain_text"] and "/complain" in helped["plain_text"]
        _, promise = await ask(h, 105, "@servicebot 孩子上学要什么材料")  # an FAQ entry fits
        faq_line = promise["plain_text"].splitlines()[0]
        assert faq_line.startswith("💡") and f"人工热线：{HOTLINE}" in faq_line


async def test_hotline_in_english(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10, language="en", **{"service.hotline": HOTLINE}) as h:
        await h.say(101, 101, "/help")
        helped = await h.wait_for_message(101, lambda m: m["plain_text"].startswith("How to use"))
        assert f"Hotline: {HOTLINE}" in helped["plain_text"]


async def test_complain_goes_to_the_supervisors_with_its_own_deadline_and_outcome(tmp_path: Path) -> None:
    overrides = {"service.hotline": HOTLINE, "service.complaint": {"first_response_minutes": 30,
                                                                   "resolution_minutes": 240}}
    async with running_bot(tmp_path, now=FRIDAY_10, **overrides) as h:
        # a question, claimed and answered by 王敏
        await ask(h, 101, "@servicebot 孩子幼儿园怎么报名")
        card = await card_of(h, 1)
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        await wait_card(h, 1, lambda m: "王敏" in m["plain_text"])
        await h.say(201, STAFF_CHAT_ID, "请到街道办报名", reply_to_message_id=card["message_id"])
        answer = await h.wait_for_message(GROUP_ID, lambda m: m["sender_id"] == BOT and "街道办" in m["plain_text"])
        assert buttons(answer) == ["cp:1"]  # 投诉 under the answer

        # /complain about #1: a complaint ticket, linked, for the supervisors
        c = await h.say(101, GROUP_ID, "/complain #1 答复太简单，没说需要什么材料")
        ack = await h.wait_for_message(GROUP_ID, lambda m: m["reply_to_message_id"] == c["message_id"])
        assert "已收到您的投诉 #2" in ack["plain_text"] and "10:30" in ack["plain_text"]
        t = h.services.desk.get(2)
        assert t.kind is Kind.COMPLAINT and t.about == 1 and t.owner_id is None
        assert any(e.kind is EventKind.COMPLAINED for e in h.services.desk.get(1).events)
        ccard = await card_of(h, 2)
        assert "投诉" in ccard["plain_text"] and "@zhaogang_lead" in ccard["plain_text"]
        assert "关于：#1" in ccard["plain_text"]
        assert "wangmin_edu" not in ccard["plain_text"]  # not the question's owner
        private = await h.wait_for_message(SUPERVISOR, lambda m: m["plain_text"].startswith("📣 投诉 #2"))
        assert "没说需要什么材料" in private["plain_text"]

        # never auto-assigned; the owner of #1 cannot close it; only a supervisor, with an outcome
        h.set_time(datetime(2026, 11, 27, 10, 20, tzinfo=SHANGHAI))
        assert 2 not in (await desk_jobs.sweep(h.app)).assigned
        r = await h.say(201, STAFF_CHAT_ID, "/resolve 2 已补充说明")
        refusal = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["reply_to_message_id"] == r["message_id"])
        assert "主管" in refusal["plain_text"]
        assert h.services.desk.get(2).status is not Status.CLOSED
        r = await h.say(SUPERVISOR, STAFF_CHAT_ID, "/resolve 2 已电话联系家长并补充材料清单")
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("✅ 投诉 #2 已办结"))
        told = await h.wait_for_message(GROUP_ID, lambda m: "您的投诉 #2 已办结" in m["plain_text"])
        assert "已电话联系家长" in told["plain_text"] and told["reply_to_message_id"] == c["message_id"]
        t = h.services.desk.get(2)
        assert t.status is Status.CLOSED and t.outcome == "已电话联系家长并补充材料清单"
        # the audit trail; its own first-response deadline (10:30) was warned of at 10:20
        assert [e.kind for e in t.events] == [EventKind.CREATED, EventKind.WARNED, EventKind.CLOSED]
        assert t.events[-1].actor_id == SUPERVISOR and t.events[-1].details["outcome"] == t.outcome
        await wait_card(h, 2, lambda m: "处理结果：已电话联系家长" in m["plain_text"])

        # counted in /stats (and so in the weekly report), apart from the questions
        s = await h.say(201, STAFF_CHAT_ID, "/stats")
        stats = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["reply_to_message_id"] == s["message_id"])
        assert "投诉：1 件（已办结 1，按时办结 100%）" in stats["plain_text"]
        await desk_jobs.weekly_report(h.app)
        weekly = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("📊 服务周报"))
        assert "投诉：1 件（已办结 1，按时办结 100%）" in weekly["plain_text"]
        assert "答复太简单" not in weekly["plain_text"]  # a complaint is not one of the most asked questions


async def test_complain_button_under_the_answer_is_the_askers_only(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        await ask(h, 101, "@servicebot 公积金提取需要什么材料")
        card = await card_of(h, 1)
        await h.say(203, STAFF_CHAT_ID, "带身份证到柜台", reply_to_message_id=card["message_id"])
        answer = await h.wait_for_message(GROUP_ID, lambda m: m["sender_id"] == BOT and "柜台" in m["plain_text"])
        await h.press(102, GROUP_ID, answer["message_id"], "cp:1")  # a bystander
        await h.wait_for_message(GROUP_ID, lambda m: m["message_id"] == answer["message_id"] and m["callback_answers"])
        assert h.services.desk.repo.get(2) is None
        await h.press(101, GROUP_ID, answer["message_id"], "cp:1")
        await h.wait_for_message(
            GROUP_ID, lambda m: m["message_id"] == answer["message_id"] and len(m["callback_answers"]) == 2
        )
        t = h.services.desk.get(2)
        assert t.kind is Kind.COMPLAINT and t.about == 1 and t.asker_id == 101
        ccard = await card_of(h, 2)
        assert "@zhaogang_lead" in ccard["plain_text"] and "zhangli_gjj" not in ccard["plain_text"]
        await h.press(101, GROUP_ID, answer["message_id"], "cp:1")  # twice: still one complaint
        await h.wait_for_message(
            GROUP_ID, lambda m: m["message_id"] == answer["message_id"] and len(m["callback_answers"]) == 3
        )
        assert h.services.desk.repo.get(3) is None


async def test_complain_without_text_gets_the_usage(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10, language="en") as h:
        c = await h.say(101, GROUP_ID, "/complain")
        usage = await h.wait_for_message(GROUP_ID, lambda m: m["reply_to_message_id"] == c["message_id"])
        assert usage["plain_text"].startswith("Usage: /complain")
