"""What a Telegram user can tap in the web chat: commands in messages, the "/" menu, message links; and who we act as."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, expect

from sandbox import GROUP_ID, STAFF_CHAT_ID, Sandbox
from tests.web.conftest import open_page
from tests.web.test_page import bot_call

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def wait_for(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := check()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout}s")
        await asyncio.sleep(0.05)
    return found


def sent_by(sandbox: Sandbox, chat_id: int, user_id: int) -> list[str]:
    return [m["plain_text"] for m in sandbox.messages(chat_id) if m["sender_id"] == user_id]


async def test_a_command_in_a_bot_message_is_sent_when_tapped(browser: Browser, sandbox: Sandbox) -> None:
    await bot_call(sandbox, "sendMessage", chat_id=GROUP_ID, text="有问题？@servicebot 或发送 /ask 问题")
    page = await open_page(browser, sandbox.url + f"/?chat={GROUP_ID}&as=101")
    command = page.locator(".msg.bot .bot_command", has_text="/ask")
    await expect(command).to_be_visible()
    await command.click()
    # in a group the command names the bot, as Telegram's apps send it
    await wait_for(lambda: "/ask@servicebot" in sent_by(sandbox, GROUP_ID, 101), "the tapped /ask")
    await expect(page.locator(".msg.out", has_text="/ask@servicebot")).to_be_visible()
    sent = sandbox.messages(GROUP_ID)[-1]
    assert [e["type"] for e in sent["entities"]] == ["bot_command"]


async def test_the_slash_menu_shows_the_commands_telegram_would_show_this_user(
        browser: Browser, sandbox: Sandbox) -> None:
    await bot_call(sandbox, "setMyCommands", commands=[{"command": "ask", "description": "提问"},
                                                       {"command": "help", "description": "使用说明"}])
    await bot_call(sandbox, "setMyCommands", commands=[{"command": "queue", "description": "待办工单"}],
                   scope={"type": "chat", "chat_id": STAFF_CHAT_ID})
    page = await open_page(browser, sandbox.url + f"/?chat={GROUP_ID}&as=101")
    await expect(page.locator("#commands-button")).to_be_visible()
    box = page.locator("#input")
    await box.press_sequentially("/")
    menu = page.locator("#mentions [data-command]")
    await expect(menu).to_have_count(2)
    await expect(menu.first).to_be_visible()
    await expect(menu.first).to_contain_text("/ask")
    await expect(menu.nth(1)).to_contain_text("使用说明")
    await box.press_sequentially("he")
    await expect(menu).to_have_count(1)
    await box.press("Enter")            # choosing a command sends it, as in Telegram
    await wait_for(lambda: "/help@servicebot" in sent_by(sandbox, GROUP_ID, 101), "/help from the menu")
    await expect(box).to_have_value("")

    # the staff chat has its own list (a narrower scope wins); the menu button opens it; Tab inserts for editing
    await page.locator(".chat-item", has_text="服务中心·工单").click()
    await page.locator("#actor").select_option("201")
    await page.locator("#commands-button").click()
    await expect(menu).to_have_count(1)
    await expect(menu.first).to_be_visible()
    await expect(menu.first).to_contain_text("/queue")
    await box.press("Tab")
    await expect(box).to_have_value("/queue ")


async def test_a_message_link_opens_the_message_in_the_web_chat_and_asks_whom_to_act_as(
        browser: Browser, sandbox: Sandbox) -> None:
    question = sandbox.send_user_message(103, GROUP_ID, "@servicebot 公积金怎么提取？")
    for n in range(3):
        sandbox.send_user_message(102, GROUP_ID, f"闲聊 {n}")
    short_id = str(GROUP_ID).removeprefix("-100")
    await bot_call(sandbox, "sendMessage", chat_id=STAFF_CHAT_ID, parse_mode="HTML",
                   text=f'#1 · 公积金\n<a href="https://t.me/c/{short_id}/{question["message_id"]}">查看原消息</a>')
    page = await open_page(browser, sandbox.url + f"/?chat={STAFF_CHAT_ID}&as=201")
    link = page.get_by_role("link", name="查看原消息")
    assert await link.get_attribute("target") is None     # stays in the page: t.me is dead offline
    await link.click()
    await expect(page.locator("#chat-title")).to_have_text("雄安-疏解之友")
    target = page.locator(f"#m-{GROUP_ID}-{question['message_id']}")
    await expect(target).to_have_class("msg flash")
    await expect(target).to_be_in_viewport()

    # 王敏 is not in the group: the page keeps who we act as and asks, it does not switch silently
    await expect(page.locator("#actor")).to_have_value("201")
    ask = page.locator("#actor-ask")
    await expect(ask).to_contain_text("王敏 不在「雄安-疏解之友」中")
    await expect(page.locator("#input")).to_be_disabled()
    await ask.get_by_role("button", name="郭超").click()
    await expect(page.locator("#actor")).to_have_value("101")
    await expect(ask).to_be_hidden()
    await expect(page.locator("#input")).to_be_enabled()


async def test_opening_someone_elses_private_chat_says_who_we_now_act_as(browser: Browser, sandbox: Sandbox) -> None:
    await bot_call(sandbox, "sendMessage", chat_id=102, text="您的问题 #3 已答复")
    page = await open_page(browser, sandbox.url + f"/?chat={GROUP_ID}&as=101")
    await page.locator(".chat-item", has_text="私聊：孙丽华").click()
    await expect(page.locator(".toast")).to_contain_text("现在以 孙丽华 的身份发言")
    await expect(page.locator("#actor")).to_have_value("102")


async def test_message_times_and_days_follow_the_sandbox_clock(browser: Browser) -> None:
    # the demo's sandbox runs on the bot's training clock; here a clock we move by hand
    now = [datetime(2026, 12, 1, 16, 50, tzinfo=SHANGHAI).timestamp()]
    sb = Sandbox(flood=False, clock=lambda: now[0])
    await sb.start()
    try:
        await bot_call(sb, "sendMessage", chat_id=GROUP_ID, text="今天的通知")
        page = await open_page(browser, sb.url + f"/?chat={GROUP_ID}&as=101")
        await expect(page.locator(".msg", has_text="今天的通知").locator("time")).to_have_text("16:50")
        now[0] += timedelta(days=1, hours=15, minutes=15).total_seconds()   # Thursday 08:05
        await bot_call(sb, "sendMessage", chat_id=GROUP_ID, text="☀️ 服务早知道 · 12月3日 周四")
        brief = page.locator(".msg", has_text="服务早知道")
        await expect(brief.locator("time")).to_have_text("08:05")
        days = page.locator("#messages li.day")
        await expect(days).to_have_text(["2026年12月1日星期二", "2026年12月3日星期四"])
        await page.reload()
        await page.wait_for_selector("body[data-ready='1']")
        await expect(days).to_have_text(["2026年12月1日星期二", "2026年12月3日星期四"])
    finally:
        await sb.stop()
