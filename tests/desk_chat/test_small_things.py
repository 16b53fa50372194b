"""Issue 13 §7 through the sandbox: 转人工 recorded and the topic's staff pinged; /queue marks overdue
tickets; a deadline not today shows its date; /reopen N; a private asker gets the answer once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.tickets.model import EventKind, Status
from sandbox import GROUP_ID, STAFF_CHAT_ID
from tests.chat.harness import SHANGHAI, Harness, running_bot

BOT = 9000
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


async def command(h: Harness, user: int, text: str) -> str:
    cmd = await h.say(user, STAFF_CHAT_ID, text)
    got = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["reply_to_message_id"] == cmd["message_id"])
    return str(got["plain_text"])


async def ask(h: Harness, user: int, text: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    q = await h.say(user, GROUP_ID, text)
    promise = await h.wait_for_message(GROUP_ID, lambda m: m["sender_id"] == BOT and m["reply_to_message_id"] == q["message_id"])
    n = h.services.desk.repo.next_number() - 1
    card = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["sender_id"] == BOT and m["plain_text"].startswith(f"#{n} "))
    return q, promise, card


async def test_human_button_is_recorded_and_pings_the_topic_staff(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        _, promise, card = await ask(h, 105, "@servicebot 孩子上学要什么材料")
        await h.press(105, GROUP_ID, promise["message_id"], "faq:human:1")
        ping = await h.wait_for_message(STAFF_CHAT_ID, lambda m: "转人工" in (m["plain_text"] or ""))
        assert ping["reply_to_message_id"] == card["message_id"]
        assert "tg://user?id=201" in ping["text"]  # 王敏 takes education and is on duty
        assert "tg://user?id=202" not in ping["text"]
        t = h.services.desk.get(1)
        assert t.events[-1].kind is EventKind.HUMAN_REQUESTED and t.events[-1].actor_id == 105
        assert t.status is Status.OPEN
        assert "转人工" in await command(h, 201, "/ticket 1")


async def test_queue_marks_overdue_tickets_and_dates_a_deadline_not_today(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        await ask(h, 101, "@servicebot 社保卡丢了怎么补办")  # first response due 13:30 today
        h.set_time(FRIDAY_10.replace(hour=17, minute=20))
        await ask(h, 102, "@servicebot 公积金怎么提取")  # asked 17:20 Friday: due Monday
        listing = await command(h, 201, "/queue")
        lines = {line.split(" · ")[0]: line for line in listing.splitlines()[1:]}
        assert lines["⚠️已超时 #1"].endswith("社保卡丢了怎么补办") and "13:30" in lines["⚠️已超时 #1"]
        assert "#2" in lines and "11月30日 10:50" in lines["#2"]  # Monday, with its date
        card = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("#2 "))
        assert "11月30日" in card["plain_text"]


async def test_reopen_by_the_owner_is_recorded_and_others_are_refused(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        _, _, card = await ask(h, 101, "@servicebot 社保卡丢了怎么补办")
        await h.press(202, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        await h.say(202, STAFF_CHAT_ID, "带身份证到社保大厅补办", reply_to_message_id=card["message_id"])
        await h.wait_for_message(GROUP_ID, lambda m: "社保大厅补办" in m["plain_text"])
        await h.press(202, STAFF_CHAT_ID, card["message_id"], "tk:close:1")
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["message_id"] == card["message_id"] and "已办结" in m["plain_text"])
        refused = await command(h, 201, "/reopen 1")
        assert "李强" in refused and h.services.desk.get(1).status is Status.CLOSED
        assert "用法" in await command(h, 202, "/reopen")
        done = await command(h, 202, "/reopen 1")
        assert "#1 已重新打开" in done
        t = h.services.desk.get(1)
        assert t.status is Status.CLAIMED and t.reopened == 1 and t.owner_id == 202
        assert t.events[-1].kind is EventKind.REOPENED and t.events[-1].actor_id == 202
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["message_id"] == card["message_id"] and "办理中" in m["plain_text"])
        assert "重新打开 · 李强（工作人员重新打开）" in await command(h, 202, "/ticket 1")
        assert "工单 #1 仍在办理中" in await command(h, 204, "/reopen 1")


async def test_a_private_asker_gets_the_answer_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        asked = await h.say(102, None, "公租房申请条件是什么")
        await h.wait_for_message(102, lambda m: m["sender_id"] == BOT and m["message_id"] > asked["message_id"])
        card = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("#1 "))
        await h.say(203, STAFF_CHAT_ID, "在雄安连续缴纳社保满一年即可申请", reply_to_message_id=card["message_id"])
        await h.wait_for_message(102, lambda m: "缴纳社保满一年" in m["plain_text"])
        marker = await command(h, 203, "/ticket 1")  # everything the answer sent is out by now
        assert "答复" in marker
        await h.settle()
        answers = [m for m in h.messages(102) if m["sender_id"] == BOT and "缴纳社保满一年" in m["plain_text"]]
        assert len(answers) == 1, [m["plain_text"] for m in answers]
        assert h.services.desk.get(1).first_response_at is not None
        assert h.services.desk.get(1).first_response_at - FRIDAY_10 < timedelta(hours=1)
