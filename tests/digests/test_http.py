"""fetch() against a local http.server: conditional GET, gzip, caps, redirects, timeouts, SSRF."""

from __future__ import annotations

import gzip
import time
from http.server import BaseHTTPRequestHandler

import pytest

from digests.sources.feed import parse_feed
from digests.sources.http import USER_AGENT, MemoryCache, UnsafeURLError, check_url, fetch
from tests.digests.conftest import DATA, LocalServer, send

LOCAL = ("127.0.0.1",)
FEED = b"<rss version='2.0'><channel><item><title>hello</title><link>http://example.org/a</link></item></channel></rss>"


def test_ok_names_the_bot_and_asks_for_gzip(server: LocalServer) -> None:
    server.routes["/feed"] = lambda h: send(h, FEED, Content_Type="application/rss+xml")
    result = fetch(server.url("/feed"), allow_hosts=LOCAL)
    assert result.status == "ok"
    assert result.body == FEED
    assert result.body_bytes == len(FEED)
    headers = server.requests[0][1]
    assert headers["User-Agent"] == USER_AGENT
    assert "gzip" in headers["Accept-Encoding"]


def test_gzip_body_is_decoded(server: LocalServer) -> None:
    server.routes["/gz"] = lambda h: send(h, gzip.compress(FEED), Content_Encoding="gzip")
    result = fetch(server.url("/gz"), allow_hosts=LOCAL)
    assert result.status == "ok"
    assert result.body == FEED


def test_conditional_get_304_reads_no_body_and_keeps_cached(server: LocalServer) -> None:
    def route(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            send(h, b"", 304, ETag='"v1"')
        else:
            send(h, FEED, ETag='"v1"', Last_Modified="Sat, 28 Nov 2026 00:00:00 GMT")

    server.routes["/feed"] = route
    cache = MemoryCache()
    first = fetch(server.url("/feed"), cache=cache, allow_hosts=LOCAL)
    second = fetch(server.url("/feed"), cache=cache, allow_hosts=LOCAL)
    assert first.status == "ok" and first.body_bytes == len(FEED)
    assert second.status == "not_modified"
    assert second.body_bytes == 0
    assert second.body == FEED
    sent = server.requests[1][1]
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Sat, 28 Nov 2026 00:00:00 GMT"


def test_304_without_cache_is_a_failure(server: LocalServer) -> None:
    server.routes["/feed"] = lambda h: send(h, b"", 304)
    result = fetch(server.url("/feed"), allow_hosts=LOCAL)
    assert result.status == "failed"
    assert "304" in (result.reason or "")


def test_declared_size_over_cap_is_refused(server: LocalServer) -> None:
    server.routes["/big"] = lambda h: send(h, b"x" * 300_000)
    result = fetch(server.url("/big"), allow_hosts=LOCAL, max_bytes=100_000)
    assert result.status == "failed"
    assert "cap" in (result.reason or "")


def test_undeclared_size_is_capped_while_streaming(server: LocalServer) -> None:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Connection", "close")
        h.end_headers()
        for _ in range(100):
            h.wfile.write(b"y" * 10_000)

    server.routes["/stream"] = route
    result = fetch(server.url("/stream"), allow_hosts=LOCAL, max_bytes=50_000)
    assert result.status == "failed"
    assert "cap" in (result.reason or "")
    assert result.body_bytes < 200_000


def test_gzip_bomb_is_capped_on_decoded_size(server: LocalServer) -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)
    server.routes["/bomb"] = lambda h: send(h, bomb, Content_Encoding="gzip")
    result = fetch(server.url("/bomb"), allow_hosts=LOCAL, max_bytes=1_000_000)
    assert len(bomb) < 1_000_000
    assert result.status == "failed"
    assert "cap" in (result.reason or "")


def _chain(server: LocalServer, hops: int) -> None:
    for i in range(hops):
        server.routes[f"/r{i}"] = lambda h, i=i: send(h, b"", 302, Location=f"/r{i + 1}")
    server.routes[f"/r{hops}"] = lambda h: send(h, FEED)


