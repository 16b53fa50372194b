"""Hostile config and content files through `servicebot check` (the same loaders start-up and /reload
use): YAML alias bombs, deep nesting, huge files. Each is refused at once with file:line and a short
message; the other files still load.

The bombs here stop at 9**6 values (a regression would cost seconds and a few MB, not the 1.5 GB the
full 443-byte bomb took); they are refused before any expansion, so their size does not matter.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.config import CONFIG_MAX_BYTES
from bot.editorial.content import QUEUE_FILE_MAX_BYTES
from bot.tickets.topics import FAQ_FILE_MAX_BYTES

from .conftest import Figures

ROOT = Path(__file__).resolve().parents[2]
LEVELS = 6
PLACEHOLDER = "PUT-THE-BOMB-HERE"


def bomb_preamble(levels: int = LEVELS, indent: str = "") -> str:
    """Anchors l0..l{levels-1}, each a list of nine of the one before (9**levels strings in all)."""
    lines = [f'{indent}l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"{indent}l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def content_copy(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    if not content.exists():
        shutil.copytree(ROOT / "content", content)
    return content


def write_config(tmp_path: Path, key: str | None = None, *, text: str | None = None) -> Path:
    """The example config; ``key`` (a dotted path, ``sources.0.fields``) replaced by the bomb's alias."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "data")
    data["content_dir"] = str(content_copy(tmp_path))
    path = tmp_path / "config.yaml"
    if text is None:
        if key is not None:
            *parents, last = key.split(".")
            target: Any = data
            for part in parents:
                target = target[int(part)] if part.isdigit() else target[part]
            target[last] = PLACEHOLDER
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        if key is not None:
            # the anchors go under `x-bomb:` (itself an unknown key) so the rest stays valid config
            text = "x-bomb:\n" + bomb_preamble(indent="  ") + text.replace(PLACEHOLDER, f"*l{LEVELS - 1}")
    path.write_text(text, encoding="utf-8")
    return path


def check(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["--config", str(config), "check"])
    out = capsys.readouterr()
    return code, [line.strip() for line in (out.err + out.out).splitlines()]


def assert_short(lines: list[str]) -> None:
    assert all(len(line) < 400 for line in lines), [line[:200] for line in lines if len(line) >= 400]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("key", ["timezone", "network.user_agent", "sources.0.fields"])
def test_config_alias_bomb_is_refused_with_its_line(
    tmp_path: Path, key: str, capsys: pytest.CaptureFixture[str], figures: Figures
) -> None:
    config = write_config(tmp_path, key)
    with figures.run() as run:
        run.faults += 1
        code, lines = check(config, capsys)
        refused = code == 2 and any(
            re.match(rf"{re.escape(str(config))}:3:\d+: YAML: YAML aliases \(\*l0\) are not allowed", line)
            for line in lines
        )
        run.lost += not refused
    assert refused, lines[:5]
    assert_short(lines)


def test_config_without_aliases_but_with_an_anchor_still_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    text = config.read_text(encoding="utf-8").replace("timezone: Asia/Shanghai", "timezone: &tz Asia/Shanghai")
    config.write_text(text, encoding="utf-8")
    code, lines = check(config, capsys)
    assert code != 2 and any(line.startswith("config OK") for line in lines), lines


@pytest.mark.timeout(60)
def test_config_nested_too_deep_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write_config(tmp_path).read_text(encoding="utf-8")
    config = write_config(tmp_path, text=base + "x-deep: " + "[" * 5000 + "]" * 5000 + "\n")
    code, lines = check(config, capsys)
    assert code == 2
    assert any(re.search(r"config\.yaml:\d+:\d+: YAML: nested more than 32 levels deep", line) for line in lines)


def test_huge_config_is_refused_before_parsing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], figures: Figures
) -> None:
    base = write_config(tmp_path).read_text(encoding="utf-8")
    config = write_config(tmp_path, text=base + "# " + "x" * CONFIG_MAX_BYTES + "\n")
    with figures.run() as run:
        run.faults += 1
        code, lines = check(config, capsys)
        refused = code == 2 and len(lines) == 1 and bool(
            re.fullmatch(rf"{re.escape(str(config))}: 25[6-9]\.\d KB is larger than the 256 KB a config file may be",
                         lines[0]))
        run.lost += not refused
    assert refused, lines


