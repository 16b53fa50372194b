"""DNS rebinding: a host that answers a public address for the check, then 127.0.0.1, must never get
a request to the loopback canary; the connection goes to the address that was checked.

The resolver is stubbed (``socket.getaddrinfo``, the one call both the check and urllib3 make), the
servers are real and local: the canary on 127.0.0.1, and a stand-in for the public host, which the
stub routes the checked public address to (this machine has no internet, and must not try it).
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme

from digests.sources.http import fetch

from .conftest import send

NAME = "feeds.rebind.example"
PUBLIC = "93.184.216.34"  # what the name answers first (checked, public)
FEED = b"<rss version='2.0'><channel><item><title>hello</title><link>http://example.org/a</link></item></channel></rss>"


class Server:
    """A local HTTP(S) server recording (path, Host header) of every request."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[tuple[str, str]] = []
        state = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                state.requests.append((self.path, self.headers.get("Host", "")))
                send(self, FEED, Content_Type="application/rss+xml")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def canary() -> Iterator[Server]:
    with Server() as s:
        yield s


def rebinding_dns(monkeypatch: pytest.MonkeyPatch, public_port: int) -> list[str]:
    """NAME answers PUBLIC once, then 127.0.0.1; PUBLIC itself is routed to the stand-in's port."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == NAME:
            asked.append(host)
            return real(PUBLIC if len(asked) == 1 else "127.0.0.1", port, *args, **kwargs)
        if host == PUBLIC:
            return real("127.0.0.1", public_port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_rebinding_to_loopback_never_reaches_the_canary(canary: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    with Server() as public:
        asked = rebinding_dns(monkeypatch, public.port)
        # the URL's port is the canary's: a connection that resolved the name again would land there
        result = fetch(f"http://{NAME}:{canary.port}/feed.xml", timeout=5)
    assert canary.requests == [], "the loopback canary was reached"
    assert result.status == "ok", result.reason
    assert result.body == FEED
    assert public.requests == [("/feed.xml", f"{NAME}:{canary.port}")]  # the name kept for Host
    assert asked == [NAME], "the name was resolved again after the check"


def test_rebinding_https_keeps_sni_and_verifies_the_name(canary: Server, monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Any) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert(NAME)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(tls)
    seen_sni: list[str | None] = []
    tls.sni_callback = lambda sock, name, ctx: seen_sni.append(name)  # type: ignore[assignment,misc]
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with Server(tls) as public:
        rebinding_dns(monkeypatch, public.port)
        result = fetch(f"https://{NAME}:{canary.port}/feed.xml", timeout=5, verify=str(bundle))
    assert canary.requests == []
    assert result.status == "ok", result.reason
    assert seen_sni == [NAME]
    assert public.requests == [("/feed.xml", f"{NAME}:{canary.port}")]


def test_pinned_https_still_refuses_a_certificate_for_another_name(
    canary: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    ca = trustme.CA()
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("other.example").configure_cert(tls)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with Server(tls) as public:
        rebinding_dns(monkeypatch, public.port)
        result = fetch(f"https://{NAME}:{canary.port}/feed.xml", timeout=5, verify=str(bundle))
    assert result.status == "failed"
    assert NAME in (result.reason or "") or "certificate" in (result.reason or "").lower(), result.reason
    assert public.requests == [] and canary.requests == []
