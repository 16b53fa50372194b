"""Issue 10 §3, what members and staff saw: each text as a person reads it, through the sandbox."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from sandbox import EDITORS_CHAT_ID, GROUP_ID, STAFF_CHAT_ID
from tests.chat.harness import SHANGHAI, Harness, running_bot

BOT = 9000
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


def buttons(m: dict[str, Any]) -> list[str]:
    rows = (m.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b.get("callback_data") for row in rows for b in row]


async def reply_to(h: Harness, chat_id: int, asked: dict[str, Any]) -> dict[str, Any]:
    """The bot's answer: a reply to it in a group; the next bot message in a private chat (PTB quotes only in groups)."""
    if chat_id > 0:
        return await h.wait_for_message(
            chat_id, lambda m: m["sender_id"] == BOT and m["message_id"] > asked["message_id"]
        )
    return await h.wait_for_message(
        chat_id, lambda m: m["sender_id"] == BOT and m["reply_to_message_id"] == asked["message_id"]
    )


async def command(h: Harness, user: int, chat_id: int | None, text: str) -> str:
    asked = await h.say(user, chat_id, text)
    return str((await reply_to(h, user if chat_id is None else chat_id, asked))["plain_text"])


# -- /help and the "/" menu: each role its own commands -----------------------------------------------


