"""智能帮办 through the sandbox (issue 14 items 4-7): a draft with sources on the card, sent with one tap;
修改草稿; canned replies from the card and /canned; 一类事 answered at once; 存为问答 approved and live."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from bot.tickets.model import EventKind, Status
from sandbox import EDITORS_CHAT_ID, GROUP_ID, STAFF_CHAT_ID
from tests.chat.harness import ROOT, Harness, running_bot
from tests.desk_chat.test_desk_flow import BOT, FRIDAY_10, ask, buttons, card_of, wait_card


def content_copy(tmp_path: Path) -> Path:
    """A copy of content/ for a test that writes to it (an approved FAQ entry)."""
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


async def until(pred: Any, what: str) -> None:
    """Wait for an event the chats do not show (a callback answer, a stored value)."""
    import asyncio

    for _ in range(600):
        if pred():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def reply_to(h: Harness, chat: int, msg: dict[str, Any]) -> dict[str, Any]:
    return await h.wait_for_message(chat, lambda m: m["sender_id"] == BOT and m["reply_to_message_id"] == msg["message_id"])


async def test_the_card_carries_a_draft_and_one_tap_sends_it_as_the_answer(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        q, _promise = await ask(h, 101, "@servicebot 北京的公积金怎么转到雄安？")
        card = await card_of(h, 1)
        entry = h.services.library.entry("housing-fund/1")
        assert entry is not None
        assert "💡 草稿（FAQ 公积金/1）" in card["plain_text"]
        assert entry.answer[:15] in card["plain_text"]
        assert "as:send:1" in buttons(card) and "as:edit:1" in buttons(card)
        assert h.services.desk.get(1).answers == []  # nothing is sent without a person

        # 张丽 taps 发送草稿: the answer in the group, as a reply to the question; sending claims the ticket
        await h.press(203, STAFF_CHAT_ID, card["message_id"], "as:send:1")
        answer = await h.wait_for_message(
            GROUP_ID, lambda m: m["sender_id"] == BOT and m["reply_to_message_id"] == q["message_id"]
            and "#1 答复" in m["plain_text"]
        )
        assert entry.answer[:15] in answer["plain_text"] and "张丽" in answer["plain_text"]
        card = await wait_card(h, 1, lambda m: "草稿：已原样发送" in m["plain_text"])
        t = h.services.desk.get(1)
        assert t.status is Status.ANSWERED and t.owner_id == 203
        assert "as:send:1" not in buttons(card)
        assert "as:kb:1" in buttons(card)  # 存为问答 once answered

        stats = await h.say(203, STAFF_CHAT_ID, "/stats")
        shown = await reply_to(h, STAFF_CHAT_ID, stats)
        assert "草稿：1 份（原样发送 1，修改后发送 0，未采用 0）" in shown["plain_text"]


async def test_the_owner_rules_apply_to_a_draft(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        await ask(h, 101, "@servicebot 北京的公积金怎么转到雄安？")
        card = await card_of(h, 1)
        await h.press(203, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        card = await wait_card(h, 1, lambda m: "张丽" in m["plain_text"])
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "as:send:1")  # 王敏 does not own it
        await until(
            lambda: any("首问负责" in str(c.get("params")) for c in h.sandbox.calls("answerCallbackQuery")),
            "the refusal shown to 王敏",
        )
        assert h.services.desk.get(1).answers == []


async def test_edit_the_draft_then_reply_and_ignore_counts(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        q, _ = await ask(h, 101, "@servicebot 在雄安租房能提取公积金吗？")
        card = await card_of(h, 1)
        assert "待核实" in card["plain_text"]  # the staff are told; the draft itself has no mark
        draft = h.services.assist.book.draft(1)
        assert draft is not None and "待本地核实" not in draft.draft.text
        await h.press(203, STAFF_CHAT_ID, card["message_id"], "as:edit:1")
        edit = await h.wait_for_message(
            STAFF_CHAT_ID, lambda m: m["sender_id"] == BOT and "#1 草稿" in m["plain_text"]
        )
        assert draft.draft.text[:10] in edit["plain_text"]
        await h.say(203, STAFF_CHAT_ID, "可以租房提取，额度每月不超过 1500 元。", reply_to_message_id=edit["message_id"])
        await h.wait_for_message(
            GROUP_ID, lambda m: m["reply_to_message_id"] == q["message_id"] and "1500 元" in m["plain_text"]
        )
        await wait_card(h, 1, lambda m: "草稿：修改后发送" in m["plain_text"])

        # a second ticket answered by a plain reply to its card: its draft counts as not used
        await ask(h, 102, "@servicebot 公积金贷款买房需要什么条件")
        card2 = await card_of(h, 2)
        assert "as:send:2" in buttons(card2)
        await h.say(203, STAFF_CHAT_ID, "请先到中心窗口咨询。", reply_to_message_id=card2["message_id"])
        await wait_card(h, 2, lambda m: "草稿：未采用" in m["plain_text"])
        stats = await h.say(203, STAFF_CHAT_ID, "/stats")
        shown = await reply_to(h, STAFF_CHAT_ID, stats)
        assert "草稿：2 份（原样发送 0，修改后发送 1，未采用 1）" in shown["plain_text"]
        from bot.chat.desk_jobs import report_text  # Monday's weekly report says the same

        weekly = report_text(h.services, h.services.desk.weekly_report(h.clock.now()))
        assert "草稿：2 份（原样发送 0，修改后发送 1，未采用 1）" in weekly


async def test_canned_reply_from_the_card_and_with_the_command(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        q, _ = await ask(h, 101, "@servicebot 孩子转学到雄安，学籍怎么转？")
        card = await card_of(h, 1)
        assert "as:cn:1" in buttons(card)
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "as:cn:1")
        picker = await wait_card(h, 1, lambda m: "as:cp:1:education/1" in buttons(m))
        assert "as:cp:1:general/1" in buttons(picker)  # the topic's replies first, then everyone's
        assert buttons(picker).index("as:cp:1:education/1") < buttons(picker).index("as:cp:1:general/1")
        await h.press(201, STAFF_CHAT_ID, picker["message_id"], "as:cp:1:general/1")
        answer = await h.wait_for_message(
            GROUP_ID, lambda m: m["reply_to_message_id"] == q["message_id"] and "#1 答复" in m["plain_text"]
        )
        # {asker} {number} {deadline} filled: 郭超 is member 101; the education deadline is 8 service hours
        assert "郭超 您好，您的问题（#1）我们已收到" in answer["plain_text"]
        assert "{" not in answer["plain_text"]

        listing = await h.say(201, STAFF_CHAT_ID, "/canned")  # handled after the press: one update at a time
        shown = await reply_to(h, STAFF_CHAT_ID, listing)
        assert h.services.desk.get(1).owner_id == 201
        assert "general/1 · 已收到，正在核实（通用）" in shown["plain_text"]
        assert "education/1 · 入学材料清单（子女入学）" in shown["plain_text"]  # the topic by its display name
        sent = await h.say(201, STAFF_CHAT_ID, "/canned 1 education/2")
        ok = await reply_to(h, STAFF_CHAT_ID, sent)
        assert "转学学籍转接" in ok["plain_text"]
        assert len(h.services.desk.get(1).answers) == 2
        bad = await h.say(201, STAFF_CHAT_ID, "/canned 1 nosuch/9")
        assert "没有这条常用回复" in (await reply_to(h, STAFF_CHAT_ID, bad))["plain_text"]


async def test_a_class_of_three_is_answered_with_one_answer_and_the_faq_grows(tmp_path: Path) -> None:
    content = content_copy(tmp_path)
    async with running_bot(tmp_path, now=FRIDAY_10, content_dir=str(content)) as h:
        asked = []
        for user, text in ((101, "消费券怎么领"), (102, "请问雄安消费券怎么领取"), (103, "雄安发的消费券在哪里领啊")):
            q, _ = await ask(h, user, f"@servicebot {text}")
            asked.append(q)
        await ask(h, 104, "@servicebot 孩子打疫苗去哪个社区医院")  # not of the class
        card = await wait_card(h, 3, lambda m: "一类事：3 人在问「消费券怎么领」" in m["plain_text"])
        assert "as:cls:3" in buttons(card)
        card4 = await card_of(h, 4)
        assert "一类事" not in card4["plain_text"]

        listing = await h.say(202, STAFF_CHAT_ID, "/classes")
        shown = await reply_to(h, STAFF_CHAT_ID, listing)
        assert "3 人在问「消费券怎么领」：#1 #2 #3" in shown["plain_text"] and "疫苗" not in shown["plain_text"]
        assert "as:cls:1" in buttons(shown)
        await h.press(202, STAFF_CHAT_ID, card["message_id"], "as:cls:3")
        prompt = await h.wait_for_message(
            STAFF_CHAT_ID, lambda m: m["sender_id"] == BOT and "3 人在问「消费券怎么领」" in m["plain_text"]
            and "回复本条" in m["plain_text"]
        )
        answer = "在「雄安城市服务」小程序首页点「消费券」领取，每周五 10:00 发放。"
        staff_msg = await h.say(202, STAFF_CHAT_ID, answer, reply_to_message_id=prompt["message_id"])
        done = await reply_to(h, STAFF_CHAT_ID, staff_msg)
        assert "已答复并办结 3 件：#1 #2 #3" in done["plain_text"] and "P1" in done["plain_text"]
        for n, q in enumerate(asked, 1):  # each in its own chat, as a reply to its own question
            await h.wait_for_message(
                GROUP_ID, lambda m, q=q, n=n: m["reply_to_message_id"] == q["message_id"] and f"#{n} 答复" in m["plain_text"]
                and "每周五 10:00" in m["plain_text"]
            )
            t = h.services.desk.get(n)
            assert t.status is Status.CLOSED and t.owner_id == 202
            kinds = [e.kind for e in t.events]
            assert EventKind.ANSWERED in kinds and EventKind.CLOSED in kinds
        assert h.services.desk.get(4).status is Status.OPEN
        # each asker can rate their own ticket (the promise shows the rating buttons)
        await h.wait_for_message(GROUP_ID, lambda m: "rate:1:satisfied" in str(m.get("reply_markup")))
        promise2 = await h.wait_for_message(GROUP_ID, lambda m: "rate:2:satisfied" in str(m.get("reply_markup")))
        await h.press(102, GROUP_ID, promise2["message_id"], "rate:2:satisfied")
        await until(lambda: h.services.desk.get(2).rating is not None, "#2 rated")
        assert h.services.desk.get(1).rating is None

        # the FAQ entry proposed to the editors; approved, it is a file and live without a restart
        proposal = await h.wait_for_message(
            EDITORS_CHAT_ID, lambda m: m["sender_id"] == BOT and "问答提议 P1" in m["plain_text"]
        )
        assert "消费券怎么领" in proposal["plain_text"] and "每周五 10:00" in proposal["plain_text"]
        await h.press(301, EDITORS_CHAT_ID, proposal["message_id"], "as:ok:1")
        approved = await h.wait_for_message(
            EDITORS_CHAT_ID, lambda m: m["message_id"] == proposal["message_id"] and "已批准" in m["plain_text"]
        )
        topic = h.services.desk.get(1).topic
        label = h.services.library.topic(topic).label("zh")
        assert re.search(rf"即为 FAQ {re.escape(label)}/\d+，已生效", approved["plain_text"]), approved["plain_text"]
        text = (content / "faq" / f"{topic}.md").read_text(encoding="utf-8")
        assert "### 消费券怎么领\n<!-- 存为问答 P1: #1 #2 #3, 陈编辑" in text and answer in text
        _q5, promise5 = await ask(h, 105, "@servicebot 消费券怎么领？")
        assert "每周五 10:00" in promise5["plain_text"]  # the FAQ offer, from the new entry
        assert "<!--" not in promise5["plain_text"]


async def test_save_an_answered_ticket_as_faq(tmp_path: Path) -> None:
    content = content_copy(tmp_path)
    async with running_bot(tmp_path, now=FRIDAY_10, content_dir=str(content)) as h:
        await ask(h, 101, "@servicebot 小区停车月卡怎么办")
        card = await card_of(h, 1)
        await h.say(203, STAFF_CHAT_ID, "带行驶证到物业服务中心办理，月卡 150 元。", reply_to_message_id=card["message_id"])
        card = await wait_card(h, 1, lambda m: "as:kb:1" in buttons(m))
        await h.press(203, STAFF_CHAT_ID, card["message_id"], "as:kb:1")
        proposal = await h.wait_for_message(
            EDITORS_CHAT_ID, lambda m: m["sender_id"] == BOT and "问答提议 P1" in m["plain_text"]
        )
        assert "来自工单 #1" in proposal["plain_text"] and "月卡 150 元" in proposal["plain_text"]
        await wait_card(h, 1, lambda m: "as:kb:1" not in buttons(m))  # once: the proposal is waiting
        await h.press(302, EDITORS_CHAT_ID, proposal["message_id"], "as:no:1")
        await h.wait_for_message(EDITORS_CHAT_ID, lambda m: m["message_id"] == proposal["message_id"] and "已驳回" in m["plain_text"])
        assert "月卡 150 元" not in "".join(p.read_text(encoding="utf-8") for p in (content / "faq").glob("*.md"))


async def test_forged_presses_change_nothing(tmp_path: Path) -> None:
    """A member (or a modified client) pressing the assistant's buttons: refused, nothing sent or stored."""
    from tests.faults.test_roles import forge_press

    content = content_copy(tmp_path)
    async with running_bot(tmp_path, now=FRIDAY_10, content_dir=str(content)) as h:
        await ask(h, 101, "@servicebot 北京的公积金怎么转到雄安？")
        card = await card_of(h, 1)
        await h.say(203, STAFF_CHAT_ID, "请新单位先开户缴存。", reply_to_message_id=card["message_id"])
        await h.press(203, STAFF_CHAT_ID, (await wait_card(h, 1, lambda m: "as:kb:1" in buttons(m)))["message_id"], "as:kb:1")
        proposal = await h.wait_for_message(EDITORS_CHAT_ID, lambda m: "问答提议 P1" in m["plain_text"])
        before = h.services.desk.get(1).to_dict()
        group_before = len(h.messages(GROUP_ID))
        for data in ("as:send:1", "as:cp:1:general/1", "as:cls:1", "as:kb:1"):
            forge_press(h, 101, STAFF_CHAT_ID, card["message_id"], data)  # the asker, not staff
        forge_press(h, 203, EDITORS_CHAT_ID, proposal["message_id"], "as:ok:1")  # staff, not an editor
        await until(lambda: len([c for c in h.sandbox.calls("answerCallbackQuery")
                                 if c.get("params", {}).get("show_alert")]) >= 5, "five refusals")
        assert h.services.desk.get(1).to_dict() == before
        assert len(h.messages(GROUP_ID)) == group_before
        p = h.services.assist.book.proposal(1) if h.services.assist else None
        assert p is not None and p.status == "pending"
        assert "请新单位先开户缴存" not in (content / "faq" / "housing-fund.md").read_text(encoding="utf-8")
