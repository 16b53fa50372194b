"""Sources a local service centre has: HTML listing pages and Chinese job lists (JSON, HTML, feeds).

The samples in tests/data/digests/local are written in the shape of the real pages (SOURCES.txt);
the HTML page is served by a local HTTP server with the wrong charset small servers send.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from digests.build import fetch_source
from digests.model import SHANGHAI, Item, SourceSpec
from digests.render import render
from digests.sources.feed import parse_jobs
from digests.sources.htmllist import HtmlListError, check_selectors, parse_html_list
from digests.sources.jsonlist import parse_json_list
from digests.templates import load_templates
from tests.digests.conftest import DATA, LocalServer, send

LOCAL = DATA / "local"
TZGG = {"items": "ul.list li", "title": "a", "published": "span.date"}
PAGE_URL = "http://www.example-xiongan.gov.cn/zwgk/tzgg/index.html"


def test_government_listing_page_becomes_items_with_full_titles_links_and_dates(server: LocalServer) -> None:
    body = (LOCAL / "xiongan-tzgg.gb2312.html").read_bytes()
    # GBK bytes, <meta charset=gb2312>, but the server says utf-8 (a common small-server default)
    server.routes["/zwgk/tzgg/index.html"] = lambda h: send(h, body, Content_Type="text/html; charset=utf-8")
    spec = SourceSpec("xa-tzgg", "html", server.url("/zwgk/tzgg/index.html"), fields=TZGG)
    result = fetch_source(spec, allow_hosts=("127.0.0.1",))
    assert result.status == "ok", result.reason
    items = result.items
    assert len(items) == 6
    # the <a title> carries the whole title; the visible text was cut with …
    assert items[0].title == "关于2026—2027年采暖季容东片区集中供暖有关事项的通知"
    assert all("…" not in i.title for i in items)
    assert items[0].link == server.url("/zwgk/tzgg/202612/t20261201_1352.html")
    assert items[3].link == server.url("/zwgk/tzgg/202611/t20261126_1336.html")  # ../../ resolved
    assert items[0].published == datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert items[0].source == "xa-tzgg"


def test_job_table_page_gives_employer_place_and_chinese_dates() -> None:
    fields = {"items": "table.job-list tr:has(td)", "title": "td.job a", "employer": "td.company",
              "location": "td.place", "published": "td.date"}
    items = parse_html_list((LOCAL / "xiongan-rencai.html").read_bytes(), fields, base_url="http://x/ignored")
    assert [(i.title, i.employer, i.location) for i in items] == [
        ("电工（持证上岗）", "雄安城市管理服务有限公司", "雄县"),
        ("客服专员", "雄安新区政务服务中心（劳务派遣）", "容东片区"),
        ("幼儿园保育员", "安新县第二幼儿园", "安新县"),
    ]
    assert items[0].link == "https://rc.example-xiongan.cn/zhaopin/2026/1201/2291.html"  # <base href>
    assert items[2].published == datetime(2026, 11, 27, tzinfo=SHANGHAI)


def test_json_job_list_with_nested_employer() -> None:
    fields = {"items": "data.list", "title": "positionName", "link": "detailUrl", "id": "id",
              "employer": "company.name", "location": "workPlace", "published": "publishTime"}
    items = parse_json_list((LOCAL / "xiongan-jobs.json").read_bytes(), fields,
                            base_url="https://rc.example-xiongan.cn/api/jobs?page=1")
    assert (items[1].title, items[1].employer, items[1].location) == (
        "会计（中级职称优先）", "中国雄安集团基础建设有限公司", "雄安新区启动区")
    assert items[1].link == "https://rc.example-xiongan.cn/job/detail/J20261130007"
    assert items[1].published == datetime(2026, 11, 30, 16, 30, tzinfo=SHANGHAI)


def test_chinese_job_feed_labels() -> None:
    body = (
        "<rss version='2.0'><channel><title>雄安人才网</title>"
        "<item><title>雄安宣武医院：护士</title><link>https://rc.example-xiongan.cn/j/1</link>"
        "<description>工作地点：雄县；学历：大专及以上</description></item>"
        "<item><title>网格员</title><link>https://rc.example-xiongan.cn/j/2</link>"
        "<description>招聘单位：容东片区管理委员会，工作地点：容东片区</description></item>"
        "</channel></rss>"
    ).encode()
    items = parse_jobs(body)
    assert [(i.title, i.employer, i.location) for i in items] == [
        ("护士", "雄安宣武医院", "雄县"), ("网格员", "容东片区管理委员会", "容东片区")]


def test_a_job_line_shows_title_employer_place_and_date() -> None:
    from datetime import date

    from digests.model import Digest, Section

    job = Item("j1", "会计", "https://x.example.cn/j/1", employer="中国雄安集团", location="容东片区",
               published=datetime(2026, 11, 30, 16, 30, tzinfo=SHANGHAI))
    digest = Digest("morning", date(2026, 12, 1), "服务早知道", "zh", (Section("jobs", "💼 招聘信息", (job,)),))
    parts = render(digest, load_templates("zh"))
    assert parts is not None
    assert '• <a href="https://x.example.cn/j/1">会计</a> · 中国雄安集团 · 容东片区（11月30日）' in parts[0]
    named = Digest("morning", date(2026, 12, 1), "服务早知道", "zh",
                   (Section("jobs", "💼 招聘信息", (replace(job, source="rc"),)),), source_names={"rc": "雄安人才网"})
    assert "容东片区（雄安人才网 · 11月30日）" in (render(named, load_templates("zh")) or [""])[0]


def test_a_page_whose_layout_changed_is_a_failure_that_names_the_selector() -> None:
    with pytest.raises(HtmlListError, match=r"ul\.news li.*matched nothing"):
        parse_html_list((LOCAL / "xiongan-tzgg.gb2312.html").read_bytes(), {**TZGG, "items": "ul.news li"})


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"title": "a"}, "fields.items"), ({"items": "li", "title": "a[", "x": "y"}, "fields.title"),
     ({"items": "li", "title": "a", "author": "b"}, "unknown field")],
)
def test_bad_selectors_are_refused_with_the_key(fields: dict[str, str], message: str) -> None:
    with pytest.raises(HtmlListError, match=message):
        check_selectors(fields)
