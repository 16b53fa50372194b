"""The member's promise shows each thing once: the FAQ answer (its first sentences, then only its
continuation in the fold), the promise (who answers, by when, with the date once), the 一次性告知 checklist,
the buttons 解决了 / 找人工 — never the answer again under a "可能的答案（…）：" heading, never "？：".

The view over every shipped FAQ entry in both languages (pure), then the group's message through the
sandbox: the FAQ answer offered, none found, after hours, on a public holiday, in English."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.chat.views.promise import FAQ_LINE, PromiseFacts, promise_html, promise_keyboard, split_answer
from bot.tickets.model import EventKind, Status, Ticket
from bot.tickets.topics import FaqEntry, load_faq
from sandbox import GROUP_ID
from tests.chat.harness import ROOT, SHANGHAI, running_bot
from tests.desk_chat.test_desk_flow import FRIDAY_10, ask
from tests.desk_chat.test_one_message_promise import folded, visible_lines

LIBRARY, _ = load_faq(ROOT / "content" / "faq")
ENTRIES = LIBRARY.entries
_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")


def sentences(text: str) -> list[str]:
    """The answer's sentences, whitespace-normalised, long enough to be told apart (8+ characters)."""
    found = (" ".join(s.split()) for s in _SENTENCE.findall(text))
    return [s for s in found if len(s) >= 8]


def flat(text: str) -> str:
    return " ".join(text.split())


def assert_once(text: str, entry: FaqEntry) -> None:
    """Every sentence of the member's answer occurs exactly once in ``text`` (whitespace aside)."""
    shown = flat(text)
    for s in sentences(entry.member_answer):
        assert shown.count(s) == 1, (entry.id, s, text)


