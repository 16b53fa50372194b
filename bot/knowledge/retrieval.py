"""Retrieval: which FAQ entry (or answered question) a member's question is about — one module for the
FAQ offer at intake, the drafts on staff cards and the grouping of similar questions (一类事).

API (everything below is pure Python over the text; the segmenter and OpenCC are loaded on first use)::

    r = FaqRetriever(library)                 # bot.tickets.topics.FaqLibrary
    r.retrieve("雄才卡怎么申请？我们单位刚搬过来", k=3)
        -> [Hit(id="talent-card/1", score=22.9, confidence=0.93, text="雄才卡怎么申请？", qcov=0.68), ...]
    r.offer(question) -> Hit | None           # the entry to offer, or None (declined: out of scope)
    r.confidence_floor                        # the calibrated decline threshold (see below)

    ix = Index(synonyms)                      # any documents: answered tickets, canned replies...
    ix.add("ticket/123", ["消费券怎么领"], context="<the answer>")   # texts: the best one counts;
                                              # context (answer, keywords) counts CONTEXT_WEIGHT as much
    ix.search("请问雄安消费券怎么领取", k=5) -> [Hit(...)]
    ix.remove("ticket/123")
    ix.similarity("请问雄安消费券怎么领取", "消费券怎么领") -> 0..1 (IDF-weighted cosine of the features)
    similarity(a, b)                          # the same without a corpus (uniform weights)
    normalise(text), features(text)           # what the index sees

How a text becomes features (:func:`features`):

1. :func:`normalise`: NFKC (full-width letters, digits and punctuation -> half-width), traditional ->
   simplified (OpenCC ``t2s``), lower case, a few English words members mix in ("hukou", "xiongan").
2. Words: jieba's precise mode without HMM (bot/knowledge/segment.py: jieba's dictionary as a
   memory-mapped trie; an unknown word falls apart into characters, which the bigrams still
   see) with the FAQ's synonyms and the colloquial table :data:`COLLOQUIAL` added as words.
3. Each word folded onto its canonical term (娃/小孩/孩子 -> 子女, 啥 -> 什么, 咋 -> 怎么), function
   words (:data:`STOPWORDS`) dropped.
4. Features: the folded words (``w:``), the dictionary's shorter words inside long ones (jieba's
   search mode), and character bigrams (``b:``) inside each word and between single characters — they survive typos, unknown words and
   segmentation differences ("社宝" -> 社 宝 -> 社宝).

Ranking is BM25 (k1 1.2, b 0.75) over the features; each phrasing of an entry is a document and the
entry's score is its best phrasing's plus ``CONTEXT_WEIGHT`` x the BM25 of its context (the answer, the
topic's name and keywords: "大兴机场到雄安怎么去" shares little with "北京到雄安怎么走最方便", its
answer names 大兴机场站). BM25 ranks but does not say whether the best is right; the offer uses a
confidence in 0..1, a logistic regression (:data:`CALIBRATION`, fitted on the training half of
tests/data/retrieval/) over:

- ``qcov``: how much of the question (IDF-weighted) the entry's phrasing and context explain — a near-miss
  ("异地就医备案怎么取消", "雄才卡过期了怎么续") leaves its point unexplained,
- ``dcov``: how much of the best phrasing is in the question (kept in the Hit for reading; weight 0 in the fit),
- ln(1 + BM25 score): how much evidence there is at all.

Below ``confidence_floor`` nothing is offered (out of scope: the member gets the promise and a person).
The held-out half gives the figures in bench/bench_retrieval.py (P6); see docs/desk.md "Retrieval".
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.knowledge.segment import Segmenter
    from bot.tickets.topics import FaqEntry, FaqLibrary

__all__ = [
    "CALIBRATION",
    "COLLOQUIAL",
    "CONFIDENCE_FLOOR",
    "CONTEXT_WEIGHT",
    "SEMANTIC_CALIBRATION",
    "SEMANTIC_FLOOR",
    "STOPWORDS",
    "FaqRetriever",
    "Hit",
    "Index",
    "features",
    "normalise",
    "similarity",
]

#: confidence = logistic(A * dcov + B * qcov + C * ln(1 + score) + D): fitted on the training half of the
#: evaluation set by bench/retrieval_eval.py calibrate() (logistic regression: P(the offered entry is
#: right)); the floor is the lowest that keeps offered-right >= 96 % and out-of-scope declined >= 92 %
#: there. Rerun `python -m bench retrieval` after changing the FAQ or the features: it prints both again.
CALIBRATION: tuple[float, float, float, float] = (0.0, 3.32, 2.65, -8.13)
CONFIDENCE_FLOOR = 0.87
CONTEXT_WEIGHT = 0.3
#: with the semantic layer (bot/knowledge/semantic.py): BM25's best SEMANTIC_POOL entries re-ranked by
#: score + SEMANTIC_FUSION x cosine; confidence = logistic(A * qcov + B * ln(1 + score) + C * cosine + D),
#: fitted and its floor picked on the training half as above (bench/retrieval_eval.py calibrate)
SEMANTIC_POOL = 5
SEMANTIC_FUSION = 40.0
SEMANTIC_CALIBRATION: tuple[float, float, float, float] = (3.57, 2.76, 2.26, -10.36)
SEMANTIC_FLOOR = 0.81
K1 = 1.2
B = 0.75

#: canonical -> colloquial variants, folded before matching (the FAQ files add their own ``synonyms``)
COLLOQUIAL: Mapping[str, tuple[str, ...]] = {
    "子女": ("孩子", "娃", "娃娃", "小孩", "小孩子", "小孩儿", "孩儿", "儿子", "女儿", "闺女", "小朋友", "宝宝", "俺家娃"),
    "什么": ("啥", "神马", "甚么", "什么样"),
    "怎么": ("咋", "咋样", "怎样", "如何", "怎么样", "咋整", "怎么弄", "怎么搞"),
    "哪里": ("哪儿", "哪", "啥地方", "什么地方", "在哪", "哪边"),
    "配偶": ("媳妇", "媳妇儿", "老婆", "老公", "爱人", "对象", "家属", "另一半"),
    "北京": ("帝都",),
    "多久": ("多长时间", "几天", "多少天"),
}

#: English words members mix in -> the Chinese the FAQ uses (whole words, case-insensitive)
ENGLISH: Mapping[str, str] = {
    "xiongan": "雄安",
    "xiong'an": "雄安",
    "xiong an": "雄安",
    "beijing": "北京",
    "hukou": "户口",
    "shebao": "社保",
    "social insurance": "社保",
    "medical insurance": "医保",
    "housing fund": "公积金",
    "gongjijin": "公积金",
    "kindergarten": "幼儿园",
    "school": "学校",
    "transfer": "转移",
    "train": "高铁",
    "high-speed rail": "高铁",
    "hospital": "医院",
    "job": "工作",
    "jobs": "工作",
    "rent": "租房",
    "renting": "租房",
    "talent card": "雄才卡",
    "residence permit": "居住证",
    "shuttle bus": "班车",
    "shuttle": "班车",
    "bus": "公交",
    "how": "怎么",
    "where": "哪里",
    "what": "什么",
}

STOPWORDS = frozenset(
    """的 了 吗 呢 吧 啊 呀 哦 嘛 么 哈 啦 喔 嗯 噢 是 有 在 和 与 及 或 我 你 他 她 它 我们 你们 他们 咱们 咱 俺
    这 那 这个 那个 这边 那边 这里 那里 请问 问 问下 问问 一下 一个 下 想 想要 要 需要 需 能 能不能 可以 可不可以
    会 应该 怎么 怎么办 什么 哪些 多少 几 还 也 都 就 才 又 去 来 到 给 把 被 让 从 对 跟 向 往 办 弄 搞 做
    具体 相关 有关 关于 情况 问题 老师 您好 你好 谢谢 谢 麻烦 各位 大家 现在 今天 明天 一般 知道 告诉 不 没 没有
    好 了解 咨询 为啥 能否 是否 呗 哇 呐 诶 欸 哎 那么 这么 得 地 着 过 吧 些 一些 里 上 中 请 帮 帮忙 求 急 在线 等
    刚 刚刚 已经 然后 但是 但 如果 因为 所以 还是 就是 其实 可能 比较 特别 非常 很 太 挺 真 最 更 再 先 后 之前
    之后 以后 以前 时候 可 吗 么 呢 啥 咋 哪里 嘞 咯 滴 哒 额 呃 um how what where the a an to of in is do i my we
    our can""".split()  # noqa: SIM905 (a word list reads better as text)
)

_init_lock = threading.Lock()
_added_words: set[str] = set()  # the words added to our segmenter's dictionary
_seg: Segmenter | None = None
_dict_version = 0
_converter: Any = None
_ENGLISH = re.compile(
    r"(?<![a-z])(" + "|".join(re.escape(k) for k in sorted(ENGLISH, key=len, reverse=True)) + r")(?![a-z])"
)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORDISH = re.compile(r"[0-9a-z]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _t2s(text: str) -> str:
    """Traditional -> simplified (OpenCC's t2s: characters and phrases, 「裡/裏」, 「著」 in context)."""
    global _converter
    if _converter is None:
        with _init_lock:
            if _converter is None:
                import opencc

                _converter = opencc.OpenCC("t2s")
    return str(_converter.convert(text))


def normalise(text: str) -> str:
    """Full-width -> half-width (NFKC), traditional -> simplified, lower case, English words folded."""
    flat = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    flat = _t2s(flat)
    return _ENGLISH.sub(lambda m: " " + ENGLISH[m.group(1)] + " ", flat)


def load_segmenter() -> None:
    """Load the word segmenter's dictionary now (once per process; later calls return at once)."""
    _segmenter()


def _segmenter(words: Iterable[str] = ()) -> Segmenter:
    """Our segmenter (bot/knowledge/segment.py: jieba's precise mode over a memory-mapped trie of its
    dictionary), loaded once, with ``words`` (the synonyms' terms) in its dictionary. Adding a word changes
    how text is segmented, so :data:`_dict_version` moves on and each :class:`Index` re-reads its documents."""
    global _seg, _dict_version
    new = [w for w in words if len(w) > 1 and w not in _added_words]
    if _seg is not None and not new:
        return _seg
    with _init_lock:
        if _seg is None:
            from bot.knowledge import segment

            _seg = segment.load()
            new += [w for canon, variants in COLLOQUIAL.items() for w in (canon, *variants) if len(w) > 1]
        added = False
        for w in new:
            if w not in _added_words:
                _seg.add_word(w)
                _added_words.add(w)
                added = True
        if added:
            _dict_version += 1
    return _seg


def fold_table(synonyms: Mapping[str, str] | None = None) -> dict[str, str]:
    """variant -> canonical: :data:`COLLOQUIAL` merged with the FAQ's ``synonyms`` (the FAQ's term wins
    when both name a group: the FAQ says 孩子 -> 子女, the table adds 小孩 -> 孩子, so 小孩 -> 子女)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for canon, variants in COLLOQUIAL.items():
        for v in variants:
            if find(v) != find(canon):
                parent[find(v)] = find(canon)
    for variant, canon in (synonyms or {}).items():
        rv, rc = find(variant), find(canon)
        if rv != rc:
            parent[rv] = rc
            parent[rc] = rc
        if find(canon) != canon:  # the FAQ's own term is the group's name
            root = find(canon)
            parent[root] = canon
            parent[canon] = canon
    return {x: find(x) for x in set(parent) | set(synonyms or {}) if find(x) != x}


def _terms(table: Mapping[str, str]) -> tuple[str, ...]:
    """Every term of a fold table, variants and canonicals, for the segmenter's dictionary."""
    return tuple(sorted(set(table) | set(table.values())))


def _fold(word: str, table: Mapping[str, str]) -> str:
    return table.get(word, word)


def features(text: str, synonyms: Mapping[str, str] | None = None, *, table: Mapping[str, str] | None = None) -> list[str]:
    """The features the index sees: ``w:`` folded content words and ``b:`` character bigrams."""
    fold = table if table is not None else fold_table(synonyms)
    seg = _segmenter(_terms(fold) if table is None else ())
    out: list[str] = []
    run: list[str] = []

    def close_run() -> None:
        # bigrams inside each word, and across a boundary only between single characters (an unknown
        # word the segmenter split up: 社宝 -> 社 宝 -> "社宝"); "我家|孩子" -> "家子" would be noise
        for i, w in enumerate(run):
            out.extend("b:" + w[j : j + 2] for j in range(len(w) - 1))
            if i and len(w) == 1 and len(run[i - 1]) == 1:
                out.append("b:" + run[i - 1] + w)
        run.clear()

    for chunk in _WORDISH.findall(normalise(text)):
        if not _CJK.match(chunk):
            w = _fold(chunk, fold)
            if w in STOPWORDS:
                close_run()
                continue
            out.append("w:" + w)
            close_run()
            continue
        for raw in seg.lcut(chunk):
            w = _fold(raw, fold)
            if w in STOPWORDS or raw in STOPWORDS:
                close_run()
                continue
            out.append("w:" + w)
            if w == raw and len(w) > 2:
                out.extend("w:" + s for s in seg.lcut_for_search(w) if s != w and len(s) > 1)
            if _CJK_RUN.fullmatch(w):
                run.append(w)
        close_run()
    return out


@dataclass(frozen=True)
class Hit:
    """One retrieved document: its id (an FAQ entry "topic/n", "ticket/123"...), the BM25 score (ranks
    within one query), the confidence in 0..1 (comparable across queries: the offer threshold applies to
    it), the coverages it is made of (``qtext``: of the question by the phrasing alone), and the
    document's text that matched best."""

    id: str
    score: float
    confidence: float
    text: str
    dcov: float = 0.0
    qcov: float = 0.0
    qtext: float = 0.0
    cosine: float | None = None  # with the semantic layer: the best cosine with one of its texts

    @property
    def entry_id(self) -> str:
        return self.id


class _Field:
    """One BM25 field: texts with their feature counts, document frequencies counted as they come and go."""

    def __init__(self) -> None:
        self.texts: dict[str, list[tuple[str, Counter[str], int]]] = {}  # doc id -> [(text, tf, length)]
        self.df: Counter[str] = Counter()
        self.post: dict[str, set[str]] = {}  # feature -> the documents that have it
        self.n = 0
        self.total_len = 0

    def put(self, doc_id: str, parsed: list[tuple[str, Counter[str], int]]) -> None:
        self.drop(doc_id)
        if not parsed:
            return
        self.texts[doc_id] = parsed
        for _, tf, length in parsed:
            self.df.update(tf.keys())
            for f in tf:
                self.post.setdefault(f, set()).add(doc_id)
            self.n += 1
            self.total_len += length

    def drop(self, doc_id: str) -> None:
        gone = self.texts.pop(doc_id, ())
        for _, tf, length in gone:
            self.df.subtract(tf.keys())
            for f in tf:
                docs = self.post.get(f)
                if docs is not None:
                    docs.discard(doc_id)
                    if not docs:
                        del self.post[f]
            self.n -= 1
            self.total_len -= length
        if gone:
            self.df = +self.df  # drop zero counts

    def idf(self, feature: str) -> float:
        """BM25's IDF (the +1 form, never negative); an unseen feature weighs as the rarest."""
        df = self.df.get(feature, 0)
        return math.log(1 + (max(self.n, 1) - df + 0.5) / (df + 0.5))

    def bm25(self, q: Counter[str], tf: Counter[str], length: int, idf: Mapping[str, float]) -> float:
        norm = K1 * (1 - B + B * length / (self.total_len / max(self.n, 1)))
        return sum(idf[f] * tf[f] * (K1 + 1) / (tf[f] + norm) for f in q if f in tf)


class Index:
    """BM25 over :func:`features` for any documents.

    A document has texts (an FAQ entry's question and phrasings, a ticket's question: the best one counts)
    and optionally a context (the answer, the topic's keywords) that counts ``CONTEXT_WEIGHT`` as much:
    "大兴机场到雄安怎么去" shares little with "北京到雄安怎么走最方便" but its answer names 大兴机场站.

    Thread-safe (one lock; adds are rare). Add and remove are cheap: IDF is computed at query time.
    """

    def __init__(
        self,
        synonyms: Mapping[str, str] | None = None,
        *,
        calibration: tuple[float, float, float, float] = CALIBRATION,
        context_weight: float = CONTEXT_WEIGHT,
    ) -> None:
        self._table = fold_table(synonyms)
        self._words = _terms(self._table)
        self.calibration = calibration
        self.context_weight = context_weight
        self._lock = threading.RLock()
        self._texts = _Field()
        self._context = _Field()
        self._raw: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # what was added, to re-read
        self._version = -1

    def features(self, text: str) -> list[str]:
        _segmenter(self._words)
        return features(text, table=self._table)

    def __len__(self) -> int:
        return len(self._texts.texts)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._texts.texts

    def _parse(self, texts: str | Sequence[str]) -> list[tuple[str, Counter[str], int]]:
        out = []
        for text in [texts] if isinstance(texts, str) else texts:
            feats = self.features(text)
            if feats:
                out.append((text, Counter(feats), len(feats)))
        return out

    def add(self, doc_id: str, texts: str | Sequence[str], context: str | Sequence[str] = ()) -> None:
        """Index ``texts`` (and the weaker ``context``) under ``doc_id``, replacing what it had."""
        items = (texts,) if isinstance(texts, str) else tuple(texts)
        ctx_items = (context,) if isinstance(context, str) else tuple(context)
        self.features("")  # our synonyms in the dictionary first
        with self._lock:
            self._fresh()
            self._raw[doc_id] = (items, ctx_items)
            self._put(doc_id, items, ctx_items)

    def _put(self, doc_id: str, items: Sequence[str], ctx_items: Sequence[str]) -> None:
        parsed = self._parse(items)
        ctx = [t for _, c, _ in self._parse(ctx_items) for t in c.elements()]
        self._texts.put(doc_id, parsed)
        self._context.put(doc_id, [("", Counter(ctx), len(ctx))] if parsed and ctx else [])

    def _fresh(self) -> None:
        """Re-read every document if words were added to the tokenizer since (another Index's synonyms):
        documents and questions must be segmented alike."""
        if self._version == _dict_version:
            return
        self._version = _dict_version
        self._texts, self._context = _Field(), _Field()
        for doc_id, (items, ctx_items) in self._raw.items():
            self._put(doc_id, items, ctx_items)

    def remove(self, doc_id: str) -> None:
        with self._lock:
            self._raw.pop(doc_id, None)
            self._texts.drop(doc_id)
            self._context.drop(doc_id)

    def idf(self, feature: str) -> float:
        return self._texts.idf(feature)

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The ``k`` best documents for ``query``, best first; documents sharing nothing are left out."""
        q = Counter(self.features(query))
        if not q:
            return []
        with self._lock:
            self._fresh()
            idf = {f: self._texts.idf(f) for f in q}
            cidf = {f: self._context.idf(f) for f in q}
            q_mass = sum(idf.values())
            out: list[Hit] = []
            candidates: set[str] = set()
            for f in q:  # only documents sharing a feature with the question (in a text or the context)
                candidates |= self._texts.post.get(f, set()) | self._context.post.get(f, set())
            for doc_id in candidates:
                texts = self._texts.texts.get(doc_id, [])
                ctx = self._context.texts.get(doc_id)
                ctx_tf = ctx[0][1] if ctx else Counter()
                ctx_score = self._context.bm25(q, ctx_tf, ctx[0][2], cidf) if ctx else 0.0
                best: Hit | None = None
                for text, tf, length in texts:
                    shared = [f for f in q if f in tf]
                    if not shared and not ctx_score:
                        continue
                    score = self._texts.bm25(q, tf, length, idf) + self.context_weight * ctx_score
                    d_mass = sum(self._texts.idf(f) for f in tf)
                    dcov = sum(self._texts.idf(f) for f in shared) / d_mass if d_mass else 0.0
                    qtext = sum(idf[f] for f in shared) / q_mass if q_mass else 0.0
                    explained = sum(idf[f] for f in q if f in tf or f in ctx_tf)
                    qcov = explained / q_mass if q_mass else 0.0
                    a, b, c, d = self.calibration
                    z = a * dcov + b * qcov + c * math.log1p(score) + d
                    conf = 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))
                    hit = Hit(doc_id, score, conf, text, dcov, qcov, qtext)
                    if best is None or (hit.score, hit.confidence) > (best.score, best.confidence):
                        best = hit
                if best is not None:
                    out.append(best)
        return sorted(out, key=lambda h: (h.score, h.confidence), reverse=True)[:k]

    def similarity(self, a: str, b: str) -> float:
        """IDF-weighted cosine of the two texts' features, 0..1 (weights from this index's documents)."""
        with self._lock:
            return _cosine(Counter(self.features(a)), Counter(self.features(b)), self._texts.idf)


def _cosine(fa: Counter[str], fb: Counter[str], weight: Any) -> float:
    if not fa or not fb:
        return 0.0
    va = {f: c * weight(f) for f, c in fa.items()}
    vb = {f: c * weight(f) for f, c in fb.items()}
    dot = sum(v * vb.get(f, 0.0) for f, v in va.items())
    na = math.sqrt(sum(v * v for v in va.values()))
    nb = math.sqrt(sum(v * v for v in vb.values()))
    return dot / (na * nb) if na and nb else 0.0


def similarity(a: str, b: str, synonyms: Mapping[str, str] | None = None) -> float:
    """Cosine of the two texts' features, 0..1, without a corpus (every feature weighs the same)."""
    table = fold_table(synonyms)
    _segmenter(_terms(table))
    return _cosine(Counter(features(a, table=table)), Counter(features(b, table=table)), lambda _f: 1.0)


