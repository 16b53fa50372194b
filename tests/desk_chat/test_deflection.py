"""Issue 14 items 2 and 3 through the sandbox: when an FAQ entry fits, its answer comes first in the
promise without the editorial marks (the card tells staff how many were hidden); the card shows the
offer and what the asker did with it; 已解决 closes the ticket as self-served (history, /stats);
转人工 is recorded and pings the topic's staff; the deadlines run from the question either way; an
out-of-scope question gets no offer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.tickets.model import EventKind, Status
from sandbox import GROUP_ID, STAFF_CHAT_ID
from tests.chat.harness import running_bot
from tests.desk_chat.test_desk_flow import FRIDAY_10, ask, buttons, card_of, wait_card
from tests.desk_chat.test_one_message_promise import folded, promise_now, visible_lines
from tests.desk_chat.test_small_things import command


async def test_answer_first_marks_hidden_and_solved_is_self_served(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        _, promise = await ask(h, 105, "@servicebot 雄才卡怎么申请？我们单位刚搬过来")
        t = h.services.desk.get(1)
        assert t.faq_offered == "talent-card/1"  # the context no longer hides the entry
        lines = visible_lines(promise)
        assert len(lines) <= 3, lines
        assert lines[0].startswith("💡 雄才卡怎么申请？在雄安新区工作并符合人才认定条件的")
        assert "已受理 #1" in lines[1]
        assert "一次性告知" in folded(promise)  # the checklist, folded below the answer
        assert "待本地核实" not in promise["plain_text"]  # the talent-card checklist carries 3 of them
        assert buttons(promise) == ["faq:ok:1", "faq:human:1"]
        card = await card_of(h, 1)
        assert "💡 已自动答复：FAQ 雄才卡/1「雄才卡怎么申请？」" in card["plain_text"]
        assert "含 3 处「待本地核实」" in card["plain_text"]  # the checklist's 3: staff see what the member did not
        assert "等提问人确认是否已解决" in card["plain_text"]

        await h.press(105, GROUP_ID, promise["message_id"], "faq:ok:1")
        await promise_now(h, promise, lambda m: "✅ 已解决（自助）" in m["plain_text"])
        await wait_card(h, 1, lambda m: "提问人已点「解决了」（自助办结）" in m["plain_text"])
        t = h.services.desk.get(1)
        assert t.status is Status.CLOSED and t.events[-1].kind is EventKind.FAQ_RESOLVED
        assert t.events[-1].details.get("entry") == "talent-card/1"

        h.set_time(FRIDAY_10 + timedelta(hours=6))  # long past the first-response deadline
        stats = await command(h, 201, "/stats")
        assert "自动答复：1 件（提问人自助解决 1，转人工 0）" in stats
        s = h.services.desk.stats(FRIDAY_10 + timedelta(hours=6))
        assert s.self_served == 1 and s.first_response_met_percent is None  # no staff response was owed
        assert s.resolution_met_percent == 100.0  # closed by the member, on time, counted from the question


async def test_human_is_recorded_pings_the_topic_staff_and_the_clock_runs_from_the_question(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        _, promise = await ask(h, 105, "@servicebot 北京医保在雄安看病能直接报销吗？我们单位刚搬过来")
        asked = h.services.desk.get(1)
        assert asked.faq_offered == "medical/1"
        card = await card_of(h, 1)
        h.set_time(FRIDAY_10 + timedelta(minutes=10))
        await h.press(105, GROUP_ID, promise["message_id"], "faq:human:1")
        ping = await h.wait_for_message(STAFF_CHAT_ID, lambda m: "转人工" in (m["plain_text"] or "") and m["message_id"] != card["message_id"])
        assert "tg://user?id=202" in ping["text"]  # 李强 takes medical and is on duty
        await wait_card(h, 1, lambda m: "提问人 10:10 要求人工答复，请跟进" in m["plain_text"])
        t = h.services.desk.get(1)
        assert [e.kind for e in t.events][-1] is EventKind.HUMAN_REQUESTED and t.status is Status.OPEN
        # the deadlines are the question's, not restarted by the button
        assert (t.first_response_due, t.resolution_due) == (asked.first_response_due, asked.resolution_due)
        assert t.first_response_due < FRIDAY_10 + timedelta(minutes=10) + (asked.first_response_due - FRIDAY_10)
        stats = await command(h, 201, "/stats")
        assert "自动答复：1 件（提问人自助解决 0，转人工 1）" in stats


async def test_out_of_scope_gets_no_offer(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        _, promise = await ask(h, 105, "@servicebot 雄安站到容西怎么走")  # not the Beijing -> Xiong'an entry
        assert h.services.desk.get(1).faq_offered is None
        assert not buttons(promise) and "💡" not in promise["plain_text"]
        card = await card_of(h, 1)
        assert "已自动答复" not in card["plain_text"]