async def test_help_shows_each_role_its_own_commands(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        member = await command(h, 101, GROUP_ID, "/help")
        assert "/ask" in member and "@servicebot" in member and "@我" not in member
        for other in ("/queue", "/reply", "/approve", "/new", "/stats"):
            assert other not in member, other
        staff = await command(h, 201, STAFF_CHAT_ID, "/help")
        assert "/queue" in staff and "/reply" in staff and "/stats" in staff
        assert "/approve" not in staff and "/new" not in staff
        editors = await command(h, 301, EDITORS_CHAT_ID, "/help")
        assert "/approve" in editors and "/new" in editors and "/reply" not in editors
        private_staff = await command(h, 201, None, "/help")
        assert "/ask" in private_staff and "/reply" in private_staff and "/approve" not in private_staff
        private_member = await command(h, 102, None, "/help")
        assert "/ask" in private_member and "/reply" not in private_member and "/approve" not in private_member
        start = await command(h, 101, GROUP_ID, "/start")
        assert "@servicebot" in start and "@我" not in start


async def test_the_command_menu_has_a_scope_per_chat(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        await h.app.post_init(h.app)  # start-up work: the menus are set there

        def menu(chat: int, user: int) -> list[str]:
            return [c["command"] for c in h.sandbox.commands_menu(chat, user)]

        assert menu(GROUP_ID, 101) == ["ask", "complain", "help"]
        assert menu(101, 101) == ["ask", "mytickets", "complain", "subscribe", "unsubscribe", "help"]
        assert menu(STAFF_CHAT_ID, 201) == ["queue", "mine", "ticket", "reply", "canned", "classes", "reopen", "resolve", "stats", "help"]
        assert "approve" in menu(EDITORS_CHAT_ID, 301) and "reply" not in menu(EDITORS_CHAT_ID, 301)
        assert {"ask", "queue", "reply"} <= set(menu(201, 201)) and "approve" not in menu(201, 201)
        assert {"ask", "approve", "new"} <= set(menu(301, 301)) and "reply" not in menu(301, 301)
        staff_menu = h.sandbox.commands_menu(STAFF_CHAT_ID, 201)
        assert staff_menu[0]["description"] == "待办工单"  # in the configured language


# -- a bare mention is no question ---------------------------------------------------------------------


async def test_a_bare_mention_gets_the_ask_hint_and_no_ticket(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        for text in ("@servicebot", "@servicebot ？", "@servicebot  ?!"):
            asked = await h.say(101, GROUP_ID, text)
            hint = await reply_to(h, GROUP_ID, asked)
            assert "请在 /ask 后面写上您的问题" in hint["plain_text"], text
        asked = await h.say(101, GROUP_ID, "/ask ？")
        assert "请在 /ask 后面写上您的问题" in (await reply_to(h, GROUP_ID, asked))["plain_text"]
        assert h.services.desk.queue() == [] and h.services.desk.repo.by_asker(101) == []
        assert not [m for m in h.messages(STAFF_CHAT_ID) if m["sender_id"] == BOT]
        # a mention with a question still is one
        asked = await h.say(101, GROUP_ID, "@servicebot 公积金怎么提取")
        assert "已受理 #1" in (await reply_to(h, GROUP_ID, asked))["plain_text"]


# -- old FAQ buttons stop acting once a person has the ticket --------------------------------------------


async def test_faq_buttons_go_on_claim_and_a_late_press_is_refused_and_the_owner_told(tmp_path: Path) -> None:
    from bot.tickets.model import Status

    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        asked = await h.say(105, GROUP_ID, "@servicebot 孩子上学要什么材料")
        promise = await reply_to(h, GROUP_ID, asked)
        offered = promise["reply_markup"]
        assert buttons(promise) == ["faq:ok:1", "faq:human:1"]
        card = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("#1 "))
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        await h.wait_for_message(GROUP_ID, lambda m: m["message_id"] == promise["message_id"] and not buttons(m))
        # an old client still shows the buttons (or the press raced the claim): 已解决 is refused
        rec = h.sandbox.core._find(GROUP_ID, promise["message_id"])
        assert rec is not None
        rec.reply_markup = offered
        await h.press(105, GROUP_ID, promise["message_id"], "faq:ok:1")
        told = await h.wait_for_message(
            STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("ℹ️ #1") and "已解决" in m["plain_text"]
        )
        assert "王敏" in told["plain_text"] and "tg://user?id=201" in told["text"]
        answered = await h.wait_for_message(
            GROUP_ID, lambda m: m["message_id"] == promise["message_id"] and m["callback_answers"]
        )
        alert = answered["callback_answers"][-1]
        assert alert["show_alert"] is True and "王敏" in alert["text"]
        await h.wait_for_message(GROUP_ID, lambda m: m["message_id"] == promise["message_id"] and not buttons(m))
        t = h.services.desk.get(1)
        assert t.status is Status.CLAIMED and t.closed_at is None
        # the scenario of the issue: answered, rated 不满意 (reopened), then the old 已解决: still refused
        rec.reply_markup = offered
        h.services.desk.answer(1, by=201, text="请带户口本", now=h.clock.now())
        await h.press(105, GROUP_ID, promise["message_id"], "faq:ok:1")
        await h.wait_for_message(
            GROUP_ID, lambda m: m["message_id"] == promise["message_id"] and len(m["callback_answers"]) == 2
        )
        assert h.services.desk.get(1).status is not Status.CLOSED


# -- every message built from user text fits Telegram's 4096 ---------------------------------------------


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def test_a_4000_character_question_gets_a_card_and_a_refused_card_tells_ops(tmp_path: Path) -> None:
    from sandbox import OPS_CHAT_ID

    long_question = "@servicebot 公积金" + "请问转移接续怎么办理" * 400  # 4015 characters
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        asked = await h.say(101, GROUP_ID, long_question)
        assert "已受理 #1" in (await reply_to(h, GROUP_ID, asked))["plain_text"]
        card = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("#1 "))
        assert utf16(card["plain_text"]) <= 4096 and "/ticket 1" in card["plain_text"]
        assert "tk:claim:1" in buttons(card)
        for _ in range(600):  # the card is in the chat before the bot has read Telegram's answer and kept its id
            if h.services.desk.get(1).card_message_id is not None:
                break
            await asyncio.sleep(0.05)
        assert h.services.desk.get(1).card_message_id == card["message_id"]
        # Telegram refuses a card (whatever the reason): the ticket is stored, and ops is told
        h.sandbox.inject_fault("sendMessage", 400, description="Bad Request: message is too long", chat_id=STAFF_CHAT_ID)
        asked = await h.say(102, GROUP_ID, "@servicebot 社保怎么转移")
        await reply_to(h, GROUP_ID, asked)
        alert = await h.wait_for_message(OPS_CHAT_ID, lambda m: "#2" in m["plain_text"])
        assert "卡片未能发到工作人员群" in alert["plain_text"] and "/queue" in alert["plain_text"]


async def test_a_long_answer_goes_in_parts_and_counts_only_once_accepted(tmp_path: Path) -> None:
    from bot.tickets.model import Status

    answer = "请携带户口本原件。" * 453  # 4077 characters: with the header and signature, over 4096
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        asked = await h.say(101, GROUP_ID, "@servicebot 孩子转学怎么办")
        await reply_to(h, GROUP_ID, asked)
        card = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("#1 "))
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["message_id"] == card["message_id"] and "王敏" in m["plain_text"])
        # the group refuses the answer: nothing is recorded, the SLA clock keeps running, staff are told
        h.sandbox.inject_fault("sendMessage", 400, description="Bad Request: message is too long", chat_id=GROUP_ID)
        first = await h.say(201, STAFF_CHAT_ID, answer, reply_to_message_id=card["message_id"])
        told = await reply_to(h, STAFF_CHAT_ID, first)
        assert "未能发到群里" in told["plain_text"]
        t = h.services.desk.get(1)
        assert t.status is Status.CLAIMED and t.first_response_at is None and t.answers == []
        # accepted: in parts under the question, each within the limit, signed at the end; then recorded
        again = await h.say(201, STAFF_CHAT_ID, answer, reply_to_message_id=card["message_id"])
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["reply_to_message_id"] == again["message_id"])
        parts = [m for m in h.messages(GROUP_ID) if m["sender_id"] == BOT and m["plain_text"].startswith("#1 答复")]
        assert [p["plain_text"].split("\n", 1)[0] for p in parts] == ["#1 答复（1/2）", "#1 答复（2/2）"]
        assert all(utf16(p["plain_text"]) <= 4096 and p["reply_to_message_id"] == asked["message_id"] for p in parts)
        assert parts[-1]["plain_text"].endswith("王敏（服务中心）")
        body = "".join(p["plain_text"].split("\n", 1)[1] for p in parts).removesuffix("\n—— 王敏（服务中心）")
        assert body == answer
        t = h.services.desk.get(1)
        assert t.status is Status.ANSWERED and t.first_response_at is not None
        assert t.answers[0].message_id == parts[0]["message_id"]
        private = [m for m in h.messages(101) if m["sender_id"] == BOT and "#1" in m["plain_text"]]
        assert len(private) == 2 and all(utf16(m["plain_text"]) <= 4096 for m in private)


