"""The Bot API as python-telegram-bot meets it: result shapes, Telegram's errors and their wording."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter

from sandbox import BOT_ID, GROUP_ID, STAFF_CHAT_ID, Sandbox

from .conftest import make_bot

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("认领", callback_data="claim:1"),
                                  InlineKeyboardButton("转交", callback_data="transfer:1")]])


async def test_get_me_is_the_worlds_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.first_name, me.is_bot) == (BOT_ID, "servicebot", "服务助手", True)


async def test_send_message_html_is_parsed_into_entities(bot: Bot, sandbox: Sandbox) -> None:
    msg = await bot.send_message(GROUP_ID, "<b>服务早知道</b> 🏟 <a href='https://www.xiongan.gov.cn'>雄安</a>",
                                 parse_mode=ParseMode.HTML, reply_markup=KEYBOARD,
                                 link_preview_options=LinkPreviewOptions(is_disabled=True),
                                 disable_notification=True)
    assert msg.text == "服务早知道 🏟 雄安"
    assert msg.chat.id == GROUP_ID and msg.chat.title == "雄安-疏解之友" and msg.from_user.id == BOT_ID
    kinds = [(e.type, e.offset, e.length) for e in msg.entities]
    # 🏟 is outside the BMP: two UTF-16 code units, so the link starts at 9, not 8
    assert kinds == [("bold", 0, 5), ("text_link", 9, 2)]
    assert msg.entities[1].url == "https://www.xiongan.gov.cn/"
    assert msg.reply_markup == KEYBOARD
    record = sandbox.messages(GROUP_ID)[-1]
    assert record["text"].startswith("<b>服务早知道</b>") and record["parse_mode"] == "HTML"
    assert record["link_preview_options"] == {"is_disabled": True} and record["disable_notification"] is True


@pytest.mark.parametrize(("html", "detail"), [
    ("<p>段落</p>", 'Unsupported start tag "p" at byte offset 0'),
    ("<b>未闭合", 'Can\'t find end tag corresponding to start tag "b"'),
    ("通知：<b>粗<i>斜</b></i>", 'Unmatched end tag at byte offset 21, expected "</i>", found "</b>"'),
    ("a < b", 'Unsupported start tag "" at byte offset 2'),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
])
async def test_bad_html_is_refused_with_telegrams_words(bot: Bot, sandbox: Sandbox, html: str,
                                                        detail: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(GROUP_ID, html, parse_mode=ParseMode.HTML)
    # the exact wire text (PTB re-cases the message it raises)
    assert sandbox.calls()[-1]["description"] == f"Bad Request: can't parse entities: {detail}"


async def test_lone_ampersand_is_text_as_on_telegram(bot: Bot) -> None:
    msg = await bot.send_message(GROUP_ID, "AT&T &nbsp; &lt;ok&gt;", parse_mode=ParseMode.HTML)
    assert msg.text == "AT&T &nbsp; <ok>"


async def test_length_is_counted_after_parsing_in_utf16(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(GROUP_ID, "字" * 4097)
    # markup does not count: 4096 characters inside <b> are fine
    ok = await bot.send_message(GROUP_ID, "<b>" + "字" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert len(ok.text) == 4096
    # an emoji outside the BMP counts twice
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(GROUP_ID, "🏟" * 2049)


async def test_surrounding_whitespace_is_trimmed_as_on_telegram(bot: Bot) -> None:
    msg = await bot.send_message(GROUP_ID, "\n <b>标题</b>\n\n", parse_mode=ParseMode.HTML)
    assert msg.text == "标题" and [(e.type, e.offset, e.length) for e in msg.entities] == [("bold", 0, 2)]


async def test_empty_text_after_parsing(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(GROUP_ID, "<b> </b>", parse_mode=ParseMode.HTML)


async def test_edit_with_identical_content_is_not_modified(bot: Bot, sandbox: Sandbox) -> None:
    msg = await bot.send_message(STAFF_CHAT_ID, "工单 #1 待认领", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message is not modified: specified new message content and reply "
                                         "markup are exactly the same"):
        await bot.edit_message_text("工单 #1 待认领", STAFF_CHAT_ID, msg.message_id, reply_markup=KEYBOARD)
    # without reply_markup the keyboard goes away: that IS a modification, as on Telegram
    edited = await bot.edit_message_text("工单 #1 待认领", STAFF_CHAT_ID, msg.message_id)
    assert edited.reply_markup is None and edited.edit_date is not None
    rec = sandbox.messages(STAFF_CHAT_ID)[-1]
    assert [e["text"] for e in rec["edits"]] == ["工单 #1 待认领"] and rec["reply_markup"] is None


async def test_edit_and_reply_to_missing_messages(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", GROUP_ID, 999)
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(GROUP_ID, "x", reply_parameters=ReplyParameters(999))
    sent = await bot.send_message(GROUP_ID, "x", reply_parameters=ReplyParameters(
        999, allow_sending_without_reply=True))
    assert sent.reply_to_message is None


async def test_reply_carries_the_replied_message(bot: Bot, sandbox: Sandbox) -> None:
    question = sandbox.send_user_message(101, GROUP_ID, "@servicebot 孩子入学需要什么材料？")
    answer = await bot.send_message(GROUP_ID, "请准备户口本", reply_parameters=ReplyParameters(
        question["message_id"]))
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.from_user.first_name == "郭超"
    assert answer.reply_to_message.text == "@servicebot 孩子入学需要什么材料？"


async def test_chat_errors(bot: Bot, sandbox: Sandbox) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(-100999, "x")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(112, "x")  # 林雪梅 never started the bot
    sandbox.send_user_message(112, None, "/start")
    assert (await bot.send_message(112, "你好")).chat.type == "private"


async def test_bot_not_member_and_blocked_user() -> None:
    from sandbox import parse_world
    world = parse_world({
        "bot": {"id": 1, "username": "b_bot", "first_name": "B"},
        "users": [{"id": 5, "first_name": "甲", "blocked": True}],
        "chats": [{"id": -10, "type": "group", "title": "无机器人", "members": [5]}],
    })
    async with Sandbox(world, flood=False) as sb, make_bot(sb) as bot:
        with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
            await bot.send_message(-10, "x")
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(5, "x")


async def test_flood_control_answers_429_with_retry_after(flood_sandbox: Sandbox) -> None:
    async with make_bot(flood_sandbox) as bot:
        with pytest.raises(RetryAfter) as err:
            for i in range(10):
                await bot.send_message(GROUP_ID, f"第{i}条")
        retry = err.value.retry_after
        seconds = retry.total_seconds() if hasattr(retry, "total_seconds") else retry
        assert seconds >= 1
        refused = [c for c in flood_sandbox.calls("sendMessage") if not c["ok"]]
        assert refused[0]["error_code"] == 429 and refused[0]["parameters"]["retry_after"] >= 1
        # another chat has its own budget
        assert (await bot.send_message(STAFF_CHAT_ID, "仍可发送")).text == "仍可发送"


async def test_injected_fault_fails_the_next_calls_then_clears(bot: Bot, sandbox: Sandbox) -> None:
    sandbox.inject_fault("sendMessage", 429, retry_after=7, count=2, chat_id=GROUP_ID)
    assert (await bot.send_message(STAFF_CHAT_ID, "其他群不受影响")).message_id >= 1
    for _ in range(2):
        with pytest.raises(RetryAfter) as err:
            await bot.send_message(GROUP_ID, "x")
        retry = err.value.retry_after
        assert (retry.total_seconds() if hasattr(retry, "total_seconds") else retry) == 7
    assert (await bot.send_message(GROUP_ID, "恢复")).text == "恢复"
    sandbox.inject_fault("editMessageText", 400, description="Bad Request: message can't be edited")
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("y", GROUP_ID, 1)


async def test_migrated_group_answers_with_migrate_to_chat_id() -> None:
    from telegram.error import ChatMigrated

    from sandbox import parse_world
    world = parse_world({
        "bot": {"id": 1, "username": "b_bot", "first_name": "B"},
        "users": [{"id": 5, "first_name": "甲"}],
        "chats": [{"id": -10, "type": "group", "title": "老群", "members": [5, 1], "admins": [5]}],
    })
    async with Sandbox(world, flood=False) as sb, make_bot(sb) as bot:
        new_id = sb.migrate_chat(-10)
        with pytest.raises(ChatMigrated) as err:
            await bot.send_message(-10, "x")
        assert err.value.new_chat_id == new_id
        msg = await bot.send_message(new_id, "新群你好")
        assert msg.chat.type == "supergroup"


async def test_pin_delete_members_commands_photo(bot: Bot, sandbox: Sandbox) -> None:
    msg = await bot.send_message(GROUP_ID, "置顶通知")
    assert await bot.pin_chat_message(GROUP_ID, msg.message_id)
    chat = await bot.get_chat(GROUP_ID)
    assert chat.pinned_message is not None and chat.pinned_message.message_id == msg.message_id
    assert await bot.delete_message(GROUP_ID, msg.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(GROUP_ID, msg.message_id)
    assert sandbox.messages(GROUP_ID)[-1]["deleted"] is True
    member = await bot.get_chat_member(GROUP_ID, 101)
    assert member.status == "member" and member.user.username == "guochao"
    admins = await bot.get_chat_administrators(STAFF_CHAT_ID)
    assert {a.user.id for a in admins} == {204, BOT_ID}
    assert await bot.set_my_commands([("ask", "提问"), ("mytickets", "我的工单")])
    assert [c.command for c in await bot.get_my_commands()] == ["ask", "mytickets"]
    photo = await bot.send_photo(GROUP_ID, b"\x89PNG fake", caption="<b>天气</b>", parse_mode=ParseMode.HTML)
    assert photo.caption == "天气" and photo.photo[-1].width == 800
    f = await bot.get_file(photo.photo[-1].file_id)
    assert bytes(await f.download_as_bytearray()) == b"\x89PNG fake"
    assert await bot.send_chat_action(GROUP_ID, "typing")


async def test_calls_are_logged_with_outcome(bot: Bot, sandbox: Sandbox) -> None:
    sandbox.reset()  # forget the getMe that Bot.initialize() made
    await bot.get_me()
    with pytest.raises(BadRequest):
        await bot.send_message(GROUP_ID, "<x>", parse_mode="HTML")
    calls = sandbox.calls()
    assert [c["method"] for c in calls] == ["getMe", "sendMessage"]
    assert calls[0]["ok"] is True
    assert calls[1]["ok"] is False and calls[1]["error_code"] == 400
    assert calls[1]["params"]["text"] == "<x>" and isinstance(calls[1]["time"], float)


async def test_concurrent_calls_get_distinct_message_ids(bot: Bot) -> None:
    sent = await asyncio.gather(*(bot.send_message(STAFF_CHAT_ID, f"{i}") for i in range(5)))
    assert len({m.message_id for m in sent}) == 5


async def test_command_menus_by_scope_as_telegram_resolves_them(bot: Bot, sandbox: Sandbox) -> None:
    """https://core.telegram.org/bots/api#determining-list-of-commands: the narrowest scope set wins."""
    from telegram import BotCommandScopeAllGroupChats, BotCommandScopeChat, BotCommandScopeChatMember

    assert await bot.set_my_commands([("ask", "提问"), ("mytickets", "我的问题"), ("help", "说明")])
    assert await bot.set_my_commands([("ask", "提问"), ("help", "说明")], scope=BotCommandScopeAllGroupChats())
    assert await bot.set_my_commands([("queue", "待办"), ("help", "说明")], scope=BotCommandScopeChat(STAFF_CHAT_ID))
    assert await bot.set_my_commands([("queue", "待办"), ("ask", "提问")], scope=BotCommandScopeChat(201))
    assert await bot.set_my_commands(
        [("stats", "统计")], scope=BotCommandScopeChatMember(STAFF_CHAT_ID, 204), language_code="zh"
    )
    menu = lambda chat, user, lang=None: [c["command"] for c in sandbox.commands_menu(chat, user, lang)]  # noqa: E731
    assert menu(GROUP_ID, 101) == ["ask", "help"]  # all group chats
    assert menu(101, 101) == ["ask", "mytickets", "help"]  # a member's private chat: default
    assert menu(STAFF_CHAT_ID, 201) == ["queue", "help"]  # that chat's own list
    assert menu(201, 201) == ["queue", "ask"]  # that private chat's own list
    assert menu(STAFF_CHAT_ID, 204, "zh") == ["stats"]  # chat member + language first
    assert menu(STAFF_CHAT_ID, 204) == ["queue", "help"]  # without the language: the chat's list
    scoped = await bot.get_my_commands(scope=BotCommandScopeChat(STAFF_CHAT_ID))
    assert [c.command for c in scoped] == ["queue", "help"]
    assert [c.command for c in await bot.get_my_commands()] == ["ask", "mytickets", "help"]  # no fallback
    # a private chat whose user never started the bot, a group the bot is not in: "chat not found"
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands([("ask", "提问")], scope=BotCommandScopeChat(112))
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands([("ask", "提问")], scope=BotCommandScopeChat(-100999999))


