"""Drafts: the best FAQ answer or a similar answered ticket's, with sources; editorial marks taken out."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.assist.drafts import build_draft, strip_marks
from bot.assist.similar import MatcherRetrieval
from bot.tickets.faq import FaqMatcher
from bot.tickets.model import Answer, Ticket
from bot.tickets.topics import FaqLibrary, load_faq

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def library() -> FaqLibrary:
    return load_faq(ROOT / "content" / "faq")[0]


@pytest.fixture(scope="module")
def retrieval(library: FaqLibrary) -> MatcherRetrieval:
    return MatcherRetrieval(FaqMatcher(library))


def answered(number: int, question: str, answer: str) -> Ticket:
    t = Ticket(number, -1001, number, 7, "x", question, "general", NOW, NOW, NOW)
    t.answers.append(Answer(201, "王敏", answer, NOW))
    return t


def test_a_faq_question_gets_the_faq_answer_with_its_source(library: FaqLibrary, retrieval: MatcherRetrieval) -> None:
    d = build_draft("北京的公积金怎么转到雄安？", retrieval, library, [])
    assert d is not None
    entry = library.entry("housing-fund/1")
    assert entry is not None and d.text.startswith(entry.answer[:20])
    assert d.sources[0].label == "FAQ 公积金/1"


def test_a_similar_answered_ticket_lends_its_answer(library: FaqLibrary, retrieval: MatcherRetrieval) -> None:
    past = answered(123, "消费券怎么领", "在「雄安城市服务」小程序首页点「消费券」领取，每周五 10 点发放。")
    other = answered(124, "孩子打疫苗去哪", "到户籍所在社区卫生服务中心预约。")
    d = build_draft("请问雄安消费券怎么领取", retrieval, library, [other, past])
    assert d is not None
    assert d.text.startswith("在「雄安城市服务」小程序首页")
    assert d.sources_line() == "工单 #123"
    # its own ticket is never its source
    assert build_draft("请问雄安消费券怎么领取", retrieval, library, [past], exclude=123) is None


def test_nothing_close_no_draft(library: FaqLibrary, retrieval: MatcherRetrieval) -> None:
    assert build_draft("周末小区楼下的篮球场几点关门", retrieval, library, [answered(5, "消费券怎么领", "小程序")]) is None


def test_editorial_marks_never_reach_the_draft(library: FaqLibrary, retrieval: MatcherRetrieval) -> None:
    assert strip_marks("以中心规定为准（待本地核实）。") == ("以中心规定为准。", True)
    d = build_draft("在雄安租房能提取公积金吗？", retrieval, library, [])
    entry = library.entry("housing-fund/2")
    assert entry is not None and "待本地核实" in entry.answer
    assert d is not None and "待本地核实" not in d.text and d.unverified
