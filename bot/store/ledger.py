"""DeliveryLedger: each digest delivered exactly once, resumable part by part.

A delivery is keyed by (chat id, date ISO, slot). The sender calls ``begin`` with the number of parts,
``part_sent`` after each part Telegram accepted, and ``finish`` with the outcome. After a restart,
``outcome`` says whether the delivery is done and ``sent_parts`` which parts to skip.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, NamedTuple, cast, get_args

from bot.store.clock import Now, default_now, to_text
from bot.store.core import Store
from bot.store.errors import StoreError

Outcome = Literal["sent", "empty", "expired", "failed"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)


class DeliveryKey(NamedTuple):
    """Which digest: the chat, the day (ISO ``YYYY-MM-DD``) and the slot (e.g. ``morning``)."""

    chat_id: int
    date: str
    slot: str

    @classmethod
    def of(cls, chat_id: int, day: dt.date | str, slot: str) -> DeliveryKey:
        return cls(chat_id, day.isoformat() if isinstance(day, dt.date) else day, slot)

    def text(self) -> str:
        return f"{self.chat_id}|{self.date}|{self.slot}"


@dataclass(frozen=True)
class Delivery:
    """One delivery's record."""

    key: DeliveryKey
    parts: int
    sent: dict[int, int]  # part index -> Telegram message id
    outcome: Outcome | None
    started_at: str
    finished_at: str | None

    @property
    def done(self) -> bool:
        return self.outcome is not None


def _check(key: DeliveryKey) -> DeliveryKey:
    key = DeliveryKey(*key)
    try:
        dt.date.fromisoformat(key.date)
    except (TypeError, ValueError):
        raise StoreError(f"delivery key {tuple(key)!r}: date must be YYYY-MM-DD, got {key.date!r}") from None
    if not isinstance(key.chat_id, int) or not key.slot:
        raise StoreError(f"delivery key {tuple(key)!r}: expected (chat id int, date, non-empty slot)")
    return key


class DeliveryLedger:
    """Deliveries of digests, in table ``deliveries``."""

    def __init__(self, store: Store, *, clock: Now = default_now) -> None:
        self._store = store
        self._t = store.table("deliveries", index=("key",))
        self._clock = clock

    def _doc(self, key: DeliveryKey) -> tuple[int, dict[str, object]] | None:
        found = self._t.find("key", _check(key).text())
        return (found[0].doc_id, dict(found[0])) if found else None

    def get(self, key: DeliveryKey) -> Delivery | None:
        """The delivery's record, or None if it never began."""
        row = self._doc(key)
        if row is None:
            return None
        d = row[1]
        return Delivery(
            key=DeliveryKey(*cast(tuple[int, str, str], d["k"])),
            parts=cast(int, d["parts"]),
            sent={int(i): m for i, m in cast(dict[str, int], d["sent"]).items()},
            outcome=cast(Outcome | None, d["outcome"]),
            started_at=cast(str, d["started_at"]),
            finished_at=cast(str | None, d["finished_at"]),
        )

    def begin(self, key: DeliveryKey, parts: int) -> Delivery:
        """Start (or resume) a delivery of ``parts`` parts. Refuses a delivery that already finished."""
        key = _check(key)
        if parts < 0:
            raise StoreError(f"delivery {key.text()}: parts must be >= 0, got {parts}")
        row = self._doc(key)
        if row is None:
            self._t.insert(
                {"key": key.text(), "k": list(key), "parts": parts, "sent": {}, "outcome": None,
                 "started_at": to_text(self._clock()), "finished_at": None}
            )
        else:
            if row[1]["outcome"] is not None:
                raise StoreError(f"delivery {key.text()} already finished: {row[1]['outcome']}")
            if row[1]["parts"] != parts:  # resuming as begun: nothing to write
                self._t.update({"parts": parts}, doc_ids=[row[0]])
        got = self.get(key)
        assert got is not None
        return got

    def part_sent(self, key: DeliveryKey, index: int, message_id: int, *, fsync: bool = True) -> None:
        """Record that part ``index`` (0-based) went out as ``message_id``; durable on return (with
        ``fsync`` False: written, so it survives the process being killed, and durable with the next
        fsynced write — only a power cut before then loses it)."""
        row = self._doc(key)
        if row is None:
            raise StoreError(f"delivery {_check(key).text()}: part_sent before begin")
        parts = cast(int, row[1]["parts"])
        if not 0 <= index < parts:
            raise StoreError(f"delivery {_check(key).text()}: part {index} out of range 0..{parts - 1}")
        sent = dict(cast(dict[str, int], row[1]["sent"]))
        sent[str(index)] = message_id
        if fsync:
            self._t.update({"sent": sent}, doc_ids=[row[0]])
        else:
            with self._store.unsynced():
                self._t.update({"sent": sent}, doc_ids=[row[0]])

    def sent_parts(self, key: DeliveryKey) -> dict[int, int]:
        """Part index -> message id of every part already sent (empty if none or never begun)."""
        got = self.get(key)
        return dict(got.sent) if got else {}

    def finish(self, key: DeliveryKey, outcome: Outcome) -> None:
        """Close the delivery with ``outcome`` (sent, empty, expired or failed)."""
        if outcome not in OUTCOMES:
            raise StoreError(f"delivery outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
        key = _check(key)
        row = self._doc(key)
        now = to_text(self._clock())
        if row is None:  # e.g. an empty or expired slot that never began
            self._t.insert(
                {"key": key.text(), "k": list(key), "parts": 0, "sent": {}, "outcome": outcome,
                 "started_at": now, "finished_at": now}
            )
        else:
            self._t.update({"outcome": outcome, "finished_at": now}, doc_ids=[row[0]])

    def forget_chat(self, chat_id: int) -> int:
        """Remove every delivery to one chat (a member asking to be forgotten: their private copies)."""
        ids = [d.doc_id for d in self._t.all() if isinstance(d.get("k"), list) and d["k"][0] == chat_id]
        if ids:
            self._t.remove(doc_ids=ids)
        return len(ids)

    def outcome(self, key: DeliveryKey) -> Outcome | None:
        """The outcome, or None while unfinished or never begun."""
        got = self.get(key)
        return got.outcome if got else None
