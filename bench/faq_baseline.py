"""Today's FAQ matcher, kept verbatim for the P6 comparison (bench/bench_retrieval.py): bot/tickets/faq.py as of
main cd9b2d0, before bot/knowledge/retrieval.py replaced it (jieba words + BM25, 50 % coverage threshold).
Not used by the bot.
"""
from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.tickets.topics import FaqEntry, FaqLibrary

if TYPE_CHECKING:
    from rank_bm25 import BM25Okapi

__all__ = ["FaqMatch", "FaqMatcher", "tokenize"]

_init_lock = threading.Lock()
_initialised = False

STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "哦",
        "嘛",
        "么",
        "是",
        "有",
        "在",
        "和",
        "与",
        "及",
        "或",
        "我",
        "你",
        "他",
        "她",
        "我们",
        "你们",
        "他们",
        "咱们",
        "这",
        "那",
        "这个",
        "那个",
        "请问",
        "问",
        "一下",
        "一个",
        "下",
        "想",
        "想要",
        "要",
        "需要",
        "需",
        "能",
        "能不能",
        "可以",
        "可不可以",
        "会",
        "应该",
        "怎么",
        "怎么办",
        "怎样",
        "怎么样",
        "如何",
        "什么",
        "哪些",
        "哪里",
        "哪儿",
        "哪",
        "哪个",
        "多少",
        "几",
        "吗",
        "还",
        "也",
        "都",
        "就",
        "才",
        "又",
        "去",
        "来",
        "到",
        "给",
        "把",
        "被",
        "让",
        "从",
        "对",
        "跟",
        "办",
        "办理",
        "弄",
        "搞",
        "做",
        "准备",
        "具体",
        "相关",
        "有关",
        "关于",
        "情况",
        "问题",
        "老师",
        "您好",
        "你好",
        "谢谢",
        "麻烦",
        "各位",
        "大家",
        "现在",
        "今天",
        "明天",
        "一般",
        "知道",
        "告诉",
        "不",
        "没",
        "没有",
        "好",
        "了解",
        "咨询",
        "啥",
        "咋",
        "咋办",
        "为啥",
        "能否",
        "是否",
        "带",
        "准备",
        "提交",
    ]
)


def _jieba() -> Any:
    """jieba, imported and initialised once, quietly (it logs to stderr and builds a cache on first use)."""
    global _initialised
    import jieba

    if _initialised:
        return jieba
    with _init_lock:
        if not _initialised:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _initialised = True
    return jieba


def tokenize(text: str, synonyms: dict[str, str] | None = None) -> list[str]:
    """Segment ``text`` into content words, folding synonyms; punctuation and stopwords dropped."""
    jieba = _jieba()
    syn = synonyms or {}
    out: list[str] = []
    for raw in jieba.lcut_for_search(text.lower(), HMM=False):
        w = raw.strip()
        if not w or not any(ch.isalnum() for ch in w):
            continue
        w = syn.get(w, w)
        if w in STOPWORDS:
            continue
        out.append(w)
    return out


@dataclass(frozen=True)
class FaqMatch:
    entry: FaqEntry
    score: float
    coverage: float
    phrasing: str


class FaqMatcher:
    """Built once from a :class:`FaqLibrary`; :meth:`match` returns the best entry or None."""

    def __init__(self, library: FaqLibrary, *, min_score: float = 2.0, min_coverage: float = 0.5) -> None:
        self.library = library
        self.min_score = min_score
        self.min_coverage = min_coverage
        self._synonyms = library.synonyms()
        self._lock = threading.Lock()
        self._built = False

    def _build(self) -> None:
        """The index, once, on first use (segmenting every phrasing needs jieba's dictionary)."""
        if self._built:
            return
        with self._lock:
            if self._built:
                return
            from rank_bm25 import BM25Okapi

            jieba = _jieba()
            for word in set(self._synonyms) | set(self._synonyms.values()):
                if len(word) > 1:
                    jieba.add_word(word)
            docs: list[tuple[FaqEntry, str, list[str]]] = []
            for entry in self.library.entries:
                for phrasing in entry.phrasings:
                    tokens = tokenize(phrasing, self._synonyms)
                    if tokens:
                        docs.append((entry, phrasing, tokens))
            self._docs = docs
            self._bm25: BM25Okapi | None = BM25Okapi([d[2] for d in docs]) if docs else None
            self._doc_sets = [frozenset(d[2]) for d in docs]  # built once, not per question
            n = len(docs)
            df: dict[str, int] = {}
            for _, _, tokens in docs:
                for t in set(tokens):
                    df[t] = df.get(t, 0) + 1
            # a word never seen in the FAQ is as informative as the rarest one
            self._idf = {t: math.log(1 + n / c) for t, c in df.items()}
            self._unseen_idf = math.log(1 + n)
            self._built = True

    def tokens(self, text: str) -> list[str]:
        self._build()  # the synonyms become jieba words first
        return tokenize(text, self._synonyms)

    def ranked(self, text: str, limit: int = 3) -> list[FaqMatch]:
        """The best entries for ``text`` with their scores, strongest first (no threshold)."""
        self._build()
        if self._bm25 is None:
            return []
        query = self.tokens(text)
        if not query:
            return []
        scores: Sequence[float] = self._bm25.get_scores(query)
        q_set = set(query)
        q_weight = sum(self._idf.get(t, self._unseen_idf) for t in q_set)
        best: dict[str, FaqMatch] = {}
        for (entry, phrasing, _tokens), doc_set, score in zip(self._docs, self._doc_sets, scores, strict=True):
            shared = q_set & doc_set
            if score <= 0 and not shared:
                continue  # nothing in common: most phrasings, for most questions
            covered = sum(self._idf.get(t, self._unseen_idf) for t in shared)
            coverage = covered / q_weight if q_weight else 0.0
            current = best.get(entry.id)
            key = (float(score), coverage)
            if current is None or key > (current.score, current.coverage):
                best[entry.id] = FaqMatch(entry, float(score), coverage, phrasing)
        ordered = sorted(best.values(), key=lambda m: (m.score, m.coverage), reverse=True)
        return ordered[:limit]

    def match(self, text: str) -> FaqMatch | None:
        """The entry to offer, or None when nothing matches closely enough."""
        for m in self.ranked(text, limit=5):
            if m.score >= self.min_score and m.coverage >= self.min_coverage:
                return m
        return None
