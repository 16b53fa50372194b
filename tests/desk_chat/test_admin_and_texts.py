"""Admin functions (tickets listing, export, forget) and the desk's text catalogue."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from bot.admin import ADMIN_LOG, export_user, forget_user, list_tickets, tickets_report
from bot.checks import content_problems
from bot.config import parse_config
from bot.store import Store
from bot.tickets.model import EventKind, Status
from bot.wiring import desk_for
from tests.chat.harness import SHANGHAI

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "data")
    data["content_dir"] = str(ROOT / "content")
    config = parse_config(data, "test")
    store = Store.open(config.data_dir)
    desk = desk_for(config, store)
    assert content_problems(config) == []
    yield config, store, desk
    store.close()


def test_listing_export_and_forget(world) -> None:  # type: ignore[no-untyped-def]
    config, store, desk = world
    desk.open_ticket(
        chat_id=-1001001, message_id=5, asker_id=101, asker_name="郭超", text="公积金怎么提取", now=NOW
    )
    desk.open_ticket(
        chat_id=-1001001, message_id=6, asker_id=102, asker_name="孙丽华", text="社保怎么转移", now=NOW
    )
    desk.claim(2, by=202, now=NOW)
    desk.close(2, by=202, now=NOW)
    assert [t.number for t in list_tickets(desk, "open")] == [1]
    assert [t.number for t in list_tickets(desk, "closed")] == [2]
    assert [t.number for t in list_tickets(desk, "all")] == [1, 2]
    with pytest.raises(ValueError, match="--status"):
        list_tickets(desk, "pending")  # type: ignore[arg-type]
    rows = json.loads(tickets_report(desk, "all", as_json=True, tz=config.tz))
    assert [r["number"] for r in rows] == [1, 2] and rows[1]["status"] == "closed"
    assert "公积金怎么提取" in tickets_report(desk, "open", tz=config.tz)

    exported = export_user(desk, store, 101, NOW)
    assert [t["number"] for t in exported["tickets"]] == [1]
    assert (
        exported["tickets"][0]["text"] == "公积金怎么提取" and exported["tickets"][0]["asker_name"] == "郭超"
    )
    json.dumps(exported, ensure_ascii=False)  # JSON-ready

    assert forget_user(desk, store, 101, NOW) == 1
    t = desk.get(1)
    assert t.text == "（已删除）" and t.asker_name == "" and t.asker_id == 0
    assert t.events[-1].kind is EventKind.FORGOTTEN
    assert export_user(desk, store, 101, NOW)["tickets"] == []
    assert len(list_tickets(desk, "all")) == 2  # anonymous counts kept
    assert desk.get(2).status is Status.CLOSED
    log = store.table(ADMIN_LOG).all()
    assert [(r["action"], r["user_id"], r["count"]) for r in log] == [
        ("export", 101, 1),
        ("forget", 101, 1),
        ("export", 101, 0),
    ]
    stored = b"".join(p.read_bytes() for p in Path(config.data_dir).rglob("*") if p.is_file())
    assert "公积金怎么提取".encode() not in stored and "郭超".encode() not in stored  # gone from disk
    assert "社保怎么转移".encode() in stored
