"""The issue's "Done when", through the real Application and the sandbox."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.chat import jobs
from sandbox import EDITORS_CHAT_ID, GROUP_ID
from tests.chat.harness import running_bot

from .flow import ask, bot_messages, queue_item

SH = ZoneInfo("Asia/Shanghai")
TEXT = "公积金｜提取业务周六照常办理"


def group_text(h) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(m["plain_text"] for m in bot_messages(h, GROUP_ID))


async def test_queue_approve_preview_publish_expire(tmp_path: Path) -> None:
    async with running_bot(tmp_path, **{"editorial.four_eyes": True}) as h:
        number = await queue_item(
            h, 301, EDITORS_CHAT_ID, TEXT, until="2026-11-29",
            entities=[{"type": "bold", "offset": 0, "length": 3}],
        )
        item = h.services.queue.get(number)
        assert item is not None and item.status == "draft" and item.author_id == 301
        assert item.html.startswith("<b>公积金</b>"), item.html  # formatting kept
        assert str(item.first_date) == "2026-11-28"  # /skip: the next morning brief (08:00 has passed)

        # 四眼: the author cannot approve; a second editor can
        refused = await ask(h, 301, EDITORS_CHAT_ID, f"/approve {number}", "四眼")
        assert "另一位编辑" in refused["plain_text"]
        await ask(h, 302, EDITORS_CHAT_ID, f"/approve {number}", "已审核")
        assert h.services.queue.get(number).status == "approved"  # type: ignore[union-attr]

        # /queue lists it with number and state
        listing = await ask(h, 302, EDITORS_CHAT_ID, "/queue", "发布队列")
        assert f"#{number} [已审核] 2026-11-28 ~ 2026-11-29" in listing["plain_text"]

        # /preview shows the digest as it would go out, marked, without using anything up
        head = await ask(h, 301, EDITORS_CHAT_ID, "/preview morning", "【预览】")
        assert head["plain_text"].startswith("【预览】服务早知道 · 2026-11-28")
        assert "服务早知道 · 11月28日" in head["plain_text"]
        await h.wait_for_message(EDITORS_CHAT_ID, lambda m: TEXT in m["plain_text"])
        await h.wait_for_message(EDITORS_CHAT_ID, lambda m: f"#{number}" in m["plain_text"] and "队列条目" in m["plain_text"])
        assert not bot_messages(h, GROUP_ID)
        assert h.services.queue.get(number).published_on == ()  # type: ignore[union-attr]

        # the next morning brief carries it exactly once (a second trigger sends nothing)
        h.set_time(datetime(2026, 11, 28, 8, 0, tzinfo=SH))
        await jobs.deliver_slot(h.app, "morning")
        await jobs.deliver_slot(h.app, "morning")
        assert group_text(h).count("提取业务周六照常办理") == 1
        # with an end date it runs in every brief up to that day
        h.set_time(datetime(2026, 11, 29, 8, 0, tzinfo=SH))
        await jobs.deliver_slot(h.app, "morning")
        assert group_text(h).count("提取业务周六照常办理") == 2

        # the day after its end date the expiry job expires it, and it is gone from the brief
        h.set_time(datetime(2026, 11, 30, 0, 5, tzinfo=SH))
        await h.app.job_queue.get_jobs_by_name("editorial:expire")[0].run(h.app)
        expired = h.services.queue.get(number)
        assert expired is not None and expired.status == "expired"
        assert [e.action for e in expired.history][-1] == "expired"
        await h.wait_for_message(EDITORS_CHAT_ID, lambda m: "自动过期" in m["plain_text"] and f"#{number}" in m["plain_text"])
        h.set_time(datetime(2026, 11, 30, 8, 0, tzinfo=SH))
        await jobs.deliver_slot(h.app, "morning")
        assert group_text(h).count("提取业务周六照常办理") == 2
        # who did what is recorded
        actions = [(e.who, e.action) for e in expired.history]
        assert (301, "created") in actions and (302, "approved") in actions


async def test_a_non_editor_is_refused(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        for user in (101, 201):
            await ask(h, user, user, "/new", "只有值班编辑")
        await ask(h, 101, 101, "/approve 1", "只有值班编辑")
        await h.settle()
        assert not any("哪一期" in m["plain_text"] for m in bot_messages(h, 101))


async def test_a_forwarded_message_becomes_a_draft(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        original = await h.say(101, GROUP_ID, "本周六社区义诊，地点：容东社区服务中心")
        menu = await ask(
            h, 301, EDITORS_CHAT_ID, None, "哪一期",
            forward_from_chat_id=GROUP_ID, forward_from_message_id=original["message_id"],
        )
        await h.press(301, EDITORS_CHAT_ID, menu["message_id"], "ed:d:tea")
        await h.wait_for_message(EDITORS_CHAT_ID, lambda m: "栏目" in m["plain_text"] and m["message_id"] == menu["message_id"])
        await h.press(301, EDITORS_CHAT_ID, menu["message_id"], "ed:s:events")
        await h.wait_for_message(EDITORS_CHAT_ID, lambda m: "附加链接" in m["plain_text"])  # no text asked for
        await ask(h, 301, EDITORS_CHAT_ID, "https://example.org/yizhen", "首发日期")
        await ask(h, 301, EDITORS_CHAT_ID, "明天", "截止日期")
        created = await ask(h, 301, EDITORS_CHAT_ID, "/skip", "已加入队列")
        number = int(created["plain_text"].split("第 ")[1].split(" 条")[0])
        item = h.services.queue.get(number)
        assert item is not None
        assert item.status == "draft" and item.digest == "tea" and item.section == "events"
        assert "容东社区服务中心" in item.html and item.link == "https://example.org/yizhen"
        assert str(item.first_date) == "2026-11-28" and item.until is None


async def test_a_withdrawn_item_never_appears(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        number = await queue_item(h, 301, EDITORS_CHAT_ID, "停水通知：撤回测试")
        await ask(h, 301, EDITORS_CHAT_ID, f"/approve {number}", "已审核")
        await ask(h, 302, EDITORS_CHAT_ID, f"/withdraw {number}", "用法")  # a reason is required
        await ask(h, 302, EDITORS_CHAT_ID, f"/withdraw {number} 时间有误", "已撤回")
        item = h.services.queue.get(number)
        assert item is not None and item.status == "withdrawn"
        assert item.history[-1].who == 302 and item.history[-1].detail == "时间有误"
        await ask(h, 301, EDITORS_CHAT_ID, "/preview morning", "【预览】")
        await h.settle()
        assert not any("撤回测试" in m["plain_text"] for m in bot_messages(h, EDITORS_CHAT_ID)[-5:])
        h.set_time(datetime(2026, 11, 28, 8, 0, tzinfo=SH))
        await jobs.deliver_slot(h.app, "morning")
        assert bot_messages(h, GROUP_ID) and "撤回测试" not in group_text(h)
        listing = await ask(h, 301, EDITORS_CHAT_ID, "/queue", "发布队列")
        assert f"#{number} " not in listing["plain_text"]
        # and it cannot be approved or edited again
        await ask(h, 302, EDITORS_CHAT_ID, f"/approve {number}", "已撤回")
        refused = await ask(h, 302, EDITORS_CHAT_ID, f"/edit {number}", "不能修改")
        assert "已撤回" in refused["plain_text"]


async def test_an_admin_is_an_editor_for_the_rules_and_the_handlers_alike(tmp_path: Path) -> None:
    """people.admins may queue (docs/content.md): one list of editors (config.editor_ids) for the rules and
    the handlers' filters, so an admin's private forward opens the editors' flow, not a ticket."""
    async with running_bot(tmp_path) as h:
        admin = h.config.people.admins[0]
        assert admin not in {e.id for e in h.config.people.editors} and admin in h.services.editorial.editors
        original = await h.say(101, GROUP_ID, "本周六社区义诊，地点：容东社区服务中心")
        await ask(h, admin, admin, None, "哪一期",
                  forward_from_chat_id=GROUP_ID, forward_from_message_id=original["message_id"])
        await h.settle()
        assert list(h.services.desk.repo.active()) == [], "an editor's forward is not a question"
