"""A running bot for end-to-end tests: the real Application long-polling the sandbox over HTTP.

    async with running_bot(tmp_path) as h:
        await h.say(101, GROUP_ID, "/start")
        msg = await h.wait_for_message(GROUP_ID, lambda m: "服务助手" in m["plain_text"])

The feeds are local files served by a local HTTP server (weather dates moved to the test's day);
the clock is the bot's own Clock, set to a fixed moment (``now``) so deadlines and digests are exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import threading
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.chat.app import build_application
from bot.chat.context import Services, services_of
from bot.clock import Clock
from bot.config import Config, parse_config
from bot.store import Store
from sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
FEEDS = ROOT / "tests" / "data" / "feeds"
TOKEN = "123456:TEST-token-for-the-sandbox"
SHANGHAI = ZoneInfo("Asia/Shanghai")
Message = dict[str, Any]


class FeedServer:
    """Serves tests/data/feeds on 127.0.0.1; weather.json gets today's dates."""

    def __init__(self, day: date) -> None:
        self.day = day
        self.requests: list[str] = []
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(self.path)
                if self.path.startswith("/weather"):
                    data = json.loads((FEEDS / "weather.json").read_text(encoding="utf-8"))
                    n = len(data["daily"]["time"])
                    data["daily"]["time"] = [(server.day + timedelta(days=i)).isoformat() for i in range(n)]
                    body = json.dumps(data).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                super().do_GET()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(FEEDS)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def minutes_to_warning_time(svc: Services, due: datetime, service_minutes: int = 20) -> int:
    """Whole wall-clock minutes to move the training clock so that ``service_minutes`` of service time are
    left before ``due``, counted back from the deadline in service time: the jump never lands in a lunch
    break or after hours (no SLA warning is sent while the desk is closed), whatever the wall clock said
    when the test started."""
    hours = svc.desk.hours
    target = due.replace(second=0, microsecond=0)
    while hours.service_minutes_between(target, due) < service_minutes:
        target -= timedelta(minutes=1)
    assert hours.is_open(target), target
    return max(1, math.ceil((target - svc.clock.now()).total_seconds() / 60))


def config_for_tests(data_dir: Path, api_base: str, feeds_url: str, **overrides: Any) -> Config:
    """config.yaml with the sandbox, local feeds, a temporary data dir and long freshness windows."""
    return parse_config(config_data(data_dir, api_base, feeds_url, **overrides), "test config")


def config_data(data_dir: Path, api_base: str, feeds_url: str, **overrides: Any) -> dict[str, Any]:
    """The YAML data of :func:`config_for_tests` (to write a config file for a bot process)."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["data_dir"] = str(data_dir)
    data["content_dir"] = str(ROOT / "content")
    data["telegram"]["base_url"] = api_base
    data["network"]["allow_hosts"] = ["127.0.0.1"]
    data["sources"] = [
        {"name": "weather", "kind": "weather", "url": f"{feeds_url}/weather", "latitude": 39.03, "longitude": 115.93},
        {"name": "gov-latest", "kind": "feed", "url": f"{feeds_url}/politics.xml", "timeout_seconds": 3},
        {"name": "xinhua-politics", "kind": "feed", "url": f"{feeds_url}/politics.xml", "timeout_seconds": 3},
        {"name": "xinhua-finance", "kind": "feed", "url": f"{feeds_url}/finance.xml", "timeout_seconds": 3},
        {"name": "jobs", "kind": "jobs", "url": f"{feeds_url}/jobs.rss", "timeout_seconds": 3},
    ]
    # the shipped sections name the shipped (local) sources; these tests feed them the fixture feeds
    by_section = {"weather": ["weather"], "policy": ["gov-latest", "xinhua-politics"], "jobs": ["jobs"],
                  "life": ["xinhua-finance"]}
    for slot in ("morning", "tea"):
        for section in data["digests"][slot]["sections"]:
            if section.get("sources"):
                section["sources"] = list(by_section[section["key"]])
            section["max_age_hours"] = 24 * 365 * 10  # the fixture feeds are from 2022-2026
    data.setdefault("health", {})["stale_after_days"] = 0  # ... so every source would be stale
    for key, value in overrides.items():
        target = data
        *path, last = key.split(".")
        for part in path:
            target = target[part]
        target[last] = value
    return data


class Harness:
    def __init__(self, sandbox: Sandbox, app: Any, store: Store, config: Config, feeds: FeedServer) -> None:
        self.sandbox = sandbox
        self.app = app
        self.store = store
        self.config = config
        self.feeds = feeds

    @property
    def services(self) -> Services:
        return services_of(self.app)

    @property
    def clock(self) -> Clock:
        return self.services.clock

    def set_time(self, when: datetime) -> None:
        self.clock.offset = when - datetime.now(self.clock.tz)

    def messages(self, chat_id: int) -> list[Message]:
        return self.sandbox.messages(chat_id)

    async def say(self, user_id: int, chat_id: int | None, text: str, **kwargs: Any) -> Message:
        return self.sandbox.send_user_message(user_id, chat_id, text, **kwargs)

    async def press(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        return self.sandbox.press_button(user_id, chat_id, message_id, data)

    async def wait_for_message(
        self, chat_id: int, predicate: Callable[[Message], bool], timeout: float = 30.0
    ) -> Message:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for m in self.messages(chat_id):
                if predicate(m):
                    return m
            if asyncio.get_running_loop().time() > deadline:
                shown = [m.get("plain_text", m.get("text")) for m in self.messages(chat_id)][-5:]
                raise AssertionError(f"no matching message in chat {chat_id} within {timeout}s; last: {shown}")
            await asyncio.sleep(0.05)

    async def settle(self, seconds: float = 0.3) -> None:
        """Give the bot time to process what is pending (for asserting that nothing happens)."""
        await asyncio.sleep(seconds)


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path,
    *,
    now: datetime | None = None,
    flood: bool = False,
    sandbox: Sandbox | None = None,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    """Sandbox + feed server + the real Application polling; everything stopped on exit."""
    now = now or datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)  # a Friday, in service hours
    own_sandbox = sandbox is None
    sb = sandbox or Sandbox(flood=flood)
    if own_sandbox:
        await sb.start()
    with FeedServer(now.date()) as feeds:
        config = config_for_tests(tmp_path / "data", sb.api_base, feeds.url, **overrides)
        store = Store.open(config.data_dir)
        clock = Clock(config.tz, allow_advance=True)
        clock.offset = now - datetime.now(config.tz)
        app = build_application(config, TOKEN, store=store, clock=clock)
        try:
            async with app:
                await app.start()
                assert app.updater is not None
                await app.updater.start_polling(timeout=1, poll_interval=0)
                try:
                    yield Harness(sb, app, store, config, feeds)
                finally:
                    await app.updater.stop()
                    await app.stop()
        finally:
            store.close()
            if own_sandbox:
                await sb.stop()
