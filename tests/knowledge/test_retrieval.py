"""Retrieval (bot/knowledge/retrieval.py): the floors on the evaluation set's held-out half, and the
pieces members' writing needs (traditional characters, full-width, colloquialisms, context)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import retrieval_eval as ev
from bot.knowledge.retrieval import FaqRetriever, Index, features, normalise, similarity
from bot.tickets.topics import load_faq

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def retriever() -> FaqRetriever:
    library, problems = load_faq(ROOT / "content" / "faq")
    assert not problems
    return FaqRetriever(library)


def test_the_evaluation_set_is_as_large_as_promised() -> None:
    cases = ev.load()
    assert sum(c.entry is not None for c in cases) >= 300
    assert sum(c.entry is None for c in cases) >= 100
    held = ev.split(cases, "held-out")
    assert 0.4 < len(held) / len(cases) < 0.6  # the split is a real half, not a token few


def test_floors_on_the_held_out_half() -> None:
    """The goals of issue 14, on questions the confidence and its floor were not fitted on."""
    fig = ev.evaluate(ev.split(ev.load(), "held-out"), *ev.ours())
    assert fig.hit1 >= 90.0, fig
    assert fig.offered_right >= 95.0, fig.wrong
    assert fig.oos_declined >= 90.0, fig.wrong
    assert fig.answered >= 55.0, fig  # declining everything would meet the other two


def test_better_than_the_matcher_it_replaced() -> None:
    cases = ev.load()
    ours, before = ev.evaluate(cases, *ev.ours()), ev.evaluate(cases, *ev.today())
    assert ours.hit1 > before.hit1 and ours.answered > before.answered
    assert ours.offered_right > before.offered_right


def test_context_does_not_hide_the_entry_and_a_near_miss_is_declined(retriever: FaqRetriever) -> None:
    hit = retriever.offer("雄才卡怎么申请？我们单位刚搬过来")
    assert hit is not None and hit.id == "talent-card/1"
    assert retriever.offer("雄安站到容西怎么走") is None  # not the Beijing -> Xiong'an entry
    assert retriever.offer("今天天气真好") is None


def test_traditional_full_width_and_colloquial_forms_meet_the_same_entry(retriever: FaqRetriever) -> None:
    assert normalise("孩子轉學要帶什麼證件？ＡＢＣ１２３") == "孩子转学要带什么证件?abc123"
    for q in ("娃转学咋办", "孩子轉學怎麼辦理", "小孩转学啥手续"):
        hits = retriever.retrieve(q, 1)
        assert hits and hits[0].id == "education/2", q
    assert features("娃") == features("小孩") == features("孩子") == ["w:子女", "b:子女"]


def test_an_index_over_any_documents_adds_removes_and_ranks() -> None:
    ix = Index({"娃": "子女"})
    ix.add("ticket/1", ["请问雄安消费券怎么领取"], context="在「雄安发布」小程序领取")
    ix.add("ticket/2", "社保卡丢了怎么补办")
    assert [h.id for h in ix.search("消费券怎么领", 5)] == ["ticket/1"]
    assert ix.search("小程序在哪", 1)[0].id == "ticket/1"  # found by its context (the answer)
    ix.remove("ticket/1")
    assert "ticket/1" not in ix and len(ix) == 1
    assert ix.search("消费券怎么领", 5) == []


def test_similarity_groups_paraphrases_apart_from_other_questions() -> None:
    same = similarity("请问雄安消费券怎么领取", "消费券怎么领")
    other = similarity("请问雄安消费券怎么领取", "社保卡丢了怎么补办")
    assert same > 0.5 > other
    assert similarity("", "消费券") == 0.0


def test_words_added_by_another_index_never_leave_documents_and_questions_segmented_apart() -> None:
    first = Index()
    first.add("ticket/1", "雄安消费券领取入口在哪")
    before = first.search("消费券领取入口", 1)[0]
    other = Index({"券领取": "领券"})  # puts 券领取 into the tokenizer: 消费券领取 now segments differently
    other.add("ticket/9", "消费券领取")
    fresh = Index()
    fresh.add("ticket/1", "雄安消费券领取入口在哪")
    again, expected = first.search("消费券领取入口", 1)[0], fresh.search("消费券领取入口", 1)[0]
    assert (again.score, again.confidence) == (expected.score, expected.confidence)
    assert again.qcov == before.qcov == 1.0
