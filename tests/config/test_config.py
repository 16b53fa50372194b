"""Config: typed, frozen, and every mistake reported as file: key.path: what was expected."""

from __future__ import annotations

import subprocess
import sys
from datetime import time
from pathlib import Path

import pydantic
import pytest
import yaml

from bot.config import ConfigError, bot_token, load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.yaml"


def write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def error_lines(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.lines


def test_example_config_loads_into_typed_frozen_objects() -> None:
    config = load_config(EXAMPLE)
    assert config.digests.morning.time == time(8, 0)
    assert config.timezone == "Asia/Shanghai"
    assert config.chats.groups[0].title == "雄安-疏解之友"
    assert config.is_supervisor(204) and not config.is_supervisor(201)
    assert config.data_dir.is_absolute()
    with pytest.raises(pydantic.ValidationError):
        config.language = "en"  # type: ignore[misc]


def test_bad_time_names_the_key_path_and_the_value(tmp_path: Path) -> None:
    data = example()
    data["digests"]["morning"]["time"] = "25:00"
    lines = error_lines(write(tmp_path, data))
    assert lines == [f'{tmp_path / "config.yaml"}: digests.morning.time: expected HH:MM, got "25:00"']


def test_unknown_key_is_a_mistake(tmp_path: Path) -> None:
    data = example()
    data["digests"]["morning"]["tme"] = "08:00"
    lines = error_lines(write(tmp_path, data))
    assert any("digests.morning.tme: unknown key" in line for line in lines)


def test_list_positions_are_in_the_path(tmp_path: Path) -> None:
    data = example()
    data["people"]["staff"][1]["id"] = "abc"
    lines = error_lines(write(tmp_path, data))
    assert any("people.staff[1].id: expected" in line and '"abc"' in line for line in lines), lines


def test_unknown_source_in_a_section_is_reported(tmp_path: Path) -> None:
    data = example()
    data["digests"]["tea"]["sections"][0]["sources"] = ["nope"]
    lines = error_lines(write(tmp_path, data))
    assert any("digests.tea.sections[0].sources: unknown source 'nope'" in line for line in lines), lines


def test_an_html_source_with_a_broken_selector_names_the_source_and_the_field(tmp_path: Path) -> None:
    data = example()
    index = next(i for i, s in enumerate(data["sources"]) if s["kind"] == "html")
    data["sources"][index]["fields"]["title"] = "a[title"
    lines = error_lines(write(tmp_path, data))
    assert any(f"sources[{index}]" in line and "fields.title: not a valid CSS selector" in line for line in lines), lines


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    p = tmp_path / "config.yaml"
    p.write_text("timezone: Asia/Shanghai\nchats: [\n  groups: 1\n", encoding="utf-8")
    lines = error_lines(p)
    assert len(lines) == 1 and lines[0].startswith(f"{p}:") and "YAML syntax error" in lines[0]
    line_no = int(lines[0].split(":")[1])
    assert line_no >= 2


def test_unquoted_time_is_read_as_intended(tmp_path: Path) -> None:
    # YAML 1.1 turns an unquoted 08:30 into the integer 510; we take it back.
    p = tmp_path / "config.yaml"
    p.write_text(EXAMPLE.read_text(encoding="utf-8").replace('time: "08:00"', "time: 08:30"), encoding="utf-8")
    assert load_config(p).digests.morning.time == time(8, 30)


def test_token_only_from_environment() -> None:
    config = load_config(EXAMPLE)
    assert bot_token(config, {"BOT_TOKEN": "123:abc"}) == "123:abc"
    with pytest.raises(ConfigError, match="BOT_TOKEN is not set"):
        bot_token(config, {})


def test_check_command_exits_2_with_the_key_path_and_no_traceback(tmp_path: Path) -> None:
    data = example()
    data["digests"]["morning"]["time"] = "25:00"
    p = write(tmp_path, data)
    out = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(p), "check"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 2
    assert 'digests.morning.time: expected HH:MM, got "25:00"' in out.stderr
    assert "Traceback" not in out.stderr


def test_check_reports_content_problems_as_file_line_and_exits_1(tmp_path: Path) -> None:
    import shutil

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    bad = content / "queue" / "zz-bad-date.md"
    bad.write_text("---\ndigest: morning\nsection: services\ndate: 2026-13-45\n---\n正文\n", encoding="utf-8")
    data = example()
    data["content_dir"] = str(content)
    p = write(tmp_path, data)
    out = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(p), "check"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"{bad}:4:" in out.stdout
    assert "Chats" in out.stdout and "雄安-疏解之友" in out.stdout


def test_store_section_is_validated_with_key_paths() -> None:
    from bot.config import parse_config as _parse
    from bot.config import store_dsn

    base = yaml.safe_load((Path(__file__).resolve().parents[2] / "config.yaml").read_text(encoding="utf-8"))
    assert _parse(base).store.kind == "journal"  # the embedded default
    for store, line in (
        ({"kind": "postgress"}, "config.yaml: store.kind: expected 'journal' or 'postgres', got \"postgress\""),
        ({"kind": "postgres", "dsn_env": "1X"}, "config.yaml: store.dsn_env: expected the name of an environment"),
        ({"kind": "postgres", "dns_env": "X"}, "config.yaml: store.dns_env: unknown key"),
    ):
        with pytest.raises(ConfigError) as err:
            _parse({**base, "store": store})
        assert any(got.startswith(line) for got in err.value.lines), err.value.lines
    config = _parse({**base, "store": {"kind": "postgres", "dsn_env": "PG_DSN"}})
    assert store_dsn(config, {"PG_DSN": " postgresql://db/servicebot "}) == "postgresql://db/servicebot"
    with pytest.raises(ConfigError, match="environment: PG_DSN is not set"):
        store_dsn(config, {})
