"""Hostile XML (parse_feed) and SSRF (fetch and the bot's sources), with a loopback canary that must
never be asked anything."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chat import jobs
from digests.sources.feed import FeedError, parse_feed
from digests.sources.http import fetch
from sandbox import GROUP_ID, OPS_CHAT_ID
from tests.chat.harness import running_bot

from .conftest import Figures
from .hostile import HostileServer

SECRET = "TOP-SECRET-7f3a9c"


@pytest.fixture
def canary() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def _item(body: str) -> str:
    return f"<item><title>{body}</title><link>https://example.org/1</link></item>"


def _documents(secret: Path, canary_url: str) -> dict[str, bytes]:
    lol = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    big = "A" * 50_000
    padding = "<!-- " + "x" * 70_000 + " -->"
    return {
        "billion-laughs": f'<?xml version="1.0"?><!DOCTYPE rss [{lol}]><rss version="2.0"><channel>'
                          f"{_item('&lol9;')}</channel></rss>".encode(),
        "quadratic": f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{big}">]><rss version="2.0"><channel>'
                     f"{_item('&a;' * 20_000)}</channel></rss>".encode(),
        "doctype-after-70kb": f'<?xml version="1.0"?>{padding}<!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
                              f'<rss version="2.0"><channel>{_item("&x;")}</channel></rss>'.encode(),
        "external-file": f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
                         f'<rss version="2.0"><channel>{_item("&x;")}</channel></rss>'.encode(),
        "external-url": f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "{canary_url}/ok/x">]>'
                        f'<rss version="2.0"><channel>{_item("&x;")}</channel></rss>'.encode(),
        "external-dtd": f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{canary_url}/ok/dtd">'
                        f'<rss version="2.0"><channel>{_item("t")}</channel></rss>'.encode(),
        "parameter-entity": f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>'
                            f'<rss version="2.0"><channel>{_item("t")}</channel></rss>'.encode(),
        "utf16-entity": f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
                        f'<rss version="2.0"><channel>{_item("&x;")}</channel></rss>'.encode("utf-16"),
    }


CASES = ["billion-laughs", "quadratic", "doctype-after-70kb", "external-file", "external-url", "external-dtd",
         "parameter-entity", "utf16-entity"]


@pytest.mark.parametrize("case", CASES)
def test_xml_hostile(case: str, tmp_path: Path, canary: HostileServer, figures: Figures) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    data = _documents(secret, canary.base)[case]
    with figures.run() as run:
        run.faults += 1
        started = time.monotonic()
        try:
            items = parse_feed(data, source="x")
        except FeedError as exc:
            items = []
            assert SECRET not in str(exc)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"{case}: {elapsed:.1f} s"
    assert figures.row.max_mb < 100
    for item in items:
        assert SECRET not in f"{item.title} {item.summary} {item.link}"
        assert "lollol" not in item.title
    assert canary.requests == [], "the parser fetched an external resource"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:{port}/ok/feed.xml", "http://0x7f.1:{port}/ok/feed.xml", "http://2130706433:{port}/ok/f",
     "http://[::1]:{port}/ok/feed.xml", "http://localhost:{port}/ok/feed.xml", "http://10.0.0.1/feed.xml",
     "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd", "/etc/passwd",
     "http://[::ffff:127.0.0.1]:{port}/ok/feed.xml"],
)
def test_ssrf_refused(url: str, canary: HostileServer, figures: Figures) -> None:
    port = canary.base.rsplit(":", 1)[1]
    with figures.run() as run:
        run.faults += 1
        result = fetch(url.format(port=port), timeout=2)
    assert result.status == "failed"
    assert "refused" in (result.reason or "") or "non-public" in (result.reason or ""), result.reason
    assert canary.requests == [], "the canary was reached"


def test_ssrf_redirect_to_internal_from_an_allowed_host(canary: HostileServer, figures: Figures) -> None:
    """127.0.0.1 is allow-listed; its redirect to 0x7f.1 (the same host, spelled otherwise) is not."""
    port = canary.base.rsplit(":", 1)[1]
    import http.server  # noqa: F401  (the canary's own redirect route is reused with another host)

    with figures.run() as run:
        run.faults += 1
        target = f"http://0x7f.1:{port}/ok/feed.xml"
        url = f"{canary.base}/redirect-to?{target}"
        canary_route = canary._route

        def route(path: str):  # type: ignore[no-untyped-def]
            if path.startswith("/redirect-to?"):
                return lambda h: (h.send_response(302), h.send_header("Location", target),
                                  h.send_header("Content-Length", "0"), h.end_headers())
            return canary_route(path)

        canary._route = route  # type: ignore[method-assign]
        result = fetch(url, allow_hosts=("127.0.0.1",), timeout=2)
    assert result.status == "failed" and "non-public" in (result.reason or ""), result.reason
    assert canary.requests == [f"/redirect-to?{target}"], "only the allowed first hop was asked"


async def test_ssrf_through_the_bot(tmp_path: Path, canary: HostileServer, figures: Figures) -> None:
    """A source pointing at the loopback canary by another spelling: refused, digest posted, ops told."""
    port = canary.base.rsplit(":", 1)[1]
    async with running_bot(tmp_path, **{"health.alert_after_failures": 1}) as h:
        cfg = h.services.publisher.config
        h.services.publisher.config = cfg.model_copy(update={"sources": tuple(
            s.model_copy(update={"url": f"http://0x7f.1:{port}/ok/jobs.rss"}) if s.name == "jobs" else s
            for s in cfg.sources)})
        with figures.run() as run:
            run.faults += 1
            await jobs.deliver_slot(h.app, "morning")
        text = "\n".join(m["plain_text"] for m in h.messages(GROUP_ID) if m["sender_id"] == 9000)
        assert "政务要闻" in text
        alert = await h.wait_for_message(OPS_CHAT_ID, lambda m: "jobs" in m["plain_text"])
        assert "non-public" in alert["plain_text"] or "refused" in alert["plain_text"]
    assert canary.requests == []
