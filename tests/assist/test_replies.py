"""Canned replies (content/replies): placeholders filled, unknown ones refused with file:line by check."""

from __future__ import annotations

from pathlib import Path

from bot.assist.replies import load_replies, parse_replies
from bot.editorial.check import check_content

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_replies_load_without_problems() -> None:
    book, problems = load_replies(ROOT / "content" / "replies", {"housing-fund", "education", "general"})
    assert problems == []
    assert book.get("general/1") is not None
    # the topic's own replies first, then those for every topic
    keys = [r.key for r in book.for_topic("housing-fund")]
    assert keys[:2] == ["housing-fund/1", "housing-fund/2"] and "general/1" in keys
    assert [r.key for r in book.for_topic("transport")] == [r.key for r in book.replies if r.topic == "all"]


def test_placeholders_are_filled() -> None:
    text = "---\ntopic: all\n---\n### 收到\n{asker} 您好，#{number} 将在 {deadline} 前办结。—— {staff}（{topic}）\n"
    replies, problems = parse_replies(text, "x.md", "x")
    assert problems == []
    filled = replies[0].fill({"asker": "郭超", "number": "12", "deadline": "14:30", "staff": "王敏", "topic": "社保"})
    assert filled == "郭超 您好，#12 将在 14:30 前办结。—— 王敏（社保）"


def test_unknown_placeholder_is_an_error_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "faq").mkdir()
    (tmp_path / "queue").mkdir()
    (tmp_path / "replies").mkdir()
    (tmp_path / "replies" / "desk.md").write_text(
        "---\ntopic: all\n---\n### 好的\n{asker} 您好\n\n### 坏的\n第一行\n请于 {dedline} 前补交\n",
        encoding="utf-8",
    )
    book, problems = load_replies(tmp_path / "replies")
    assert [r.title for r in book.replies] == ["好的"]  # the bad one is skipped, the good one kept
    assert len(problems) == 1 and problems[0].startswith(f"{tmp_path / 'replies' / 'desk.md'}:9: unknown placeholder {{dedline}}")
    # servicebot check reports it like any content problem
    found = [p for p in check_content(tmp_path) if "replies" in p.path]
    assert [(Path(p.path).name, p.line) for p in found] == [("desk.md", 9)]
    assert "{dedline}" in found[0].message


def test_unknown_topic_and_missing_front_matter(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntopic: nosuch\n---\n### t\nx\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("### t\nx\n", encoding="utf-8")
    _book, problems = load_replies(tmp_path, {"general"})
    assert any(p.startswith(f"{tmp_path / 'a.md'}:2: unknown topic 'nosuch'") for p in problems)
    assert any(p.startswith(f"{tmp_path / 'b.md'}:1: expected YAML front matter") for p in problems)
