"""render(): title line, escaping, empty handling, Telegram's tag set and 4096-unit splitting."""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from digests.model import SHANGHAI, Digest, Item, QueuedItem, Section, WeatherReport
from digests.render import TELEGRAM_LIMIT, render, utf16_len, visible_lines
from digests.templates import load_templates

ZH = load_templates("zh")
EN = load_templates("en")
DAY = date(2026, 11, 28)  # a Saturday
ALLOWED_TAGS = {"b", "a", "blockquote"}


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
    emoji = tuple(Item(id=f"e{k}", title="🚇" * 100, link=None) for k in range(160))  # ~80 units per line
    parts = render(digest(Section("traffic", "交通出行", emoji)), ZH)
    assert parts is not None and len(parts) >= 3
    assert all(utf16_len(p) <= 4000 for p in parts)
    # counting code points would have overfilled
    assert any(utf16_len(p) > 3000 and len(p) <= 0.6 * utf16_len(p) for p in parts)


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


# --- issue 15: every item dated and attributed; queued items short for a phone -------------------

def dated(n: int, source: str = "xiongan", **kw: object) -> Item:
    return Item(id=f"d{n}", title=f"雄安新区通知{n}", link=f"https://x.org/d{n}", source=source,
                published=datetime(2026, 12, 1, 9, 30, tzinfo=SHANGHAI), **kw)  # type: ignore[arg-type]


def test_every_item_carries_its_source_display_name_and_date() -> None:
    names = {"xiongan": "雄安发布"}
    d = Digest("morning", DAY, "服务早知道", "zh", (Section("policy", "政务要闻", (dated(1), dated(2, "rongdong"))),),
               source_names=names)
    parts = render(d, ZH)
    assert parts is not None
    assert '• <a href="https://x.org/d1">雄安新区通知1</a>（雄安发布 · 12月1日）\n' in parts[0]
    # without a display name the source's config name is shown
    assert '• <a href="https://x.org/d2">雄安新区通知2</a>（rongdong · 12月1日）' in parts[0]
    en = render(Digest("morning", DAY, "Brief", "en", (Section("policy", "Policy", (dated(1),)),), source_names=names), EN)
    assert en is not None and '雄安新区通知1</a> (雄安发布, 1 Dec)' in en[0]


def test_the_date_is_the_local_day_of_the_digest_zone() -> None:
    # 2026-11-30 20:00 UTC is 12月1日 in Shanghai: the date a member reads is the local one
    late = Item(id="u", title="通知", link=None, source="s", published=datetime(2026, 11, 30, 20, 0, tzinfo=ZoneInfo("UTC")))
    parts = render(digest(Section("policy", "政务要闻", (late,))), ZH)
    assert parts is not None and "• 通知（s · 12月1日）" in parts[0]


def test_jobs_show_employer_and_place_before_the_attribution() -> None:
    job = dated(1, employer="雄安集团", location="容东片区")
    parts = render(digest(Section("jobs", "招聘信息", (job,))), ZH)
    assert parts is not None and "雄安新区通知1</a> · 雄安集团 · 容东片区（xiongan · 12月1日）" in parts[0]


GJJ = (
    "<b>公积金｜疏解人员购房、租房提取政策提示</b>\n\n"
    "自 12 月 1 日起，疏解来雄职工办理住房公积金业务请留意以下要点：\n\n"
    "• 在新区购买首套自住住房，可申请公积金贷款，原缴存地缴存时间可按规定合并计算\n"
    "• 在新区租房自住，可按月或按年提取公积金支付房租\n"
    "  ◦ 按月提取\n"
    "• 异地转入：先在新区开户缴存，再通过「全国住房公积金小程序」申请转移接续\n\n"
    "<blockquote>办理渠道：「冀时办」App 公积金专区</blockquote>"
)


def bullet_lines(part: str) -> list[str]:
    return [line for line in part.split("\n") if line.lstrip().startswith("•")]


