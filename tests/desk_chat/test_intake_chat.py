"""Issue 13 §1 through the sandbox: only questions become tickets; thanks under an answer are history only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from bot.tickets.model import EventKind, Rating, Status
from sandbox import EDITORS_CHAT_ID, GROUP_ID, STAFF_CHAT_ID
from tests.chat.harness import SHANGHAI, Harness, running_bot

BOT = 9000
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


def replies_to(h: Harness, chat_id: int, m: dict[str, Any]) -> list[dict[str, Any]]:
    return [x for x in h.messages(chat_id) if x["sender_id"] == BOT and x["reply_to_message_id"] == m["message_id"]]


def stored_bytes(h: Harness, tmp_path: Path) -> bytes:
    h.store.flush()
    return b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())


async def test_replies_to_a_notice_that_ask_nothing_are_not_tickets_nor_stored(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        notice = await h.services.outbox.send(GROUP_ID, "读书会本周六 14:00 开始，免费参加")
        assert notice is not None
        said = [
            await h.say(103, GROUP_ID, text, reply_to_message_id=notice.message_id)
            for text in ("👍", "收到，谢谢", "我报名读书会，2个人", "周末的活动去过挺好玩的")
        ]
        # a question under the same notice is one: its promise comes after all the others were handled
        asked = await h.say(104, GROUP_ID, "读书会在哪里集合？", reply_to_message_id=notice.message_id)
        promise = await h.wait_for_message(GROUP_ID, lambda m: m["reply_to_message_id"] == asked["message_id"])
        assert "已受理 #1" in promise["plain_text"]
        await h.settle()
        for m in said:
            assert replies_to(h, GROUP_ID, m) == [], m["plain_text"]
            assert h.services.desk.repo.by_message(GROUP_ID, m["message_id"]) is None
        assert h.services.desk.repo.next_number() == 2
        stored = stored_bytes(h, tmp_path)
        assert "在哪里集合".encode() in stored
        for text in ("收到，谢谢", "我报名读书会", "挺好玩"):
            assert text.encode() not in stored, text
        cards = [m for m in h.messages(STAFF_CHAT_ID) if m["sender_id"] == BOT]
        assert len(cards) == 1 and cards[0]["plain_text"].startswith("#1 ")


async def test_thanks_under_the_answer_change_nothing_but_the_history(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        q = await h.say(101, GROUP_ID, "@servicebot 社保卡丢了怎么补办")
        card = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("#1 "))
        await h.say(201, STAFF_CHAT_ID, "带身份证到社保大厅补办", reply_to_message_id=card["message_id"])
        answer = await h.wait_for_message(GROUP_ID, lambda m: "社保大厅补办" in m["plain_text"])
        assert answer["reply_to_message_id"] == q["message_id"]
        await h.press(201, STAFF_CHAT_ID, card["message_id"], "tk:close:1")
        rating = await h.wait_for_message(GROUP_ID, lambda m: "rate:1:satisfied" in str(m.get("reply_markup")))
        await h.press(101, GROUP_ID, rating["message_id"], "rate:1:satisfied")
        await h.wait_for_message(GROUP_ID, lambda m: m["message_id"] == rating["message_id"] and m["callback_answers"])
        before = h.services.desk.get(1)
        assert before.status is Status.CLOSED and before.rating is Rating.SATISFIED
        staff_before = len(h.messages(STAFF_CHAT_ID))

        thanks = await h.say(101, GROUP_ID, "好的，谢谢李老师！", reply_to_message_id=answer["message_id"])
        # handled when its event is in the history
        for _ in range(200):
            if h.services.desk.get(1).events[-1].kind is EventKind.THANKED:
                break
            await h.settle(0.05)
        after = h.services.desk.get(1)
        assert after.events[-1].kind is EventKind.THANKED and after.events[-1].actor_id == 101
        assert after.status is Status.CLOSED and after.reopened == 0 and after.rating is Rating.SATISFIED
        assert after.resolution_due == before.resolution_due and after.last_activity_at == before.last_activity_at
        assert len(after.events) == len(before.events) + 1
        # asking again under the same answer is a follow-up (a marker: everything before it was handled)
        again = await h.say(101, GROUP_ID, "那补办要几天？", reply_to_message_id=answer["message_id"])
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: "追问" in m["plain_text"] and "几天" in m["plain_text"])
        await h.wait_for_message(GROUP_ID, lambda m: m["reply_to_message_id"] == again["message_id"])
        assert replies_to(h, GROUP_ID, thanks) == []
        staff_new = h.messages(STAFF_CHAT_ID)[staff_before:]
        assert not [m for m in staff_new if "谢谢" in (m["plain_text"] or "")]  # no ping for the thanks
        assert h.services.desk.get(1).reopened == 1  # by the follow-up, not by the thanks
        assert h.services.desk.repo.next_number() == 2
        assert "谢谢" not in str(h.services.desk.get(1).to_dict())  # the event, not the words


async def test_a_greeting_in_private_gets_the_hint_and_no_ticket(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        hello = await h.say(102, None, "你好")
        hint = await h.wait_for_message(102, lambda m: m["sender_id"] == BOT and m["message_id"] > hello["message_id"])
        assert "/ask" in hint["plain_text"]
        asked = await h.say(102, None, "公租房申请条件")
        promise = await h.wait_for_message(102, lambda m: m["sender_id"] == BOT and m["message_id"] > asked["message_id"])
        assert "已受理 #1" in promise["plain_text"]
        assert h.services.desk.repo.next_number() == 2


async def test_a_photo_asking_the_bot_is_a_question_and_its_card_carries_the_photo(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        q = await h.say(101, GROUP_ID, "@servicebot 这个表格第三栏怎么填", photo=True)
        promise = await h.wait_for_message(GROUP_ID, lambda m: m["reply_to_message_id"] == q["message_id"])
        assert "已受理 #1" in promise["plain_text"]
        card = await h.wait_for_message(STAFF_CHAT_ID, lambda m: (m["plain_text"] or "").startswith("#1 "))
        assert "第三栏怎么填" in card["plain_text"]
        copy = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["photo"])
        assert copy["reply_to_message_id"] == card["message_id"] and copy["sender_id"] == BOT
        assert copy["caption"] == "@servicebot 这个表格第三栏怎么填"
        await h.say(201, STAFF_CHAT_ID, "第三栏填单位统一社会信用代码", reply_to_message_id=card["message_id"])
        answer = await h.wait_for_message(GROUP_ID, lambda m: "信用代码" in (m["plain_text"] or ""))
        assert answer["reply_to_message_id"] == q["message_id"]  # the answer replies to the photo


async def test_a_document_sent_privately_is_a_question_and_a_sticker_under_a_notice_is_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        notice = await h.services.outbox.send(GROUP_ID, "明天 9:00-12:00 停水")
        assert notice is not None
        sticker = await h.say(103, GROUP_ID, None, sticker="👍", reply_to_message_id=notice.message_id)
        emoji = await h.say(103, GROUP_ID, "👌", reply_to_message_id=notice.message_id)
        doc = await h.say(102, None, "", document="申请表.pdf")
        promise = await h.wait_for_message(102, lambda m: m["sender_id"] == BOT and m["message_id"] > doc["message_id"])
        assert "已受理 #1" in promise["plain_text"]
        card = await h.wait_for_message(STAFF_CHAT_ID, lambda m: (m["plain_text"] or "").startswith("#1 "))
        assert "图片或文件" in card["plain_text"]
        copy = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["document"] is not None)
        assert copy["document"]["file_name"] == "申请表.pdf" and copy["reply_to_message_id"] == card["message_id"]
        assert replies_to(h, GROUP_ID, sticker) == [] and replies_to(h, GROUP_ID, emoji) == []
        assert h.services.desk.repo.next_number() == 2


async def test_replies_to_an_item_taking_sign_ups_go_to_the_editors_as_a_list(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        item = await h.services.outbox.send(
            GROUP_ID, "<b>服务早知道</b>\n\n<b>社区读书会</b>\n本周六 14:00 邻里中心。报名：回复本条\n\n<b>停水通知</b>\n明天停水"
        )
        assert item is not None
        first = await h.say(101, GROUP_ID, "我报名读书会，2个人", reply_to_message_id=item.message_id)
        ok = await h.wait_for_message(GROUP_ID, lambda m: m["reply_to_message_id"] == first["message_id"])
        assert "已登记报名：社区读书会" in ok["plain_text"] and ok["disable_notification"] is True
        listing = await h.wait_for_message(EDITORS_CHAT_ID, lambda m: "报名名单" in (m["plain_text"] or ""))
        assert "社区读书会（1 条）" in listing["plain_text"] and "郭超：我报名读书会，2个人" in listing["plain_text"]
        thumbs = await h.say(103, GROUP_ID, "👍", reply_to_message_id=item.message_id)
        second = await h.say(102, GROUP_ID, "算我一个", reply_to_message_id=item.message_id)
        await h.wait_for_message(GROUP_ID, lambda m: m["reply_to_message_id"] == second["message_id"])
        edited = await h.wait_for_message(
            EDITORS_CHAT_ID, lambda m: m["message_id"] == listing["message_id"] and "（2 条）" in m["plain_text"]
        )
        assert "2. " in edited["plain_text"] and "算我一个" in edited["plain_text"]
        assert len([m for m in h.messages(EDITORS_CHAT_ID) if "报名名单" in (m["plain_text"] or "")]) == 1
        # a question under the item is still a question for the desk
        asked = await h.say(104, GROUP_ID, "请问在哪里集合？", reply_to_message_id=item.message_id)
        promise = await h.wait_for_message(GROUP_ID, lambda m: m["reply_to_message_id"] == asked["message_id"])
        assert "已受理 #1" in promise["plain_text"]
        assert replies_to(h, GROUP_ID, thumbs) == []
        assert h.services.desk.repo.next_number() == 2  # the sign-ups are not tickets
        assert "👍" not in edited["plain_text"]
