"""Issue 13 item 2, "a quiet group": the promise is at most 3 visible lines (the checklist folded in an
expandable blockquote) and that one message is edited in place through the ticket's life — claim,
transfer, escalation, answer, close (and auto-close) with the rating buttons — with no new group message
for any of it. Through the sandbox, as a member's client would see it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.chat import desk_jobs
from sandbox import GROUP_ID, STAFF_CHAT_ID
from tests.chat.harness import SHANGHAI, Harness, running_bot
from tests.desk_chat.test_desk_flow import BOT, FRIDAY_10, ask, buttons, card_of, wait_card


def visible_lines(m: dict[str, Any]) -> list[str]:
    """The lines a member sees before expanding anything: an expandable blockquote shows folded, as one
    line (its first), however long it is."""
    text: str = m["plain_text"]
    units = text.encode("utf-16-le")
    folds = sorted(
        (e["offset"], e["offset"] + e["length"]) for e in m["entities"] if e["type"] == "expandable_blockquote"
    )
    shown, at = [], 0
    for start, end in folds:
        shown.append(units[2 * at : 2 * start].decode("utf-16-le"))
        quote = units[2 * start : 2 * end].decode("utf-16-le")
        shown.append("▸ " + quote.split("\n", 1)[0])
        at = end
    shown.append(units[2 * at :].decode("utf-16-le"))
    return [line for line in "".join(shown).split("\n") if line.strip()]


def folded(m: dict[str, Any]) -> str:
    units = m["plain_text"].encode("utf-16-le")
    return "".join(
        units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in m["entities"]
        if e["type"] == "expandable_blockquote"
    )


async def promise_now(h: Harness, promise: dict[str, Any], pred: Any) -> dict[str, Any]:
    return await h.wait_for_message(GROUP_ID, lambda m: m["message_id"] == promise["message_id"] and pred(m))


def bot_messages(h: Harness) -> list[int]:
    return [m["message_id"] for m in h.messages(GROUP_ID) if m["sender_id"] == BOT]


async def test_the_promise_is_short_and_edited_on_claim_transfer_answer_and_close(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        _, promise = await ask(h, 101, "@servicebot 我家孩子从北京转学到雄安的小学，学籍怎么转接，谁来负责？")
        lines = visible_lines(promise)
        assert len(lines) <= 3, lines
        assert any("已受理 #1" in line and "子女入学" in line and "预计 11:00 前答复" in line for line in lines)
        # the whole 一次性告知 checklist is there, folded
        assert "一次性告知" in folded(promise) and "所需材料" in folded(promise) and "咨询电话" in folded(promise)
        assert "<blockquote expandable>" in promise["text"]
        assert promise["disable_notification"] is True
        group_before = bot_messages(h)

        card = await card_of(h, 1)
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        claimed = await promise_now(h, promise, lambda m: "受理人 王敏" in m["plain_text"])
        assert len(visible_lines(claimed)) <= 3 and "一次性告知" in folded(claimed)

        await h.press(201, STAFF_CHAT_ID, card["message_id"], "tk:xfer:1")
        await wait_card(h, 1, lambda m: "tk:to:1:203" in buttons(m))
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "tk:to:1:203")
        prompt = await h.wait_for_message(STAFF_CHAT_ID, lambda m: "转交给 张丽" in m["plain_text"])
        await h.say(201, STAFF_CHAT_ID, "张丽负责学籍", reply_to_message_id=prompt["message_id"])
        moved = await promise_now(h, promise, lambda m: "受理人 张丽" in m["plain_text"])
        assert "王敏" not in moved["plain_text"]

        await h.say(203, STAFF_CHAT_ID, "请携带学籍号到转入学校办理", reply_to_message_id=card["message_id"])
        answer = await h.wait_for_message(
            GROUP_ID, lambda m: m["sender_id"] == BOT and "学籍号到转入学校" in m["plain_text"]
        )
        answered = await promise_now(h, promise, lambda m: "✅ 已答复" in m["plain_text"])
        assert f"https://t.me/c/1001/{answer['message_id']}" in answered["text"]  # a link to the answer
        assert len(visible_lines(answered)) <= 3

        card = await wait_card(h, 1, lambda m: "已答复" in m["plain_text"])
        await h.press(203, STAFF_CHAT_ID, card["message_id"], "tk:close:1")
        closed = await promise_now(h, promise, lambda m: "已办结" in m["plain_text"])
        assert "请点下方按钮评价" in closed["plain_text"]
        assert buttons(closed) == ["rate:1:satisfied", "rate:1:basic", "rate:1:unsatisfied"]
        await h.press(101, GROUP_ID, promise["message_id"], "rate:1:satisfied")
        rated = await promise_now(h, promise, lambda m: "您的评价：满意" in m["plain_text"])
        assert not buttons(rated)

        # the group got the answer and nothing else: every change was an edit of the one promise
        assert bot_messages(h) == [*group_before, answer["message_id"]]
        assert len(h.sandbox.core._find(GROUP_ID, promise["message_id"]).edits) >= 5  # type: ignore[union-attr]


async def test_escalation_and_auto_close_show_on_the_promise_and_auto_closed_tickets_are_rated(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        _, promise = await ask(h, 101, "@servicebot 孩子幼儿园怎么报名")  # education: first response in 60 minutes
        group_before = bot_messages(h)
        card = await card_of(h, 1)
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        await promise_now(h, promise, lambda m: "受理人 王敏" in m["plain_text"])
        h.set_time(datetime(2026, 11, 27, 11, 5, tzinfo=SHANGHAI))
        assert 1 in (await desk_jobs.sweep(h.app)).escalated
        late = await promise_now(h, promise, lambda m: "已超时，主管 赵刚 跟进" in m["plain_text"])
        assert len(visible_lines(late)) <= 3

        await h.say(201, STAFF_CHAT_ID, "请到社区服务中心报名", reply_to_message_id=card["message_id"])
        answer = await h.wait_for_message(GROUP_ID, lambda m: m["sender_id"] == BOT and "社区服务中心" in m["plain_text"])
        await promise_now(h, promise, lambda m: "✅ 已答复" in m["plain_text"])

        h.set_time(h.clock.now() + timedelta(days=4))
        assert (await desk_jobs.sweep(h.app)).closed == [1]
        auto = await promise_now(h, promise, lambda m: "已自动办结" in m["plain_text"])
        assert buttons(auto) == ["rate:1:satisfied", "rate:1:basic", "rate:1:unsatisfied"]
        await h.press(101, GROUP_ID, promise["message_id"], "rate:1:basic")
        await promise_now(h, promise, lambda m: "您的评价：基本满意" in m["plain_text"])
        assert h.services.desk.get(1).rating is not None
        assert bot_messages(h) == [*group_before, answer["message_id"]]


async def test_the_faq_answer_comes_first_and_the_promise_stays_short(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        _, promise = await ask(h, 105, "@servicebot 孩子上学要什么材料")
        lines = visible_lines(promise)
        assert len(lines) <= 3, lines
        assert lines[0].startswith("💡") and "已受理 #1" in lines[1]
        assert buttons(promise) == ["faq:ok:1", "faq:human:1"]
        entry = h.services.library.entry(h.services.desk.get(1).faq_offered or "")
        assert entry is not None
        assert " ".join(entry.answer.split())[:20] in " ".join(promise["plain_text"].split())
        card = await card_of(h, 1)
        await h.press(202, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        taken = await promise_now(h, promise, lambda m: "受理人 李强" in m["plain_text"])
        assert not buttons(taken)  # a person has it: the FAQ offer no longer decides
