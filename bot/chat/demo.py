"""`servicebot demo`: the sandbox, local sample feeds and the bot wired to them, fully offline.

One event loop runs three things on 127.0.0.1:

* the sandbox (offline Telegram + its web chat) on ``port``;
* a small aiohttp app on a free port serving ``content/samples`` as the demo's feeds (the sample
  forecast's dates are moved to today so the brief has today's weather) and the demo-only hook
  (``/demo/digest``, ``/demo/advance``, ``/demo/clock``) that the sandbox's training panel calls;
* the real bot Application, long-polling the sandbox.

The demo starts with a fresh data directory, posts this morning's brief at once, and has one member
ask a question so the staff chat shows a ticket card. Production never has the hook: it exists only
here, and the bot's clock refuses to move unless ``config.demo`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from telegram.ext import Job

from bot.chat import jobs
from bot.chat.app import BotApp, build_application
from bot.chat.context import services_of
from bot.config import Config, parse_config
from bot.store import Store
from sandbox import Sandbox

log = logging.getLogger(__name__)

DEMO_TOKEN = "9000:DEMO-token-for-the-offline-sandbox"
MAX_ADVANCE_MINUTES = 7 * 24 * 60   # the training panel's limit: one week per step

# demo source name -> sample file in content/samples (see its SOURCES.txt)
SAMPLE_FILES = {
    "weather": "open-meteo-xiongan-december.json",
    "air": "open-meteo-air-quality-xiongan.json",
    "xiongan-notices": "xiongan-tzgg.gb2312.html",
    "gov-latest": "govcn-zuixin.reshaped.json",
    "jobs-rencai": "xiongan-rencai.html",
    "jobs-api": "xiongan-jobs.json",
    "xiongan-wechat": "rsshub-wechat-xiongan.rss.xml",
}


def demo_config(base: dict[str, Any], *, api_base: str, samples_url: str, data_dir: Path, root: Path) -> Config:
    """config.yaml as the demo runs it: the sandbox, local samples, a throwaway data directory."""
    data = json.loads(json.dumps(base))  # deep copy of plain YAML data
    data["demo"] = True
    data["data_dir"] = str(data_dir)
    content = Path(data.get("content_dir", "content"))
    data["content_dir"] = str(content if content.is_absolute() else root / content)
    data.setdefault("telegram", {})["base_url"] = api_base
    data.setdefault("network", {})["allow_hosts"] = ["127.0.0.1"]
    sources = []
    for source in data.get("sources", []):
        sample = SAMPLE_FILES.get(source["name"])
        if sample is None:
            continue
        sources.append({**source, "url": f"{samples_url}/samples/{sample}", "timeout_seconds": 5})
    data["sources"] = sources
    known = {s["name"] for s in sources}
    for slot in ("morning", "tea"):
        for section in data["digests"][slot]["sections"]:
            section["sources"] = [s for s in section.get("sources", []) if s in known]
            # the sample feeds are real captures from 2022-2026: show them despite their age
            section["max_age_hours"] = 24 * 365 * 10
    return parse_config(data, "config.yaml (demo)")


@dataclass
class Demo:
    """A running demo; ``stop()`` ends it."""

    sandbox: Sandbox
    app: BotApp
    store: Store
    runner: web.AppRunner
    data_dir: Path
    samples_url: str
    cleanup: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.sandbox.url + "/"

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            if self.app.updater is not None:
                await self.app.updater.stop()
            await self.app.stop()
            await self.app.shutdown()
        self.store.close()
        await self.runner.cleanup()
        await self.sandbox.stop()
        for path in self.cleanup:
            shutil.rmtree(path, ignore_errors=True)


def _samples_app(samples: Path, holder: dict[str, BotApp]) -> web.Application:
    routes = web.RouteTableDef()

    @routes.get("/samples/{name}")
    async def sample(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = samples / name
        if "/" in name or not path.is_file():
            raise web.HTTPNotFound()
        if name.startswith("open-meteo"):
            data = json.loads(path.read_text(encoding="utf-8"))
            app = holder.get("app")
            today = services_of(app).clock.now().date() if app else None
            if today is not None and "daily" in data:  # the request's past days come before today
                n = len(data["daily"]["time"])
                past = min(int(request.query.get("past_days", "0") or 0), n - 1)
                data["daily"]["time"] = [(today + timedelta(days=i - past)).isoformat() for i in range(n)]
            if today is not None and "hourly" in data:
                first = date.fromisoformat(data["hourly"]["time"][0][:10])
                shift = today - first
                data["hourly"]["time"] = [
                    (datetime.fromisoformat(t) + shift).strftime("%Y-%m-%dT%H:%M") for t in data["hourly"]["time"]
                ]
            return web.json_response(data)
        if name.endswith(".html"):  # as the sites serve them: the page's own <meta charset>, none in the header
            return web.Response(body=path.read_bytes(), content_type="text/html")
        content_type = "application/json" if name.endswith(".json") else "application/rss+xml"
        return web.Response(body=path.read_bytes(), content_type=content_type, charset="utf-8")

    @routes.post("/demo/digest")
    async def digest(request: web.Request) -> web.Response:
        body = await _json(request)
        slot = body.get("slot", "morning")
        if slot not in ("morning", "tea"):
            return web.json_response({"ok": False, "description": "slot must be morning or tea"}, status=400)
        app = holder["app"]
        outcomes = await jobs.deliver_slot(app, slot, force=True)
        return web.json_response({"ok": True, "outcomes": [o.outcome for o in outcomes]})

    @routes.post("/demo/advance")
    async def advance(request: web.Request) -> web.Response:
        body = await _json(request)
        minutes = body.get("minutes", 60)
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_ADVANCE_MINUTES:
            return web.json_response(
                {"ok": False, "description": f"minutes must be a whole number from 1 to {MAX_ADVANCE_MINUTES}"},
                status=400,
            )
        app = holder["app"]
        ran = await advance_clock(app, timedelta(minutes=minutes))
        now = services_of(app).clock.now()
        return web.json_response({"ok": True, "now": now.isoformat(), "ran": ran})

    @routes.route("*", "/demo/clock")
    async def clock(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "now": services_of(holder["app"]).clock.now().isoformat()})

    app = web.Application()
    app.add_routes(routes)
    return app


async def advance_clock(app: BotApp, delta: timedelta) -> list[str]:
    """Move the bot's clock forward, running every job that falls due on the way; returns their names.

    The JobQueue fires on real time, so a moved clock alone would leave the day's work undone. Every job
    is looked at by its trigger, not by its name (a renamed job cannot drift out of the training clock):
    jobs at a time of day (the digests, the weekly report, the calendar check...) run at their own time,
    in order, with the clock set to that time, as many times as the span covers; repeating jobs (the SLA
    sweep, the editors' watches) run once at the end. One-shot jobs (a digest retry) keep their timer.
    """
    assert app.job_queue is not None
    clock = services_of(app).clock
    start = clock.now()
    end = start + delta
    tick = timedelta(microseconds=1)
    timed: list[tuple[datetime, int, Job[Any]]] = []
    repeating: list[Job[Any]] = []
    for order, job in enumerate(app.job_queue.jobs()):
        trigger = job.job.trigger
        # a paused job has no next run time (``Job.enabled`` is not kept by ``JobQueue.jobs()``'s copies)
        if job.job.next_run_time is None or isinstance(trigger, DateTrigger):
            continue
        if isinstance(trigger, IntervalTrigger):
            if trigger.interval <= delta:
                repeating.append(job)
            continue
        at = trigger.get_next_fire_time(None, start + tick)
        while at is not None and at <= end:
            timed.append((at, order, job))
            at = trigger.get_next_fire_time(at, at + tick)
    ran: list[str] = []
    for at, _, job in sorted(timed, key=lambda entry: (entry[0], entry[1])):
        if at > clock.now():
            clock.advance(at - clock.now())
        await job.run(app)
        ran.append(job.name or "?")
    if end > clock.now():
        clock.advance(end - clock.now())
    for job in repeating:
        await job.run(app)
        ran.append(job.name or "?")
    return ran


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


async def start_demo(
    base: dict[str, Any],
    *,
    root: Path,
    port: int = 8080,
    data_dir: Path | None = None,
    seed_question: bool = True,
) -> Demo:
    """Start everything; returns once the morning brief is in the group."""
    holder: dict[str, BotApp] = {}

    def training_time() -> float:
        # the sandbox's messages carry the training clock's time, so the web chat shows the bot's day
        app = holder.get("app")
        return time.time() + (services_of(app).clock.offset.total_seconds() if app is not None else 0.0)

    sandbox = Sandbox(clock=training_time)
    await sandbox.start("127.0.0.1", port)
    runner = web.AppRunner(_samples_app(root / "content" / "samples", holder), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    samples_port = sockets[0].getsockname()[1]
    samples_url = f"http://127.0.0.1:{samples_port}"
    cleanup: list[Path] = []
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="servicebot-demo-"))
        cleanup.append(data_dir)
        Store.init(data_dir)  # an existing empty directory is refused by Store.open (an unmounted volume)
    config = demo_config(base, api_base=sandbox.api_base, samples_url=samples_url, data_dir=data_dir, root=root)
    store = Store.open(config.data_dir)
    app = build_application(config, DEMO_TOKEN, store=store)
    holder["app"] = app
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=10, poll_interval=0)
    demo = Demo(sandbox, app, store, runner, data_dir, samples_url, cleanup)
    # this morning's brief (post_init's catch-up may already have sent it: the ledger keeps it to one)
    await jobs.deliver_slot(app, "morning")
    await _register_hook(sandbox.url, f"{samples_url}/demo")
    if seed_question:
        sandbox.send_user_message(103, config.chats.groups[0].id, "@servicebot 您好，孩子明年转学到雄安，需要准备哪些材料？")
    return demo


async def _register_hook(sandbox_url: str, hook_url: str) -> None:
    try:
        async with aiohttp.ClientSession() as session, session.post(
            f"{sandbox_url}/sandbox/hooks", json={"url": hook_url}
        ) as response:
            if response.status >= 400:
                log.warning("the sandbox did not take the demo hook (%s)", response.status)
    except aiohttp.ClientError as exc:
        log.warning("could not register the demo hook: %s", exc)


async def run_demo(base: dict[str, Any], *, root: Path, port: int) -> None:
    """Run the demo until Ctrl-C or SIGTERM."""
    demo = await start_demo(base, root=root, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    print(f"\n  servicebot demo is running — open {demo.url}\n  (offline Telegram sandbox; Ctrl-C stops)\n", flush=True)
    try:
        await stop.wait()
    finally:
        await demo.stop()
