"""The issue's full flow in a real browser over `servicebot demo`: brief in the group, a member asks with an
@-mention, the staff chat shows the card, staff claims and answers, the group shows the answer as a reply."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from playwright.async_api import Browser, expect

from bot.chat.context import services_of
from bot.chat.demo import start_demo
from sandbox import GROUP_ID, STAFF_CHAT_ID
from tests.chat.harness import minutes_to_warning_time
from tests.web.conftest import open_page

ROOT = Path(__file__).resolve().parents[2]
README_SHOT = ROOT / "docs" / "screenshots" / "group.png"


async def test_brief_question_card_claim_answer_through_the_page(
        browser: Browser, tmp_path: Path, artifacts: Path) -> None:
    base = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    demo = await start_demo(base, root=ROOT, port=0, data_dir=tmp_path / "data", seed_question=False)
    try:
        page = await open_page(browser, demo.url + f"?chat={GROUP_ID}&as=101", width=1100, height=800)
        brief = page.locator(".msg.bot", has_text="服务早知道")
        await expect(brief.first).to_be_visible()
        await expect(brief.first).to_contain_text("今日天气")
        await page.screenshot(path=str(artifacts / "demo-group-brief.png"))

        # a member asks, picking the bot from the @-mention list
        box = page.locator("#input")
        await box.press_sequentially("@serv")
        await expect(page.locator("#mentions [data-username=servicebot]")).to_be_visible()
        await box.press("Enter")
        await box.press_sequentially("孩子明年转学到雄安，入学需要准备哪些材料？")
        await box.press("Enter")
        question = page.locator(".msg.out", has_text="入学需要准备哪些材料")
        await expect(question).to_be_visible()

        # the staff chat shows the card; acting as staff, claim it
        await page.locator(".chat-item", has_text="服务中心·工单").click()
        await page.locator("#actor").select_option("201")
        card = page.locator(".msg.bot", has_text="入学需要准备哪些材料").filter(has=page.locator(".kb-btn"))
        await expect(card).to_be_visible(timeout=15_000)
        await page.screenshot(path=str(artifacts / "demo-staff-card.png"))
        await card.get_by_role("button", name="认领").click()
        await expect(card).to_contain_text("王敏")

        # answer by replying to the card
        await card.locator(".act-reply").click()
        await box.fill("请携带户口本、转学申请表和学籍信息卡到区教育局窗口办理。")
        await box.press("Enter")
        await expect(page.locator(".msg.bot", has_text="答复已发到群里")).to_be_visible(timeout=15_000)

        # the group shows the answer as a reply to the question
        await page.locator(".chat-item", has_text="雄安-疏解之友").click()
        answer = page.locator(".msg.bot", has_text="请携带户口本")
        await expect(answer).to_be_visible()
        await expect(answer.locator(".quote")).to_contain_text("入学需要准备哪些材料")
        await answer.scroll_into_view_if_needed()
        await page.evaluate("document.querySelectorAll('.toast').forEach((t) => t.remove())")
        await page.screenshot(path=str(artifacts / "demo-group-answer.png"))
        if not README_SHOT.exists() or os.environ.get("SERVICEBOT_UPDATE_SCREENSHOTS") == "1":
            README_SHOT.parent.mkdir(parents=True, exist_ok=True)   # the README's picture, refreshed on request
            shutil.copyfile(artifacts / "demo-group-answer.png", README_SHOT)

        # a second question is left waiting; its card's 查看原消息 opens the question inside the web chat
        second = demo.sandbox.send_user_message(103, GROUP_ID, "@servicebot 公积金提取需要带什么材料？")
        await page.locator(".chat-item", has_text="服务中心·工单").click()
        card2 = page.locator(".msg.bot", has_text="公积金提取需要带什么材料").filter(has=page.locator(".kb-btn"))
        await expect(card2).to_be_visible(timeout=15_000)
        await card2.get_by_role("link", name="查看原消息").click()
        await expect(page.locator("#chat-title")).to_have_text("雄安-疏解之友")
        await expect(page.locator(f"#m-{GROUP_ID}-{second['message_id']}")).to_be_in_viewport()
        await expect(page.locator("#actor-ask")).to_contain_text("王敏 不在")
        await page.locator(".chat-item", has_text="服务中心·工单").click()

        # the training clock goes through the bot's demo-only hook: to 20 service minutes before #2's
        # first-response deadline, where its SLA warning must be in the staff chat at once
        svc = services_of(demo.app)
        minutes = minutes_to_warning_time(svc, svc.desk.get(2).first_response_due)
        await page.get_by_role("button", name="培训时钟").click()
        await expect(page.locator("#clock-now")).not_to_have_text("—")
        await page.locator("#advance-minutes").fill(str(minutes))
        await page.get_by_role("button", name="拨快时钟").click()
        await expect(page.locator("#clock-status")).to_contain_text(f"时钟已拨快 {minutes} 分钟")
        warning = page.locator(".msg.bot", has_text="⏰").filter(has_text="#2")
        await expect(warning).to_be_visible()
        await expect(warning).to_contain_text("首次答复")
        # its time is the bot's time, not the wall clock's
        record = next(m for m in demo.sandbox.messages(STAFF_CHAT_ID) if (m["plain_text"] or "").startswith("⏰"))
        sent_at = datetime.fromtimestamp(record["date"], svc.config.tz)
        assert abs(sent_at - svc.clock.now()) < timedelta(minutes=2)
        await expect(warning.locator("time")).to_have_text(sent_at.strftime("%H:%M"))
        await warning.scroll_into_view_if_needed()
        await page.screenshot(path=str(artifacts / "demo-staff-warning.png"))
    finally:
        await demo.stop()
