"""A hostile feed server on 127.0.0.1: each path is one way a feed can go wrong."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GB = 2**30


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


class HostileServer:
    """Paths: /500, /drip (1 byte/s), /huge (1 GB, no length), /bomb (gzip inflating to 10 GB,
    generated lazily), /redirect/N (N more hops), /ok/<anything>, anything else 404."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.bodies: dict[str, bytes] = {}  # extra paths with fixed bodies
        self.stop = threading.Event()
        state = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                state.requests.append(self.path)
                route = state._route(self.path)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    route(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.refused_url = f"http://127.0.0.1:{_refused_port()}/feed.xml"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> HostileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _route(self, path: str) -> Callable[[BaseHTTPRequestHandler], None]:
        if path in self.bodies:
            return lambda h: _send(h, self.bodies[path], Content_Type="application/rss+xml; charset=utf-8")
        if path == "/500":
            return lambda h: _send(h, b"Internal Server Error", 500)
        if path == "/drip":
            return self._drip
        if path == "/huge":
            return self._huge
        if path == "/bomb":
            return self._bomb
        if path.startswith("/redirect/"):
            n = int(path.rsplit("/", 1)[1])
            target = f"/redirect/{n - 1}" if n > 1 else "/ok/feed.xml"
            return lambda h: _send(h, b"", 302, Location=self.base + target)
        if path.startswith("/ok/"):
            return lambda h: _send(h, b"<rss version='2.0'><channel><title>t</title></channel></rss>")
        return lambda h: _send(h, b"not found", 404)

    def _drip(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        for byte in b"<rss version='2.0'><channel>" * 4000:
            if self.stop.wait(1.0):
                return
            h.wfile.write(bytes([byte]))
            h.wfile.flush()

    def _huge(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Connection", "close")  # no Content-Length: the size is only known by reading
        h.end_headers()
        chunk = b"<rss>" + b" " * (2**20 - 5)
        for _ in range(GB // len(chunk)):
            if self.stop.is_set():
                return
            h.wfile.write(chunk)

    def _bomb(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Connection", "close")
        h.end_headers()
        z = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
        zeros = b"\0" * 2**20
        h.wfile.write(z.compress(b"<rss version='2.0'>"))
        started = time.monotonic()
        for _ in range(10 * 1024):  # 10 GB of zeros, about 10 MB on the wire
            if self.stop.is_set() or time.monotonic() - started > 30:
                return
            out = z.compress(zeros)
            if out:
                h.wfile.write(out)
        h.wfile.write(z.flush())


def _send(h: BaseHTTPRequestHandler, body: bytes, status: int = 200, **headers: str) -> None:
    h.send_response(status)
    for name, value in headers.items():
        h.send_header(name.replace("_", "-"), value)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)
