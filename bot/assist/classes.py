"""一类事: similar questions grouped, so one answer settles them all.

:func:`group` clusters questions by average linkage over TF-IDF cosine (words + character bigrams, see
bot/assist/similar.py): two groups join while the mean similarity between their questions is at least
``threshold``. (Counting a shared FAQ match as likeness was measured and left out: with the FAQ matcher
of today it joined 转学 and 疫苗 questions to 公积金, purity 0.93 -> 0.97 without it on the labelled set.)
Average linkage, not single: a chain of near neighbours ("消费券怎么领" ~ "消费券在哪个app" ~ "哪个app
能看班车") does not pull two classes together.

:func:`purity` and :func:`inverse_purity` measure a grouping against labels (tests/data/assist/classes.yaml):
purity alone is met by leaving every question alone, so both are reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.assist.similar import MatcherRetrieval, Vectorizer, cosine

__all__ = ["ClassIndex", "Group", "group", "inverse_purity", "purity"]

K = TypeVar("K", bound=Hashable)

#: mean cosine two groups need to join, measured on the labelled set (tests/data/assist/classes.yaml) with
#: the retrieval features of 2026-12-02: 0.18 gives purity 0.92 / inverse purity 0.84 grouped at once and
#: 0.92-0.99 purity in every order questions were added one by one (0.15: 0.92 / 0.86, but 0.87 in one
#: order; 0.2: 0.97 / 0.78). Rerun `python -m bench classes` when the features change.
THRESHOLD = 0.18


@dataclass(frozen=True)
class Group:
    keys: tuple[Hashable, ...]
    texts: tuple[str, ...]
    label: str  # what the class asks, in the fewest words: its shortest question


def group(
    items: Sequence[tuple[K, str]],
    retrieval: MatcherRetrieval,
    *,
    threshold: float = THRESHOLD,
) -> list[Group]:
    """Classes of ``items`` (key, question text), the largest first; singletons included."""
    if not items:
        return []
    texts = [t for _, t in items]
    vec = retrieval.vectorizer(texts)
    vectors = [vec.vector(t) for t in texts]
    n = len(items)
    # the similarity of every pair sharing a feature, through the features' posting lists
    postings: dict[str, list[tuple[int, float]]] = {}
    for i, v in enumerate(vectors):
        for term, weight in v.items():
            postings.setdefault(term, []).append((i, weight))
    sim: dict[tuple[int, int], float] = {}
    for plist in postings.values():
        for x in range(len(plist)):
            i, wi = plist[x]
            for j, wj in plist[x + 1 :]:
                sim[(i, j)] = sim.get((i, j), 0.0) + wi * wj
    # Two groups join only if some pair between them is at least ``threshold`` alike (a mean never exceeds
    # the largest pair), so merging happens inside the components of that graph: each is clustered alone,
    # a few questions at a time instead of the whole window.
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (i, j), s in sim.items():
        if s >= threshold:
            parent[root(i)] = root(j)
    components: dict[int, list[int]] = {}
    for i in range(n):
        components.setdefault(root(i), []).append(i)
    clusters: list[list[int]] = []
    for members in components.values():
        clusters += _average_linkage(members, sim, threshold)
    out: list[Group] = []
    for cluster in clusters:
        members = sorted(cluster)
        out.append(_group([items[i][0] for i in members], [texts[i] for i in members]))
    return _ordered(out)


def _group(keys: Sequence[Hashable], texts: Sequence[str]) -> Group:
    return Group(tuple(keys), tuple(texts), min(texts, key=lambda s: (len(s), s)))


def _ordered(groups: list[Group]) -> list[Group]:
    return sorted(groups, key=lambda g: (-len(g.keys), str(g.keys[0])))


class ClassIndex:
    """:func:`group` kept up to date as questions arrive: a new question joins the class it is most alike
    on average (at least ``threshold``), else starts its own; when questions leave the window, or many
    arrive at once, everything is grouped again. The desk asks on every card, so a new question costs a
    comparison with the window, not a regrouping of it."""

    REGROUP_AFTER = 50  # questions added one by one before the next full grouping

    def __init__(self, retrieval: MatcherRetrieval, threshold: float = THRESHOLD) -> None:
        self.retrieval = retrieval
        self.threshold = threshold
        self._texts: dict[Hashable, str] = {}
        self._clusters: list[list[Hashable]] = []
        self._vectors: dict[Hashable, dict[str, float]] = {}
        self._vec: Vectorizer | None = None
        self._added = 0

    def update(self, items: Sequence[tuple[Hashable, str]]) -> list[Group]:
        current: dict[Hashable, str] = dict(items)
        gone = {k for k in self._texts if k not in current or current[k] != self._texts[k]}
        new = [(k, t) for k, t in items if k not in self._texts or k in gone]
        if self._vec is None or len(new) > 10 or self._added + len(new) > self.REGROUP_AFTER:
            groups = group(items, self.retrieval, threshold=self.threshold)
            self._texts = dict(current)
            self._clusters = [list(g.keys) for g in groups]
            self._vec = self.retrieval.vectorizer([t for _, t in items])
            self._vectors = {k: self._vec.vector(t) for k, t in items}
            self._added = 0
            return groups
        if gone:  # out of the window (or changed): dropped from its class, the others stay as they were
            self._clusters = [kept for c in self._clusters if (kept := [k for k in c if k not in gone])]
            for k in gone:
                self._texts.pop(k, None)
                self._vectors.pop(k, None)
        for k, text in new:
            v = self._vec.vector(text)
            best, best_i = self.threshold, -1
            for i, members in enumerate(self._clusters):
                mean = sum(cosine(v, self._vectors[m]) for m in members) / len(members)
                if mean >= best:
                    best, best_i = mean, i
            if best_i >= 0:
                self._clusters[best_i].append(k)
            else:
                self._clusters.append([k])
            self._vectors[k] = v
            self._texts[k] = text
            self._added += 1
        return _ordered([_group(c, [self._texts[k] for k in c]) for c in self._clusters])


def _average_linkage(members: list[int], sim: dict[tuple[int, int], float], threshold: float) -> list[list[int]]:
    """Average-linkage clusters of one component: the two clusters most alike on average join, while that
    mean is at least ``threshold`` (``sim``: pair similarities by (i, j), i < j; missing pairs are 0).
    numpy keeps each step one pass over a k x k matrix: a window of 300 questions groups in well under a
    second where the same loop over dicts took 4 s."""
    import numpy as np

    k = len(members)
    if k == 1:
        return [members]
    total = np.zeros((k, k))  # total[a, b]: the sum of similarities between clusters a and b
    for x in range(k):
        for y in range(x + 1, k):
            total[x, y] = total[y, x] = sim.get((members[x], members[y]), 0.0)
    size = np.ones(k)
    alive = np.ones(k, dtype=bool)
    clusters = [[m] for m in members]
    while True:
        mean = total / np.outer(size, size)
        mean[~alive, :] = -np.inf
        mean[:, ~alive] = -np.inf
        np.fill_diagonal(mean, -np.inf)
        a, b = divmod(int(np.argmax(mean)), k)
        if mean[a, b] < threshold:
            break
        clusters[a] += clusters[b]
        total[a, :] += total[b, :]
        total[:, a] += total[:, b]
        size[a] += size[b]
        alive[b] = False
    return [clusters[i] for i in np.flatnonzero(alive)]


def purity(groups: Sequence[Group], labels: Mapping[Hashable, str]) -> float:
    """Share of questions in their group's majority class."""
    total = sum(len(g.keys) for g in groups)
    hits = sum(Counter(labels[k] for k in g.keys).most_common(1)[0][1] for g in groups if g.keys)
    return hits / total if total else 1.0


def inverse_purity(groups: Sequence[Group], labels: Mapping[Hashable, str]) -> float:
    """Share of questions in the group that holds most of their class (1.0: every class in one group)."""
    by_class: dict[str, Counter[int]] = {}
    for gi, g in enumerate(groups):
        for k in g.keys:
            by_class.setdefault(labels[k], Counter())[gi] += 1
    total = sum(sum(c.values()) for c in by_class.values())
    return sum(c.most_common(1)[0][1] for c in by_class.values()) / total if total else 1.0
