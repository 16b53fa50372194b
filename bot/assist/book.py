"""What the assistant keeps: each card's draft and what became of it, and FAQ proposals (存为问答).

Table ``assist_drafts``: one document per ticket that got a draft — the text, its sources, and the
outcome: ``sent`` (one tap, as it was), ``edited`` (a reply to the draft, changed), or nothing; a draft
whose ticket was answered or closed without it counts as ``ignored`` (:meth:`AssistBook.draft_counts`).
Only the draft is stored (it is made of FAQ and staff answers), never the member's question again.

Table ``faq_proposals``: an answer proposed for the FAQ (question, answer, topic, the tickets it came
from), waiting for an editor; approved, it is appended to ``content/faq/<topic>.md`` (:func:`append_entry`)
and the desk's FAQ is reloaded, so it is live without a restart and reviewable as a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.assist.drafts import Draft, Source
from bot.store import Store

__all__ = ["AssistBook", "DraftCounts", "Proposal", "StoredDraft", "append_entry"]


@dataclass(frozen=True)
class StoredDraft:
    number: int
    draft: Draft
    created_at: datetime
    outcome: str | None  # "sent" | "edited" | None
    edit_message_id: int | None


@dataclass(frozen=True)
class DraftCounts:
    offered: int
    sent: int
    edited: int
    ignored: int


@dataclass(frozen=True)
class Proposal:
    id: int
    question: str
    answer: str
    topic: str
    numbers: tuple[int, ...]
    by: int
    at: datetime
    status: str  # "pending" | "approved" | "rejected"
    message_id: int | None
    entry: str | None  # once approved: the FAQ entry id


def _draft(doc: Any) -> StoredDraft:
    draft = Draft(
        str(doc["text"]),
        tuple(Source(str(k), str(r), str(lbl)) for k, r, lbl in doc.get("sources", [])),
        unverified=bool(doc.get("unverified")),
        rewritten=bool(doc.get("rewritten")),
    )
    emi = doc.get("edit_message_id")
    return StoredDraft(
        int(doc["number"]), draft, datetime.fromisoformat(doc["created_at"]), doc.get("outcome"),
        int(emi) if emi is not None else None,
    )


def _proposal(doc: Any) -> Proposal:
    mid = doc.get("message_id")
    return Proposal(
        int(doc["id"]), str(doc["question"]), str(doc["answer"]), str(doc["topic"]),
        tuple(int(n) for n in doc.get("numbers", [])), int(doc["by"]), datetime.fromisoformat(doc["at"]),
        str(doc["status"]), int(mid) if mid is not None else None, doc.get("entry"),
    )


class AssistBook:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._drafts = store.table("assist_drafts", index=("number", "edit_message_id"))
        self._proposals = store.table("faq_proposals", index=("id",))

    # -- drafts ---------------------------------------------------------------------------------------

    def draft(self, number: int) -> StoredDraft | None:
        found = self._drafts.find("number", number)
        return _draft(found[0]) if found else None

    def put_draft(self, number: int, draft: Draft, now: datetime) -> StoredDraft:
        doc = {
            "number": number,
            "text": draft.text,
            "sources": [[s.kind, s.ref, s.label] for s in draft.sources],
            "unverified": draft.unverified,
            "rewritten": draft.rewritten,
            "created_at": now.isoformat(),
            "outcome": None,
            "edit_message_id": None,
        }
        found = self._drafts.find("number", number)
        # A draft can be made again from the FAQ and the tickets: journalled, not fsynced of its own (the
        # next ticket write makes it durable), so a card costs no second fdatasync (Store.unsynced).
        with self._store.unsynced():
            if found:
                keep = {k: found[0].get(k) for k in ("created_at", "outcome", "edit_message_id")}
                self._drafts.update({**doc, **keep}, doc_ids=[found[0].doc_id])
            else:
                self._drafts.insert(doc)
        got = self.draft(number)
        assert got is not None
        return got

    def set_outcome(self, number: int, outcome: str) -> None:
        found = self._drafts.find("number", number)
        if found and found[0].get("outcome") is None:
            self._drafts.update({"outcome": outcome}, doc_ids=[found[0].doc_id])

    def set_edit_message(self, number: int, message_id: int) -> None:
        found = self._drafts.find("number", number)
        if found:
            self._drafts.update({"edit_message_id": message_id}, doc_ids=[found[0].doc_id])

    def by_edit_message(self, message_id: int) -> StoredDraft | None:
        found = self._drafts.find("edit_message_id", message_id)
        return _draft(found[0]) if found else None

    def draft_counts(self, since: datetime, until: datetime, done: set[int]) -> DraftCounts:
        """Drafts offered in [since, until): sent as-is, edited, ignored (its ticket answered or closed
        without it: ``done`` holds the numbers of answered or closed tickets)."""
        offered = sent = edited = ignored = 0
        for doc in self._drafts.all():
            at = datetime.fromisoformat(doc["created_at"])
            if not since <= at < until:
                continue
            offered += 1
            outcome = doc.get("outcome")
            if outcome == "sent":
                sent += 1
            elif outcome == "edited":
                edited += 1
            elif int(doc["number"]) in done:
                ignored += 1
        return DraftCounts(offered, sent, edited, ignored)

    # -- FAQ proposals ----------------------------------------------------------------------------------

    def propose(
        self, *, question: str, answer: str, topic: str, numbers: tuple[int, ...], by: int, now: datetime
    ) -> Proposal:
        next_id = max((int(d["id"]) for d in self._proposals.all()), default=0) + 1
        self._proposals.insert(
            {
                "id": next_id, "question": question, "answer": answer, "topic": topic, "numbers": list(numbers),
                "by": by, "at": now.isoformat(), "status": "pending", "message_id": None, "entry": None,
            }
        )
        got = self.proposal(next_id)
        assert got is not None
        return got

    def proposal(self, pid: int) -> Proposal | None:
        found = self._proposals.find("id", pid)
        return _proposal(found[0]) if found else None

    def pending_for(self, number: int) -> Proposal | None:
        """A proposal from ticket ``number`` still waiting (one at a time per ticket)."""
        for doc in self._proposals.all():
            if doc["status"] == "pending" and number in doc.get("numbers", []):
                return _proposal(doc)
        return None

    def pending(self) -> list[Proposal]:
        return sorted((_proposal(d) for d in self._proposals.all() if d["status"] == "pending"), key=lambda p: p.id)

    def forget_tickets(self, numbers: set[int]) -> int:
        """``servicebot forget``: a pending proposal quoting one of these tickets' questions loses the
        question (an approved one is in content/faq already, reviewed by an editor). Returns how many."""
        n = 0
        for doc in self._proposals.all():
            if doc["status"] == "pending" and numbers & set(doc.get("numbers", [])):
                self._proposals.update({"question": "（已删除）"}, doc_ids=[doc.doc_id])
                n += 1
        return n

    def set_proposal(self, pid: int, **fields: Any) -> Proposal:
        found = self._proposals.find("id", pid)
        assert found, pid
        self._proposals.update(fields, doc_ids=[found[0].doc_id])
        got = self.proposal(pid)
        assert got is not None
        return got


def _one_line(text: str) -> str:
    return " ".join(text.split())


def append_entry(faq_dir: Path, topic: str, question: str, answer: str, note: str) -> Path:
    """Append ``### question`` and its answer to ``faq_dir/<topic>.md`` (the file must exist: a topic is
    defined by its front matter). ``note`` is kept as an HTML comment (who approved, from which ticket),
    which Markdown does not render and the FAQ parser leaves out of the answer."""
    path = faq_dir / f"{topic}.md"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such topic file")
    body = answer.strip().replace("\r\n", "\n")
    # an answer line starting with '### ' would start a new entry: indent it one space
    body = "\n".join((" " + line) if line.startswith("### ") else line for line in body.split("\n"))
    text = path.read_text(encoding="utf-8")
    sep = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    entry = f"{sep}### {_one_line(question)}\n<!-- {_one_line(note)} -->\n\n{body}\n"
    with path.open("a", encoding="utf-8") as fh:
        fh.write(entry)
    return path
