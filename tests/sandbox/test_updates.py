"""Updates: long polling with offset, callbacks, webhooks, privacy mode, and the event hook."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict

from sandbox import GROUP_ID, STAFF_CHAT_ID, Sandbox, parse_world

from .conftest import make_bot

CARD = InlineKeyboardMarkup([[InlineKeyboardButton("认领", callback_data="claim:7")]])


async def test_get_updates_long_polls_until_a_user_writes(bot: Bot, sandbox: Sandbox) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10, read_timeout=15))
    await asyncio.sleep(0.2)
    assert not poll.done()  # it is really waiting, not returning an empty list at once
    sandbox.send_user_message(101, GROUP_ID, "@servicebot 医保怎么转移？")
    updates = await asyncio.wait_for(poll, 5)
    assert len(updates) == 1
    msg = updates[0].message
    assert msg is not None and msg.from_user.id == 101 and msg.chat.id == GROUP_ID
    assert msg.text == "@servicebot 医保怎么转移？"


async def test_offset_confirms_and_limit_caps(bot: Bot, sandbox: Sandbox) -> None:
    for i in range(3):
        sandbox.send_user_message(101, GROUP_ID, f"消息{i}")
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["消息0", "消息1"]
    again = await bot.get_updates()
    assert len(again) == 3  # nothing confirmed yet
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["消息2"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0) == ()


async def test_zero_timeout_returns_at_once_when_empty(bot: Bot) -> None:
    assert await asyncio.wait_for(bot.get_updates(timeout=0), 2) == ()


async def test_a_second_poller_ends_the_first_with_conflict(bot: Bot, sandbox: Sandbox) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10, read_timeout=15))
    await asyncio.sleep(0.2)
    async with make_bot(sandbox) as other:
        second = asyncio.create_task(other.get_updates(timeout=1, read_timeout=5))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, 5)
        assert await second == ()


async def test_allowed_updates_filters_what_is_queued(bot: Bot, sandbox: Sandbox) -> None:
    await bot.get_updates(allowed_updates=["callback_query"], timeout=0)
    sandbox.send_user_message(101, GROUP_ID, "这条机器人收不到")
    assert await bot.get_updates(timeout=0) == ()


async def test_button_press_is_a_callback_query_and_answers_are_kept(bot: Bot, sandbox: Sandbox) -> None:
    card = await bot.send_message(STAFF_CHAT_ID, "工单 #7", reply_markup=CARD)
    qid = sandbox.press_button(201, STAFF_CHAT_ID, card.message_id, "claim:7")
    (update,) = await bot.get_updates(timeout=1)
    cq = update.callback_query
    assert cq is not None and cq.id == qid and cq.data == "claim:7" and cq.from_user.first_name == "王敏"
    assert cq.message is not None and cq.message.message_id == card.message_id and cq.chat_instance
    assert await cq.answer("已认领", show_alert=True)
    rec = sandbox.messages(STAFF_CHAT_ID)[-1]
    assert rec["callback_answers"][0]["text"] == "已认领" and rec["callback_answers"][0]["show_alert"] is True
    with pytest.raises(BadRequest, match="Query is too old"):
        await cq.answer("第二次")


def test_pressing_a_button_that_is_not_there_is_refused() -> None:
    from sandbox import ControlError, SandboxThread
    with SandboxThread(flood=False) as sb:
        msg = sb.send_user_message(101, GROUP_ID, "没有按钮")
        with pytest.raises(ControlError, match="no button"):
            sb.press_button(101, GROUP_ID, msg["message_id"], "claim:1")


async def test_webhook_receives_updates_with_the_secret_token(bot: Bot, sandbox: Sandbox) -> None:
    received: asyncio.Queue[tuple[str | None, dict[str, Any]]] = asyncio.Queue()
    failures = {"left": 1}

    async def hook(request: web.Request) -> web.Response:
        if failures["left"]:
            failures["left"] -= 1
            return web.Response(status=500)  # Telegram retries until the bot accepts
        received.put_nowait((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        sandbox.send_user_message(102, GROUP_ID, "/help")
        secret, body = await asyncio.wait_for(received.get(), 10)
        assert secret == "s3cret"
        assert body["message"]["text"] == "/help" and body["message"]["from"]["id"] == 102
        assert (await bot.get_webhook_info()).pending_update_count == 0
        assert await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == ()
    finally:
        await runner.cleanup()


async def test_privacy_mode_hides_plain_group_chatter_from_a_non_admin_bot() -> None:
    world = parse_world({
        "bot": {"id": 1, "username": "desk_bot", "first_name": "B"},
        "users": [{"id": 5, "first_name": "甲"}],
        "chats": [{"id": -10, "type": "supergroup", "title": "群", "members": [5, 1], "admins": [5]}],
    })
    async with Sandbox(world, flood=False) as sb, make_bot(sb) as bot:
        sb.send_user_message(5, -10, "大家好")                # not for the bot
        sb.send_user_message(5, -10, "问一下 @desk_bot 在吗")  # mentions it
        sb.send_user_message(5, -10, "/ask@desk_bot 入学")    # a command for it
        sb.send_user_message(5, -10, "/ask@other_bot 入学")   # a command for another bot
        texts = [u.message.text for u in await bot.get_updates(timeout=0)]
        assert texts == ["问一下 @desk_bot 在吗", "/ask@desk_bot 入学"]


async def test_event_hook_sees_created_edited_deleted(bot: Bot, sandbox: Sandbox) -> None:
    events = sandbox.subscribe()
    msg = await bot.send_message(GROUP_ID, "v1")
    await bot.edit_message_text("v2", GROUP_ID, msg.message_id)
    await bot.delete_message(GROUP_ID, msg.message_id)
    kinds = [events.get_nowait()["type"] for _ in range(3)]
    assert kinds == ["message_created", "message_edited", "message_deleted"]


async def test_forum_topics_and_forwards() -> None:
    world = parse_world({
        "bot": {"id": 1, "username": "desk_bot", "first_name": "B"},
        "users": [{"id": 5, "first_name": "甲"}],
        "chats": [{"id": -10, "type": "supergroup", "title": "论坛", "members": [5, 1], "admins": [1],
                   "is_forum": True, "topics": [{"id": 3, "name": "入学"}]}],
    })
    async with Sandbox(world, flood=False) as sb, make_bot(sb) as bot:
        sent = await bot.send_message(-10, "入学须知", message_thread_id=3)
        assert sent.message_thread_id == 3 and sent.is_topic_message
        with pytest.raises(BadRequest, match="Message thread not found"):
            await bot.send_message(-10, "x", message_thread_id=99)
        fwd = sb.send_user_message(5, 5, None, forward_from_chat_id=-10, forward_from_message_id=sent.message_id)
        assert fwd["forward_origin"]["type"] == "user" and fwd["text"] == "入学须知"
        (update,) = await bot.get_updates(timeout=0)
        assert update.message.forward_origin.sender_user.id == 1


def test_update_json_is_what_telegram_sends(sandbox_thread_world: None = None) -> None:
    from sandbox import SandboxThread
    with SandboxThread(flood=False) as sb:
        msg = sb.send_user_message(101, GROUP_ID, "/start@servicebot 你好 @guochao")
        assert json.loads(json.dumps(msg))["chat"] == {"id": GROUP_ID, "type": "supergroup", "title": "雄安-疏解之友"}
        assert [e["type"] for e in msg["entities"]] == ["bot_command", "mention"]
