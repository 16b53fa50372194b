"""The assistant's store and the FAQ file an approved proposal is appended to."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.assist.book import AssistBook, append_entry
from bot.assist.drafts import Draft, Source
from bot.store import Store
from bot.tickets.topics import load_faq

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_an_appended_entry_is_an_faq_entry_and_the_note_stays_in_the_file(tmp_path: Path) -> None:
    faq = tmp_path / "faq"
    shutil.copytree(ROOT / "content" / "faq", faq)
    before, _ = load_faq(faq)
    path = append_entry(faq, "general", "消费券怎么领", "小程序首页点「消费券」。\n### 不是标题\n第二段", "存为问答 P1: #3, 陈编辑")
    after, problems = load_faq(faq)
    assert problems == [] and path == faq / "general.md"
    assert len(after.entries) == len(before.entries) + 1
    entry = after.topic("general").entries[-1]
    assert entry.question == "消费券怎么领"
    assert "<!--" not in entry.answer and "存为问答" not in entry.answer
    assert entry.answer.startswith("小程序首页点「消费券」。") and "不是标题" in entry.answer  # not a new entry
    assert "<!-- 存为问答 P1: #3, 陈编辑 -->" in path.read_text(encoding="utf-8")


def test_draft_outcomes_are_counted_and_forget_erases_a_pending_question() -> None:
    book = AssistBook(Store.in_memory())
    draft = Draft("答复", (Source("faq", "general/1", "FAQ 综合/1"),))
    for n in (1, 2, 3, 4):
        book.put_draft(n, draft, NOW)
    book.set_outcome(1, "sent")
    book.set_outcome(2, "edited")
    book.set_outcome(2, "sent")  # the first outcome stays
    c = book.draft_counts(NOW, datetime(2026, 11, 28, tzinfo=NOW.tzinfo), done={1, 2, 3})
    assert (c.offered, c.sent, c.edited, c.ignored) == (4, 1, 1, 1)  # #4 is still waiting: not ignored
    p = book.propose(question="我家住 3 栋 502，消费券怎么领", answer="小程序", topic="general", numbers=(7,), by=201, now=NOW)
    assert book.pending_for(7) == p
    assert book.forget_tickets({7}) == 1
    found = book.proposal(p.id)
    assert found is not None and found.question == "（已删除）"
