"""content/queue/*.md: front matter + Markdown -> queue items; bad files reported as file:line."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.editorial.content import ContentWatcher, Problem, load_queue_dir, parse_queue_file
from bot.editorial.rules import due_items
from tests.editorial.telegram_html import telegram_html_errors

TZ = ZoneInfo("Asia/Shanghai")
SECTIONS = {"morning": {"services", "traffic", "policy"}, "tea": {"events", "life"}}
ROOT = Path(__file__).resolve().parents[2]

GOOD = """---
digest: morning
section: services
date: 2026-12-01
until: 2026-12-07
status: approved
link: https://example.gov.cn/n/1
---
**公积金** 新政 <注意>

- 材料一
- 材料二
"""


def write(d: Path, name: str, text: str) -> Path:
    p = d / name
    p.write_text(text, encoding="utf-8")
    return p


def test_good_file_becomes_an_approved_file_item(tmp_path: Path) -> None:
    write(tmp_path, "a.md", GOOD)
    (item,), problems = load_queue_dir(tmp_path, SECTIONS)
    assert problems == []
    assert (item.digest, item.section, item.first_date, item.until, item.status) == (
        "morning",
        "services",
        date(2026, 12, 1),
        date(2026, 12, 7),
        "approved",
    )
    assert item.origin == "file" and item.path == "a.md" and item.key == "file:a.md"
    assert item.link == "https://example.gov.cn/n/1"
    assert item.html == "<b>公积金</b> 新政 &lt;注意&gt;\n\n• 材料一\n• 材料二"
    assert telegram_html_errors(item.html) == []
    assert due_items([item], "morning", date(2026, 12, 7)) == [item]


def test_bad_date_is_reported_with_its_line_and_the_rest_loads(tmp_path: Path) -> None:
    write(tmp_path, "a.md", GOOD)
    bad = write(tmp_path, "b.md", GOOD.replace("date: 2026-12-01", "date: 2026-13-01"))
    write(tmp_path, "c.md", GOOD.replace("services", "traffic"))
    items, problems = load_queue_dir(tmp_path, SECTIONS)
    assert [i.path for i in items] == ["a.md", "c.md"]
    assert [str(p) for p in problems] == [f'{bad}:4: date: expected a date YYYY-MM-DD, got "2026-13-01"']


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("digest: morning", "digest: evening", 2, 'digest: unknown digest "evening"'),
        ("section: services", "section: events", 3, 'section: unknown section "events" for morning'),
        ("until: 2026-12-07", "until: 2026-11-30", 5, "until: 2026-11-30 is before date 2026-12-01"),
        ("until: 2026-12-07", "until: soon", 5, 'until: expected a date YYYY-MM-DD, got "soon"'),
        ("status: approved", "colour: red", 6, "unknown field 'colour'"),
        ("status: approved", "status: published", 6, "status: expected draft, approved or withdrawn"),
        ("link: https://example.gov.cn/n/1", "link: javascript:x", 7, "link: expected an http(s) URL"),
        ("status: approved", "status: [a, b", 7, "YAML syntax error"),  # where YAML notices it
    ],
)
def test_problems_name_file_and_line(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    text = GOOD.replace(old, new)
    assert text != GOOD
    item, problems = parse_queue_file(tmp_path / "x.md", text, SECTIONS)
    assert item is None
    (problem,) = problems
    assert (problem.path, problem.line) == (str(tmp_path / "x.md"), line), problem
    assert message in problem.message


def test_empty_body_is_reported_at_its_first_line(tmp_path: Path) -> None:
    text = GOOD.split("**公积金**")[0] + "\n  \n"
    _, (p,) = parse_queue_file(tmp_path / "x.md", text, SECTIONS)
    assert (p.line, p.message) == (9, "the text after the front matter is empty")


def test_missing_front_matter(tmp_path: Path) -> None:
    _, (p,) = parse_queue_file(tmp_path / "x.md", "只有正文\n", SECTIONS)
    assert p.line == 1 and "front matter" in p.message


def test_chinese_aliases_and_default_status() -> None:
    text = GOOD.replace("digest: morning", "digest: 早知道").replace("section: services", "section: 交通出行")
    text = text.replace("status: approved\n", "")
    item, problems = parse_queue_file(Path("x.md"), text, SECTIONS)
    assert problems == [] and item is not None
    assert (item.digest, item.section, item.status) == ("morning", "traffic", "draft")


def test_announcement_file_gets_an_aware_time() -> None:
    text = "---\ndigest: 公告\ndate: 2026-12-01\ntime: 09:30\nstatus: approved\n---\n服务台时间调整\n"
    item, problems = parse_queue_file(Path("x.md"), text, SECTIONS)
    assert problems == [] and item is not None
    assert item.announce_at == datetime(2026, 12, 1, 9, 30, tzinfo=TZ) and item.section is None
    _, (p,) = parse_queue_file(Path("x.md"), text.replace("time: 09:30\n", ""), SECTIONS)
    assert "time" in p.message


def test_problem_prints_as_file_line_message() -> None:
    assert str(Problem("content/queue/a.md", 4, "date: bad")) == "content/queue/a.md:4: date: bad"


def test_missing_directory_is_an_empty_queue(tmp_path: Path) -> None:
    assert load_queue_dir(tmp_path / "nope", SECTIONS) == ([], [])


def test_shipped_examples_load_cleanly_against_the_example_config() -> None:
    from bot.config import load_config
    from bot.editorial.rules import EditorialPolicy

    policy = EditorialPolicy.from_config(load_config(ROOT / "config.yaml"))
    assert policy.sections is not None
    items, problems = load_queue_dir(ROOT / "content" / "queue", policy.sections)
    assert problems == []
    assert {i.digest for i in items} >= {"morning", "tea"} and len(items) >= 5
    for item in items:
        assert telegram_html_errors(item.html) == [], item.path


def test_watcher_sees_added_changed_and_removed_files(tmp_path: Path) -> None:
    p = write(tmp_path, "a.md", GOOD)
    watcher = ContentWatcher(tmp_path)
    assert watcher.changed() is False
    write(tmp_path, "b.md", GOOD)
    assert watcher.changed() is True
    assert watcher.changed() is False
    st = p.stat()
    p.write_text(GOOD + "x", encoding="utf-8")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert watcher.changed() is True
    p.unlink()
    assert watcher.changed() is True
    assert watcher.changed() is False
