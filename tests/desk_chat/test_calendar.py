"""The working calendar through the running bot and the sandbox (issue 13, item 5)."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

from bot.chat import desk_jobs
from sandbox import GROUP_ID, OPS_CHAT_ID, STAFF_CHAT_ID
from tests.chat.harness import SHANGHAI, running_bot
from tests.tickets.test_workcal import NOTICE_2027

BOT = 9000
ROOT = Path(__file__).resolve().parents[2]


async def test_question_on_new_years_eve_afternoon_is_promised_for_monday(tmp_path: Path) -> None:
    """Thu 2026-12-31 17:00, config.yaml's hours (09:00-12:00, 13:30-17:30) and 120 service minutes:
    30 minutes that day, 元旦 (Fri) and the weekend off, 90 minutes on Monday 2027-01-04."""
    async with running_bot(tmp_path, now=datetime(2026, 12, 31, 17, 0, tzinfo=SHANGHAI)) as h:
        q = await h.say(101, GROUP_ID, "@servicebot 公积金怎么提取？")
        promise = await h.wait_for_message(
            GROUP_ID, lambda m: m["sender_id"] == BOT and m["reply_to_message_id"] == q["message_id"]
        )
        assert "1月4日周一 10:30" in promise["plain_text"], promise["plain_text"]
        t = h.services.desk.get(1)
        assert t.topic == "housing-fund"
        assert t.first_response_due.replace(second=0, microsecond=0) == datetime(2027, 1, 4, 10, 30, tzinfo=SHANGHAI)


async def test_ops_are_told_daily_from_november_until_a_file_covers_next_year(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    async with running_bot(tmp_path, content_dir=str(content)) as h:
        job = h.app.job_queue.get_jobs_by_name("desk-calendar")[0]
        assert job.next_t.astimezone(SHANGHAI).time().isoformat() == "09:05:00"  # daily (run_daily)
        assert await desk_jobs.calendar_check(h.app, date(2026, 10, 31)) == []
        assert h.messages(OPS_CHAT_ID) == []  # an alert is in the sandbox before calendar_check returns

        assert await desk_jobs.calendar_check(h.app, date(2026, 11, 2)) == [2027]
        alert = await h.wait_for_message(OPS_CHAT_ID, lambda m: "2027" in m["plain_text"])
        assert "调休" in alert["plain_text"] and "content/calendar/2027.yaml" in alert["plain_text"]

        # a file with a typo (元旦 left out) does not cover the year, and the alert says why
        (content / "calendar" / "2027.yaml").write_text(
            NOTICE_2027.replace("from: 2027-01-01, to: 2027-01-03", "from: 2027-01-02, to: 2027-01-03"),
            encoding="utf-8",
        )
        assert await desk_jobs.calendar_check(h.app, date(2026, 11, 3)) == [2027]
        await h.wait_for_message(OPS_CHAT_ID, lambda m: "日历文件有误" in m["plain_text"] and "元旦" in m["plain_text"])
        sent = len(h.messages(OPS_CHAT_ID))

        # the notice entered correctly: no more alerts, and deadlines follow it at once (no restart)
        (content / "calendar" / "2027.yaml").write_text(NOTICE_2027, encoding="utf-8")
        assert await desk_jobs.calendar_check(h.app, date(2026, 12, 1)) == []
        assert len(h.messages(OPS_CHAT_ID)) == sent
        hours = h.services.desk.hours
        friday = datetime(2027, 2, 19, 17, 0, tzinfo=SHANGHAI)
        assert hours.add_service_minutes(friday, 60) == datetime(2027, 2, 20, 9, 30, tzinfo=SHANGHAI)  # 调休 Sat


async def test_a_question_on_a_make_up_saturday_is_auto_assigned_to_the_staff_on_duty(tmp_path: Path) -> None:
    """Sat 2026-10-10 is a 调休 workday: 张丽 (housing-fund, duty Mon-Fri) is on duty; 赵刚 (supervisor,
    topics: []) is not given the routine ticket."""
    async with running_bot(tmp_path, now=datetime(2026, 10, 10, 9, 0, tzinfo=SHANGHAI)) as h:
        q = await h.say(112, GROUP_ID, "@servicebot 公积金提取需要什么材料？")
        await h.wait_for_message(
            GROUP_ID, lambda m: m["sender_id"] == BOT and m["reply_to_message_id"] == q["message_id"]
        )
        h.set_time(datetime(2026, 10, 10, 9, 16, tzinfo=SHANGHAI))
        assert (await desk_jobs.sweep(h.app)).assigned == [1]
        assert h.services.desk.get(1).owner_id == 203
        await h.wait_for_message(
            STAFF_CHAT_ID, lambda m: m["sender_id"] == BOT and "张丽（自动分配）" in m["plain_text"]
        )
