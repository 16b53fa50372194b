"""The web chat in a real browser (Debian's Chromium through Playwright), against a live sandbox."""

from __future__ import annotations

import asyncio
import struct
import zlib
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, expect
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from sandbox import GROUP_ID, STAFF_CHAT_ID, Sandbox, World, parse_world
from tests.web.conftest import open_page

TOKEN = "9000:web-test"


async def bot_call(sb: Sandbox, method: str, **params: Any) -> Any:
    async with aiohttp.ClientSession() as s, s.post(f"{sb.api_base}{TOKEN}/{method}", json=params) as r:
        body = await r.json()
    assert body["ok"], body
    return body["result"]


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 8 for _ in range(6))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 6, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


async def test_the_page_loads_and_lists_the_chats(browser: Browser, sandbox: Sandbox, artifacts: Path) -> None:
    page = await open_page(browser, sandbox.url + "/")
    items = page.locator(".chat-item .title")
    await expect(items).to_contain_text(["雄安-疏解之友", "服务中心·工单", "编辑部", "运维告警", "私聊：郭超"])
    await expect(page.locator("#chat-title")).to_have_text("雄安-疏解之友")
    # acting as: members, staff and editors of the world are all there
    options = await page.locator("#actor option").all_inner_texts()
    assert any("郭超" in o for o in options) and any("王敏" in o for o in options) and any("陈编辑" in o for o in options)
    # a Chinese font from the stack is what renders
    family = await page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family.startswith('"Noto Sans CJK SC"')
    assert await page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '雄安')")
    await page.screenshot(path=str(artifacts / "web-chat-list.png"))


async def test_a_message_typed_in_one_page_appears_live_in_another(browser: Browser, sandbox: Sandbox) -> None:
    writer = await open_page(browser, sandbox.url + f"/?chat={GROUP_ID}&as=102")
    reader = await open_page(browser, sandbox.url + f"/?chat={GROUP_ID}&as=101")
    await reader.evaluate("window.__noReload = 'still here'")
    box = writer.locator("#input")
    await box.fill("请问")
    await box.press_sequentially("@serv")
    option = writer.locator("#mentions [role=option]").first
    await expect(option).to_have_attribute("data-username", "servicebot")
    await box.press("Enter")          # picks the mention (with a space before it: glued Chinese is no mention)
    await expect(box).to_have_value("请问 @servicebot ")
    await box.press_sequentially("孩子入学要什么材料？")
    await box.press("Enter")          # sends
    await expect(box).to_have_value("")
    bubble = reader.locator(".msg", has_text="孩子入学要什么材料？")
    await expect(bubble).to_be_visible()
    await expect(bubble.locator(".sender")).to_have_text("孙丽华")
    await expect(bubble.locator(".mention")).to_have_text("@servicebot")
    assert await reader.evaluate("window.__noReload") == "still here"
    sent = sandbox.messages(GROUP_ID)[-1]
    assert sent["sender_id"] == 102 and sent["plain_text"] == "请问 @servicebot 孩子入学要什么材料？"
    assert [e["type"] for e in sent["entities"]] == ["mention"]


