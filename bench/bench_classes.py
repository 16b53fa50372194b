"""一类事 (issue 14 item 7): on the labelled set tests/data/assist/classes.yaml (100 questions, 15
classes), the grouping the desk uses (bot/assist/classes.py: average linkage over TF-IDF of the
retrieval features) vs the weekly report's grouping before it (the first question whose jieba words
overlap >= 50 % (Jaccard), or that the old matcher offered the same FAQ entry for): purity (share of
questions in their group's majority class), inverse purity (share in the group holding most of their
class: purity alone is met by leaving every question alone) and the number of groups. Goal: purity >= 90 %.
Also: one full grouping of a 300-question window (the FAQ evaluation set's questions; peer: the grouping
before) and a question added to it (ClassIndex.update, the cost on every new card; peer: regrouping).
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from pathlib import Path

import yaml

from bench.common import Result, percentile
from bot.assist.classes import ClassIndex, Group, group, inverse_purity, purity
from bot.assist.similar import MatcherRetrieval
from bot.tickets.faq import FaqMatcher
from bot.tickets.topics import load_faq

ROOT = Path(__file__).resolve().parents[1]


def _old_grouping(items: list[tuple[Hashable, str]]) -> list[Group]:
    """Desk.weekly_report's grouping before 一类事 (bot/tickets/desk.py at the start of issue 14)."""
    from bench.faq_baseline import FaqMatcher as OldMatcher

    library, _ = load_faq(ROOT / "content" / "faq")
    old = OldMatcher(library)
    groups: list[tuple[set[str], str | None, list[tuple[Hashable, str]]]] = []
    for key, text in items:
        tokens = set(old.tokens(text))
        m = old.match(text)
        offered = m.entry.id if m is not None else None
        for g_tokens, g_offered, members in groups:
            union = tokens | g_tokens
            if (union and len(tokens & g_tokens) / len(union) >= 0.5) or (offered and g_offered == offered):
                members.append((key, text))
                break
        else:
            groups.append((tokens, offered, [(key, text)]))
    return [Group(tuple(k for k, _ in m), tuple(t for _, t in m), m[0][1]) for _, _, m in groups]


def run() -> list[Result]:
    library, _ = load_faq(ROOT / "content" / "faq")
    retrieval = MatcherRetrieval(FaqMatcher(library))
    data = yaml.safe_load((ROOT / "tests" / "data" / "assist" / "classes.yaml").read_text(encoding="utf-8"))
    items: list[tuple[Hashable, str]] = [(f"{c}:{i}", t) for c, ts in data.items() for i, t in enumerate(ts)]
    labels = {k: str(k).split(":")[0] for k, _ in items}
    ours = group(items, retrieval)
    old = _old_grouping(items)
    p_ours, p_old = 100 * purity(ours, labels), 100 * purity(old, labels)
    i_ours, i_old = 100 * inverse_purity(ours, labels), 100 * inverse_purity(old, labels)

    evalset = yaml.safe_load((ROOT / "tests" / "data" / "retrieval" / "faq_eval.yaml").read_text(encoding="utf-8"))
    texts = [t for ts in evalset["in_scope"].values() for t in ts] + list(evalset["out_of_scope"])
    window: list[tuple[Hashable, str]] = list(enumerate(texts[:300]))
    full = []
    for _ in range(3):
        t0 = time.perf_counter()
        group(window, retrieval)
        full.append((time.perf_counter() - t0) * 1000)
    before = []
    for _ in range(3):
        t0 = time.perf_counter()
        _old_grouping(window)
        before.append((time.perf_counter() - t0) * 1000)
    index = ClassIndex(retrieval)
    index.update(window[:250])
    added = []
    for n in range(251, 301):
        t0 = time.perf_counter()
        index.update(window[:n])
        added.append((time.perf_counter() - t0) * 1000)
    return [
        Result.rate(f"classes: purity on {len(items)} questions in {len(data)} classes (peer: before)", p_ours, p_old, "%"),
        Result.rate("classes: inverse purity (a class kept together; peer: before)", i_ours, i_old, "%"),
        Result.time("classes: groups made, fewer is better (15 classes; peer: before)", float(len(ours)),
                    float(len(old)), "count"),
        Result.expect("classes: goal purity >= 90 % met", float(p_ours >= 90), 1.0, "bool"),
        Result.time("classes: group a window of 300 questions p50 (peer: before)", percentile(full, 50),
                    percentile(before, 50)),
        Result.time("classes: one new question joins its class p50 (peer: grouping the window again)",
                    percentile(added, 50), percentile(full, 50)),
    ]
