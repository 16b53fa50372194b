"""The FAQ offer at intake: the desk's view of :mod:`bot.knowledge.retrieval` (one retrieval module for
offers, drafts and grouping). :meth:`FaqMatcher.match` is the entry offered to the member, or None when
the best entry's confidence is under the calibrated floor (out of scope: no offer).

The matcher before it (jieba words + BM25 + 50 % coverage) is kept for the P6 comparison in
bench/faq_baseline.py. Building the matcher loads nothing: the segmenter (bot/knowledge/segment.py) and
the index are loaded by :meth:`FaqMatcher.warm_up` in a worker thread at start-up, or else by the first
question (docs/reliability.md, footprint).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.knowledge.retrieval import FaqRetriever, Hit
from bot.tickets.topics import FaqEntry, FaqLibrary

__all__ = ["FaqMatch", "FaqMatcher"]


@dataclass(frozen=True)
class FaqMatch:
    """An FAQ entry for a question: BM25 ``score`` (ranks), ``coverage`` (the confidence, 0..1, that the
    offer threshold applies to) and the entry's ``phrasing`` that matched best."""

    entry: FaqEntry
    score: float
    coverage: float
    phrasing: str


class FaqMatcher:
    """Built once from a :class:`FaqLibrary`; :meth:`match` returns the entry to offer or None."""

    def __init__(
        self, library: FaqLibrary, *, confidence_floor: float | None = None, semantic: bool = False
    ) -> None:
        """``semantic``: with the cosines of bot/knowledge/semantic.py (config ``service.faq_semantic``,
        extra ``semantic``); the model is loaded on the first question."""
        self.library = library
        embeddings = None
        if semantic:
            from bot.knowledge.semantic import PhrasingEmbeddings

            embeddings = PhrasingEmbeddings(library)
        self.retriever = FaqRetriever(library, confidence_floor=confidence_floor, semantic=embeddings)

    @property
    def min_confidence(self) -> float:
        return self.retriever.confidence_floor

    def tokens(self, text: str) -> list[str]:
        """The retrieval features of ``text`` (words and bigrams, synonyms folded)."""
        return self.retriever.tokens(text)

    def _match(self, hit: Hit) -> FaqMatch | None:
        entry = self.library.entry(hit.id)
        return FaqMatch(entry, hit.score, hit.confidence, hit.text) if entry is not None else None

    def ranked(self, text: str, limit: int = 3) -> list[FaqMatch]:
        """The best entries for ``text`` with their scores, strongest first (no threshold)."""
        return [m for h in self.retriever.retrieve(text, limit) if (m := self._match(h)) is not None]

    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for: the segmenter's dictionary (mapped from
        the cache in milliseconds; built once per machine, about a second of CPU in a child process),
        OpenCC, the index of the entries and, when on, the semantic model. Meant for a worker thread at
        start-up (bot/chat/app.py), so no member's question pays for it."""
        self.retriever.retrieve("公积金怎么提取", 1)

    def match(self, text: str) -> FaqMatch | None:
        """The entry to offer, or None when nothing fits closely enough."""
        hit = self.retriever.offer(text)
        return self._match(hit) if hit is not None else None
