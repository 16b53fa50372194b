"""Private copies of the digests: who asked for which sections, and each slot's copies as they were made.

Subscribers (table ``subscribers``): the private chat id, the sections wanted per slot, and the language
of the texts sent to that member — nothing else (no name, no username, no dates). Removing a subscriber
removes the whole record.

Copy runs (table ``private_copies``), keyed by (date ISO, slot): written once, before the first copy goes
out — the rendered parts of each edition (one per distinct choice of sections), which subscriber gets
which edition, and the feed items shown (to record once every copy is out). A run resumed after a crash
sends exactly these texts to exactly these members; each member's delivery itself is a ``DeliveryKey``
(chat id, date, slot) in the delivery ledger, like a group's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from bot.store.core import Store
from bot.store.errors import StoreError

SLOTS = ("morning", "tea")
KEEP_RUNS = dt.timedelta(days=3)


@dataclass(frozen=True)
class Subscription:
    """One member's private copies: section keys wanted per slot (a slot with none: no copy)."""

    chat_id: int
    sections: Mapping[str, tuple[str, ...]]
    language: str

    def wants(self, slot: str) -> tuple[str, ...]:
        return tuple(self.sections.get(slot, ()))

    def with_sections(self, slot: str, keys: Iterable[str]) -> Subscription:
        return Subscription(self.chat_id, {**self.sections, slot: tuple(keys)}, self.language)

    @property
    def empty(self) -> bool:
        return not any(self.sections.values())


class Subscribers:
    """Subscribers, in table ``subscribers`` (one document per private chat)."""

    def __init__(self, store: Store) -> None:
        self._t = store.table("subscribers", index=("chat_id",))

    @staticmethod
    def _from(doc: Mapping[str, object]) -> Subscription:
        sections = cast(dict[str, list[str]], doc.get("sections") or {})
        return Subscription(
            int(cast(int, doc["chat_id"])),
            {slot: tuple(keys) for slot, keys in sections.items()},
            str(doc.get("language") or "zh"),
        )

    def get(self, chat_id: int) -> Subscription | None:
        found = self._t.find("chat_id", chat_id)
        return self._from(found[0]) if found else None

    def put(self, sub: Subscription) -> None:
        """Store (or replace) a subscription; durable on return."""
        if sub.chat_id <= 0:
            raise StoreError(f"subscriber {sub.chat_id}: private copies go to private chats (a positive id)")
        unknown = sorted(set(sub.sections) - set(SLOTS))
        if unknown:
            raise StoreError(f"subscriber {sub.chat_id}: unknown slot(s) {', '.join(unknown)}")
        doc = {
            "chat_id": sub.chat_id,
            "sections": {slot: list(keys) for slot, keys in sub.sections.items()},
            "language": sub.language,
        }
        found = self._t.find("chat_id", sub.chat_id)
        if found:
            self._t.update(doc, doc_ids=[found[0].doc_id])
        else:
            self._t.insert(doc)

    def remove(self, chat_id: int) -> bool:
        """Forget the subscriber entirely; False if there was none."""
        found = self._t.find("chat_id", chat_id)
        if not found:
            return False
        self._t.remove(doc_ids=[d.doc_id for d in found])
        return True

    def all(self) -> list[Subscription]:
        return sorted((self._from(d) for d in self._t.all()), key=lambda s: s.chat_id)

    def __len__(self) -> int:
        return len(self._t)


@dataclass(frozen=True)
class Edition:
    """The parts of one choice of sections; ``empty``: nothing new, the parts are the notice."""

    parts: list[str]
    empty: bool = False


@dataclass(frozen=True)
class CopyRun:
    """One slot's private copies: editions by choice key, recipients in order, items to mark seen."""

    date: str
    slot: str
    editions: dict[str, Edition]
    recipients: list[tuple[int, str]]  # (chat id, edition key), in sending order
    seen: dict[str, str] = field(default_factory=dict)
    done: bool = False


def choice_key(sections: Sequence[str]) -> str:
    """The edition a choice of sections gets: the keys, sorted, comma-joined."""
    return ",".join(sorted(sections))


class CopyRuns:
    """Copy runs, in table ``private_copies``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._t = store.table("private_copies", index=("key",))

    @staticmethod
    def _key(day: str, slot: str) -> str:
        return f"{day}|{slot}"

    def get(self, day: str, slot: str) -> CopyRun | None:
        found = self._t.find("key", self._key(day, slot))
        if not found:
            return None
        d = found[0]
        editions = cast(dict[str, dict[str, object]], d["editions"])
        return CopyRun(
            day,
            slot,
            {k: Edition(list(cast(list[str], e["parts"])), bool(e.get("empty"))) for k, e in editions.items()},
            [(int(cast(int, c)), str(k)) for c, k in cast(list[list[object]], d["recipients"])],
            dict(cast(dict[str, str], d.get("seen") or {})),
            bool(d.get("done")),
        )

    def put(self, run: CopyRun) -> None:
        """Store a run before its first copy goes out; refuses a second one for the same slot."""
        key = self._key(run.date, run.slot)
        if self._t.find("key", key):
            raise StoreError(f"private copies {key}: already prepared")
        oldest = (dt.date.fromisoformat(run.date) - KEEP_RUNS).isoformat()
        old = [d.doc_id for d in self._t.all() if str(d.get("date", "")) < oldest]
        with self._store.batch():  # runs older than a few days are of no use to a resume: dropped
            if old:
                self._t.remove(doc_ids=old)
            self._t.insert({
                "key": key,
                "date": run.date,
                "editions": {k: {"parts": e.parts, "empty": e.empty} for k, e in run.editions.items()},
                "recipients": [[c, k] for c, k in run.recipients],
                "seen": dict(run.seen),
                "done": run.done,
            })

    def finish(self, day: str, slot: str) -> None:
        """Every copy of the run is out (or given up): the run is done."""
        found = self._t.find("key", self._key(day, slot))
        if not found:
            raise StoreError(f"private copies {self._key(day, slot)}: finish before put")
        self._t.update({"done": True}, doc_ids=[found[0].doc_id])

    def forget_recipient(self, chat_id: int) -> None:
        """A member who asked to be forgotten leaves no trace in past runs either."""
        for d in self._t.all():
            recipients = cast(list[list[object]], d["recipients"])
            kept = [r for r in recipients if int(cast(int, r[0])) != chat_id]
            if len(kept) != len(recipients):
                self._t.update({"recipients": kept}, doc_ids=[d.doc_id])
