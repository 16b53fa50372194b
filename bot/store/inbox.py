"""Inbox: members' questions fetched from Telegram but not yet handled, in table ``inbox``.

Telegram forgets an update once the next getUpdates call confirms it, and python-telegram-bot makes that
call before the Application has handled what it fetched. The chat edge writes each fetched question here
first (:meth:`Inbox.add_many`, one durable record for the whole batch), marks it :meth:`~Inbox.done`
once handled, and replays :meth:`~Inbox.pending` at start-up, so a kill in between loses no question.

One document per update, ``doc_id`` = the update id, holding the update's JSON. Only questions go in
(the caller decides): group chatter is never stored. Replaying is safe because the desk opens at most
one ticket per (chat, message) and posts its card once; :meth:`Inbox.mark_promised` records that the asker
got the promise, so a question killed between its promise and its card does not get a second promise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tinydb.table import Document

from bot.store.core import Store

__all__ = ["Inbox"]


TABLE = "inbox"


class Inbox:
    """Fetched, not yet handled questions by update id."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._t = store.table(TABLE, index=("source",))

    def add_many(self, updates: Iterable[tuple[int, Mapping[str, Any]]]) -> int:
        """Keep these updates (update id, its JSON) in one durable write; ones already kept are skipped.

        Returns how many were added. Nothing is written for an empty batch.
        """
        fresh: dict[int, Mapping[str, Any]] = {}
        for update_id, data in updates:
            _check_id(update_id)
            if not self._t.contains(doc_id=update_id):
                fresh[update_id] = data
        if not fresh:
            return 0
        with self._store.batch():
            for update_id, data in fresh.items():
                doc = {"update": dict(data), "source": _source(data), "promised": False}
                self._t.insert(Document(doc, doc_id=update_id))
        return len(fresh)

    def receive(self, updates: Iterable[tuple[int, Mapping[str, Any]]]) -> int:
        """:meth:`add_many` for a webhook endpoint: one insert of the updates not kept yet, which a process
        without the lease may make too (``Store.insert_new``; on PostgreSQL the inbox is exempt from the
        fence, bot/store/pg.py says why that is safe). How many were added."""
        docs: dict[int, Mapping[str, Any]] = {}
        for update_id, data in updates:
            _check_id(update_id)
            docs[update_id] = {"update": dict(data), "source": _source(data), "promised": False}
        return len(self._store.insert_new(TABLE, docs)) if docs else 0

    def done(self, update_id: int) -> bool:
        """Forget a handled update; False if it was not kept (most updates are not questions).

        Written without its own fsync (it reaches the file at once, so a kill keeps it; the next ordinary
        write makes it durable): losing it to a power failure only replays a question the desk dedupes.
        """
        if not self._t.contains(doc_id=update_id):
            return False
        with self._store.unsynced():
            self._t.remove(doc_ids=[update_id])
        return True

    def mark_promised(self, chat_id: int, message_id: int) -> None:
        """Note that the asker of this kept question got the bot's promise (a replay must not repeat it).

        Like :meth:`done`, written without its own fsync: it is in the file at once, so a kill keeps it.
        Nothing is written for a message that is not kept.
        """
        found = self._t.find("source", f"{chat_id}:{message_id}")
        if found:
            with self._store.unsynced():
                self._t.update({"promised": True}, doc_ids=[d.doc_id for d in found])

    def promised(self, chat_id: int, message_id: int) -> bool:
        """Whether :meth:`mark_promised` was called for this kept question."""
        return any(d.get("promised") for d in self._t.find("source", f"{chat_id}:{message_id}"))

    def holds(self, chat_id: int, message_id: int) -> bool:
        """Whether this message's update is kept, not yet handled (a replay will take care of it)."""
        return bool(self._t.find("source", f"{chat_id}:{message_id}"))

    def pending(self) -> list[tuple[int, dict[str, Any]]]:
        """The kept updates, oldest (lowest update id) first."""
        docs = sorted(self._t.all(), key=lambda d: d.doc_id)
        return [(d.doc_id, dict(d["update"])) for d in docs]

    def __len__(self) -> int:
        return len(self._t)

    def __contains__(self, update_id: object) -> bool:
        return isinstance(update_id, int) and self._t.contains(doc_id=update_id)


def _check_id(update_id: object) -> None:
    if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
        raise ValueError(f"inbox: update id must be a non-negative integer, got {update_id!r}")


def _source(data: Mapping[str, Any]) -> str | None:
    """ "<chat id>:<message id>" of the update's message (the desk's dedupe key), None if it has none."""
    message = data.get("message") or data.get("edited_message")
    if not isinstance(message, Mapping):
        return None
    chat = message.get("chat")
    chat_id = chat.get("id") if isinstance(chat, Mapping) else None
    message_id = message.get("message_id")
    if not isinstance(chat_id, int) or not isinstance(message_id, int):
        return None
    return f"{chat_id}:{message_id}"
