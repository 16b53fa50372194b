from pathlib import Path

import pytest

from bot.knowledge.retrieval import features
from bot.tickets.faq import FaqMatcher
from bot.tickets.topics import GENERAL, FaqLibrary, load_faq, parse_faq_file

REQUIRED = {
    "education",
    "medical",
    "talent-card",
    "housing-fund",
    "social-insurance",
    "housing",
    "household",
    "transport",
    "employment",
    "business-conversion",
}


def test_shipped_content_has_every_topic_with_a_complete_checklist(library: FaqLibrary) -> None:
    assert set(library.topics) >= REQUIRED
    for key in REQUIRED:
        t = library.topics[key]
        assert t.checklist is not None and t.checklist.materials and t.checklist.steps, key
        assert t.checklist.hotline and t.checklist.office, key
        assert len(t.entries) >= 2, key
        text = t.checklist.render(t.name)
        assert text.startswith(f"【一次性告知 · {t.name}】")
        assert len(text) < 3000  # fits in one message with the promise line
    assert "（待本地核实）" in library.topics["business-conversion"].checklist.office  # type: ignore[union-attr]


def test_business_conversion_bundle_is_one_visit(library: FaqLibrary) -> None:
    text = library.topics["business-conversion"].checklist.render("个转企")  # type: ignore[union-attr]
    for step in ("公章", "社会保险", "公积金", "对公账户", "登记"):
        assert step in text


def test_checklist_renders_in_english_labels(library: FaqLibrary) -> None:
    text = library.topics["medical"].checklist.render("Healthcare", "en")  # type: ignore[union-attr]
    assert text.startswith("【One-time notice · Healthcare】")
    assert "Materials: " in text and "Hotline: " in text


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("孩子明年上小学要去哪报名", "education"),
        ("北京医保在雄安看病能报销吗", "medical"),
        ("雄才卡怎么申请", "talent-card"),
        ("公积金贷款额度多少", "housing-fund"),
        ("养老保险怎么转", "social-insurance"),
        ("想在容城租房", "housing"),
        ("户口能迁过来吗", "household"),
        ("去北京西的高铁几点", "transport"),
        ("爱人找工作有政策吗", "employment"),
        ("个体户想转公司怎么弄", "business-conversion"),
        ("今天群里好热闹", GENERAL),
    ],
)
def test_classify_by_keywords(library: FaqLibrary, text: str, topic: str) -> None:
    assert library.classify(text).key == topic


def test_unknown_topic_is_general_by_name(library: FaqLibrary) -> None:
    assert library.classify("随便聊聊").name == "综合"
    assert FaqLibrary().classify("孩子上学").key == GENERAL


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("孩子上学要什么材料", "education/1"),
        ("子女入学需要准备哪些材料", "education/1"),
        ("娃上小学要带哪些证件", "education/1"),
        ("娃转学怎么办", "education/2"),
        ("请问小孩从北京转学过来要办什么手续", "education/2"),
        ("北京医保在雄安能用吗", "medical/1"),
        ("异地就医备案在哪办", "medical/2"),
        ("公积金怎么从北京转过来", "housing-fund/1"),
        ("租房能取公积金吗", "housing-fund/2"),
        ("社保怎么转到雄安", "social-insurance/1"),
        ("雄才卡怎么办", "talent-card/1"),
        ("个体户怎么转成公司", "business-conversion/1"),
        ("户口怎么迁到雄安", "household/1"),
        ("北京到雄安坐什么车", "transport/1"),
        ("老婆过来怎么找工作", "employment/1"),
    ],
)
def test_variations_of_the_same_question_match(matcher: FaqMatcher, question: str, entry: str) -> None:
    m = matcher.match(question)
    assert m is not None, question
    assert m.entry.id == entry


@pytest.mark.parametrize(
    "chatter",
    [
        "今天天气真好",
        "大家晚上吃什么",
        "哈哈哈",
        "谢谢老师",
        "有人一起拼车去北京吗",
        "明天几点开会",
        "孩子今天发烧了好难受",
        "这个周末去哪玩",
        "房价会涨吗",
        "我的快递到了吗",
        "收到",
        "👍",
    ],
)
def test_unrelated_chatter_matches_nothing(matcher: FaqMatcher, chatter: str) -> None:
    assert matcher.match(chatter) is None


def test_features_fold_synonyms_and_drop_function_words() -> None:
    assert features("娃转学怎么办", {"娃": "子女"}) == ["w:子女", "w:转学", "b:子女", "b:转学"]
    assert features("社宝转移") == ["w:社", "w:宝", "w:转移", "b:社宝", "b:转移"]  # an unknown word: its bigram
    assert features("，。！？") == []


def test_empty_library_matches_nothing() -> None:
    assert FaqMatcher(FaqLibrary()).match("孩子上学要什么材料") is None


GOOD = """---
topic: demo
name: 演示
keywords: [演示]
checklist:
  materials: [身份证]
  hotline: 12345
---
### 演示问题？
> 另一种问法

答案。

### 没有答案的问题
### 第二个问题
答案二。
"""


def test_parse_entries_alternatives_and_line_numbers() -> None:
    topic, problems = parse_faq_file(GOOD, "demo.md")
    assert [e.id for e in topic.entries] == ["demo/1", "demo/2"]
    assert topic.entries[0].alternatives == ("另一种问法",)
    assert topic.entries[0].answer == "答案。"
    assert topic.entries[0].source == "demo.md:9"
    assert problems == ["demo.md:14: FAQ entry '没有答案的问题' has no answer; skipped"]
    assert topic.checklist is not None and topic.checklist.hotline == "12345"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no front matter\n", "bad.md:1: expected YAML front matter"),
        ("---\ntopic: x\nname: [\n---\n", "bad.md:3: YAML"),
        ("---\ntopic: Bad Key\nname: 名\n---\n", "bad.md:2: topic: expected a lowercase key"),
        ("---\ntopic: ok\nkeywords: [a]\n---\n", "bad.md:2: name: expected"),
        ("---\ntopic: ok\nname: 名\ncolour: red\n---\n", "bad.md:4: unknown key 'colour'"),
        (
            "---\ntopic: ok\nname: 名\nchecklist:\n  material: [a]\n---\n",
            "bad.md:4: checklist.material: unknown key",
        ),
    ],
)
def test_parse_errors_name_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(ValueError) as exc:
        parse_faq_file(text, "bad.md")
    assert str(exc.value).startswith(expected)


def test_load_faq_skips_a_broken_file_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.md").write_text("---\ntopic: b\nname: [\n---\n", encoding="utf-8")
    (tmp_path / "c.md").write_text(GOOD, encoding="utf-8")  # duplicate topic key
    (tmp_path / "README.md").write_text("not a topic", encoding="utf-8")
    lib, problems = load_faq(tmp_path)
    assert list(lib.topics) == ["demo"]
    assert any(p.startswith(f"{tmp_path / 'b.md'}:3: YAML") and p.endswith("file skipped") for p in problems)
    assert any("c.md:2: topic 'demo' already defined" in p for p in problems)
    _, missing = load_faq(tmp_path / "nope")
    assert missing and "not found" in missing[0]