async def test_telegram_html_renders_safely_with_replies_edits_pins_and_photos(
        browser: Browser, sandbox: Sandbox, artifacts: Path) -> None:
    page = await open_page(browser, sandbox.url + f"/?chat={GROUP_ID}&as=101")
    html = ('<b>服务早知道</b> <i>斜体</i> <u>下划</u> <s>删除</s> <a href="https://example.org/a">链接</a> '
            '<a href="javascript:alert(1)">坏链接</a> <code>代码</code>\n<pre><code class="language-python">'
            'print(1)</code></pre><tg-spoiler>剧透</tg-spoiler>\n<blockquote>引用 &lt;img src=x '
            'onerror="window.__xss=1"&gt;<b>粗</b></blockquote>')
    brief = await bot_call(sandbox, "sendMessage", chat_id=GROUP_ID, text=html, parse_mode="HTML")
    bubble = page.locator(f"#m-{GROUP_ID}-{brief['message_id']}")
    text = bubble.locator(".text")
    await expect(text.locator("strong").first).to_have_text("服务早知道")
    await expect(text.locator("em")).to_have_text("斜体")
    await expect(text.locator("u")).to_have_text("下划")
    await expect(text.locator("s")).to_have_text("删除")
    await expect(text.locator("a")).to_have_count(1)       # the javascript: link is not a link
    assert await text.locator("a").get_attribute("href") == "https://example.org/a"
    await expect(text.locator("pre code.language-python")).to_have_text("print(1)")
    await expect(text.locator("blockquote strong")).to_have_text("粗")
    await expect(text.locator("blockquote")).to_contain_text('<img src=x onerror="window.__xss=1">')
    assert await page.locator("img:not(.photo)").count() == 0
    assert await page.evaluate("window.__xss") is None
    spoiler = text.locator(".spoiler")
    await expect(spoiler).not_to_have_class("spoiler revealed")
    await spoiler.focus()
    await page.keyboard.press("Enter")
    await expect(spoiler).to_have_class("spoiler revealed")

    # a reply shows the quoted message; an edit is marked; a pin shows in the bar; a photo is shown
    question = sandbox.send_user_message(103, GROUP_ID, "@servicebot 入学材料？")
    answer = await bot_call(sandbox, "sendMessage", chat_id=GROUP_ID, text="请带户口本",
                            reply_parameters={"message_id": question["message_id"]})
    reply = page.locator(f"#m-{GROUP_ID}-{answer['message_id']}")
    await expect(reply.locator(".quote strong")).to_have_text("周建国")
    await expect(reply.locator(".quote span")).to_have_text("@servicebot 入学材料？")
    await expect(reply.locator(".edited")).to_have_count(0)
    await bot_call(sandbox, "editMessageText", chat_id=GROUP_ID, message_id=answer["message_id"],
                   text="请带户口本原件")
    await expect(reply.locator(".text")).to_have_text("请带户口本原件")
    await expect(reply.locator(".edited")).to_have_text("已编辑")
    await bot_call(sandbox, "pinChatMessage", chat_id=GROUP_ID, message_id=brief["message_id"])
    await expect(page.locator("#pinned")).to_contain_text("服务早知道")
    form = aiohttp.FormData()
    form.add_field("chat_id", str(GROUP_ID))
    form.add_field("caption", "<b>本周</b>图表")
    form.add_field("parse_mode", "HTML")
    form.add_field("photo", tiny_png(), filename="chart.png", content_type="image/png")
    async with aiohttp.ClientSession() as s, s.post(f"{sandbox.api_base}{TOKEN}/sendPhoto", data=form) as r:
        photo_id = (await r.json())["result"]["message_id"]
    img = page.locator(f"#m-{GROUP_ID}-{photo_id} img.photo")
    await expect(img).to_be_visible()
    await page.wait_for_function("(el) => el.complete && el.naturalWidth === 8", arg=await img.element_handle())
    await expect(page.locator(f"#m-{GROUP_ID}-{photo_id} .text strong")).to_have_text("本周")
    await page.screenshot(path=str(artifacts / "web-formatting.png"), full_page=True)


async def test_reply_and_forward_to_the_bot_through_the_page(browser: Browser, sandbox: Sandbox) -> None:
    notice = await bot_call(sandbox, "sendMessage", chat_id=GROUP_ID, text="明天停水通知")
    page = await open_page(browser, sandbox.url + f"/?chat={GROUP_ID}&as=104")
    bubble = page.locator(f"#m-{GROUP_ID}-{notice['message_id']}")
    await bubble.locator(".act-reply").click()
    await expect(page.locator("#reply-bar")).to_contain_text("明天停水通知")
    await page.locator("#input").fill("几点开始？")
    await page.locator("#input").press("Enter")
    mine = page.locator(".msg.out", has_text="几点开始？")
    await expect(mine.locator(".quote strong")).to_have_text("服务助手")
    assert sandbox.messages(GROUP_ID)[-1]["reply_to_message_id"] == notice["message_id"]
    question = sandbox.send_user_message(105, GROUP_ID, "社保卡怎么办？")
    await page.locator(f"#m-{GROUP_ID}-{question['message_id']} .act-forward").click()
    await expect(page.locator(".toast")).to_contain_text("已转发给机器人")
    private = sandbox.messages(104)
    assert private[-1]["plain_text"] == "社保卡怎么办？" and private[-1]["forward_origin"]["sender_user"]["id"] == 105
    await expect(page.locator(".chat-item .title", has_text="私聊：吴芳")).to_be_visible()


async def test_a_button_press_reaches_the_bot_as_a_callback_and_its_answer_shows(
        browser: Browser, sandbox: Sandbox) -> None:
    got: list[tuple[int, str]] = []

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        got.append((query.from_user.id, query.data))
        if query.data == "tk:1:claim":
            await query.answer("已认领 #1")
        else:
            await query.answer("只有主管可以转交", show_alert=True)

    app = Application.builder().token(TOKEN).base_url(sandbox.api_base).build()
    app.add_handler(CallbackQueryHandler(on_button))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1, poll_interval=0)
        try:
            await app.bot.send_message(STAFF_CHAT_ID, "工单 #1 · 入学", reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("认领", callback_data="tk:1:claim"),
                  InlineKeyboardButton("转交", callback_data="tk:1:transfer")]]))
            page = await open_page(browser, sandbox.url + f"/?chat={STAFF_CHAT_ID}&as=201")
            claim = page.get_by_role("button", name="认领")
            await claim.focus()
            await page.keyboard.press("Enter")       # keyboard-usable: the button is a <button>
            await expect(page.locator(".toast")).to_contain_text("已认领 #1")
            await page.get_by_role("button", name="转交").click()
            dialog = page.locator("#alert-dialog")
            await expect(dialog).to_be_visible()
            await expect(dialog).to_contain_text("只有主管可以转交")
            await dialog.get_by_role("button").click()
            await expect(dialog).to_be_hidden()
        finally:
            await app.updater.stop()
            await app.stop()
    assert got == [(201, "tk:1:claim"), (201, "tk:1:transfer")]


