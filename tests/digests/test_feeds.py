"""Corpus feeds parse into the right items, ids, links and dates (tests/data/digests, see SOURCES)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digests.model import SHANGHAI
from digests.sources.feed import FeedError, parse_feed, parse_jobs
from digests.sources.text import clean_text, parse_date, resolve_link
from tests.digests.conftest import DATA

POLICY = DATA / "policy"
FP = DATA / "feedparser" / "tests"


def feed(path: str, **kwargs: object) -> list:  # type: ignore[type-arg]
    return parse_feed((DATA / path).read_bytes(), source="s", **kwargs)  # type: ignore[arg-type]


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Tue, 14 Apr 2026 00:00:00 +0800", datetime(2026, 4, 14, tzinfo=SHANGHAI)),
        ("Tue, 14 Apr 2026 00:00:00 +0000", datetime(2026, 4, 14, 8, tzinfo=SHANGHAI)),
        ("2020-08-25", datetime(2020, 8, 25, tzinfo=SHANGHAI)),
        ("2020-08-25 16:44:16", datetime(2020, 8, 25, 16, 44, 16, tzinfo=SHANGHAI)),
        ("2026-04-14T09:30:00", datetime(2026, 4, 14, 9, 30, tzinfo=SHANGHAI)),
        ("2026-04-14T09:30:00Z", datetime(2026, 4, 14, 17, 30, tzinfo=SHANGHAI)),
        ("2026/04/14 09:30", datetime(2026, 4, 14, 9, 30, tzinfo=SHANGHAI)),
        ("2026年4月14日", datetime(2026, 4, 14, tzinfo=SHANGHAI)),
        ("Thu, 01 Jan 2004 19:48:21 GMT", datetime(2004, 1, 1, 19, 48, 21, tzinfo=UTC)),
    ],
)
def test_dates_zone_less_or_date_only_mean_shanghai(raw: str, expected: datetime) -> None:
    found = parse_date(raw)
    assert found is not None and found.tzinfo is not None
    assert found == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "yesterday", "2026-13-45"])
def test_unreadable_dates_are_none(raw: str | None) -> None:
    assert parse_date(raw) is None


def test_clean_text_strips_html_scripts_and_full_width_spaces() -> None:
    raw = "<p>\u3000\u3000人民网北京电<script>alert('x')</script>&nbsp;<b>李伟</b>简历</p>\n<p>第二段</p>"
    assert clean_text(raw) == "人民网北京电 李伟简历 第二段"
    assert clean_text("来源: 上海市发改委<br/>各区") == "来源: 上海市发改委 各区"
    assert clean_text("a &lt; b &amp; c") == "a < b & c"


def test_links_resolve_against_the_base_and_refuse_javascript() -> None:
    assert resolve_link("/n1/a.html", "http://politics.people.com.cn/rss/x.xml") == "http://politics.people.com.cn/n1/a.html"
    assert resolve_link("javascript:alert(1)", "http://x.org/") is None
    assert resolve_link("  ", "http://x.org/") is None


# --- policy feeds ------------------------------------------------------------------------------


def test_shenzhen_ten_items_sharing_one_guid_keep_the_distinct_ones() -> None:
    items = feed("policy/sz-gov-policy.rss.xml")
    assert len(items) == 165  # 166 entries, one exact repeat (same title and link)
    assert len({i.id for i in items}) == len(items)
    shared = [i for i in items if i.link == "https://www.inanshan.org.cn/ztfw/zcfw/zchj"]
    assert len(shared) == 9
    assert all(i.id.startswith("h:") for i in shared)
    first = items[0]
    assert first.id == "https://zxqyj.sz.gov.cn/zwgk/zfxxgkml/tzgg/content/post_12735605.html"
    assert first.published == datetime(2026, 4, 14, tzinfo=SHANGHAI)
    assert first.summary.startswith("来源: 深圳市中小企业服务局 各区")


def test_ids_are_stable_across_parses() -> None:
    assert [i.id for i in feed("policy/sz-gov-policy.rss.xml")] == [i.id for i in feed("policy/sz-gov-policy.rss.xml")]


def test_shanghai_utc_midnight_stays_the_same_local_day() -> None:
    first = feed("policy/sh-gov-policy.rss.xml")[0]
    assert first.title == "关于我市事业单位性质殡葬服务机构用水、用电执行居民价格的通知"
    assert first.published is not None
    assert first.published.astimezone(SHANGHAI).date().isoformat() == "2026-04-14"


def test_xinhua_date_only_items() -> None:
    items = feed("policy/xinhua-china-politics.rss.xml")
    assert len(items) == 30
    assert items[0].title == "AI创意视频：裹上毛绒外衣，大寒氛围感拉满"
    assert items[0].published == datetime(2026, 1, 20, tzinfo=SHANGHAI)


def test_chinanews_without_guid_gets_ids_from_link_and_title_and_loses_full_width_spaces() -> None:
    items = feed("policy/captures/chinanews-scroll-news.EXCERPT.rss.xml")
    assert len(items) == 4
    assert all(i.id.startswith("h:") for i in items)
    assert items[0].summary.startswith("新华社伦敦4月18日电")
    assert "\u3000" not in items[0].summary
    assert items[0].published == datetime(2026, 4, 19, 6, 22, 34, tzinfo=SHANGHAI)


def test_people_zone_less_dates_and_html_descriptions() -> None:
    items = feed("policy/captures/people-politics-2020.EXCERPT.rss.xml")
    assert [i.title for i in items] == ["北京市政协副主席李伟接受中央纪委国家监委纪律审查和监察调查", "水利部将水旱灾害防御应急响应等级调整为Ⅲ级"]
    assert items[0].published == datetime(2020, 8, 25, tzinfo=SHANGHAI)
    assert "<" not in items[0].summary and "\u3000" not in items[0].summary
    assert items[0].summary.startswith("人民网北京8月25日电")


# --- feedparser's own fixtures ---------------------------------------------------------------


def test_gb2312_in_header_decodes_and_without_header_does_not_crash() -> None:
    body = (FP / "illformed/chardet/gb2312.xml").read_bytes()
    with_header = parse_feed(body, headers={"Content-Type": "text/xml; charset=gb2312"})
    assert with_header[0].title == "不归移民漫画系列：专业工作"
    assert len(parse_feed(body)) == 1


def test_big5_in_header_decodes() -> None:
    body = (FP / "illformed/chardet/big5.xml").read_bytes()
    parsed = parse_feed(body.replace(b"<title>", b"<entry><title>").replace(b"</title>", b"</title></entry>"),
                        headers={"Content-Type": "application/atom+xml; charset=big5"})
    assert parsed[0].title.startswith("我希望")


def test_script_in_content_becomes_plain_text() -> None:
    items = parse_feed((FP / "wellformed/sanitize/entry_title_crazy.xml").read_bytes())
    assert items[0].title.startswith("Crazy HTML -- Can Your Regex Parse This?")
    assert "<" not in items[0].title


def test_relative_link_against_content_location_header() -> None:
    body = (FP / "wellformed/base/http_item_link_base_content_location.xml").read_bytes()
    items = parse_feed(body, headers={"Content-Location": "http://example.com/"})
    assert items[0].link == "http://example.com/relative/uri"


def test_relative_link_against_the_feed_url() -> None:
    body = b"<rss version='2.0'><channel><item><title>t</title><link>../n/1.html</link></item></channel></rss>"
    assert parse_feed(body, base_url="http://www.people.com.cn/rss/politics.xml")[0].link == "http://www.people.com.cn/n/1.html"


@pytest.mark.parametrize("name", ["illformed/rss_incomplete_cdata.xml", "illformed/aaa_illformed.xml",
                                  "illformed/undeclared_namespace.xml", "illformed/always_strip_doctype.xml",
                                  "encoding/bozo_bogus_encoding.xml", "encoding/utf-16le-bom.xml"])
def test_ill_formed_feeds_are_data_not_exceptions(name: str) -> None:
    parse_feed((FP / name).read_bytes())


def test_entity_declarations_are_refused() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>
<rss version="2.0"><channel><item><title>&b;</title></item></channel></rss>"""
    with pytest.raises(FeedError, match="entities"):
        parse_feed(bomb)
    external = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel><item><title>&x;</title></item></channel></rss>'
    with pytest.raises(FeedError):
        parse_feed(external)
    with pytest.raises(FeedError):
        parse_feed(external.decode().encode("utf-16"))


