"""servicebot tickets / export / forget on a real data directory."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bot.config import parse_config
from bot.store import Store
from bot.wiring import desk_for

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), *args], capture_output=True, text=True, cwd=ROOT
    )


def test_list_export_and_forget_a_member(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "data")
    data["content_dir"] = str(ROOT / "content")
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    config = parse_config(data)
    with Store.open(config.data_dir) as store:
        desk = desk_for(config, store)
        desk.open_ticket(chat_id=-1001001, message_id=5, asker_id=105, asker_name="周小满",
                         text="孩子转学到雄安需要哪些材料？我家住容东片区", now=NOW)
        desk.open_ticket(chat_id=-1001001, message_id=6, asker_id=106, asker_name="吴大伟",
                         text="公积金怎么提取？", now=NOW)

    listed = cli(config_path, "tickets", "--status", "all", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["number"] for r in rows] == [1, 2]

    exported = cli(config_path, "export", "--user", "105")
    assert exported.returncode == 0, exported.stderr
    mine = json.loads(exported.stdout)
    assert [t["asker_id"] for t in mine["tickets"]] == [105]
    assert "容东片区" in exported.stdout

    forgot = cli(config_path, "forget", "--user", "105")
    assert forgot.returncode == 0, forgot.stderr
    blob = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
    for trace in ("容东片区", "周小满"):
        assert trace.encode() not in blob, f"{trace} still on disk after forget"
        assert json.dumps(trace).encode() not in blob  # also not as a JSON \\u escape
    assert "公积金怎么提取".encode() in blob or json.dumps("公积金怎么提取")[1:-1].encode() in blob
    again = json.loads(cli(config_path, "tickets", "--status", "all", "--json").stdout)
    assert len(again) == 2, "forget keeps the anonymous count"
