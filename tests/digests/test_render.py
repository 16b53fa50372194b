"""render(): title line, escaping, empty handling, Telegram's tag set and 4096-unit splitting."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from digests.model import Digest, Item, QueuedItem, Section, WeatherReport
from digests.render import TELEGRAM_LIMIT, render, utf16_len
from digests.templates import load_templates

ZH = load_templates("zh")
EN = load_templates("en")
DAY = date(2026, 11, 28)  # a Saturday
ALLOWED_TAGS = {"b", "a"}


def digest(*sections: Section, slot: str = "morning") -> Digest:
    return Digest(slot=slot, day=DAY, title="服务早知道" if slot == "morning" else "生活下午茶", lang="zh",  # type: ignore[arg-type]
                  sections=sections)


def items(n: int, prefix: str = "条目") -> tuple[Item, ...]:
    return tuple(Item(id=f"i{k}", title=f"{prefix}{k}", link=f"https://x.org/{k}") for k in range(n))


class TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: set[str] = set()
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)
        self.tags.add(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text += data


def check_part(part: str) -> TagChecker:
    checker = TagChecker()
    checker.feed(part)
    checker.close()
    assert checker.stack == [], "a tag left open"
    assert checker.tags <= ALLOWED_TAGS
    assert utf16_len(part) <= TELEGRAM_LIMIT
    return checker


def test_title_line_with_date_and_weekday_and_closing_line() -> None:
    parts = render(digest(Section("policy", "📰 政务要闻", items(2))), ZH, bot="servicebot")
    assert parts == [
        "☀️ <b>服务早知道</b> · 11月28日 周六\n\n"
        "<b>📰 政务要闻</b>\n"
        '• <a href="https://x.org/0">条目0</a>\n'
        '• <a href="https://x.org/1">条目1</a>\n\n'
        "有问题？@servicebot 或发送 /ask 问题"
    ]
    # without a username (an offline preview) the closing points to /ask, never to a display name
    unnamed = render(digest(Section("policy", "📰 政务要闻", items(2))), ZH)
    assert unnamed is not None and unnamed[-1].endswith("\n\n有问题？发送 /ask 问题")


def test_english_title_line() -> None:
    parts = render(Digest("tea", DAY, "Afternoon Tea", "en", (Section("life", "Life", items(1)),)), EN, bot="xiongan_bot")
    assert parts is not None
    assert parts[0].startswith("🍵 <b>Afternoon Tea</b> · Sat 28 Nov\n\n")
    assert parts[0].endswith("Questions? Ask @xiongan_bot or send /ask followed by your question")


def test_feed_text_is_escaped_and_only_telegram_tags_are_produced() -> None:
    evil = Item(id="x", title='<script>alert("x")</script> A&B', link='https://x.org/?a=1&b="2"', employer="<i>Co</i>")
    parts = render(digest(Section("jobs", "招聘<信息>", (evil,))), ZH)
    assert parts is not None
    text = parts[0]
    assert "<script>" not in text and "<i>" not in text
    assert '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; A&amp;B' in text
    assert 'href="https://x.org/?a=1&amp;b=&quot;2&quot;"' in text
    assert "<b>招聘&lt;信息&gt;</b>" in text
    check_part(text)


def test_updated_items_are_marked() -> None:
    updated = Item(id="u", title="新标题", link="https://x.org/u", updated=True)
    parts = render(digest(Section("policy", "政务要闻", (updated,))), ZH)
    assert parts is not None and '• 【更新】<a href="https://x.org/u">新标题</a>' in parts[0]


def test_empty_sections_are_left_out() -> None:
    parts = render(digest(Section("policy", "政务要闻", items(1)), Section("traffic", "交通出行")), ZH)
    assert parts is not None and "交通出行" not in parts[0]


def test_nothing_new_is_a_notice_or_no_post() -> None:
    empty = digest(Section("policy", "政务要闻"))
    assert render(empty, ZH) == ["☀️ <b>服务早知道</b> · 11月28日 周六\n\n今日无更新\n\n有问题？发送 /ask 问题"]
    assert render(empty, ZH, when_empty="skip") is None


def test_weather_alone_is_not_news_but_is_shown_with_the_notice() -> None:
    weather = Section("weather", "今日天气", weather=WeatherReport(DAY, code=0, high=10.0, low=1.0))
    parts = render(digest(weather, Section("policy", "政务要闻")), ZH)
    assert parts is not None
    assert "<b>今日天气</b>\n晴 1~10°C" in parts[0] and "今日无更新" in parts[0]
    assert render(digest(weather), ZH, when_empty="skip") is None


def test_queued_items_keep_editor_html_and_get_a_details_link() -> None:
    queued = QueuedItem("q1", "services", "<b>公积金</b>提取新规", "https://x.org/q")
    parts = render(digest(Section("services", "民生服务", queued=(queued,))), ZH)
    assert parts is not None
    assert '• <b>公积金</b>提取新规 <a href="https://x.org/q">详情</a>' in parts[0]


def test_long_digest_splits_on_item_boundaries_with_continued_headings() -> None:
    long = tuple(Item(id=f"i{k}", title=f"很长的标题{k}" + "字" * 80, link=f"https://x.org/{k}") for k in range(120))
    parts = render(digest(Section("policy", "政务要闻", long)), ZH)
    assert parts is not None and len(parts) > 2
    for part in parts:
        check_part(part)
    assert parts[1].startswith("<b>政务要闻（续）</b>\n• ")
    joined = "\n".join(parts)
    assert all(joined.count(f'href="https://x.org/{k}"') == 1 for k in range(120))
    assert parts[-1].endswith("有问题？发送 /ask 问题")


def test_limit_counts_utf16_units_like_telegram() -> None:
    emoji = tuple(Item(id=f"e{k}", title="🚇" * 100, link=None) for k in range(60))  # 200 units per title
    parts = render(digest(Section("traffic", "交通出行", emoji)), ZH)
    assert parts is not None and len(parts) >= 3
    assert all(utf16_len(p) <= 4000 for p in parts)
    assert any(len(p) <= 2100 < utf16_len(p) for p in parts)  # counting code points would have overfilled


titles = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(titles, max_size=40), min_size=1, max_size=4), st.sampled_from([400, 1000, 4000]))
def test_every_item_once_every_part_within_limit_and_well_formed(sections: list[list[str]], limit: int) -> None:
    built = tuple(
        Section(f"s{n}", f"栏目{n}", tuple(Item(id=f"{n}-{k}", title=t, link=f"https://x.org/{n}/{k}") for k, t in enumerate(ts)))
        for n, ts in enumerate(sections)
    )
    parts = render(digest(*built), ZH, limit=limit)
    assert parts is not None
    for part in parts:
        check_part(part)
        assert utf16_len(part) <= limit
    hrefs = re.findall(r'href="https://x.org/(\d+/\d+)"', "".join(parts))
    assert sorted(hrefs) == sorted(f"{n}/{k}" for n, ts in enumerate(sections) for k in range(len(ts)))
