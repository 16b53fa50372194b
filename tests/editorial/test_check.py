"""check_content: queue and FAQ problems together, as file:line: message."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from bot.editorial.check import check_content, parse_problem
from bot.editorial.content import Problem

SECTIONS = {"morning": {"services"}, "tea": {"events"}}
GOOD = "---\ndigest: morning\nsection: services\ndate: 2026-12-01\n---\n正文\n"


@pytest.fixture
def fake_faq(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("bot.tickets.topics")

    def load_faq(directory: Path) -> tuple[object, list[str]]:
        return object(), [f"{directory / '公积金.md'}:3: unknown topic 'gjj'"]

    module.load_faq = load_faq  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.tickets.topics", module)


def test_queue_and_faq_problems_are_reported_together(tmp_path: Path, fake_faq: None) -> None:
    (tmp_path / "queue").mkdir()
    (tmp_path / "faq").mkdir()
    (tmp_path / "queue" / "ok.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "queue" / "bad.md").write_text(GOOD.replace("morning", "noon"), encoding="utf-8")
    problems = check_content(tmp_path, SECTIONS)
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'faq' / '公积金.md'}:3: unknown topic 'gjj'",
        f'{tmp_path / "queue" / "bad.md"}:2: digest: unknown digest "noon" (expected morning, tea or announcement)',
    ]


def test_clean_content_has_no_problems(tmp_path: Path, fake_faq: None) -> None:
    (tmp_path / "queue").mkdir()
    (tmp_path / "queue" / "ok.md").write_text(GOOD, encoding="utf-8")
    assert check_content(tmp_path, SECTIONS) == []  # no faq/ dir: the FAQ loader is not asked


def test_parse_problem() -> None:
    assert parse_problem("content/faq/a.md:12: bad: x") == Problem("content/faq/a.md", 12, "bad: x")
    assert parse_problem("no location", "content/faq") == Problem("content/faq", 0, "no location")


def test_shipped_queue_content_is_clean() -> None:
    root = Path(__file__).resolve().parents[2] / "content"
    assert (
        check_content(root, {"morning": {"services", "traffic"}, "tea": {"events"}}, include_faq=False) == []
    )