def test_five_redirects_are_followed(server: LocalServer) -> None:
    _chain(server, 5)
    result = fetch(server.url("/r0"), allow_hosts=LOCAL)
    assert result.status == "ok"
    assert result.final_url == server.url("/r5")


def test_sixth_redirect_is_refused(server: LocalServer) -> None:
    _chain(server, 6)
    result = fetch(server.url("/r0"), allow_hosts=LOCAL)
    assert result.status == "failed"
    assert "redirects" in (result.reason or "")
    assert len(server.requests) == 6


def test_http_error_is_a_failure_with_the_status(server: LocalServer) -> None:
    server.routes["/err"] = lambda h: send(h, b"oops", 500)
    result = fetch(server.url("/err"), allow_hosts=LOCAL)
    assert result.status == "failed"
    assert "HTTP 500" in (result.reason or "")


@pytest.mark.timeout(15)
def test_hanging_server_is_bounded_by_the_timeout(server: LocalServer) -> None:
    server.routes["/hang"] = lambda h: server.stop.wait(30)
    result = fetch(server.url("/hang"), allow_hosts=LOCAL, timeout=0.5)
    assert result.status == "failed"
    assert "timed out" in (result.reason or "")


@pytest.mark.timeout(15)
def test_trickling_server_is_bounded_by_the_total_deadline(server: LocalServer) -> None:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Connection", "close")
        h.end_headers()
        while not server.stop.is_set():  # one byte every 50 ms: each read is quick, the total is not
            h.wfile.write(b"z")
            h.wfile.flush()
            time.sleep(0.05)

    server.routes["/trickle"] = route
    result = fetch(server.url("/trickle"), allow_hosts=LOCAL, timeout=0.6)
    assert result.status == "failed"
    assert "timed out" in (result.reason or "")


def test_gb2312_declared_only_in_http_header_decodes(server: LocalServer) -> None:
    body = (DATA / "feedparser/tests/illformed/chardet/gb2312.xml").read_bytes()
    server.routes["/gb"] = lambda h: send(h, body, Content_Type="application/rss+xml; charset=gb2312")
    result = fetch(server.url("/gb"), allow_hosts=LOCAL)
    items = parse_feed(result.body, headers=result.headers)
    assert [i.title for i in items] == ["不归移民漫画系列：专业工作"]


def test_loopback_is_refused_unless_allow_listed(server: LocalServer) -> None:
    server.routes["/feed"] = lambda h: send(h, FEED)
    result = fetch(server.url("/feed"))
    assert result.status == "failed"
    assert "non-public address 127.0.0.1" in (result.reason or "")
    assert server.requests == []


def test_redirect_to_loopback_is_refused(server: LocalServer) -> None:
    port = server.base.rsplit(":", 1)[1]
    server.routes["/go"] = lambda h: send(h, b"", 302, Location=f"http://127.0.0.1:{port}/secret")
    server.routes["/secret"] = lambda h: send(h, b"internal")
    result = fetch(f"http://localhost:{port}/go", allow_hosts=("localhost",))
    assert result.status == "failed"
    assert "127.0.0.1" in (result.reason or "")
    assert [path for path, _ in server.requests] == ["/go"]


def _resolve_to(address: str):  # type: ignore[no-untyped-def]
    return lambda host, port: [address]


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "224.0.0.1",
     "240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "100.64.0.1"],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    with pytest.raises(UnsafeURLError, match="non-public"):
        check_url("http://feeds.example.org/rss", resolver=_resolve_to(address))


def test_public_address_and_allow_listed_host_pass() -> None:
    check_url("https://feeds.example.org/rss", resolver=_resolve_to("93.184.216.34"))
    check_url("http://intranet.local/rss", allow_hosts=("INTRANET.local",), resolver=_resolve_to("10.0.0.1"))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "/etc/passwd", "ftp://example.org/x", "http:///x"])
def test_non_http_urls_and_paths_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_url(url, resolver=_resolve_to("93.184.216.34"))