async def test_members_photos_documents_stickers_and_copy_message(bot: Bot, sandbox: Sandbox) -> None:
    photo = sandbox.send_user_message(101, GROUP_ID, "@servicebot 第三栏怎么填", photo=True)
    assert "text" not in photo and photo["caption"] == "@servicebot 第三栏怎么填"
    assert photo["caption_entities"][0]["type"] == "mention" and len(photo["photo"]) == 3
    doc = sandbox.send_user_message(101, None, None, document="表.pdf")
    assert doc["document"]["file_name"] == "表.pdf" and "caption" not in doc
    sticker = sandbox.send_user_message(101, GROUP_ID, None, sticker="👍", reply_to_message_id=photo["message_id"])
    assert sticker["sticker"]["emoji"] == "👍" and "text" not in sticker
    card = await bot.send_message(STAFF_CHAT_ID, "#1 card")
    copied = await bot.copy_message(STAFF_CHAT_ID, GROUP_ID, photo["message_id"],
                                    reply_parameters=ReplyParameters(message_id=card.message_id))
    record = sandbox.messages(STAFF_CHAT_ID)[-1]
    assert record["message_id"] == copied.message_id and record["photo"] and record["sender_id"] == BOT_ID
    assert record["caption"] == "@servicebot 第三栏怎么填" and record["reply_to_message_id"] == card.message_id
    await bot.copy_message(STAFF_CHAT_ID, 101, doc["message_id"])
    assert sandbox.messages(STAFF_CHAT_ID)[-1]["document"]["file_name"] == "表.pdf"
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(STAFF_CHAT_ID, GROUP_ID, 99999)
