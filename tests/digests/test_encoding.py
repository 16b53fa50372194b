"""Encodings as small Chinese servers serve them: never mojibake in a digest.

The GBK sample is served by a real local HTTP server with the headers such servers send: no
charset at all, a wrong ``charset=utf-8`` and Apache's old default ``charset=iso-8859-1``.
"""

from __future__ import annotations

import feedparser
import pytest

from digests.build import fetch_source, load_source
from digests.model import SourceSpec
from digests.sources.encoding import decode, looks_like_mojibake
from digests.sources.feed import parse_feed
from digests.sources.http import FetchResult
from tests.digests.conftest import DATA, LocalServer, send

FP = DATA / "feedparser/tests"
GBK_FEED = (DATA / "encoding/rongdong-notices.gbk.rss").read_bytes()
NOTICE = "关于2026年冬季供暖有关事项的通知"


def test_gb2312_with_no_charset_anywhere_decodes() -> None:
    body = (FP / "illformed/chardet/gb2312.xml").read_bytes()
    assert parse_feed(body)[0].title == "不归移民漫画系列：专业工作"


def test_big5_with_no_charset_anywhere_decodes() -> None:
    body = (FP / "illformed/chardet/big5.xml").read_bytes()
    atom = body.replace(b"<title>", b"<entry><title>").replace(b"</title>", b"</title></entry>")
    assert parse_feed(atom)[0].title.startswith("我希望")


@pytest.mark.parametrize(
    "content_type",
    ["application/rss+xml", "application/rss+xml; charset=utf-8", "text/xml; charset=ISO-8859-1", "text/xml"],
)
def test_gbk_feed_served_with_missing_or_wrong_charset_decodes(server: LocalServer, content_type: str) -> None:
    server.routes["/tzgg.rss"] = lambda h: send(h, GBK_FEED, Content_Type=content_type)
    spec = SourceSpec("rongdong", "feed", server.url("/tzgg.rss"))
    result = fetch_source(spec, allow_hosts=("127.0.0.1",))
    assert result.status == "ok", result.reason
    assert [i.title for i in result.items] == [NOTICE, "容东片区社区卫生服务中心冬季流感疫苗接种安排"]
    assert result.items[0].summary.startswith("各小区居民：根据《河北雄安新区供热管理办法》")
    assert result.warnings == ()


def test_a_correct_header_still_wins_over_detection() -> None:
    # feedparser's fixture: the header says gb2312, the XML declaration something else
    body = (FP / "encoding/http_application_atom_xml_gb2312_charset_overrides_encoding.xml").read_bytes()
    assert decode(body, "application/atom+xml; charset='gb2312'").how == "header"


def test_titles_still_mojibake_are_dropped_and_reported() -> None:
    # the origin itself stored GBK bytes read as Latin-1 (double encoding): no codec can fix the bytes
    garbled = NOTICE.encode("gbk").decode("latin-1")
    body = (
        "<rss version='2.0'><channel><title>通知公告</title>"
        f"<item><title>{garbled}</title><link>http://x.example.cn/1.html</link></item>"
        "<item><title>雄安新区2026年度事业单位公开招聘公告</title><link>http://x.example.cn/2.html</link></item>"
        "</channel></rss>"
    ).encode()
    fetched = FetchResult(url="http://x.example.cn/rss", status="ok", body=body, body_bytes=len(body),
                          headers={"Content-Type": "application/rss+xml; charset=utf-8"})
    result = load_source(SourceSpec("xa-notices", "feed", "http://x.example.cn/rss"), fetched)
    assert [i.title for i in result.items] == ["雄安新区2026年度事业单位公开招聘公告"]
    assert len(result.warnings) == 1 and "mojibake" in result.warnings[0]
    assert result.ok  # a warning, not a failure: the good items still go out


@pytest.mark.parametrize(
    "garbled",
    [
        NOTICE.encode("gbk").decode("latin-1"),  # ¹ØÓÚ2026Äê¶¬¼¾…
        NOTICE.encode("gbk").decode("cp1252", errors="replace"),
        NOTICE.encode("utf-8").decode("gbk", errors="replace"),  # 鍏充簬2026骞…
        "容东片区".encode().decode("gb18030"),
        NOTICE.encode("utf-8").decode("cp1252", errors="replace"),  # å…³äºŽ…
        "通知\ufffd\ufffd公告",
        "关于锟斤拷通知",
    ],
)
def test_mojibake_is_recognised(garbled: str) -> None:
    assert looks_like_mojibake(garbled)


def test_real_titles_are_not_taken_for_mojibake() -> None:
    titles = [e.title for p in sorted((DATA / "policy").rglob("*.xml"))
              for e in feedparser.parse(p.read_bytes()).entries]
    titles += ["Crème brûlée", "Señor Müller äußert Ärger über Öl", "Größe Überblick", "Привет мир",
               "UX Designer · SugarCRM · Europe Only", "容东片区居民服务中心（社区）", "关于",
               "AT&T \ufffd (&#0; unescaped)"]
    assert len(titles) > 200
    assert [t for t in titles if looks_like_mojibake(t)] == []
