"""A local OpenAI-compatible server (a real aiohttp server on 127.0.0.1, not a mock of the client):
POST /v1/chat/completions answers as such servers do; ``mode`` makes it slow, fail or talk nonsense."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeLlm:
    reply: str = "您好！公积金转到雄安：请新单位先开户缴存，再在小程序申请异地转移接续。"
    mode: str = "ok"  # ok | slow | error | garbage
    delay: float = 5.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    base_url: str = ""
    # set when the server stops: a slow answer still in flight ends then, so stopping the server does
    # not sit out ``delay`` (aiohttp's clean-up waits for in-flight handlers)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        if self.mode == "slow":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), self.delay)
        if self.mode == "error":
            return web.json_response({"error": {"message": "model overloaded"}}, status=503)
        if self.mode == "garbage":
            return web.Response(text="<html>gateway</html>", content_type="text/html")
        body = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": self.requests[-1].get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply}, "finish_reason": "stop"}],
        }
        return web.json_response(body)


@contextlib.asynccontextmanager
async def fake_llm(**kwargs: Any) -> AsyncIterator[FakeLlm]:
    fake = FakeLlm(**kwargs)
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield fake
    finally:
        fake.stopping.set()
        await runner.cleanup()