# -- a reply whose target is gone ---------------------------------------------------------------------


async def test_a_reply_to_a_message_deleted_meanwhile_is_sent_without_the_reply(tmp_path: Path) -> None:
    from sandbox import OPS_CHAT_ID

    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        asked = await h.say(101, GROUP_ID, "@servicebot 孩子转学怎么办")
        promise = await reply_to(h, GROUP_ID, asked)
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("#1 "))
        assert h.app.updater is not None
        await h.app.updater.stop()  # the bot is busy elsewhere for a moment...
        follow = await h.say(101, GROUP_ID, "补充：孩子在北京上三年级", reply_to_message_id=promise["message_id"])
        rec = h.sandbox.core._find(GROUP_ID, follow["message_id"])
        assert rec is not None
        rec.deleted = True  # ...and the member deletes the follow-up before the bot answers it
        await h.app.updater.start_polling(timeout=1, poll_interval=0)
        ok = await h.wait_for_message(GROUP_ID, lambda m: m["sender_id"] == BOT and "已转告工作人员" in m["plain_text"])
        assert ok["reply_to_message_id"] is None  # sent without the reply, as Telegram does with the flag
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: "提问人追问" in m["plain_text"])
        await h.settle()
        assert not [m for m in h.messages(OPS_CHAT_ID) if "出错" in m["plain_text"]]


