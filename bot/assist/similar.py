"""What drafts and 一类事 need from retrieval, behind one small interface.

:class:`Retrieval` is the interface: the best FAQ entries for a question (``retrieve``) and how alike two
questions are (``similarity``, 0..1). :class:`MatcherRetrieval` implements it over the desk's FAQ matcher,
i.e. the retrieval module (bot/knowledge/retrieval.py: BM25 over jieba words and character bigrams, the
FAQ's synonyms, a calibrated confidence). :class:`Vectorizer` weighs the same features by TF-IDF over the
questions being grouped, so what every question of the window says ("雄安", "怎么") weighs little.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.tickets.faq import FaqMatcher
from bot.tickets.topics import FaqEntry

__all__ = ["FaqHit", "MatcherRetrieval", "Retrieval", "Vectorizer", "cosine"]

TERMS_CACHE = 5_000  # texts whose features and vectors are remembered (~2 KB each, measured: ~10 MB at most)


@dataclass(frozen=True)
class FaqHit:
    entry: FaqEntry
    score: float  # the retriever's own scale; only compared with its own ``confident``
    confident: bool  # strong enough to be offered to a member / used as a draft on its own


class Retrieval(Protocol):
    def retrieve(self, query: str, k: int = 3) -> list[FaqHit]:
        """The best FAQ entries for ``query``, strongest first."""
        ...

    def similarity(self, a: str, b: str) -> float:
        """How alike two questions are, 0..1 (1: the same content)."""
        ...


class Vectorizer:
    """TF-IDF vectors over words and character bigrams; IDF from the documents it was fitted on."""

    def __init__(self, matcher: FaqMatcher | None, cache: dict[str, list[str]] | None = None) -> None:
        self.matcher = matcher
        self._df: Counter[str] = Counter()
        self._n = 0
        self._cache = cache if cache is not None else {}

    def terms(self, text: str) -> list[str]:
        found = self._cache.get(text)
        if found is not None:
            return found
        terms = self.matcher.tokens(text) if self.matcher is not None else list(text)
        if len(self._cache) >= TERMS_CACHE:  # segmenting is the cost: each text once, the newest kept
            self._cache.pop(next(iter(self._cache)))
        self._cache[text] = terms
        return terms

    def fit(self, texts: Iterable[str]) -> Vectorizer:
        for text in texts:
            self._df.update(set(self.terms(text)))
            self._n += 1
        return self

    def vector(self, text: str) -> dict[str, float]:
        tf = Counter(self.terms(text))
        n = self._n + 1
        vec = {t: (1 + math.log(c)) * math.log(1 + n / (1 + self._df.get(t, 0))) for t, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        return {t: v / norm for t, v in vec.items()} if norm else {}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


class MatcherRetrieval:
    """:class:`Retrieval` over the desk's FAQ matcher (bot/tickets/faq.py over bot/knowledge/retrieval.py)."""

    def __init__(self, matcher: FaqMatcher) -> None:
        self.matcher = matcher
        self._vectorizer: Vectorizer | None = None
        self._terms: dict[str, list[str]] = {}
        self._vectors: dict[str, dict[str, float]] = {}

    def _vec(self) -> Vectorizer:
        if self._vectorizer is None:  # IDF from every FAQ phrasing: what is common in questions weighs less
            phrasings = [p for e in self.matcher.library.entries for p in e.phrasings]
            self._vectorizer = Vectorizer(self.matcher, self._terms).fit(phrasings)
        return self._vectorizer

    def retrieve(self, query: str, k: int = 3) -> list[FaqHit]:
        floor = self.matcher.min_confidence  # what would be offered to a member is confident enough to draft
        return [FaqHit(m.entry, m.score, m.coverage >= floor) for m in self.matcher.ranked(query, limit=k)]

    def vectorizer(self, texts: Sequence[str] = ()) -> Vectorizer:
        """A vectorizer fitted on the FAQ phrasings and ``texts`` (the questions being compared)."""
        if not texts:
            return self._vec()
        phrasings = [p for e in self.matcher.library.entries for p in e.phrasings]
        return Vectorizer(self.matcher, self._terms).fit([*phrasings, *texts])

    def similarity(self, a: str, b: str) -> float:
        """TF-IDF cosine of the retrieval features (IDF over the FAQ's phrasings), each text's vector
        remembered: a draft compares the question with every recent answered ticket, so 1 000 tickets
        cost 1 000 dictionary products, not 1 000 segmentations (0.8 s a card before)."""
        return cosine(self._vector(a), self._vector(b))

    def _vector(self, text: str) -> dict[str, float]:
        found = self._vectors.get(text)
        if found is None:
            if len(self._vectors) >= TERMS_CACHE:
                self._vectors.pop(next(iter(self._vectors)))
            found = self._vectors[text] = self._vec().vector(text)
        return found
