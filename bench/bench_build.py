"""P3 (issue 3): building a digest from 40 local feeds that each answer after 300 ms, plus one
that never answers.

- ours: ``digests.build.fetch_all`` (concurrent, per-source timeout) + ``build``;
- peer: sequential ``feedparser.parse(url)`` over the same feeds (with the same timeout as the
  socket default, otherwise it would wait forever on the silent feed).
Goals: ours <= 1.2 x the timeout and >= 10 x faster than the peer; a second build with unchanged
feeds downloads 0 body bytes (conditional GET -> 304); every healthy feed counts as fetched (each goal
is a figure: a miss is reported, never an abort).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser

from bench.common import Result
from digests.build import build, fetch_all
from digests.model import SHANGHAI, SectionSpec, SourceSpec
from digests.sources.http import MemoryCache
from digests.templates import load_templates

FEEDS = 40
DELAY = 0.3
TIMEOUT = 1.0
SAMPLE = Path(__file__).resolve().parent.parent / "content" / "samples" / "xinhua-china-politics.rss.xml"


def _serve(body: bytes, stop: threading.Event) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/silent":
                stop.wait(60)
                return
            time.sleep(DELAY)
            etag = '"' + self.path.strip("/").replace("/", "-") + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the default backlog of 5 drops SYNs from 41 concurrent clients
        daemon_threads = True

    httpd = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd


def run() -> list[Result]:
    stop = threading.Event()
    httpd = _serve(SAMPLE.read_bytes(), stop)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    urls = [f"{base}/feed/{n}" for n in range(FEEDS)] + [f"{base}/silent"]
    specs = [SourceSpec(f"feed{n}", "feed", url, timeout=TIMEOUT) for n, url in enumerate(urls)]
    sections = [SectionSpec("policy", tuple(s.name for s in specs), limit=10)]
    templates = load_templates("zh")
    now = datetime(2026, 1, 20, 8, 0, tzinfo=SHANGHAI)
    cache = MemoryCache()
    try:
        started = time.perf_counter()
        results = fetch_all(specs, cache=cache, allow_hosts=("127.0.0.1",))
        build("morning", date(2026, 1, 20), sections, results, now=now, templates=templates)
        ours = time.perf_counter() - started
        silent = f"feed{FEEDS}"
        failed = [name for name, r in results.items() if not r.ok]
        healthy_ok = sum(1 for name, r in results.items() if name != silent and r.ok)
        if failed != [silent]:
            print(f"P3: counted as failed: {', '.join(failed) or 'none'} (expected only {silent}, the silent one)")

        again = fetch_all(specs, cache=cache, allow_hosts=("127.0.0.1",))
        second_bytes = sum(r.body_bytes for r in again.values())
        first_bytes = sum(r.body_bytes for r in results.values())
        not_modified = sum(1 for n, r in again.items() if n != silent and r.status == "not_modified")

        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(TIMEOUT)
        try:
            started = time.perf_counter()
            for url in urls:
                with contextlib.suppress(OSError):  # the silent feed: feedparser raises, no bozo
                    feedparser.parse(url)
            peer = time.perf_counter() - started
        finally:
            socket.setdefaulttimeout(previous)
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
    return [
        Result.time(f"P3 build: {FEEDS} feeds @300 ms + 1 silent, vs sequential feedparser.parse(url)", ours, peer, "s"),
        Result.time(f"P3 build vs goal 1.2 x timeout ({TIMEOUT:g} s)", ours, 1.2 * TIMEOUT, "s"),
        Result.time("P3 second build body bytes (304s), vs first build", float(second_bytes), float(first_bytes), "bytes"),
        Result.expect(f"P3 healthy feeds fetched (goal {FEEDS})", healthy_ok, FEEDS, "feeds"),
        Result.expect("P3 silent feed reported failed (goal 1)", int(silent in failed), 1, "feeds"),
        Result.expect(f"P3 second build: healthy feeds answered 304 (goal {FEEDS})", not_modified, FEEDS, "feeds"),
    ]


if __name__ == "__main__":
    for result in run():
        print(result)