def test_long_bad_value_is_shown_cut(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, text=write_config(tmp_path).read_text(encoding="utf-8").replace(
        "timezone: Asia/Shanghai", "timezone: " + "Asia/" * 20_000))
    code, lines = check(config, capsys)
    assert code == 2
    assert_short(lines)
    assert any("timezone: expected an IANA time zone" in line and "(100000 characters)" in line for line in lines)


FAQ = """---
topic: {topic}
name: 测试
name_en: {name_en}
keywords: [测试]
---
### 测试问题？
测试答案。
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("field", ["topic", "name_en"])
def test_faq_front_matter_alias_bomb_is_refused_others_load(
    tmp_path: Path, field: str, capsys: pytest.CaptureFixture[str], figures: Figures
) -> None:
    config = write_config(tmp_path)
    faq = tmp_path / "content" / "faq" / "zz-bomb.md"
    values = {"topic": "bomb", "name_en": "Bomb", field: f"*l{LEVELS - 1}"}
    text = FAQ.format(**values).replace("---\n", "---\n" + bomb_preamble(), 1)
    faq.write_text(text, encoding="utf-8")
    with figures.run() as run:
        run.faults += 1
        code, lines = check(config, capsys)
        refused = any(line.startswith(f"{faq}:3: YAML: YAML aliases (*l0) are not allowed") for line in lines)
        run.lost += not refused
    assert refused, lines
    assert code != 0
    assert_short(lines)
    # the shipped files still load: no problem reported at a line of theirs (check also lists each FAQ file's
    # editorial marks as "<file>: <count>", which is no problem)
    assert not any(re.search(r"education\.md:\d+:", line) for line in lines), lines


@pytest.mark.timeout(60)
def test_queue_and_calendar_aliases_are_refused_with_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], figures: Figures
) -> None:
    config = write_config(tmp_path)
    content = tmp_path / "content"
    queue = content / "queue" / "zz-alias.md"
    queue.write_text(
        "---\ndigest: morning\nsection: &s services\ndate: 2026-12-01\nuntil: *s\n---\n正文\n", encoding="utf-8"
    )
    calendar = content / "calendar" / "2031.yaml"
    calendar.write_text(
        "year: 2031\nsource: test\nholidays: &h\n  - {name: 元旦, date: 2031-01-01}\nworkdays: *h\n",
        encoding="utf-8",
    )
    with figures.run() as run:
        run.faults += 2
        code, lines = check(config, capsys)
        found = [
            any(line.startswith(f"{queue}:5: YAML syntax error: YAML aliases (*s)") for line in lines),
            any(line.startswith(f"{calendar}:5: YAML: YAML aliases (*h)") for line in lines),
        ]
        run.lost += found.count(False)
    assert all(found), lines
    assert code != 0


@pytest.mark.timeout(60)
def test_huge_queue_and_faq_files_are_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], figures: Figures
) -> None:
    config = write_config(tmp_path)
    content = tmp_path / "content"
    queue = content / "queue" / "zz-huge.md"
    queue.write_text("---\ndigest: morning\nsection: services\ndate: 2026-12-01\n---\n" + "长" * QUEUE_FILE_MAX_BYTES,
                     encoding="utf-8")
    faq = content / "faq" / "zz-huge.md"
    faq.write_text(FAQ.format(topic="huge", name_en="Huge") + "答" * FAQ_FILE_MAX_BYTES, encoding="utf-8")
    with figures.run() as run:
        run.faults += 2
        code, lines = check(config, capsys)
        found = [
            f"{queue}:1: 192.1 KB is larger than the 64 KB a queue file may be" in lines,
            f"{faq}:1: 1.5 MB is larger than the 512 KB a FAQ file may be; file skipped" in lines,
        ]
        run.lost += found.count(False)
    assert all(found), lines
    assert code != 0
