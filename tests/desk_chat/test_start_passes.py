"""Issue 11 follow-up (peak RSS at start): the start-up resume reads the tickets not closed, no others.

`servicebot run` with 100k closed tickets peaked at 442 MB (VmHWM) while idle at 194 MB: at start,
``resume_unacknowledged`` (askers whose batched promise a kill cut off) asked ``created_since`` for the
last day, which decoded every stored ticket into one list (``table.all()``) before filtering. Since
833b5c5 ``created_since`` walks from the newest number down (every ticket of the last two days, one at
a time); the resume now goes through the status index instead: the open, claimed and answered tickets,
however many were created and closed lately. Counted here, not timed: how many documents are decoded.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.store.table as store_table
from bot.chat import burst
from bot.store import Store
from bot.store.tickets import TicketStore
from bot.tickets.model import Status, Ticket
from sandbox import GROUP_ID
from tests.chat.harness import running_bot
from tests.desk_chat.test_desk_flow import BOT, FRIDAY_10

CLOSED = 400  # closed tickets, created within the last day
ASKER = 105


def _ticket(n: int, created: datetime, status: Status) -> Ticket:
    return Ticket(
        number=n,
        chat_id=GROUP_ID,
        message_id=n,
        asker_id=ASKER if status is not Status.CLOSED else 100000 + n,
        asker_name="郭超",
        text=f"孩子转学需要哪些材料？（{n}）",
        topic="education",
        created_at=created,
        first_response_due=created + timedelta(hours=2),
        resolution_due=created + timedelta(days=2),
        status=status,
        closed_at=created + timedelta(hours=1) if status is Status.CLOSED else None,
        chat_title="雄安-疏解之友",
    )


def _seed(data_dir: Path, now: datetime) -> None:
    """An open ticket two days old (outside the resume's day), then CLOSED tickets closed within the last
    day, then an open ticket an hour old whose promise a kill cut off (none recorded)."""
    store = Store.open(data_dir)
    try:
        repo = TicketStore(store)
        repo.add(_ticket(1, now - timedelta(days=2), Status.OPEN))
        for n in range(2, CLOSED + 2):
            repo.add(_ticket(n, now - timedelta(hours=20) + timedelta(minutes=2 * n), Status.CLOSED))
        repo.add(_ticket(CLOSED + 2, now - timedelta(hours=1), Status.OPEN))
    finally:
        store.close()


async def test_the_start_up_resume_decodes_the_active_tickets_only(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(tmp_path / "data", FRIDAY_10)
    async with running_bot(tmp_path, now=FRIDAY_10) as h:
        decoded: list[bytes] = []
        real = store_table.decode

        def counting(raw: Any) -> Any:
            decoded.append(raw)
            return real(raw)

        monkeypatch.setattr(store_table, "decode", counting)
        assert burst.resume_unacknowledged(h.services) == 1
        monkeypatch.setattr(store_table, "decode", real)
        # the two open tickets (through the status index), never the 400 closed ones (before: 402)
        assert len(decoded) <= 4, f"{len(decoded)} documents decoded by the start-up resume"
        # and it still does its work: the hour-old ticket's asker is acknowledged, the older one is not
        sent = await h.wait_for_message(GROUP_ID, lambda m: m["sender_id"] == BOT and f"#{CLOSED + 2} " in m["plain_text"])
        for _ in range(3000):  # the desk records the promise once the send's answer is back
            promised = h.services.desk.get(CLOSED + 2)
            if promised is not None and promised.promise_message_id is not None:
                break
            await asyncio.sleep(0.01)
        assert promised is not None and promised.promise_message_id == sent["message_id"]
        older = h.services.desk.get(1)
        assert older is not None and older.promise_message_id is None
        assert not [m for m in h.messages(GROUP_ID) if "#1 " in (m["plain_text"] or "")]
