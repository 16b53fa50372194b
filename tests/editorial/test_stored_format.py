"""The queue item's stored form (written by pydantic since issue 12): documents stored before load
unchanged, and what is written now is the same document the hand-written to_dict produced."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.editorial.model import HistoryEntry, QueueItem

SH = ZoneInfo("Asia/Shanghai")

# as the hand-written QueueItem.to_dict wrote it (copied from a store written before the change)
OLD = {
    "number": 7,
    "digest": "announcement",
    "section": None,
    "html": "<b>停水</b>通知",
    "first_date": "2026-11-27",
    "link": "https://example.org/a",
    "until": "2026-11-30",
    "announce_at": "2026-11-27T20:00:00+08:00",
    "status": "approved",
    "author_id": 301,
    "approver_id": 302,
    "origin": "chat",
    "path": None,
    "history": [
        {"who": 301, "action": "created", "when": "2026-11-27T09:00:00.123456+08:00", "detail": ""},
        {"who": None, "action": "published", "when": "2026-11-27T20:00:05+08:00", "detail": "2026-11-27"},
    ],
    "published_on": ["2026-11-27"],
}
# older still: no origin, history or published_on fields at all
OLDEST = {"number": 3, "digest": "morning", "section": "services", "html": "x", "first_date": "2026-11-20",
          "status": "draft"}


def test_a_document_stored_before_loads_and_is_written_back_the_same() -> None:
    item = QueueItem.from_dict(OLD)
    assert item.announce_at == datetime(2026, 11, 27, 20, 0, tzinfo=SH)
    assert item.until == date(2026, 11, 30) and item.published_on == (date(2026, 11, 27),)
    assert item.history[0] == HistoryEntry(301, "created", datetime(2026, 11, 27, 9, 0, 0, 123456, tzinfo=SH))
    assert item.to_dict() == OLD


def test_missing_fields_take_their_defaults() -> None:
    item = QueueItem.from_dict(OLDEST)
    assert (item.origin, item.history, item.published_on, item.link, item.until) == ("chat", (), (), None, None)


@pytest.mark.parametrize("field,value", [("status", "lost"), ("digest", "evening"), ("first_date", "2026-13-01")])
def test_a_bad_document_is_a_value_error_naming_the_item(field: str, value: str) -> None:
    with pytest.raises(ValueError, match="queue item 7"):
        QueueItem.from_dict({**OLD, field: value})