def _logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


class FaqRetriever:
    """The FAQ entries of a :class:`FaqLibrary` as an :class:`Index` (one document per entry, its
    question and ``>`` phrasings as texts, its answer and topic as context); built on first use, so an
    idle bot loads no segmenter. ``semantic``: also the cosines of bot/knowledge/semantic.py (re-ranking and
    a confidence fitted with them; its own calibration and floor unless given)."""

    def __init__(
        self,
        library: FaqLibrary,
        *,
        confidence_floor: float | None = None,
        calibration: tuple[float, float, float, float] | None = None,
        context_weight: float = CONTEXT_WEIGHT,
        semantic: Any = None,
    ) -> None:
        self.library = library
        self.semantic = semantic  # a PhrasingEmbeddings (or anything with .cosines(question)), or None
        default_floor = SEMANTIC_FLOOR if semantic is not None else CONFIDENCE_FLOOR
        self.confidence_floor = default_floor if confidence_floor is None else confidence_floor
        default_cal = SEMANTIC_CALIBRATION if semantic is not None else CALIBRATION
        self.calibration = default_cal if calibration is None else calibration
        self.context_weight = context_weight
        self._lock = threading.Lock()
        self._index: Index | None = None

    @property
    def index(self) -> Index:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    ix = Index(
                        self.library.synonyms(),
                        calibration=CALIBRATION if self.semantic is not None else self.calibration,
                        context_weight=self.context_weight,
                    )
                    for entry in self.library.entries:
                        topic = self.library.topic(entry.topic)
                        ix.add(entry.id, entry.phrasings, (entry.member_answer, topic.name, *topic.keywords))
                    self._index = ix
        return self._index

    def retrieve(self, query: str, k: int = 5) -> list[Hit]:
        """The ``k`` best entries for ``query`` (no threshold), best first."""
        if self.semantic is None:
            return self.index.search(query, k)
        hits = self.index.search(query, max(k, SEMANTIC_POOL))
        if not hits:
            return []
        cos = self.semantic.cosines(query)
        qw, lw, cw, bias = self.calibration
        fused = []
        for h in hits:
            c = cos.get(h.id, 0.0)
            conf = _logistic(qw * h.qcov + lw * math.log1p(h.score) + cw * c + bias)
            fused.append(replace(h, confidence=conf, cosine=c))
        fused.sort(key=lambda h: h.score + SEMANTIC_FUSION * (h.cosine or 0.0), reverse=True)
        return fused[:k]

    def offer(self, query: str) -> Hit | None:
        """The entry to offer the member, or None: the best entry when its confidence clears the floor."""
        hits = self.retrieve(query, 1)
        return hits[0] if hits and hits[0].confidence >= self.confidence_floor else None

    def entry(self, hit: Hit) -> FaqEntry | None:
        return self.library.entry(hit.id)

    def similarity(self, a: str, b: str) -> float:
        """:meth:`Index.similarity` with the FAQ's IDF and synonyms."""
        return self.index.similarity(a, b)

    def tokens(self, text: str) -> list[str]:
        """The features of ``text`` (for grouping and tests)."""
        return self.index.features(text)