# -- staff @usernames: learnt from their own messages, refreshed, never one cached lookup --------------


async def test_staff_usernames_are_learnt_from_their_messages_and_refreshed(tmp_path: Path) -> None:
    import dataclasses

    from bot.chat.questions import staff_usernames_of

    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        # Telegram cannot tell us about anyone at first (e.g. they had not joined the staff chat yet)
        h.sandbox.inject_fault("getChatMember", 400, description="Bad Request: user not found", count=4)
        chatter = await h.say(101, GROUP_ID, "@zhangli_gjj 公积金提取要多久")
        await h.settle()
        assert not [m for m in h.messages(GROUP_ID) if m["reply_to_message_id"] == chatter["message_id"]]
        assert h.services.desk.queue() == []
        # 张丽 writes in the staff chat: her username is known from her own message, no restart needed
        await h.say(203, STAFF_CHAT_ID, "大家好，我是公积金窗口的张丽")
        asked = await h.say(101, GROUP_ID, "@zhangli_gjj 公积金提取要多久")
        assert "已受理 #1" in (await reply_to(h, GROUP_ID, asked))["plain_text"]
        # a failed lookup is asked again later, not cached for the process: 王敏 is found by getChatMember
        staff_usernames_of(h.services).retry = 0
        asked = await h.say(102, GROUP_ID, "@wangmin_edu 孩子转学的学籍怎么转")
        assert "已受理 #2" in (await reply_to(h, GROUP_ID, asked))["plain_text"]
        # 张丽 changes her username: her next message teaches the new one, the old one is forgotten
        world = h.sandbox.core.world
        world._users_by_id[203] = dataclasses.replace(world._users_by_id[203], username="zhangli_new")
        await h.say(203, STAFF_CHAT_ID, "改了用户名")
        asked = await h.say(103, GROUP_ID, "@zhangli_new 租房提取怎么办")
        assert "已受理 #3" in (await reply_to(h, GROUP_ID, asked))["plain_text"]
        old = await h.say(104, GROUP_ID, "@zhangli_gjj 还在吗")
        await h.settle()
        assert not [m for m in h.messages(GROUP_ID) if m["reply_to_message_id"] == old["message_id"]]


# -- every word in the configured language; paths relative to the content folder ----------------------


def english_words(text: str) -> list[str]:
    import re

    return re.findall(r"[A-Za-z]{3,}", text)


async def test_ticket_history_has_no_english_words(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        desk, now = h.services.desk, FRIDAY_10
        asked = await h.say(101, GROUP_ID, "@servicebot 孩子转学怎么办")
        await reply_to(h, GROUP_ID, asked)
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("#1 "))
        desk.claim(1, by=201, now=now)
        desk.answer(1, by=201, text="请带户口本", now=now)
        desk.close(1, by=201, now=now)
        from bot.tickets.model import Rating

        desk.rate(1, by=101, rating=Rating.UNSATISFIED, now=now)
        desk.answer(1, by=201, text="已电话联系", now=now)
        desk.close(1, by=201, now=now)
        desk.asker_reply(1, by=101, now=now)
        history = await command(h, 204, STAFF_CHAT_ID, "/ticket 1")
        assert "重新打开 · 郭超（提问人评价不满意）" in history
        assert "（提问人追问）" in history
        # "FAQ 子女入学/2" is the entry's one label, as on the card and in drafts (the product's term)
        assert "（FAQ 子女入学/2）" in history and english_words(history.replace("FAQ 子女入学", "")) == [], history