def test_garbage_is_not_a_feed() -> None:
    with pytest.raises(FeedError):
        parse_feed(b"\x00\x01 definitely not xml")


# --- jobs --------------------------------------------------------------------------------------


def test_jobs_2022_title_employer_region() -> None:
    jobs = parse_jobs((DATA / "jobs/wwr-remote-design-jobs-2022.rss").read_bytes(), source="jobs")
    assert len(jobs) == 22
    first = jobs[0]
    assert (first.title, first.employer, first.location) == ("Web Designer", "TestGorilla", "Anywhere in the World")
    assert first.link == "https://weworkremotely.com/remote-jobs/testgorilla-web-designer"
    assert first.published == datetime(2022, 11, 7, 13, 23, 53, tzinfo=UTC)


def test_jobs_2015_location_label() -> None:
    jobs = parse_jobs((DATA / "jobs/wwr-programming-jobs-2015.turingschool-fixture.rss").read_bytes())
    assert len(jobs) == 25
    assert (jobs[0].title, jobs[0].employer, jobs[0].location) == ("Senior Software Engineer", "Kaleo Software", "Los Angeles, CA")
    assert all("&#8217;" not in j.summary and "&nbsp;" not in j.summary for j in jobs)


def test_every_corpus_date_is_aware() -> None:
    for path in sorted(POLICY.rglob("*.xml")):
        for item in parse_feed(path.read_bytes()):
            assert item.published is None or item.published.utcoffset() is not None
            assert item.published is None or item.published.utcoffset() in (timedelta(0), timedelta(hours=8))
