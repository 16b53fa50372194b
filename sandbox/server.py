"""The sandbox over HTTP: the Bot API on /bot<token>/<method>, files, webhooks and the control API.

    async with-free use:   sb = Sandbox(world); await sb.start(); Bot(token, base_url=sb.api_base) ...
    from sync code:        with SandboxThread() as sb: ... sb.send_user_message(101, GROUP_ID, "你好")
    from a shell:          python -m sandbox --port 8081

Bot API requests are answered as api.telegram.org answers them (https://core.telegram.org/bots/api#making-requests):
GET query strings, application/x-www-form-urlencoded, multipart/form-data and JSON bodies are all
accepted; any token is accepted; the response is {"ok": true, "result": ...} or
{"ok": false, "error_code": N, "description": "...", "parameters"?: {...}} with HTTP status N.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import re
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from sandbox.core import ApiError, ControlError, DroppedAfterAccept, TelegramCore
from sandbox.flood import FloodControl, FloodLimits
from sandbox.world import DEFAULT_WORLD, World, load_world

log = logging.getLogger("sandbox")
T = TypeVar("T")

WEB_DIR = Path(__file__).resolve().parent / "web"
_DEMO_ACTION = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_SSE_KEEPALIVE = 15.0   # seconds between ": keep-alive" comments on an idle event stream
_NO_HOOK = "no bot hook registered (demo only)"

_INT_FIELDS = ("chat_id", "message_id", "reply_to_message_id", "message_thread_id", "forward_from_chat_id",
               "forward_from_message_id", "error_code", "count", "retry_after", "new_chat_id")


class Sandbox:
    """An offline Telegram Bot API server on 127.0.0.1 plus its control API."""

    def __init__(self, world: World | None = None, *, flood: bool | FloodLimits = True,
                 clock: Callable[[], float] = time.time) -> None:
        self.world = world or DEFAULT_WORLD
        self._flood_setting = flood
        self._clock = clock
        self._core: TelegramCore | None = None
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._session: ClientSession | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.demo_hook: str | None = None      # the bot's demo-only hook URL (POST /sandbox/hooks)
        self._streams: set[asyncio.Queue[dict[str, Any]]] = set()

    # ------------------------------------------------------------------ lifecycle

    @property
    def core(self) -> TelegramCore:
        if self._core is None:
            raise RuntimeError("the sandbox is not started")
        return self._core

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """For python-telegram-bot's ``base_url``: it calls {base_url}{token}/{method}."""
        return self.url + "/bot"

    @property
    def file_base(self) -> str:
        """For python-telegram-bot's ``base_file_url``."""
        return self.url + "/file/bot"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        flood: FloodControl | None = None
        if self._flood_setting is not False:
            limits = self._flood_setting if isinstance(self._flood_setting, FloodLimits) else FloodLimits()
            flood = FloodControl(limits=limits)
        self._core = TelegramCore(self.world, flood=flood, clock=self._clock)
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._bot_api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        app.router.add_post("/sandbox/users/{user_id}/messages", self._ctl_user_message)
        app.router.add_post("/sandbox/users/{user_id}/callbacks", self._ctl_callback)
        app.router.add_get("/sandbox/chats", self._ctl_chats)
        app.router.add_get("/sandbox/chats/{chat_id}/messages", self._ctl_messages)
        app.router.add_post("/sandbox/chats/{chat_id}/migrate", self._ctl_migrate)
        app.router.add_get("/sandbox/chats/{chat_id}/commands", self._ctl_commands)
        app.router.add_post("/sandbox/faults", self._ctl_faults)
        app.router.add_get("/sandbox/faults", self._ctl_list_faults)
        app.router.add_get("/sandbox/calls", self._ctl_calls)
        app.router.add_post("/sandbox/reset", self._ctl_reset)
        app.router.add_get("/sandbox/world", self._ctl_world)
        # the web chat (sandbox/web): the page, its live events and the demo-only clock panel
        app.router.add_get("/", self._web_index)
        app.router.add_static("/web/", WEB_DIR, follow_symlinks=False)
        app.router.add_get("/sandbox/events", self._web_events)
        app.router.add_get("/sandbox/hooks", self._hooks_get)
        app.router.add_post("/sandbox/hooks", self._hooks_set)
        app.router.add_delete("/sandbox/hooks", self._hooks_delete)
        app.router.add_post("/sandbox/demo/{action}", self._demo_forward)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.host, self.port = host, int(sockets[0].getsockname()[1]) if sockets else port
        self._session = ClientSession(timeout=ClientTimeout(total=10))
        self._webhook_task = asyncio.create_task(self._deliver_webhooks())
        log.info("sandbox listening on %s", self.url)

    async def stop(self) -> None:
        for q in list(self._streams):   # end the open event streams, so the server shuts down at once
            q.put_nowait({"type": "_close"})
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ in-process control API

    def send_user_message(self, user_id: int, chat_id: int | None, text: str | None = None,
                          **kwargs: Any) -> dict[str, Any]:
        """Act as a user: write ``text`` in ``chat_id`` (None: the user's private chat). Returns the Message."""
        return self.core.send_user_message(user_id, chat_id, text, **kwargs)

    def press_button(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        """Act as a user: press the inline button with ``data``. Returns the CallbackQuery id."""
        return self.core.press_button(user_id, chat_id, message_id, data)

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat's messages in order, as GET /sandbox/chats/{id}/messages returns them."""
        return self.core.chat_records(chat_id)

    def commands_menu(self, chat_id: int, user_id: int, language_code: str | None = None) -> list[dict[str, Any]]:
        """The "/" menu ``user_id`` sees in ``chat_id`` (Telegram's scope order), as GET .../commands returns it."""
        return self.core.commands_menu(chat_id, user_id, language_code)

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """Every Bot API call so far (optionally only one method), with params and outcome."""
        return [c for c in self.core.calls_log if method is None or c["method"].lower() == method.lower()]

    def inject_fault(self, method: str, error_code: int, **kwargs: Any) -> None:
        """Make the next ``count`` calls of ``method`` fail (kwargs: count, description, retry_after, chat_id)."""
        self.core.inject_fault(method, error_code, **kwargs)

    def migrate_chat(self, chat_id: int, new_chat_id: int | None = None) -> int:
        return self.core.migrate_chat(chat_id, new_chat_id)

    def reset(self) -> None:
        self.core.reset()

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        """Events "message_created" / "message_edited" / "message_deleted" (for a live web chat)."""
        return self.core.subscribe()

    # ------------------------------------------------------------------ Bot API over HTTP

    async def _bot_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if not _TOKEN_CHARS.fullmatch(request.match_info["token"]):
            # Telegram answers a path whose token is not "<bot id>:<secret>" with 404 Not Found (a well-formed
            # but unknown token gets 401 Unauthorized; inject that with a fault). The sandbox takes any token
            # made of a token's characters ("T", "ANY:TOKEN" in tests) and refuses only what no token can hold.
            return _api_error(ApiError(404, "Not Found"))
        params: dict[str, Any] = dict(request.query)
        try:
            params.update(await _read_body(request))
        except ValueError as exc:
            return _api_error(ApiError(400, f"Bad Request: {exc}"))
        try:
            result = await self.core.call(method, params)
        except ApiError as exc:
            return _api_error(exc)
        except DroppedAfterAccept:
            # done, but the client never hears so: close the connection without an answer
            if request.transport is not None:
                request.transport.close()
            raise web.HTTPServiceUnavailable() from None
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    async def _file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        fid = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        data = self.core.files.get(fid)
        if data is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=data, content_type=_image_type(data))

    # ------------------------------------------------------------------ webhooks

    async def _deliver_webhooks(self) -> None:
        """POST each pending update to the webhook, in order; retry with backoff until it is accepted."""
        backoff = 0.2
        while True:
            core = self.core
            hook = core.webhook
            batch = core.take_webhook_batch() if hook is not None else []
            if hook is None or not batch:
                await core.wait_changed(1.0)
                continue
            update = batch[0]
            headers = {"Content-Type": "application/json"}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            error: str | None = None
            try:
                assert self._session is not None
                async with self._session.post(hook.url, data=_dumps(update), headers=headers) as resp:
                    if 200 <= resp.status < 300:
                        core.confirm_webhook(update["update_id"])
                        backoff = 0.2
                        continue
                    error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except TimeoutError:
                error = "Connection timed out"
            except OSError as exc:
                error = f"Connection refused: {exc}"
            except Exception as exc:  # aiohttp.ClientError and friends
                error = f"Connection failed: {exc}"
            hook.last_error_date = core.now()
            hook.last_error_message = error
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    # ------------------------------------------------------------------ control API over HTTP

    async def _ctl(self, fn: Callable[[], Any] | Callable[[], Awaitable[Any]]) -> web.Response:
        try:
            result = fn()
            if asyncio.iscoroutine(result):
                result = await result
        except ControlError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=exc.status, dumps=_dumps)
        except ApiError as exc:
            return web.json_response({"ok": False, "error": exc.description}, status=400, dumps=_dumps)
        return web.json_response(result, dumps=_dumps)

    async def _ctl_user_message(self, request: web.Request) -> web.Response:
        try:
            uid = _path_int(request, "user_id")
            body = await _control_body(request)
        except ControlError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400, dumps=_dumps)
        allowed = {"chat_id", "text", "reply_to_message_id", "message_thread_id", "forward_from_chat_id",
                   "forward_from_message_id", "entities"}
        unknown = set(body) - allowed
        if unknown:
            return web.json_response({"ok": False, "error": f"unknown field(s): {', '.join(sorted(unknown))}"},
                                     status=400, dumps=_dumps)
        return await self._ctl(lambda: self.core.send_user_message(
            uid, body.get("chat_id"), body.get("text"),
            reply_to_message_id=body.get("reply_to_message_id"),
            message_thread_id=body.get("message_thread_id"),
            forward_from_chat_id=body.get("forward_from_chat_id"),
            forward_from_message_id=body.get("forward_from_message_id"),
            entities=body.get("entities")))

    async def _ctl_callback(self, request: web.Request) -> web.Response:
        try:
            uid = _path_int(request, "user_id")
            body = await _control_body(request)
            chat_id, message_id, data = body["chat_id"], body["message_id"], body["data"]
        except KeyError as exc:
            return web.json_response({"ok": False, "error": f"missing field {exc.args[0]}"}, status=400,
                                     dumps=_dumps)
        except ControlError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400, dumps=_dumps)
        return await self._ctl(lambda: {"callback_query_id": self.core.press_button(uid, chat_id, message_id,
                                                                                     str(data))})

    async def _ctl_chats(self, request: web.Request) -> web.Response:
        return await self._ctl(self.core.chats_overview)

    async def _ctl_messages(self, request: web.Request) -> web.Response:
        try:
            chat_id = _path_int(request, "chat_id")
        except ControlError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400, dumps=_dumps)
        return await self._ctl(lambda: self.core.chat_records(chat_id))

    async def _ctl_commands(self, request: web.Request) -> web.Response:
        """GET /sandbox/chats/{id}/commands?user_id=N[&language_code=zh]: the "/" menu that user sees there."""
        try:
            chat_id = _path_int(request, "chat_id")
            user_id = int(request.query.get("user_id", chat_id))
        except (ControlError, ValueError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400, dumps=_dumps)
        lang = request.query.get("language_code")
        return await self._ctl(lambda: self.core.commands_menu(chat_id, user_id, lang))

    async def _ctl_migrate(self, request: web.Request) -> web.Response:
        try:
            chat_id = _path_int(request, "chat_id")
            body = await _control_body(request, allow_empty=True)
        except ControlError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400, dumps=_dumps)
        return await self._ctl(lambda: {"migrate_to_chat_id": self.core.migrate_chat(chat_id,
                                                                                      body.get("new_chat_id"))})

    async def _ctl_faults(self, request: web.Request) -> web.Response:
        try:
            body = await _control_body(request)
            method, code = str(body["method"]), body["error_code"]
        except KeyError as exc:
            return web.json_response({"ok": False, "error": f"missing field {exc.args[0]}"}, status=400,
                                     dumps=_dumps)
        except ControlError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400, dumps=_dumps)

        def inject() -> dict[str, Any]:
            self.core.inject_fault(method, code, count=body.get("count", 1), description=body.get("description"),
                                   retry_after=body.get("retry_after"), chat_id=body.get("chat_id"),
                                   after_accept=bool(body.get("after_accept", False)),
                                   skip=int(body.get("skip", 0)), delay=float(body.get("delay", 0)))
            return {"ok": True, "pending": [vars(f) for f in self.core.faults]}
        return await self._ctl(inject)

    async def _ctl_list_faults(self, request: web.Request) -> web.Response:
        return await self._ctl(lambda: [vars(f) for f in self.core.faults])

    async def _ctl_calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        return await self._ctl(lambda: self.calls(method))

    async def _ctl_reset(self, request: web.Request) -> web.Response:
        def reset() -> dict[str, Any]:
            self.core.reset()
            return {"ok": True}
        return await self._ctl(reset)

    async def _ctl_world(self, request: web.Request) -> web.Response:
        return await self._ctl(self.world.to_dict)

    # ------------------------------------------------------------------ the web chat

    async def _web_index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def _web_events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: one ``data: {json}`` per message created / edited / deleted, and reset."""
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
        await resp.prepare(request)
        core = self.core
        queue = core.subscribe()
        self._streams.add(queue)
        try:
            await resp.write(b"retry: 1000\n: connected\n\n")
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), _SSE_KEEPALIVE)
                except TimeoutError:
                    await resp.write(b": keep-alive\n\n")
                    continue
                if event.get("type") == "_close":
                    break
                await resp.write(b"data: " + _dumps(event).encode() + b"\n\n")
        except (ConnectionResetError, ClientError):
            pass   # the page went away
        finally:
            self._streams.discard(queue)
            core.unsubscribe(queue)
        return resp

    async def _hooks_get(self, request: web.Request) -> web.Response:
        return web.json_response({"url": self.demo_hook}, dumps=_dumps)

    async def _hooks_set(self, request: web.Request) -> web.Response:
        """The bot, in demo mode only, registers where the training panel's actions go."""
        try:
            body = await _control_body(request)
            url = body.get("url")
            if not isinstance(url, str) or not url:
                raise ControlError("url: expected a string like http://127.0.0.1:PORT/demo")
            _check_loopback_url(url)
        except ControlError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400, dumps=_dumps)
        self.demo_hook = url.rstrip("/")
        return web.json_response({"ok": True, "url": self.demo_hook}, dumps=_dumps)

    async def _hooks_delete(self, request: web.Request) -> web.Response:
        self.demo_hook = None
        return web.json_response({"ok": True}, dumps=_dumps)

    async def _demo_forward(self, request: web.Request) -> web.Response:
        """POST /sandbox/demo/{action} -> POST {hook}/{action} with the same JSON body; its answer back."""
        action = request.match_info["action"]
        if not _DEMO_ACTION.fullmatch(action):
            return web.json_response({"ok": False, "description": f"unknown demo action {action!r}"}, status=400,
                                     dumps=_dumps)
        if self.demo_hook is None:
            return web.json_response({"ok": False, "description": _NO_HOOK}, status=404, dumps=_dumps)
        try:
            body = await _control_body(request, allow_empty=True)
        except ControlError as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400, dumps=_dumps)
        target = f"{self.demo_hook}/{action}"
        assert self._session is not None
        try:
            async with self._session.post(target, json=body, timeout=ClientTimeout(total=120)) as resp:
                raw = await resp.read()
                status = resp.status
        except (ClientError, TimeoutError, OSError) as exc:
            return web.json_response({"ok": False, "description": f"the bot hook {target} did not answer: "
                                      f"{exc or type(exc).__name__}"}, status=502, dumps=_dumps)
        try:
            answer = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError):
            return web.json_response({"ok": False, "description": f"the bot hook {target} answered {status} "
                                      "without JSON"}, status=502, dumps=_dumps)
        return web.json_response(answer, status=status, dumps=_dumps)


