"""Telegram finds mentions, commands and URLs in a bot's text too (Message.entities), but not inside code or links."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession

from sandbox import GROUP_ID, Sandbox


async def send(sandbox: Sandbox, **params: Any) -> dict[str, Any]:
    async with ClientSession() as s, s.post(f"{sandbox.api_base}1:T/sendMessage", json=params) as r:
        body = await r.json()
    assert body["ok"], body
    result: dict[str, Any] = body["result"]
    return result


def kinds(message: dict[str, Any]) -> list[tuple[str, str]]:
    text = message["text"].encode("utf-16-le")
    return [(e["type"], text[2 * e["offset"]:2 * (e["offset"] + e["length"])].decode("utf-16-le"))
            for e in message.get("entities", [])]


async def test_commands_and_mentions_in_a_bot_message_are_entities(sandbox: Sandbox) -> None:
    plain = await send(sandbox, chat_id=GROUP_ID, text="有问题？@servicebot 或发送 /ask 问题")
    assert kinds(plain) == [("mention", "@servicebot"), ("bot_command", "/ask")]
    html = await send(sandbox, chat_id=GROUP_ID, parse_mode="HTML",
                      text="<b>早报</b> 发送 <b>/ask</b> 提问，<code>/help</code> 是说明，"
                           '<a href="https://t.me/c/1001/5">/mine</a>')
    assert kinds(html) == [("bold", "早报"), ("bold", "/ask"), ("bot_command", "/ask"), ("code", "/help"),
                           ("text_link", "/mine")]
    stored = sandbox.messages(GROUP_ID)[-1]
    assert [e["type"] for e in stored["entities"]] == ["bold", "bold", "bot_command", "code", "text_link"]
