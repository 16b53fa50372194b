"""Content files (bad date reported as file:line, the rest loads), announcements exactly once, texts."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.chat.editor_jobs import deliver_announcements
from bot.editorial.dates import parse_day, parse_when
from sandbox import EDITORS_CHAT_ID, GROUP_ID, OPS_CHAT_ID
from tests.chat.harness import ROOT, running_bot

from .flow import ask, bot_messages, queue_item

SH = ZoneInfo("Asia/Shanghai")

BAD = """---
digest: morning
section: services
date: 2026-13-01
status: approved
---
坏日期的条目
"""


def content_copy(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    return content


async def test_a_bad_date_is_reported_as_file_line_and_the_rest_loads(tmp_path: Path) -> None:
    content = content_copy(tmp_path)
    (content / "queue" / "zz-bad.md").write_text(BAD, encoding="utf-8")
    good = sorted(p.name for p in (content / "queue").glob("*.md") if p.name != "zz-bad.md")
    async with running_bot(tmp_path, content_dir=str(content)) as h:
        alert = await h.wait_for_message(OPS_CHAT_ID, lambda m: "zz-bad.md:4:" in m["plain_text"])
        assert 'date: expected a date YYYY-MM-DD, got "2026-13-01"' in alert["plain_text"]
        for name in good:
            assert h.services.queue.by_path(name) is not None, name
        assert h.services.queue.by_path("zz-bad.md") is None

        # a second broken file, found by /reload: reported to the editor as file:line, to ops once
        (content / "queue" / "zz-bad2.md").write_text(BAD.replace("2026-13-01", "明天"), encoding="utf-8")
        reply = await ask(h, 301, EDITORS_CHAT_ID, "/reload", "已重新读取")
        assert "zz-bad2.md:4: date" in reply["plain_text"] and "zz-bad.md:4: date" in reply["plain_text"]
        await h.wait_for_message(OPS_CHAT_ID, lambda m: "zz-bad2.md:4:" in m["plain_text"])
        await ask(h, 301, EDITORS_CHAT_ID, "/reload", "已重新读取")
        await h.settle()
        ops = [m["plain_text"] for m in h.messages(OPS_CHAT_ID)]
        assert sum("zz-bad.md:4:" in t for t in ops) == 1  # told once, not on every reload
        assert sum("zz-bad2.md:4:" in t for t in ops) == 1

        # the watcher job picks up a new good file by itself
        (content / "queue" / "zz-new.md").write_text(
            BAD.replace("2026-13-01", "2026-12-10").replace("坏日期的条目", "新文件"), encoding="utf-8"
        )
        await h.app.job_queue.get_jobs_by_name("editorial:content")[0].run(h.app)
        item = h.services.queue.by_path("zz-new.md")
        assert item is not None and item.status == "approved" and "新文件" in item.html


async def test_announcement_goes_out_once_at_its_time(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await ask(h, 302, EDITORS_CHAT_ID, "/announce", "何时发布")
        await ask(h, 302, EDITORS_CHAT_ID, "昨天 10:00", "无法识别时间")
        await ask(h, 302, EDITORS_CHAT_ID, "2026-11-27 09:00", "已经过去")
        await ask(h, 302, EDITORS_CHAT_ID, "2026-11-27 10:30", "请发送公告正文")
        created = await ask(h, 302, EDITORS_CHAT_ID, "今晚 20:00 起容东片区临时停水", "已加入队列")
        number = int(created["plain_text"].split("第 ")[1].split(" 条")[0])
        item = h.services.queue.get(number)
        assert item is not None and item.digest == "announcement"
        assert item.announce_at == datetime(2026, 11, 27, 10, 30, tzinfo=SH)

        # a draft is never sent; approved, it waits for its time
        h.set_time(datetime(2026, 11, 27, 10, 31, tzinfo=SH))
        assert await deliver_announcements(h.app) == []
        h.set_time(datetime(2026, 11, 27, 10, 0, tzinfo=SH))
        await ask(h, 302, EDITORS_CHAT_ID, f"/approve {number}", "已审核")
        assert await deliver_announcements(h.app) == []
        assert not bot_messages(h, GROUP_ID)

        h.set_time(datetime(2026, 11, 27, 10, 31, tzinfo=SH))
        assert await deliver_announcements(h.app) == [number]
        await deliver_announcements(h.app)
        await h.app.job_queue.get_jobs_by_name("editorial:announce")[0].run(h.app)
        sent = [m for m in bot_messages(h, GROUP_ID) if "临时停水" in m["plain_text"]]
        assert len(sent) == 1
        assert h.services.queue.get(number).status == "published"  # type: ignore[union-attr]


async def test_edit_and_private_queue_for_an_editor(tmp_path: Path) -> None:
    async with running_bot(tmp_path, **{"editorial.four_eyes": True}) as h:
        number = await queue_item(h, 301, 301, "初稿正文", first="明天")
        await ask(h, 302, EDITORS_CHAT_ID, f"/approve {number}", "已审核")
        await ask(h, 302, EDITORS_CHAT_ID, f"/edit {number}", "新正文")
        await ask(h, 302, EDITORS_CHAT_ID, "修改后的正文", "已修改")
        item = h.services.queue.get(number)
        assert item is not None and item.html == "修改后的正文"
        assert item.status == "draft"  # four-eyes: edited text needs a second look
        listing = await ask(h, 301, 301, "/queue", "发布队列")
        assert f"#{number} [草稿]" in listing["plain_text"]
        card = await ask(h, 301, 301, f"/item {number}", "记录")
        assert "修改后的正文" in card["plain_text"] and "刘编辑 修改（正文、退回草稿（四眼审核））" in card["plain_text"]
        # /cancel leaves nothing behind
        before = len(h.services.queue.all())
        await ask(h, 301, 301, "/new", "哪一期")
        await ask(h, 301, 301, "/cancel", "已取消")
        assert len(h.services.queue.all()) == before


def test_dates_editors_type() -> None:
    today = date(2026, 11, 27)
    assert parse_day("2026-12-01", today) == date(2026, 12, 1)
    assert parse_day("明天", today) == date(2026, 11, 28)
    assert parse_day("后天", today) == date(2026, 11, 29)
    assert parse_day("12月1日", today) == date(2026, 12, 1)
    assert parse_day("1月5日", today) == date(2027, 1, 5)
    assert parse_day("2026-13-01", today) is None
    assert parse_day("下周", today) is None
    now = datetime(2026, 11, 27, 10, 0, tzinfo=SH)
    assert parse_when("2026-12-01 09:30", now) == datetime(2026, 12, 1, 9, 30, tzinfo=SH)
    assert parse_when("明天 9:05", now) == datetime(2026, 11, 28, 9, 5, tzinfo=SH)
    assert parse_when("18：00", now) == datetime(2026, 11, 27, 18, 0, tzinfo=SH)
    assert parse_when("25:00", now) is None
    assert parse_when("tomorrow", now) is None


async def test_start_up_reload_and_check_report_the_same_content_problems(tmp_path: Path) -> None:
    """One content check (bot.checks) for `servicebot check`, start-up and /reload: a broken FAQ file
    is not a queue file, yet /reload and the start-up report tell of it as `check` does."""
    from bot.checks import content_problems

    content = content_copy(tmp_path)
    (content / "faq" / "zz-broken.md").write_text("---\ntopic: Not A Key\nname: 坏\n---\n正文\n", encoding="utf-8")
    async with running_bot(tmp_path, content_dir=str(content)) as h:
        expected = [p.removeprefix(f"{content.parent}/") for p in content_problems(h.config)]
        assert any("zz-broken.md:2: topic" in p for p in expected), expected
        alert = await h.wait_for_message(OPS_CHAT_ID, lambda m: "zz-broken.md:2:" in m["plain_text"])
        assert all(p in alert["plain_text"] for p in expected)
        # a second one found by /reload (the queue files are fine): told to the editor and to ops once
        (content / "faq" / "zz-broken2.md").write_text("---\ntopic: education\n---\n正文\n", encoding="utf-8")
        reply = await ask(h, 301, EDITORS_CHAT_ID, "/reload", "已重新读取")
        assert "zz-broken2.md" in reply["plain_text"] and "zz-broken.md:2:" in reply["plain_text"]
        await h.wait_for_message(OPS_CHAT_ID, lambda m: "zz-broken2.md" in m["plain_text"])