# ---------------------------------------------------------------------- request helpers


_TOKEN_CHARS = re.compile(r"[A-Za-z0-9:_-]+")


def _check_loopback_url(url: str) -> None:
    """The sandbox forwards the panel's requests to the hook: only an http URL on this machine is taken."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ControlError(f"url: expected http://127.0.0.1:PORT/..., got {url!r}")
    host = parts.hostname
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ControlError(f"url: the demo hook must be on this machine (127.0.0.1 or localhost), got {host!r}")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _image_type(data: bytes) -> str:
    """The content type of an uploaded photo by its magic bytes (so the web chat's <img> shows it)."""
    for magic, ctype in ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG", "image/png"), (b"GIF8", "image/gif")):
        if data.startswith(magic):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def _api_error(exc: ApiError) -> web.Response:
    return web.json_response(exc.to_json(), status=exc.code, dumps=_dumps)


async def _read_body(request: web.Request) -> dict[str, Any]:
    if request.method not in ("POST", "PUT") or not request.can_read_body:
        return {}
    ctype = request.content_type
    if ctype == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise ValueError("can't parse JSON request body") from None
        if not isinstance(data, dict):
            raise ValueError("request body must be a JSON object")
        return data
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        out: dict[str, Any] = {}
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                out[key] = value
            elif isinstance(value, (bytes, bytearray)):
                out[key] = bytes(value)
            else:
                out[key] = value.file.read()
        return out
    return {}


def _path_int(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    try:
        return int(raw)
    except ValueError:
        raise ControlError(f"{name} in the path must be an integer, got {raw!r}") from None


async def _control_body(request: web.Request, allow_empty: bool = False) -> dict[str, Any]:
    if not request.can_read_body:
        if allow_empty:
            return {}
        raise ControlError("expected a JSON object body")
    try:
        body = await request.json()
    except ValueError:
        raise ControlError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlError("expected a JSON object body")
    for key in _INT_FIELDS:
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ControlError(f"{key}: expected an integer, got {value!r}")
    return body


# ---------------------------------------------------------------------- running in a thread


class SandboxThread:
    """A Sandbox on its own event loop in a background thread (for sync tests and the demo).

    Use as a context manager; the in-process control methods are thread-safe wrappers.
    """

    def __init__(self, world: World | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 **opts: Any) -> None:
        self.sandbox = Sandbox(world, **opts)
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return self.sandbox.url

    @property
    def api_base(self) -> str:
        return self.sandbox.api_base

    @property
    def file_base(self) -> str:
        return self.sandbox.file_base

    def start(self) -> SandboxThread:
        ready: Future[None] = Future()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)

            async def main() -> None:
                self._stopped = asyncio.Event()
                try:
                    await self.sandbox.start(self._host, self._port)
                except BaseException as exc:
                    ready.set_exception(exc)
                    return
                ready.set_result(None)
                await self._stopped.wait()
                await self.sandbox.stop()

            loop.run_until_complete(main())
            loop.close()

        self._thread = threading.Thread(target=run, name="sandbox", daemon=True)
        self._thread.start()
        ready.result(timeout=30)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
            self._thread.join(timeout=30)
        self._thread = None

    def __enter__(self) -> SandboxThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, fn: Callable[[], T]) -> T:
        assert self._loop is not None, "the sandbox thread is not started"

        async def wrapper() -> T:
            return fn()
        coro: Coroutine[Any, Any, T] = wrapper()
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def send_user_message(self, user_id: int, chat_id: int | None, text: str | None = None,
                          **kwargs: Any) -> dict[str, Any]:
        return self._run(lambda: self.sandbox.send_user_message(user_id, chat_id, text, **kwargs))

    def press_button(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        return self._run(lambda: self.sandbox.press_button(user_id, chat_id, message_id, data))

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        return self._run(lambda: self.sandbox.messages(chat_id))

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        return self._run(lambda: self.sandbox.calls(method))

    def commands_menu(self, chat_id: int, user_id: int, language_code: str | None = None) -> list[dict[str, Any]]:
        return self._run(lambda: self.sandbox.commands_menu(chat_id, user_id, language_code))

    def inject_fault(self, method: str, error_code: int, **kwargs: Any) -> None:
        self._run(lambda: self.sandbox.inject_fault(method, error_code, **kwargs))

    def migrate_chat(self, chat_id: int, new_chat_id: int | None = None) -> int:
        return self._run(lambda: self.sandbox.migrate_chat(chat_id, new_chat_id))

    def reset(self) -> None:
        self._run(self.sandbox.reset)


# ---------------------------------------------------------------------- the command line


def serve(port: int, world_path: str | None, flood: bool) -> None:
    """Serve the sandbox on 127.0.0.1:port until Ctrl-C or SIGTERM (``servicebot sandbox`` calls this)."""
    world = load_world(world_path) if world_path else DEFAULT_WORLD

    async def main() -> None:
        sandbox = Sandbox(world, flood=flood)
        await sandbox.start("127.0.0.1", port)
        print(f"sandbox: Bot API at {sandbox.api_base}<token>/<method>, control API at {sandbox.url}/sandbox/",
              flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await sandbox.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
