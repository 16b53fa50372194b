"""Editorial marks ("（待本地核实）") are for the service team: members never see them (issue 14 item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.editorial.check import editorial_marks
from bot.editorial.content import load_queue_dir
from bot.knowledge.marks import count, for_members
from bot.tickets.topics import load_faq

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("以新区最新公布的政策为准（待本地核实）。", "以新区最新公布的政策为准。"),
        ("提交申请（入口以官方公布为准，待本地核实）", "提交申请（入口以官方公布为准）"),
        ("（以公积金管理部门公告为准，**待本地核实**）", "（以公积金管理部门公告为准）"),
        ("容东片区某主干道（具体路段**待本地核实**）每日封闭", "容东片区某主干道每日封闭"),
        ("Anything unconfirmed is marked **（待本地核实）** here", "Anything unconfirmed is marked here"),
        ("电话待核实", "电话"),
        ("没有标记的句子。", "没有标记的句子。"),
    ],
)
def test_marks_are_left_out_of_what_members_read(raw: str, shown: str) -> None:
    assert for_members(raw) == shown
    assert count(for_members(raw)) == 0


def test_no_shipped_faq_answer_or_checklist_shows_a_mark_to_members() -> None:
    library, problems = load_faq(ROOT / "content" / "faq")
    assert not problems
    raw = sum(e.mark_count for e in library.entries) + sum(
        count(t.checklist.render(t.name, for_members=False)) for t in library.topics.values() if t.checklist
    )
    assert raw == 35  # what content/faq carries today (the issue counted 35)
    for e in library.entries:
        assert count(e.member_answer) == 0, e.id
    for t in library.topics.values():
        if t.checklist is not None:
            for lang in ("zh", "en"):
                assert count(t.checklist.render(t.label(lang), lang)) == 0, t.key


def test_queued_items_are_published_without_marks() -> None:
    items, _problems = load_queue_dir(ROOT / "content" / "queue", None)
    assert items and all(count(i.html) == 0 for i in items)


def test_check_counts_the_marks_per_file() -> None:
    found = dict(editorial_marks(ROOT / "content"))
    assert found[str(ROOT / "content" / "faq" / "education.md")] == 5
    assert found[str(ROOT / "content" / "faq" / "talent-card.md")] == 4
    assert str(ROOT / "content" / "faq" / "README.md") not in found
    assert sum(n for p, n in found.items() if "/faq/" in p) == 35