async def test_item_history_in_chinese_with_paths_relative_to_the_content_folder(tmp_path: Path) -> None:
    import shutil

    from tests.chat.harness import ROOT

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    async with running_bot(tmp_path, now=FRIDAY_10, content_dir=str(content)) as h:
        name = "2026-12-01-gongjijin-policy.md"
        item = h.services.queue.by_path(name)
        assert item is not None
        (content / "queue" / name).unlink()  # the file goes: the item is withdrawn
        from tests.editors_chat.flow import ask

        await ask(h, 301, EDITORS_CHAT_ID, "/reload", "已重新读取")
        shown = (await ask(h, 301, EDITORS_CHAT_ID, f"/item {item.number}", "记录："))["plain_text"]
        assert f"queue/{name}" in shown and str(tmp_path) not in shown and "content/queue/queue" not in shown
        history = shown.split("记录：", 1)[1]
        assert history.count(f"系统 读入（queue/{name}）") == 2 and "撤回（文件已删除）" in history
        assert english_words(history.replace(f"queue/{name}", "")) == [], history


# -- FAQ answers read as Markdown paragraphs ----------------------------------------------------------


async def test_faq_answer_lines_wrapped_in_the_source_are_joined(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        asked = await h.say(101, GROUP_ID, "@servicebot 公积金怎么转移接续")
        promise = (await reply_to(h, GROUP_ID, asked))["plain_text"]
        # content/faq/housing-fund.md wraps this sentence after "线上渠道）"
        assert "（或雄安公积金中心线上渠道）申请「异地转移接续」" in promise, promise


def test_join_soft_breaks_keeps_paragraphs_lists_and_hard_breaks() -> None:
    from bot.tickets.topics import join_soft_breaks

    text = "先由单位开户，\n再申请转移。\n\nSee the\nguide\n- 身份证\n- 户口本\n\n电话：12329  \n窗口：新区中心"
    assert join_soft_breaks(text) == (
        "先由单位开户，再申请转移。\n\nSee the guide\n- 身份证\n- 户口本\n\n电话：12329\n窗口：新区中心"
    )


# -- each reads as a person would expect ----------------------------------------------------------------


async def test_unsatisfied_reads_as_reopened_and_the_toast_says_so(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        asked = await h.say(101, GROUP_ID, "@servicebot 医保报销怎么办")
        await reply_to(h, GROUP_ID, asked)
        card = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("#1 "))
        # an unclaimed card offers 认领, not 转交 (which would only be refused)
        assert "tk:claim:1" in buttons(card) and "tk:xfer:1" not in buttons(card)
        await h.press(202, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        card = await h.wait_for_message(
            STAFF_CHAT_ID, lambda m: m["message_id"] == card["message_id"] and "tk:xfer:1" in buttons(m)
        )
        assert "tk:claim:1" not in buttons(card)
        await h.press(202, STAFF_CHAT_ID, card["message_id"], "tk:close:1")
        rating = await h.wait_for_message(GROUP_ID, lambda m: "rate:1:unsatisfied" in buttons(m))
        await h.press(101, GROUP_ID, rating["message_id"], "rate:1:unsatisfied")
        rated = await h.wait_for_message(
            GROUP_ID, lambda m: m["message_id"] == rating["message_id"] and m["callback_answers"]
        )
        assert "已重新打开" in rated["plain_text"] and "不满意" in rated["plain_text"]
        assert "已办结" not in rated["plain_text"] and "感谢您的评价" not in rated["plain_text"]
        toast = rated["callback_answers"][-1]["text"]
        assert "感谢评价" not in toast and "继续跟进" in toast


async def test_stats_without_figures_and_a_self_solved_card(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        stats = await command(h, 204, STAFF_CHAT_ID, "/stats")
        assert "— 分钟" not in stats and "办结中位数 暂无" in stats
        asked = await h.say(105, GROUP_ID, "@servicebot 孩子上学要什么材料")
        promise = await reply_to(h, GROUP_ID, asked)
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("#1 "))
        await h.press(105, GROUP_ID, promise["message_id"], "faq:ok:1")
        card = await h.wait_for_message(
            STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("#1 ") and "已办结" in m["plain_text"]
        )
        assert "待认领" not in card["plain_text"] and "负责人：—（提问人自助解决）" in card["plain_text"]


async def test_editors_commands_from_a_member_in_the_group_get_a_polite_refusal(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        for text in ("/new", "/approve 1", "/item 1", "/withdraw 1 不要了"):
            assert "抱歉，这是编辑专用的命令" in await command(h, 101, GROUP_ID, text), text
        assert "工作人员专用" in await command(h, 101, GROUP_ID, "/reply 1 你好")  # as before
        # staff are no editors either: refused, and nothing in the queue changed
        before = [(i.number, i.status) for i in h.services.queue.all()]
        assert "抱歉，这是编辑专用的命令" in await command(h, 201, STAFF_CHAT_ID, "/approve 1")
        assert [(i.number, i.status) for i in h.services.queue.all()] == before


async def test_a_long_transfer_reason_still_gives_a_message_within_the_limit(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        asked = await h.say(101, GROUP_ID, "@servicebot 医保报销怎么办")
        await reply_to(h, GROUP_ID, asked)
        card = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("#1 "))
        await h.press(202, STAFF_CHAT_ID, card["message_id"], "tk:claim:1")
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["message_id"] == card["message_id"] and "tk:xfer:1" in buttons(m))
        await h.press(202, STAFF_CHAT_ID, card["message_id"], "tk:xfer:1")
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["message_id"] == card["message_id"] and "tk:to:1:203" in buttons(m))
        await h.press(202, STAFF_CHAT_ID, card["message_id"], "tk:to:1:203")
        prompt = await h.wait_for_message(STAFF_CHAT_ID, lambda m: "转交给 张丽" in m["plain_text"])
        await h.say(202, STAFF_CHAT_ID, "涉及公积金" * 818, reply_to_message_id=prompt["message_id"])  # 4090
        moved = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("↪️ #1 已由"))
        assert utf16(moved["plain_text"]) <= 4096 and moved["plain_text"].endswith("…")
        assert h.services.desk.get(1).owner_id == 203


