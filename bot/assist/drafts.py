"""智能帮办: a drafted answer for every card, from the best FAQ entries and similar answered tickets.

The draft is what staff would most likely send: the best FAQ entry's answer when the FAQ has one for the
question (the best one only: the runner-up was mostly a neighbouring question, 公积金转移 -> 公积金贷款),
else the answer a similar question got from the staff (the most similar answered ticket of the
last ``window`` days). A second source is added below only when it says something the first does not
(similarity under :data:`DISTINCT`). Every draft names its sources ("FAQ 公积金/1 · 工单 #123").

Editorial marks such as "（待本地核实）" are taken out of the text (a member must never read them) and the
draft is flagged ``unverified`` so the card tells the staff to check before sending.

Nothing here sends anything: the card shows the draft; a person sends it, edits it or ignores it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.assist.similar import Retrieval
from bot.knowledge import marks
from bot.tickets.model import Ticket
from bot.tickets.topics import FaqLibrary

__all__ = ["DISTINCT", "SIMILAR", "Draft", "Source", "build_draft", "strip_marks"]

#: a past question at least this alike (0..1) lends its answer
SIMILAR = 0.35
#: a second source is added only when less alike than this to the first
DISTINCT = 0.6
MAX_DRAFT = 1500

def strip_marks(text: str) -> tuple[str, bool]:
    """The text as members may read it (bot/knowledge/marks.py), and whether it had editorial marks."""
    return marks.for_members(text).strip(), marks.count(text) > 0


@dataclass(frozen=True)
class Source:
    kind: str  # "faq" | "ticket"
    ref: str  # the FAQ entry id ("housing-fund/1") or the ticket number
    label: str  # as staff read it: "FAQ 公积金/1", "工单 #123"


@dataclass(frozen=True)
class Draft:
    text: str
    sources: tuple[Source, ...]
    unverified: bool = False  # editorial marks were taken out: check before sending
    rewritten: bool = False  # an LLM rewrote it from these sources (bot/assist/llm.py)

    def sources_line(self) -> str:
        return " · ".join(s.label for s in self.sources)


def build_draft(
    question: str,
    retrieval: Retrieval,
    library: FaqLibrary,
    answered: Iterable[Ticket],
    *,
    lang: str = "zh",
    exclude: int | None = None,
) -> Draft | None:
    """The draft for ``question``, or None when neither the FAQ nor past answers have anything close."""
    candidates: list[tuple[float, Source, str]] = []  # (strength 0..1, source, text)
    hits = retrieval.retrieve(question, k=1)  # the best entry only: a second one is mostly a neighbour topic
    for hit in hits:
        if hit.confident:
            strength = max(0.5, min(1.0, retrieval.similarity(question, hit.entry.question) + 0.5))
            candidates.append((strength, Source("faq", hit.entry.id, library.entry_label(hit.entry.id, lang)), hit.entry.answer))
    best_ticket: tuple[float, Ticket] | None = None
    for t in answered:
        if t.number == exclude or not t.answers or t.is_complaint:
            continue
        s = retrieval.similarity(question, t.text)
        if s >= SIMILAR and (best_ticket is None or s > best_ticket[0]):
            best_ticket = (s, t)
    if best_ticket is not None:
        s, t = best_ticket
        label = f"工单 #{t.number}" if not lang.startswith("en") else f"ticket #{t.number}"
        candidates.append((s, Source("ticket", str(t.number), label), t.answers[-1].text))
    if not candidates:
        return None
    candidates.sort(key=lambda c: -c[0])
    _, first_source, text = candidates[0]
    sources = [first_source]
    for _, source, other in candidates[1:]:
        if source.kind != first_source.kind or source.ref != first_source.ref:
            if retrieval.similarity(text, other) < DISTINCT and len(text) + len(other) < MAX_DRAFT:
                text = f"{text}\n\n{other}"
            sources.append(source)
    clean, marked = strip_marks(text)
    if len(clean) > MAX_DRAFT:
        clean = clean[: MAX_DRAFT - 1] + "…"
    return Draft(clean, tuple(sources), unverified=marked)
