"""P2 intake: questions through the real Application, store holding 100k tickets, ours vs stock TinyDB.

Each question is an ``Update`` fed to ``app.process_update`` (the real handlers: intake filter, desk,
store, promise reply, staff card). The Bot API is answered in-process by :class:`CannedRequest` (no
network). The rate limiter is removed: Telegram's flood limits would cap both sides alike and are not
what is measured. The peer runs the same handlers with the desk's repository swapped for a
TicketRepository on a plain TinyDB file (JSONStorage), pre-filled with the same tickets.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from telegram import Update
from telegram.request import BaseRequest, RequestData
from tinydb import Query, TinyDB
from tinydb.storages import JSONStorage
from tinydb.table import Document

from bench.common import Result, percentile
from bot.chat.app import build_application
from bot.chat.context import services_of
from bot.clock import Clock
from bot.config import parse_config
from bot.store import Store
from bot.store.journal import TableState, write_snapshot
from bot.store.tickets import TicketStore, ticket_doc
from bot.tickets.model import Status, Ticket

ROOT = Path(__file__).resolve().parents[1]
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=TZ)
SIZE = 100_000
OURS_QUESTIONS = 500
PEER_QUESTIONS = 5
GROUP = -1001001
QUESTIONS = (
    "孩子转学需要什么材料",
    "公积金怎么提取",
    "医保怎么转移接续",
    "雄才卡在哪里办理",
    "住房补贴怎么申请",
)


class CannedRequest(BaseRequest):
    """The Bot API in-process: every method answers with a plausible canned result."""

    def __init__(self) -> None:
        self.message_id = 1_000_000
        self.calls = 0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        self.calls += 1
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        result: Any = True
        if name == "getMe":
            result = {"id": 9000, "is_bot": True, "first_name": "服务助手", "username": "servicebot"}
        elif name in ("sendMessage", "editMessageText"):
            self.message_id += 1
            chat_id = int(params.get("chat_id", GROUP))
            result = {
                "message_id": int(params.get("message_id", self.message_id)),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "supergroup" if chat_id < 0 else "private"},
                "from": {"id": 9000, "is_bot": True, "first_name": "服务助手"},
                "text": "ok",
            }
        elif name == "getChatMember":
            uid = int(params.get("user_id", 0))
            result = {"status": "member", "user": {"id": uid, "is_bot": False, "first_name": "x"}}
        return 200, json.dumps({"ok": True, "result": result}).encode()


def _ticket(n: int) -> Ticket:
    created = NOW - timedelta(days=30, minutes=n % 5000)
    return Ticket(
        number=n,
        chat_id=GROUP,
        message_id=n,
        asker_id=100000 + n % 5000,
        asker_name="郭超",
        text=f"请问第{n}号安置房的物业费怎么交？孩子转学需要哪些材料？",
        topic="housing",
        created_at=created,
        first_response_due=created + timedelta(hours=2),
        resolution_due=created + timedelta(days=2),
        status=Status.CLOSED,
        closed_at=created + timedelta(days=1),
        chat_title="雄安-疏解之友",
    )


def _docs(size: int) -> dict[int, dict[str, Any]]:
    return {n: ticket_doc(_ticket(n)) for n in range(1, size + 1)}  # as TicketStore stores them


class StockTicketRepository:
    """The desk's repository on a plain TinyDB JSON file: what one writes without our store."""

    def __init__(self, path: Path) -> None:
        self.db = TinyDB(path, storage=JSONStorage)
        self.t = self.db.table("tickets")
        self.meta = self.db.table("tickets_meta")

    def next_number(self) -> int:
        doc = self.meta.get(doc_id=1)
        return int(doc["next"]) if isinstance(doc, dict) else 1

    def add(self, ticket: Ticket) -> None:
        d = ticket.to_dict()
        d["source"] = f"{ticket.chat_id}:{ticket.message_id}"
        self.t.insert(Document(d, doc_id=ticket.number))
        self.meta.upsert(Document({"next": ticket.number + 1}, doc_id=1))

    def save(self, ticket: Ticket, *, durable: bool = True) -> None:
        d = ticket.to_dict()
        d["source"] = f"{ticket.chat_id}:{ticket.message_id}"
        self.t.update(d, doc_ids=[ticket.number])

    def get(self, number: int) -> Ticket | None:
        d = self.t.get(doc_id=number)
        return Ticket.from_dict(dict(d)) if isinstance(d, dict) else None

    def by_message(self, chat_id: int, message_id: int) -> Ticket | None:
        found = self.t.search(Query().source == f"{chat_id}:{message_id}")
        return Ticket.from_dict(dict(found[0])) if found else None

    def active(self) -> Iterable[Ticket]:
        return [Ticket.from_dict(dict(d)) for d in self.t.search(Query().status != "closed")]

    def created_since(self, since: datetime) -> Iterable[Ticket]:
        return [
            Ticket.from_dict(dict(d))
            for d in self.t.all()
            if datetime.fromisoformat(d["created_at"]) >= since
        ]

    def by_asker(self, asker_id: int) -> Iterable[Ticket]:
        return [Ticket.from_dict(dict(d)) for d in self.t.search(Query().asker_id == asker_id)]


