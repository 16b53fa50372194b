"""The web chat's server side, without a browser: the page, live events, the demo-only hook."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from aiohttp import web

from sandbox import GROUP_ID, Sandbox


async def test_the_page_and_its_assets_are_served(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.get(sandbox.url + "/") as r:
            assert r.status == 200 and "text/html" in r.headers["Content-Type"]
            html = await r.text()
        assert "/web/app.js" in html and "/web/style.css" in html
        for asset in ("/web/app.js", "/web/style.css"):
            async with s.get(sandbox.url + asset) as r:
                assert r.status == 200
        async with s.get(sandbox.url + "/web/../server.py") as r:
            assert r.status in (403, 404)


async def test_events_stream_messages_and_edits_as_they_happen(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as s, s.get(sandbox.url + "/sandbox/events") as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        await r.content.readuntil(b"\n\n")  # retry + connected comment: the stream is subscribed
        sandbox.send_user_message(101, GROUP_ID, "大家好")
        sandbox.reset()
        events: list[dict[str, Any]] = []
        while len(events) < 2:
            chunk = await asyncio.wait_for(r.content.readuntil(b"\n\n"), 5)
            line = chunk.decode().strip()
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert events[0]["type"] == "message_created" and events[0]["chat_id"] == GROUP_ID
    assert events[0]["message"]["plain_text"] == "大家好" and events[0]["message"]["sender_id"] == 101
    assert events[1] == {"type": "reset"}


async def test_stop_ends_open_event_streams(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as s, s.get(sandbox.url + "/sandbox/events") as r:
        await r.content.readuntil(b"\n\n")
        await asyncio.wait_for(sandbox.stop(), 5)
        assert await asyncio.wait_for(r.content.read(), 5) == b""


async def test_demo_actions_without_a_hook_say_so(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as s, s.post(sandbox.url + "/sandbox/demo/advance", json={"minutes": 5}) as r:
        assert r.status == 404
        assert await r.json() == {"ok": False, "description": "no bot hook registered (demo only)"}


async def test_hook_must_be_on_this_machine(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as s:
        for url, fragment in (("http://example.com/demo", "on this machine"), ("file:///etc/passwd", "expected http"),
                              (5, "expected a string")):
            async with s.post(sandbox.url + "/sandbox/hooks", json={"url": url}) as r:
                assert r.status == 400
                assert fragment in (await r.json())["error"]
        async with s.get(sandbox.url + "/sandbox/hooks") as r:
            assert await r.json() == {"url": None}


async def test_demo_actions_are_forwarded_to_the_registered_hook(sandbox: Sandbox) -> None:
    seen: list[tuple[str, Any]] = []

    async def action(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append((request.match_info["action"], body))
        if request.match_info["action"] == "digest" and body.get("slot") not in ("morning", "tea"):
            return web.json_response({"ok": False, "description": "slot must be morning or tea"}, status=400)
        return web.json_response({"ok": True, "now": "2026-11-27T10:30:00+08:00"})

    app = web.Application()
    app.router.add_post("/demo/{action}", action)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as s:
            async with s.post(sandbox.url + "/sandbox/hooks", json={"url": f"http://127.0.0.1:{port}/demo"}) as r:
                assert r.status == 200
            async with s.post(sandbox.url + "/sandbox/demo/advance", json={"minutes": 30}) as r:
                assert r.status == 200 and (await r.json())["now"] == "2026-11-27T10:30:00+08:00"
            async with s.post(sandbox.url + "/sandbox/demo/digest", json={"slot": "lunch"}) as r:
                assert r.status == 400 and "slot" in (await r.json())["description"]
            async with s.post(sandbox.url + "/sandbox/demo/clock") as r:
                assert r.status == 200
            async with s.post(sandbox.url + "/sandbox/demo/..%2Fetc") as r:
                assert r.status in (400, 404)
        assert seen == [("advance", {"minutes": 30}), ("digest", {"slot": "lunch"}), ("clock", {})]
    finally:
        await runner.cleanup()
    async with aiohttp.ClientSession() as s, s.post(sandbox.url + "/sandbox/demo/clock", json={}) as r:
        assert r.status == 502 and "did not answer" in (await r.json())["description"]
