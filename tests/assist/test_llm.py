"""The optional LLM rewrite against a local OpenAI-compatible server: bounded time, fallback, privacy."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.assist.llm import LlmRewriter
from sandbox import GROUP_ID, STAFF_CHAT_ID
from tests.assist.fake_llm import fake_llm
from tests.chat.harness import running_bot
from tests.desk_chat.test_desk_flow import BOT, FRIDAY_10, ask, buttons, card_of, wait_card


async def test_the_rewrite_comes_back_from_the_server() -> None:
    async with fake_llm() as server:
        llm = LlmRewriter(server.base_url, "qwen2.5:7b-instruct", api_key="sk-local", timeout_seconds=5)
        text = await llm.rewrite("北京的公积金怎么转到雄安？", "先由新单位开户缴存……")
    assert text == server.reply
    sent = server.requests[0]
    assert sent["model"] == "qwen2.5:7b-instruct"
    assert "北京的公积金怎么转到雄安？" in sent["messages"][1]["content"]
    assert "先由新单位开户缴存" in sent["messages"][1]["content"]
    assert server.headers[0]["Authorization"] == "Bearer sk-local"


@pytest.mark.parametrize("mode", ["slow", "error", "garbage"])
async def test_slow_failing_or_nonsense_falls_back(mode: str) -> None:
    async with fake_llm(mode=mode, delay=10) as server:
        llm = LlmRewriter(server.base_url, "m", timeout_seconds=0.5)
        started = time.monotonic()
        assert await llm.rewrite("q", "draft") is None
        assert time.monotonic() - started < 5  # bounded: the timeout, not the server's 10 s
    assert len(server.requests) == 1


async def test_nothing_listening_falls_back() -> None:
    llm = LlmRewriter("http://127.0.0.1:9/v1", "m", timeout_seconds=1)
    assert await llm.rewrite("q", "draft") is None


async def test_the_card_gets_the_rewritten_draft_and_only_the_question_leaves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSIST_LLM_KEY", "sk-test")
    async with fake_llm() as server, running_bot(
        tmp_path, now=FRIDAY_10, **{"assist.llm.base_url": server.base_url, "assist.llm.timeout_seconds": 5}
    ) as h:
        q, _ = await ask(h, 101, "@servicebot 北京的公积金怎么转到雄安？")
        card = await wait_card(h, 1, lambda m: "已由模型润色" in m["plain_text"])
        assert server.reply[:20] in card["plain_text"] and "FAQ 公积金/1" in card["plain_text"]
        body = str(server.requests[0])
        assert "北京的公积金怎么转到雄安" in body
        assert "郭超" not in body and "101" not in body and "雄安-疏解之友" not in body  # no member data
        assert server.headers[0]["Authorization"] == "Bearer sk-test"
        await h.press(203, STAFF_CHAT_ID, card["message_id"], "as:send:1")
        await h.wait_for_message(
            GROUP_ID, lambda m: m["sender_id"] == BOT and m["reply_to_message_id"] == q["message_id"]
            and server.reply[:20] in m["plain_text"]
        )


async def test_a_slow_server_leaves_the_retrieval_draft(tmp_path: Path) -> None:
    from bot.chat import assist

    async with fake_llm(mode="slow", delay=30) as server, running_bot(
        tmp_path, now=FRIDAY_10, **{"assist.llm.base_url": server.base_url, "assist.llm.timeout_seconds": 0.5}
    ) as h:
        await ask(h, 101, "@servicebot 北京的公积金怎么转到雄安？")
        card = await card_of(h, 1)
        assert "💡 草稿（FAQ 公积金/1）" in card["plain_text"] and "as:send:1" in buttons(card)
        await assist.drain(h.services)  # the rewrite gave up (0.5 s), the draft stays
        assert server.requests
        stored = h.services.assist.book.draft(1)
        assert stored is not None and not stored.draft.rewritten
        assert "已由模型润色" not in h.messages(STAFF_CHAT_ID)[-1]["plain_text"]