FORUM_WORLD = """
bot: {id: 9000, username: servicebot, first_name: 服务助手}
users:
  - {id: 101, first_name: 郭超, username: guochao}
  - {id: 102, first_name: 孙丽华}
chats:
  - {id: -1005001, type: supergroup, title: 论坛, members: [101, 102, 9000], admins: [9000],
     is_forum: true, topics: [{id: 2, name: 入学}, {id: 3, name: 医保}]}
"""


async def test_forum_topics_filter_and_target_messages(browser: Browser) -> None:
    world: World = parse_world(__import__("yaml").safe_load(FORUM_WORLD), "forum.yaml")
    sb = Sandbox(world, flood=False)
    await sb.start()
    try:
        sb.send_user_message(102, -1005001, "医保问题", message_thread_id=3)
        page = await open_page(browser, sb.url + "/?chat=-1005001&as=101")
        await expect(page.locator(".msg", has_text="医保问题").locator(".topic-tag")).to_have_text("# 医保")
        await page.get_by_role("tab", name="入学").click()
        await expect(page.locator(".msg", has_text="医保问题")).to_have_count(0)
        await page.locator("#input").fill("入学问题")
        await page.locator("#input").press("Enter")
        await expect(page.locator(".msg", has_text="入学问题")).to_be_visible()
        assert sb.messages(-1005001)[-1]["message_thread_id"] == 2
    finally:
        await sb.stop()


async def test_clock_panel_without_a_bot_hook_says_so(browser: Browser, sandbox: Sandbox) -> None:
    page = await open_page(browser, sandbox.url + "/")
    await page.get_by_role("button", name="培训时钟").click()
    await expect(page.locator("#clock-status")).to_contain_text("no bot hook registered (demo only)")
    await page.locator("#advance-minutes").fill("0")
    await page.get_by_role("button", name="拨快时钟").click()
    await expect(page.locator("#clock-status")).to_contain_text("分钟数必须是")


async def test_phone_width_is_readable(browser: Browser, sandbox: Sandbox, artifacts: Path) -> None:
    await bot_call(sandbox, "sendMessage", chat_id=GROUP_ID, parse_mode="HTML",
                   text="<b>服务早知道 · 11月27日</b>\n今日天气：晴，-3~8℃\n<a href=\"https://www.gov.cn/\">"
                        "国务院关于进一步优化雄安新区疏解人员公共服务保障的通知</a>")
    page = await open_page(browser, sandbox.url + "/", width=390, height=844)
    await expect(page.locator("#chat-list")).to_be_visible()
    await expect(page.locator("#chat")).to_be_hidden()
    await page.screenshot(path=str(artifacts / "web-phone-list.png"))
    await page.locator(".chat-item", has_text="雄安-疏解之友").click()
    await expect(page.locator("#chat")).to_be_visible()
    await expect(page.locator(".msg", has_text="今日天气")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await page.screenshot(path=str(artifacts / "web-phone-chat.png"))
    await page.get_by_role("button", name="返回聊天列表").click()
    await expect(page.locator("#chat-list")).to_be_visible()
    await asyncio.sleep(0)


async def test_english_is_available(browser: Browser, sandbox: Sandbox) -> None:
    page = await open_page(browser, sandbox.url + "/?lang=en")
    await expect(page.locator("#send")).to_have_text("Send")
    await expect(page.locator(".chat-list .section").first).to_have_text("Groups")
    await page.get_by_role("button", name="中文").click()
    await expect(page.locator("#send")).to_have_text("发送")
    assert await page.evaluate("document.documentElement.lang") == "zh-CN"


async def test_an_expandable_quote_shows_folded_and_unfolds_on_a_tap(browser: Browser, sandbox: Sandbox) -> None:
    """Bot API 7.4 <blockquote expandable>: collapsed to 3 lines by default, the full text on a tap."""
    page = await open_page(browser, sandbox.url + f"/?chat={GROUP_ID}&as=101")
    body = "\n".join(f"第 {i} 行" for i in range(1, 13))
    sent = await bot_call(sandbox, "sendMessage", chat_id=GROUP_ID, parse_mode="HTML",
                          text=f"已受理 #1 · 子女入学\n<blockquote expandable>{body}</blockquote>")
    quote = page.locator(f"#m-{GROUP_ID}-{sent['message_id']} .text blockquote.expandable")
    await expect(quote).to_contain_text("第 12 行")
    folded = await quote.evaluate("q => [q.clientHeight, q.scrollHeight]")
    assert folded[0] < folded[1] / 2  # most of it hidden while folded
    await quote.click()
    await expect(quote).to_have_attribute("aria-expanded", "true")
    opened = await quote.evaluate("q => [q.clientHeight, q.scrollHeight]")
    assert opened[0] >= opened[1] - 1