def test_a_long_queued_item_is_folded_the_first_day_and_its_list_is_not_digest_items() -> None:
    queued = QueuedItem("7", "services", GJJ, "https://x.org/gjj", first_run=True)
    parts = render(digest(Section("services", "民生服务", queued=(queued,)), Section("policy", "政务要闻", (dated(1),))), ZH)
    assert parts is not None
    text = parts[0]
    assert '• <b>公积金｜疏解人员购房、租房提取政策提示</b> <a href="https://x.org/gjj">详情</a>\n<blockquote expandable>' in text
    assert "\n– 在新区租房自住，可按月或按年提取公积金支付房租\n  ◦ 按月提取\n" in text
    assert "办理渠道：「冀时办」App 公积金专区</blockquote>" in text and text.count("<blockquote") == 1
    # the only "•" lines are the digest's items: the queued item's head and the feed item
    assert [line[:8] for line in bullet_lines(text)] == ["• <b>公积金", "• <a hre"]
    assert visible_lines(text) < visible_lines(text.replace("<blockquote expandable>", "<blockquote>"))


def test_later_days_a_queued_item_is_a_one_line_reminder_with_its_link() -> None:
    queued = QueuedItem("7", "services", GJJ, "https://x.org/gjj", first_run=False)
    parts = render(digest(Section("services", "民生服务", queued=(queued,))), ZH)
    assert parts is not None
    assert "<b>民生服务</b>\n• 公积金｜疏解人员购房、租房提取政策提示 <a href=\"https://x.org/gjj\">详情</a>\n\n" in parts[0]
    assert "blockquote" not in parts[0] and "首套" not in parts[0]


def test_a_short_queued_body_is_quoted_not_folded() -> None:
    queued = QueuedItem("8", "traffic", "<b>交通｜夜间施工</b>\n容东某路 22:00 至 6:00 封闭", None)
    parts = render(digest(Section("traffic", "交通出行", queued=(queued,))), ZH)
    assert parts is not None and "• <b>交通｜夜间施工</b>\n<blockquote>容东某路 22:00 至 6:00 封闭</blockquote>" in parts[0]


def test_visible_lines_wrap_at_a_phone_width_and_count_a_folded_quote_as_three() -> None:
    assert visible_lines("字" * 20) == 1 and visible_lines("字" * 21) == 2
    assert visible_lines("a\n\nb") == 2  # spacing lines are not counted
    assert visible_lines("<b>x</b>\n<blockquote expandable>" + "\n".join(f"第{i}行" for i in range(10)) + "</blockquote>") == 4
    assert visible_lines("<blockquote expandable>" + "字" * 200 + "</blockquote>") == 3


def test_fit_to_phone_leaves_feed_items_out_until_25_lines_and_they_stay_unseen() -> None:
    from digests.render import fit_to_phone

    many = tuple(dated(k) for k in range(30))
    queued = QueuedItem("7", "services", GJJ, "https://x.org/gjj")
    d = Digest("morning", DAY, "服务早知道", "zh",
               (Section("policy", "政务要闻", many[:20]), Section("services", "民生服务", queued=(queued,)),
                Section("jobs", "招聘信息", many[20:])),
               seen_updates={i.id: i.title for i in many})
    full = render(d, ZH)
    assert full is not None and sum(visible_lines(p) for p in full) > 25
    fitted = fit_to_phone(d, ZH, 25)
    parts = render(fitted, ZH)
    assert parts is not None and sum(visible_lines(p) for p in parts) <= 25
    kept = [i.id for s in fitted.sections for i in s.items]
    assert set(fitted.seen_updates) == set(kept) and len(kept) < 30
    assert fitted.sections[1].queued == (queued,)  # editors' items are never cut
    assert kept[:2] == ["d0", "d1"] and "d20" in kept  # the fullest section gives up its last items first
    assert fit_to_phone(d, ZH, 0) is d
    # a section with news keeps its newest item even when the rest alone is too long
    tight = fit_to_phone(d, ZH, 5)
    assert [[i.id for i in s.items] for s in tight.sections] == [["d0"], [], ["d20"]]