def a_ticket(topic: str, asked: datetime) -> Ticket:
    return Ticket(
        number=7, chat_id=GROUP_ID, message_id=1, asker_id=101, asker_name="郑磊", text="?", topic=topic,
        created_at=asked, first_response_due=asked + timedelta(hours=1), resolution_due=asked + timedelta(days=3),
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_shipped_faq_answer_is_shown_once_and_never_after_a_question_mark_colon(lang: str) -> None:
    assert len(ENTRIES) >= 20
    for entry in ENTRIES:
        topic = LIBRARY.topic(entry.topic)
        facts = PromiseFacts(
            lang=lang, tz=ZoneInfo("Asia/Shanghai"), topic_label=topic.label(lang), checklist=topic.checklist,
            faq=entry, supervisors=("赵主管",), hotline="0312-5550100",
        )
        html = promise_html(a_ticket(entry.topic, FRIDAY_10), facts)
        text = html.unescape()
        assert_once(re.sub(r"<[^>]+>", "", text), entry)
        assert not re.search(r"[？?]\s*[：:]", re.sub(r"<[^>]+>", "", text)), (entry.id, text)
        assert "可能的答案" not in text and "possible answer" not in text
        # the question heads the answer once, in bold, and the answer follows it on the same line
        assert text.count(entry.question) == 1, (entry.id, text)
        assert text.startswith(f"💡 <b>{entry.question}</b>"), text


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", [EventKind.CLOSED, EventKind.AUTO_CLOSED])
def test_a_closed_promise_asks_for_the_rating_without_a_colon_before_the_fold(lang: str, kind: EventKind) -> None:
    """The fold (the rest of the answer, the checklist) stands between the status line and the rating
    buttons: "已办结，请评价：" read as if the checklist were what to rate."""
    entry = LIBRARY.entry("education/1")
    assert entry is not None
    topic = LIBRARY.topic(entry.topic)
    t = a_ticket(entry.topic, FRIDAY_10)
    t.status = Status.CLOSED
    t.record(kind, FRIDAY_10 + timedelta(hours=1), 201 if kind is EventKind.CLOSED else None)
    facts = PromiseFacts(lang=lang, tz=ZoneInfo("Asia/Shanghai"), topic_label=topic.label(lang),
                         checklist=topic.checklist, faq=entry, supervisors=())
    html = str(promise_html(t, facts))
    status = html.split("<blockquote", 1)[0].rstrip("\n").rsplit("\n", 1)[-1]
    assert "<blockquote expandable>" in html and not status.rstrip().endswith(("：", ":")), status
    assert promise_keyboard(t, lang, faq_live=False) is not None  # the rating buttons, under the fold


def test_the_answer_is_cut_in_two_parts_that_together_are_the_answer_once() -> None:
    for entry in ENTRIES:  # whole sentences: the visible part and the fold are the answer, once
        shown, rest = split_answer(entry.member_answer, FAQ_LINE)
        assert "\n" not in shown and len(shown) <= 2 * FAQ_LINE, (entry.id, shown)
        assert flat(shown + rest).replace(" ", "") == flat(entry.member_answer).replace(" ", ""), entry.id
    assert split_answer("短答案。", 30) == ("短答案。", "")
    assert split_answer("第一句话说明了要点。第二句补充。" * 3, 30) == (
        "第一句话说明了要点。第二句补充。第一句话说明了要点。",
        "第二句补充。第一句话说明了要点。第二句补充。",
    )
    # a first sentence too long even for the visible line: cut at its last comma, continued with "…"
    long = "先在线上填写申请表并核对个人信息，" + "再按提示上传材料" * 9 + "。第二句。"
    shown, rest = split_answer(long, 30)
    assert (shown, rest[:9]) == ("先在线上填写申请表并核对个人信息…", "…再按提示上传材料")
    assert flat(shown[:-1] + "，" + rest[1:]) == long
    shown, rest = split_answer("无标点" * 30, 30)  # no comma either: cut at the limit
    assert len(shown) == 30 and shown[:-1] + rest[1:] == "无标点" * 30


# -- through the sandbox, as the group shows it -------------------------------------------------------


def button_texts(m: dict[str, Any]) -> list[str]:
    rows = (m.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


async def test_the_group_reads_the_answer_once_then_the_promise_then_the_checklist(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        _, promise = await ask(h, 105, "@servicebot 孩子上学要什么材料")
        entry = h.services.library.entry(h.services.desk.get(1).faq_offered or "")
        assert entry is not None
        text = promise["plain_text"]
        assert_once(text, entry)
        assert "？：" not in text and "可能的答案" not in text
        lines = visible_lines(promise)
        assert len(lines) <= 3, lines
        assert lines[0].startswith(f"💡 {entry.question}") and "已受理 #1" in lines[1]
        assert text.count("一次性告知") == (1 if "一次性告知" not in entry.member_answer else 2)
        assert "所需材料" in folded(promise) and "所需材料" not in "\n".join(lines[:2])
        assert button_texts(promise) == ["解决了", "找人工"]


async def test_no_faq_answer_the_promise_and_the_checklist_only(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        _, promise = await ask(h, 105, "@servicebot 小区门口的路灯坏了找谁修？")
        assert h.services.desk.get(1).faq_offered is None
        lines = visible_lines(promise)
        assert lines[0].startswith("已受理 #1") and "预计 13:30 前答复" in lines[0]
        assert "💡" not in promise["plain_text"] and not button_texts(promise)
        assert promise["plain_text"].count("【一次性告知") == 1 and "【一次性告知" in folded(promise)


@pytest.mark.parametrize(
    ("asked", "why", "date"),
    [
        (datetime(2026, 11, 27, 20, 0, tzinfo=SHANGHAI), "现为非工作时间", "11月30日周一"),  # a Friday evening
        (datetime(2026, 10, 2, 10, 0, tzinfo=SHANGHAI), "节假日休息", "10月8日周四"),  # 国庆 (National Day)
    ],
)
async def test_outside_service_hours_the_day_is_named_once(tmp_path: Path, asked: datetime, why: str, date: str) -> None:
    async with running_bot(tmp_path, now=asked) as h:
        _, promise = await ask(h, 105, "@servicebot 公积金怎么转移接续")
        status = next(line for line in visible_lines(promise) if line.startswith("已受理 #1"))
        assert why in status and status.count(date) == 1 and status.count("月") == 1, status
        assert re.search(r"预计 .+ \d\d:\d\d 前答复（.+，\d\d:\d\d 起办理）", status), status


async def test_in_english_the_answer_once_and_english_buttons(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10, language="en") as h:
        _, promise = await ask(h, 105, "@servicebot 孩子上学要什么材料")
        entry = h.services.library.entry(h.services.desk.get(1).faq_offered or "")
        assert entry is not None
        text = promise["plain_text"]
        assert_once(text, entry)
        assert not re.search(r"[？?]\s*[：:]", text) and "possible answer" not in text.lower()
        assert "Received #1 · School enrolment · reply expected by 11:00" in text
        assert "One-time notice" in folded(promise)
        assert button_texts(promise) == ["Solved", "Talk to staff"]


@pytest.mark.parametrize(("lang", "joined"), [("zh", "赵主管、钱主管"), ("en", "赵主管, 钱主管")])
def test_the_escalated_promise_lists_the_supervisors_in_the_readers_punctuation(lang: str, joined: str) -> None:
    t = a_ticket("general", FRIDAY_10)
    t.escalated_first_response = True
    facts = PromiseFacts(lang=lang, tz=ZoneInfo("Asia/Shanghai"), topic_label="综合", checklist=None, faq=None,
                         supervisors=("赵主管", "钱主管"))
    assert joined in str(promise_html(t, facts))