def _update(i: int, message_id: int) -> dict[str, Any]:
    user = 101 + i % 11
    text = f"@servicebot {QUESTIONS[i % len(QUESTIONS)]}（第{i}问）"
    return {
        "update_id": 10_000 + i,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": GROUP, "type": "supergroup", "title": "雄安-疏解之友"},
            "from": {"id": user, "is_bot": False, "first_name": "郭超"},
            "text": text,
            "entities": [{"type": "mention", "offset": 0, "length": 11}],
        },
    }


async def _drive(
    tmp: Path, *, stock: bool, questions: int, docs: dict[int, dict[str, Any]]
) -> tuple[list[float], int]:
    """Time ``questions`` questions through process_update; returns the samples and the tickets made."""
    data_dir = tmp / ("stock" if stock else "ours")
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["data_dir"] = str(data_dir)
    raw["content_dir"] = str(ROOT / "content")
    config = parse_config(raw, "bench")
    size = len(docs)
    if not stock:
        data_dir.mkdir()
        write_snapshot(
            data_dir,
            1,
            {
                "tickets": TableState(docs, size + 1),
                "tickets_meta": TableState({1: {"next": size + 1}}, 2),
            },
            # as a running store's compaction leaves it: with the desk's indexes
            index_fields={"tickets": TicketStore(Store.in_memory())._t.indexes},
        )
    store = Store.open(data_dir)
    repo = None
    if stock:
        path = data_dir / "stock.json"
        path.write_text(
            json.dumps(
                {"tickets": {str(k): v for k, v in docs.items()}, "tickets_meta": {"1": {"next": size + 1}}}
            )
        )
        repo = StockTicketRepository(path)
    try:
        return await timed_intake(config, store, questions, size, repo=repo)
    finally:
        store.close()


async def timed_intake(config: Any, store: Store, questions: int, size: int, *,
                       repo: Any = None, first: int = 0) -> tuple[list[float], int]:
    """Time ``questions`` questions through the real Application on ``store`` (holding ``size`` tickets,
    numbered 1..size); ``repo`` replaces the desk's repository (the peer); ``first``: the number of the
    first question (a later round on the same store asks new ones). Returns samples and tickets made."""
    clock = Clock(TZ, allow_advance=True)
    clock.offset = NOW - datetime.now(TZ)
    app = build_application(config, "1:bench", store=store, clock=clock)
    canned = CannedRequest()
    app.bot._request = (canned, canned)  # type: ignore[attr-defined]  # the Bot API, in-process
    app.bot._rate_limiter = None  # type: ignore[attr-defined]  # flood limits are not what we measure
    svc = services_of(app)
    if repo is not None:
        svc.desk.repo = repo
    samples: list[float] = []
    try:
        await app.initialize()
        for i in range(3):  # warm-up: jieba's dictionary, staff usernames
            await app.process_update(Update.de_json(_update(i, size + 10 + i), app.bot))
        before = svc.desk.repo.next_number()
        for i in range(first, first + questions):
            upd = Update.de_json(_update(i + 3, size + 100 + i), app.bot)
            start = time.perf_counter()
            await app.process_update(upd)
            samples.append((time.perf_counter() - start) * 1000)
        made = svc.desk.repo.next_number() - before   # tickets from the timed questions
    finally:
        await app.shutdown()
    return samples, made


def run(size: int = SIZE) -> list[Result]:
    docs = _docs(size)
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        ours, made = asyncio.run(_drive(Path(tmp), stock=False, questions=OURS_QUESTIONS, docs=docs))
        peer, _ = asyncio.run(_drive(Path(tmp), stock=True, questions=PEER_QUESTIONS, docs=docs))
    label = f"{size // 1000}k"
    ours_rate = 1000 / (sum(ours) / len(ours))
    peer_rate = 1000 / (sum(peer) / len(peer))
    return [
        Result.time(
            f"intake p50 @{label} (process_update) vs TinyDB JSONStorage",
            percentile(ours, 50),
            percentile(peer, 50),
            floor="p50",
        ),
        Result.time(
            f"intake p99 @{label} (process_update) vs TinyDB JSONStorage",
            percentile(ours, 99),
            percentile(peer, 99),
            floor="p99",
        ),
        Result.rate(f"intake throughput @{label} vs TinyDB JSONStorage", ours_rate, peer_rate, "questions/s"),
        Result.expect(f"intake questions that became tickets (goal {OURS_QUESTIONS})", made, OURS_QUESTIONS,
                      "tickets"),
    ]


if __name__ == "__main__":
    import sys

    for r in run(int(sys.argv[1]) if len(sys.argv) > 1 else SIZE):
        print(f"{r.name}: ours {r.ours:.2f} {r.unit} · peer {r.peer:.2f} · {r.ratio:.1f}x")
