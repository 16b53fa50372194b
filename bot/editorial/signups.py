"""Sign-ups (报名): replies to an editors' item that takes them, kept per item as a list for the editors.

An item takes sign-ups when its text says so — "报名：回复本条" (or "回复本条报名", "To sign up, reply
to this message") — in a digest or an announcement. A member's reply to that message is then a sign-up
(bot/tickets/intake.py decides; a question there is still a question), recorded with who and what they
wrote, and the editors see one list per item, edited as sign-ups come in. Nothing else is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.store import Store

__all__ = ["SIGNUP_MARK", "Signup", "SignupBook", "SignupList", "signup_item"]

SIGNUP_MARK = re.compile(
    r"报名[:：]\s*(?:请|直接)?回复本(?:条|消息)|回复本(?:条|消息)(?:即可)?报名|to sign up,? reply",
    re.IGNORECASE,
)


def signup_item(text: str) -> str | None:
    """What a bot message takes sign-ups for (the first line of the block that says so), or None."""
    for block in re.split(r"\n\s*\n", text or ""):
        if SIGNUP_MARK.search(block):
            first = block.strip().splitlines()[0].strip()
            return first if len(first) <= 60 else first[:59] + "…"
    return None


@dataclass(frozen=True)
class Signup:
    reply_id: int  # the member's message
    user_id: int
    name: str
    text: str
    at: datetime


@dataclass(frozen=True)
class SignupList:
    chat_id: int
    message_id: int  # the item's message in the group
    item: str
    entries: tuple[Signup, ...]
    list_message_id: int | None  # the list in the editors chat, edited in place


class SignupBook:
    """One document per item message (chat, message id) in table ``signups``."""

    def __init__(self, store: Store) -> None:
        self._t = store.table("signups", index=("key",))

    @staticmethod
    def _key(chat_id: int, message_id: int) -> str:
        return f"{chat_id}:{message_id}"

    def _list(self, doc: dict[str, Any]) -> SignupList:
        entries = tuple(
            Signup(
                int(e["reply_id"]),
                int(e["user_id"]),
                str(e["name"]),
                str(e["text"]),
                datetime.fromisoformat(e["at"]),
            )
            for e in doc["entries"]
        )
        lm = doc.get("list_message_id")
        return SignupList(
            int(doc["chat_id"]),
            int(doc["message_id"]),
            str(doc["item"]),
            entries,
            int(lm) if lm is not None else None,
        )

    def add(self, *, chat_id: int, message_id: int, item: str, signup: Signup) -> tuple[SignupList, bool]:
        """Record a sign-up (once per member message: a redelivery changes nothing). (the list, whether new)."""
        key = self._key(chat_id, message_id)
        found = self._t.find("key", key)
        entry = {
            "reply_id": signup.reply_id,
            "user_id": signup.user_id,
            "name": signup.name,
            "text": signup.text,
            "at": signup.at.isoformat(),
        }
        if not found:
            doc: dict[str, Any] = {
                "key": key,
                "chat_id": chat_id,
                "message_id": message_id,
                "item": item,
                "entries": [entry],
            }
            self._t.insert(doc)
            return self._list(doc), True
        doc = dict(found[0])  # same type as above
        if any(e["reply_id"] == signup.reply_id for e in doc["entries"]):
            return self._list(doc), False
        doc["entries"] = [*doc["entries"], entry]
        self._t.update({"entries": doc["entries"]}, doc_ids=[found[0].doc_id])
        return self._list(doc), True

    def set_list_message(self, chat_id: int, message_id: int, list_message_id: int) -> None:
        found = self._t.find("key", self._key(chat_id, message_id))
        if found:
            self._t.update({"list_message_id": list_message_id}, doc_ids=[found[0].doc_id])

    def get(self, chat_id: int, message_id: int) -> SignupList | None:
        found = self._t.find("key", self._key(chat_id, message_id))
        return self._list(dict(found[0])) if found else None

    def export_user(self, user_id: int) -> list[dict[str, Any]]:
        """A member's sign-ups (item and what they wrote), for ``servicebot export``."""
        out = []
        for doc in self._t.all():
            for e in doc["entries"]:
                if e["user_id"] == user_id:
                    out.append({"item": doc["item"], "chat_id": doc["chat_id"], **e})
        return out

    def forget_user(self, user_id: int) -> int:
        """Remove a member's sign-ups (name and text) from every list; returns how many."""
        n = 0
        for doc in self._t.all():
            kept = [e for e in doc["entries"] if e["user_id"] != user_id]
            if len(kept) != len(doc["entries"]):
                n += len(doc["entries"]) - len(kept)
                self._t.update({"entries": kept}, doc_ids=[doc.doc_id])
        return n
