"""The whole desk loop through the real Application and the sandbox (issue 4, "Done when")."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.chat import desk_jobs
from bot.tickets.model import Status
from sandbox import GROUP_ID, OPS_CHAT_ID, STAFF_CHAT_ID
from tests.chat.harness import SHANGHAI, Harness, running_bot

BOT = 9000
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


def buttons(m: dict[str, Any]) -> list[str]:
    rows = (m.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b.get("callback_data") for row in rows for b in row]


async def card_of(h: Harness, number: int) -> dict[str, Any]:
    return await h.wait_for_message(
        STAFF_CHAT_ID, lambda m: m["sender_id"] == BOT and m["plain_text"].startswith(f"#{number} ")
    )


async def wait_card(h: Harness, number: int, pred: Any) -> dict[str, Any]:
    return await h.wait_for_message(
        STAFF_CHAT_ID,
        lambda m: m["sender_id"] == BOT and m["plain_text"].startswith(f"#{number} ") and pred(m),
    )


async def ask(h: Harness, user: int, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    q = await h.say(user, GROUP_ID, text)
    promise = await h.wait_for_message(
        GROUP_ID, lambda m: m["sender_id"] == BOT and m["reply_to_message_id"] == q["message_id"]
    )
    return q, promise


async def test_the_whole_loop(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        q, promise = await ask(h, 101, "@servicebot 我家孩子从北京转学到雄安的小学，学籍怎么转接，谁来负责？")
        # the promise and the complete checklist, in one quiet reply to the question
        assert "已受理 #1" in promise["plain_text"] and "子女入学" in promise["plain_text"]
        assert "预计 11:00 前答复" in promise["plain_text"]
        assert "一次性告知" in promise["plain_text"] and "所需材料" in promise["plain_text"]
        assert "咨询电话" in promise["plain_text"]
        assert promise["disable_notification"] is True

        card = await card_of(h, 1)
        assert "郭超" in card["plain_text"] and "雄安-疏解之友" in card["plain_text"]
        assert "学籍怎么转接" in card["plain_text"]
        assert f"https://t.me/c/1001/{q['message_id']}" in card["text"]
        assert "tk:claim:1" in buttons(card)

        # 王敏 claims; the card is edited in place (never reposted) and keeps its buttons
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        card = await wait_card(h, 1, lambda m: "王敏" in m["plain_text"])
        assert "tk:close:1" in buttons(card) and "tk:claim:1" not in buttons(card)
        assert len([m for m in h.messages(STAFF_CHAT_ID) if m["plain_text"].startswith("#1 ")]) == 1

        # 李强 cannot answer (首问负责)
        other = await h.say(202, STAFF_CHAT_ID, "我来回答吧", reply_to_message_id=card["message_id"])
        refusal = await h.wait_for_message(
            STAFF_CHAT_ID, lambda m: m["reply_to_message_id"] == other["message_id"]
        )
        assert "首问负责" in refusal["plain_text"]
        assert h.services.desk.get(1).answers == []

        # the owner answers: the group shows it as a reply to the question, signed
        ans = await h.say(
            201, STAFF_CHAT_ID, "请携带学籍号到转入学校办理 <转接>", reply_to_message_id=card["message_id"]
        )
        relayed = await h.wait_for_message(
            GROUP_ID, lambda m: m["sender_id"] == BOT and "学籍号到转入学校" in m["plain_text"]
        )
        assert relayed["reply_to_message_id"] == q["message_id"]
        assert "王敏" in relayed["plain_text"] and "<转接>" in relayed["plain_text"]
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["reply_to_message_id"] == ans["message_id"])
        card = await wait_card(h, 1, lambda m: "已答复" in m["plain_text"])
        assert h.services.desk.get(1).answers[0].message_id == relayed["message_id"]
        # and privately to the asker, who has a private chat with the bot
        await h.wait_for_message(101, lambda m: "#1" in m["plain_text"] and "学籍号" in m["plain_text"])

        # close -> rating buttons under the question in the group
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "tk:close:1")
        rating = await h.wait_for_message(GROUP_ID, lambda m: "rate:1:unsatisfied" in buttons(m))
        assert rating["reply_to_message_id"] == q["message_id"]
        await wait_card(h, 1, lambda m: "已办结" in m["plain_text"] and not buttons(m))

        # a bystander's 不满意 is refused with an alert and changes nothing
        await h.press(102, GROUP_ID, rating["message_id"], "rate:1:unsatisfied")
        alert = await h.wait_for_message(
            GROUP_ID, lambda m: m["message_id"] == rating["message_id"] and m["callback_answers"]
        )
        assert alert["callback_answers"][-1]["show_alert"] is True
        assert "仅提问人" in alert["callback_answers"][-1]["text"]
        assert h.services.desk.get(1).status is Status.CLOSED

        # the asker's 不满意 reopens it and tells the supervisor
        await h.press(101, GROUP_ID, rating["message_id"], "rate:1:unsatisfied")
        await h.wait_for_message(
            STAFF_CHAT_ID, lambda m: "不满意" in m["plain_text"] and "赵刚" in m["plain_text"]
        )
        t = h.services.desk.get(1)
        assert t.status is Status.CLAIMED and t.reopened == 1
        await wait_card(h, 1, lambda m: "办理中" in m["plain_text"] and "tk:close:1" in buttons(m))

        # /ticket shows the history from the audit events
        cmd = await h.say(204, STAFF_CHAT_ID, "/ticket 1")
        hist = await h.wait_for_message(
            STAFF_CHAT_ID, lambda m: m["reply_to_message_id"] == cmd["message_id"]
        )
        for word in ("提问", "认领 · 王敏", "答复 · 王敏", "关闭", "评价 · 郭超：不满意", "重新打开"):
            assert word in hist["plain_text"], word


async def test_chatter_is_neither_answered_nor_stored(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        chatter = await h.say(103, GROUP_ID, "今天雄安的天气真不错呀大家好")
        glued = await h.say(104, GROUP_ID, "请问@servicebot医保怎么转移接续")  # no entity: glued to Chinese
        promise = await h.wait_for_message(
            GROUP_ID, lambda m: m["sender_id"] == BOT and m["reply_to_message_id"] == glued["message_id"]
        )
        assert "已受理 #1" in promise["plain_text"]
        await h.settle()
        assert not [m for m in h.messages(GROUP_ID) if m["reply_to_message_id"] == chatter["message_id"]]
        h.store.flush()
        stored = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
        assert "医保怎么转移接续".encode() in stored  # the question is stored...
        assert "天气真不错".encode() not in stored  # ...the chatter is not
        assert h.services.desk.repo.by_message(GROUP_ID, chatter["message_id"]) is None


async def test_faq_offer_and_solved_by_the_asker_only(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        _, promise = await ask(h, 105, "@servicebot 孩子上学要什么材料")
        assert promise["plain_text"].startswith("💡 子女入学需要准备哪些材料？一般需要")
        assert buttons(promise) == ["faq:ok:1", "faq:human:1"]
        await h.press(106, GROUP_ID, promise["message_id"], "faq:ok:1")
        await h.wait_for_message(
            GROUP_ID, lambda m: m["message_id"] == promise["message_id"] and m["callback_answers"]
        )
        assert h.services.desk.get(1).status is Status.OPEN  # a bystander's tap counts for nothing
        await h.press(105, GROUP_ID, promise["message_id"], "faq:ok:1")
        done = await h.wait_for_message(
            GROUP_ID,
            lambda m: (
                m["message_id"] == promise["message_id"] and "✅ 已解决（自助）" in m["plain_text"]
            ),
        )
        assert not buttons(done)
        assert h.services.desk.get(1).status is Status.CLOSED
        await wait_card(h, 1, lambda m: "已办结" in m["plain_text"])


async def test_forged_button_for_another_ticket_is_refused_by_the_desk(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        await ask(h, 101, "@servicebot 公积金怎么异地转移")
        await ask(h, 102, "@servicebot 雄才卡在哪里办理")
        card1, card2 = await card_of(h, 1), await card_of(h, 2)
        await h.press(203, STAFF_CHAT_ID, card1["message_id"], "tk:claim:1")
        await wait_card(h, 1, lambda m: "张丽" in m["plain_text"])
        # a modified client puts ticket #1's data on ticket #2's card (Telegram would pass it through)
        rec = h.sandbox.core._find(STAFF_CHAT_ID, card2["message_id"])
        assert rec is not None
        rec.reply_markup = {
            "inline_keyboard": [
                [{"text": "x", "callback_data": "tk:close:1"}, {"text": "y", "callback_data": "tk:to:1:202"}]
            ]
        }
        await h.press(201, STAFF_CHAT_ID, card2["message_id"], "tk:close:1")
        await h.press(201, STAFF_CHAT_ID, card2["message_id"], "tk:to:1:202")
        await h.wait_for_message(
            STAFF_CHAT_ID,
            lambda m: m["message_id"] == card2["message_id"] and len(m["callback_answers"]) == 2,
        )
        answers = h.sandbox.core._find(STAFF_CHAT_ID, card2["message_id"]).callback_answers  # type: ignore[union-attr]
        assert all(a["show_alert"] and "张丽" in a["text"] for a in answers)
        t = h.services.desk.get(1)
        assert t.status is Status.CLAIMED and t.owner_id == 203
        # and a member pressing staff buttons is not staff
        await h.press(201, STAFF_CHAT_ID, card1["message_id"], "tk:note:1")  # any staff may add a note
        prompt = await h.wait_for_message(
            STAFF_CHAT_ID, lambda m: "内部备注" in m["plain_text"] and m["sender_id"] == BOT
        )
        await h.say(201, STAFF_CHAT_ID, "已电话联系，待回电", reply_to_message_id=prompt["message_id"])
        await wait_card(h, 1, lambda m: "已电话联系" in m["plain_text"])
        assert "已电话联系" not in "".join(m["plain_text"] or "" for m in h.messages(GROUP_ID))


async def test_transfer_names_the_new_owner_and_a_reason(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        await ask(h, 101, "@servicebot 医保报销怎么办")
        card = await card_of(h, 1)
        await h.press(202, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        await wait_card(h, 1, lambda m: "李强" in m["plain_text"])
        await h.press(202, STAFF_CHAT_ID, card["message_id"], "tk:xfer:1")
        card = await wait_card(h, 1, lambda m: "tk:to:1:203" in buttons(m))
        assert "tk:to:1:202" not in buttons(card)
        await h.press(202, STAFF_CHAT_ID, card["message_id"], "tk:to:1:203")
        prompt = await h.wait_for_message(STAFF_CHAT_ID, lambda m: "转交给 张丽" in m["plain_text"])
        await h.say(202, STAFF_CHAT_ID, "涉及住房公积金", reply_to_message_id=prompt["message_id"])
        await wait_card(h, 1, lambda m: "张丽" in m["plain_text"] and "tk:close:1" in buttons(m))
        ev = next(e for e in h.services.desk.get(1).events if e.kind.value == "transferred")
        assert ev.details["to_id"] == 203 and ev.details["reason"] == "涉及住房公积金" and ev.actor_id == 202


async def test_sla_warning_and_escalation_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        await ask(h, 101, "@servicebot 孩子幼儿园怎么报名")  # education: first response within 60 minutes
        await card_of(h, 1)
        card = await card_of(h, 1)
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        await wait_card(h, 1, lambda m: "王敏" in m["plain_text"])
        h.set_time(datetime(2026, 11, 27, 10, 20, tzinfo=SHANGHAI))
        assert (await desk_jobs.sweep(h.app)).warned == []
        h.set_time(datetime(2026, 11, 27, 10, 35, tzinfo=SHANGHAI))
        assert (await desk_jobs.sweep(h.app)).warned == [1]
        warn = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("⏰"))
        assert "王敏" in warn["plain_text"] and "11:00" in warn["plain_text"]
        assert "tg://user?id=201" in warn["text"]
        assert (await desk_jobs.sweep(h.app)).warned == []  # once
        h.set_time(datetime(2026, 11, 27, 11, 5, tzinfo=SHANGHAI))
        assert (await desk_jobs.sweep(h.app)).escalated == [1]
        esc = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("🚨"))
        assert "赵刚" in esc["plain_text"] and esc["reply_to_message_id"] == card["message_id"]
        assert (await desk_jobs.sweep(h.app)).escalated == []
    # a restart reads the flags from the store: nothing is repeated
    async with running_bot(tmp_path, now=datetime(2026, 11, 27, 11, 10, tzinfo=SHANGHAI)) as h2:
        again = await desk_jobs.sweep(h2.app)
        assert again.warned == [] and again.escalated == []


async def test_auto_assign_tells_the_assignee(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        await ask(h, 112, "@servicebot 公积金提取需要什么材料")
        await card_of(h, 1)
        h.set_time(datetime(2026, 11, 27, 10, 16, tzinfo=SHANGHAI))
        assert (await desk_jobs.sweep(h.app)).assigned == [1]
        await wait_card(h, 1, lambda m: "张丽（自动分配）" in m["plain_text"])
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("📌"))


async def test_answer_to_asker_without_private_chat_and_reply_command(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        q, _ = await ask(h, 112, "@servicebot 社保卡丢了怎么补办")
        await card_of(h, 1)
        cmd = await h.say(202, STAFF_CHAT_ID, "/reply 1 带身份证到社保大厅补办")
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["reply_to_message_id"] == cmd["message_id"])
        relayed = await h.wait_for_message(GROUP_ID, lambda m: "社保大厅补办" in m["plain_text"])
        assert relayed["reply_to_message_id"] == q["message_id"]
        # 112 never started the bot: the 403 is not an error anyone hears about
        await h.settle()
        assert not [m for m in h.messages(OPS_CHAT_ID) if "112" in (m["plain_text"] or "")]
        # the asker replies to the answer: a follow-up to the staff, the ticket reopened
        await h.say(112, GROUP_ID, "还需要照片吗？", reply_to_message_id=relayed["message_id"])
        await h.wait_for_message(
            STAFF_CHAT_ID, lambda m: "追问" in m["plain_text"] and "照片" in m["plain_text"]
        )
        assert h.services.desk.get(1).status is Status.CLAIMED
        assert h.services.desk.repo.next_number() == 2  # no new ticket


async def test_staff_commands_refuse_members_and_redelivery_makes_no_duplicate(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        cmd = await h.say(101, None, "/queue")
        refusal = await h.wait_for_message(101, lambda m: m["message_id"] > cmd["message_id"])
        assert "工作人员" in refusal["plain_text"]
        q = await h.say(101, GROUP_ID, "/ask 住房补贴怎么申请")
        # The same update delivered twice more while the first is still being handled (a redelivery
        # after a crash, a replay from the inbox): the deliveries overlap, so the second arrives before
        # the first card's message id is stored. One ticket, one promise, one card, always.
        from telegram import Update

        payload = {
            "update_id": 999999,
            "message": h.sandbox.core.message_api(h.sandbox.core._find(GROUP_ID, q["message_id"])),
        }
        await asyncio.gather(
            h.app.process_update(Update.de_json(payload, h.app.bot)),
            h.app.process_update(Update.de_json(payload, h.app.bot)),
        )
        # updates are handled one at a time and in order: once this later command is answered, the
        # polled delivery of the question has been handled too
        marker = await h.say(202, STAFF_CHAT_ID, "/mine")
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["reply_to_message_id"] == marker["message_id"])
        assert h.services.desk.repo.next_number() == 2
        assert len([m for m in h.messages(STAFF_CHAT_ID) if m["plain_text"].startswith("#1 ")]) == 1
        promises = [m for m in h.messages(GROUP_ID) if m["sender_id"] == BOT and m["reply_to_message_id"] == q["message_id"]]
        assert len(promises) == 1
        queue_cmd = await h.say(202, STAFF_CHAT_ID, "/queue")
        listing = await h.wait_for_message(
            STAFF_CHAT_ID, lambda m: m["reply_to_message_id"] == queue_cmd["message_id"]
        )
        assert "#1" in listing["plain_text"] and "住房补贴" in listing["plain_text"]
        mine = await h.say(101, None, "/mytickets")
        got = await h.wait_for_message(101, lambda m: m["message_id"] > mine["message_id"])
        assert "#1" in got["plain_text"]


async def test_weekly_report_with_chart_and_calendar_warning(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        for user, text in ((101, "孩子转学要什么材料"), (102, "小孩转学要什么材料"), (103, "公积金怎么提取")):
            await ask(h, user, f"@servicebot {text}")
        await card_of(h, 3)
        await desk_jobs.weekly_report(h.app, datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI))
        report = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("📊"))
        assert "共 3 件" in report["plain_text"] and "子女入学：2" in report["plain_text"]
        assert "1. 孩子转学要什么材料（2 次" in report["plain_text"]
        photo = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["photo"])
        assert photo["sender_id"] == BOT
        png = desk_jobs.report_chart(h.services, h.services.desk.weekly_report(FRIDAY_10))
        assert png.startswith(b"\x89PNG")
        # December without next year's schedule: the ops chat is told
        missing = await desk_jobs.calendar_check(h.app, datetime(2026, 12, 1).date())
        assert missing == [2027]
        await h.wait_for_message(
            OPS_CHAT_ID, lambda m: "2027" in m["plain_text"] and "工作日历" in m["plain_text"]
        )
        assert await desk_jobs.calendar_check(h.app, datetime(2026, 6, 1).date()) == []