async def test_a_long_announcement_goes_in_parts_and_its_item_card_fits(tmp_path: Path) -> None:
    import shutil

    from bot.chat.editor_jobs import deliver_announcements
    from tests.chat.harness import ROOT
    from tests.editors_chat.flow import ask

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    paragraphs = ["**停水通知**", "今晚起容东片区临时停水，请提前储水。" * 150, "恢复供水时间另行通知。" * 200]
    (content / "queue" / "2026-11-27-long.md").write_text(
        '---\ndigest: announcement\ndate: 2026-11-27\ntime: "10:30"\nstatus: approved\n---\n'
        + "\n\n".join(paragraphs) + "\n",
        encoding="utf-8",
    )
    async with running_bot(tmp_path, now=FRIDAY_10, content_dir=str(content)) as h:
        item = h.services.queue.by_path("2026-11-27-long.md")
        assert item is not None and item.status == "approved"
        card = await ask(h, 302, EDITORS_CHAT_ID, f"/item {item.number}", "记录")
        assert utf16(card["plain_text"]) <= 4096 and "…" in card["plain_text"]
        h.set_time(datetime(2026, 11, 27, 10, 31, tzinfo=SHANGHAI))
        assert await deliver_announcements(h.app) == [item.number]
        parts = [m for m in h.messages(GROUP_ID) if m["sender_id"] == BOT and m["plain_text"].startswith(("📢", "今晚", "恢复"))]
        assert len(parts) >= 2 and all(utf16(p["plain_text"]) <= 4096 for p in parts)
        assert parts[0]["plain_text"].startswith("📢 停水通知") and "<b>停水通知</b>" in parts[0]["text"]
        joined = "".join(p["plain_text"] for p in parts).replace("\n", "")
        assert joined == "📢 " + "".join(paragraphs).replace("**", "")


def dataclasses_replace(obj: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(obj, **changes)
