"""The real Application, polling the sandbox over HTTP, answers members."""

from __future__ import annotations

from pathlib import Path

from sandbox import GROUP_ID

from .harness import running_bot


async def test_start_in_the_group_is_answered_in_chinese(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        question = await h.say(101, GROUP_ID, "/start@servicebot")
        answer = await h.wait_for_message(GROUP_ID, lambda m: m["sender_id"] == 9000)
        assert "服务助手" in answer["plain_text"] and "/ask" in answer["plain_text"]
        assert answer["reply_to_message_id"] == question["message_id"]


async def test_english_when_configured(tmp_path: Path) -> None:
    from bot.chat import jobs

    async with running_bot(tmp_path, language="en") as h:
        await h.say(101, GROUP_ID, "/help@servicebot")
        answer = await h.wait_for_message(GROUP_ID, lambda m: m["sender_id"] == 9000)
        assert "How to use" in answer["plain_text"]
        await jobs.deliver_slot(h.app, "morning")
        brief = await h.wait_for_message(GROUP_ID, lambda m: m["sender_id"] == 9000 and "Nov" in m["plain_text"])
        assert "服务早知道" not in brief["plain_text"]


async def test_editing_with_the_same_text_is_not_an_error(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    async with running_bot(tmp_path) as h:
        outbox = h.services.outbox
        sent = await outbox.send(GROUP_ID, "<b>同样的内容</b>")
        assert sent is not None
        with caplog.at_level(logging.INFO, logger="bot.chat.outbox"):
            assert await outbox.edit(GROUP_ID, sent.message_id, "<b>同样的内容</b>") is True
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
