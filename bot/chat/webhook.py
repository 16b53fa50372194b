"""Webhook mode: an authenticated endpoint for Telegram's POSTs, and the bot's run loop around it.

Why not python-telegram-bot's own server (``Application.run_webhook``, tornado)? Its handler

- reads the whole body before it looks at the secret (tornado's default ``max_body_size`` is 100 MB: three
  forged 90 MB POSTs took the bot from 155 MB to 696 MB),
- accepts every request when no secret is set,
- logs the body at DEBUG ("Webhook received data: …") and compares the secret with ``!=``,
- answers 200 once the update is in the in-memory queue: a kill then loses a question Telegram was told
  was delivered.

Ours (aiohttp, already a dependency) checks, in this order and before reading a byte of the body:

1. the path and method (POST to ``url_path``; anything else is 404/405);
2. ``X-Telegram-Bot-Api-Secret-Token`` against the secret, in constant time (403 otherwise). There is always
   a secret: the configured one or a random one made at each start and handed to setWebhook
   (:func:`webhook_secret`), so there is no unauthenticated webhook mode;
3. the size: a declared ``Content-Length`` above :data:`MAX_BODY_BYTES` is refused with 413 at once, and a
   body that turns out longer is cut off there (aiohttp's ``client_max_size``);

then parses the update, makes it durable in the inbox (503 when the store cannot write: Telegram retries
later, https://core.telegram.org/bots/api#setwebhook "in case of an unsuccessful request, we will give up
after a reasonable amount of attempts"), queues it and answers 200. Kept are members' questions and every
update a stop would keep (staff and editors' commands and replies, button presses): Telegram forgets an
update once it has our 200, so a kill between the 200 and the handling would otherwise lose a /reply.
Members' group chatter is answered 200 and never stored. The inbox entry is marked done once handled and
replayed at the next start; a delivery of an update id that is pending or lately handled is answered 200
and not handled again (:class:`bot.chat.inbox.InFlight`).

With a shared store (PostgreSQL, docs/storage.md), every process behind the load balancer runs this
endpoint, with the same checks in the same order: a standby (:class:`StandbyEndpoint`) keeps what it
receives and answers 200; the active process takes it from the inbox (the sweep, :data:`SWEEP_EVERY` s) as
well as what it received itself. The inbox write is ``Inbox.receive``: an insert keyed by the update id that
the fence lets through without the lease (bot/store/pg.py, ``PgStore.insert_new``, says why that is safe).
All of them must then check the same secret, so on PostgreSQL a configured one is required (bot/cli.py).
A process binds its port with SO_REUSEPORT there, so the standby's endpoint keeps answering while the same
process, now active, brings its own up on the same port.

``GET /healthz`` (same port) answers the liveness verdict (bot/chat/liveness.py): 200 ``ok`` or 503.

Without getUpdates, a revoked token would go unnoticed in webhook mode (Telegram simply stops posting), so
every :data:`CHECK_EVERY_BEATS` heartbeats (a minute by default) the bot asks getWebhookInfo: a 401 stops it
with one line and exit 1, as in polling mode; a webhook that is no longer ours (deleted, or set elsewhere)
is set again, with the secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import secrets
import signal
import threading
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.error import TelegramError

from bot.chat.inbox import TOKEN_REJECTED, InboxBot, InboxUnavailable
from bot.chat.liveness import heartbeat_interval

log = logging.getLogger(__name__)

#: The largest request body accepted. A Telegram update is a few KB: a message's text is at most 4096
#: characters (https://core.telegram.org/bots/api#message), about 25 KB even with every character sent as
#: a ``\\uXXXX`` escape, plus its entities; a reply or quote carries one more message. 256 KiB is several
#: times the largest update we can construct, and small enough that a forged body costs nothing.
MAX_BODY_BYTES = 256 * 1024

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

#: getWebhookInfo every this many heartbeats
CHECK_EVERY_BEATS = 6

#: seconds between two looks at the inbox for updates another process's endpoint kept (shared store)
SWEEP_EVERY = 1.0

#: setWebhook's secret_token: "1-256 characters. Only characters A-Z, a-z, 0-9, _ and - are allowed"
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class WebhookSecretError(ValueError):
    """The configured secret is not one Telegram accepts."""


def webhook_secret(configured: str | None) -> tuple[str, bool]:
    """(the secret, whether it was generated): the configured one, else a fresh random one.

    Telegram accepts 1-256 characters from ``A-Z a-z 0-9 _ -``; ``secrets.token_urlsafe(32)`` gives 43 of
    them (256 random bits). A generated secret changes at each start, which is harmless: the bot calls
    setWebhook with it before it takes the first update.
    """
    if configured:
        if not _SECRET_RE.fullmatch(configured):
            raise WebhookSecretError(
                "expected 1-256 characters from A-Z a-z 0-9 _ - (Telegram's rule for secret_token)"
            )
        return configured, False
    return secrets.token_urlsafe(32), True


class WebhookServer:
    """The HTTP endpoint Telegram posts to (behind the reverse proxy), plus ``GET /healthz``."""

    def __init__(
        self, app: Any, *, listen: str, port: int, url_path: str, secret: str, max_body: int = MAX_BODY_BYTES,
        reuse_port: bool = False,
    ) -> None:
        self._app = app
        self._reuse_port = reuse_port
        self._secret = secret.encode()
        self._max_body = max_body
        self._listen, self._port = listen, port
        self.path = "/" + url_path.strip("/")
        #: whether this process handles what it receives (the active one) or only keeps it (a standby)
        self.handling = True
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        web_app = web.Application(client_max_size=self._max_body)
        web_app.router.add_post(self.path, self._on_post)
        web_app.router.add_get("/healthz", self._on_health)
        # access_log=None: request lines are not logged. lingering_time=0: a refused request's unread body
        # is not drained for 10 s, the connection is closed instead.
        self._runner = web.AppRunner(web_app, access_log=None, handler_args={"lingering_time": 0.0})
        await self._runner.setup()
        await web.TCPSite(self._runner, self._listen, self._port, reuse_port=self._reuse_port or None).start()
        log.info("webhook server listening on %s:%s%s%s", self._listen, self._port, self.path,
                 "" if self.handling else " (standby: keeps updates for the active process)")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _on_post(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return _refuse(403, "Forbidden")
        if request.content_length is not None and request.content_length > self._max_body:
            return _refuse(413, "Request Entity Too Large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _refuse(413, "Request Entity Too Large")
        try:
            data = json.loads(body)
            if not isinstance(data, Mapping):
                raise ValueError("not an object")
            update = Update.de_json(dict(data), self._app.bot)
        except Exception:  # its contents are not logged: they may be a member's words
            log.warning("webhook: a request with a valid secret but no readable update (%d bytes)", len(body))
            return _refuse(400, "Bad Request")
        if update is None:
            return web.Response(status=200)
        bot = self._app.bot
        if not isinstance(bot, InboxBot):
            await self._app.update_queue.put(update)
            return web.Response(status=200)
        if update.update_id in bot.in_flight or update.update_id in bot.inbox:
            # Telegram's redelivery of an update we have (our 200 came too late, or a kill cut it off):
            # it is queued, handled, or pending for the active process; handled once either way
            log.info("webhook: update %s delivered again; already kept, not handled twice", update.update_id)
            return web.Response(status=200)
        try:
            await bot.keep_fetched((update,), unanswered_too=True)
        except InboxUnavailable as exc:
            log.error("webhook: update %s refused with 503 (Telegram retries it): %s", update.update_id, exc)
            return _refuse(503, "Service Unavailable")
        bot.liveness.fetch_ok()
        # a standby (bot/standby.py) only keeps: the active process takes it from the inbox (the sweep)
        if self.handling and bot.in_flight.take(update.update_id):
            await self._app.update_queue.put(update)
        return web.Response(status=200)

    async def _on_health(self, request: web.Request) -> web.Response:
        liveness = getattr(self._app.bot, "liveness", None)
        snapshot = liveness.snapshot() if liveness is not None else {"status": "ok", "problems": []}
        body = {"status": snapshot["status"], "problems": snapshot["problems"],
                "role": "active" if self.handling else "standby"}
        return web.json_response(body, status=200 if snapshot["status"] == "ok" else 503)


def _refuse(status: int, reason: str) -> web.Response:
    # Connection: close, so a body we did not read is not waited for on a kept-alive connection
    return web.Response(status=status, text=reason, headers={"Connection": "close"})


async def serve_webhook(
    app: Any, *, listen: str, port: int, url_path: str, public_url: str, secret: str, reuse_port: bool = False,
    on_listening: Callable[[], None] | None = None,
) -> None:
    """Run the bot in webhook mode until SIGINT/SIGTERM or a fatal error (``app.bot.fatal``).

    The same sequence as PTB's ``run_webhook``: initialize (getMe), post_init, the server, setWebhook with
    the secret, start; and on the way out: server down, stop (the backlog goes to the inbox), shutdown.
    ``on_listening`` is called once the server listens (a former standby stops its endpoint then).
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    bot = app.bot
    if isinstance(bot, InboxBot):
        bot.liveness.mode = "webhook"
        bot.on_fatal(stop.set)
    server = WebhookServer(app, listen=listen, port=port, url_path=url_path, secret=secret, reuse_port=reuse_port)
    try:
        await app.initialize()
        try:
            if app.post_init is not None:
                await app.post_init(app)
            await server.start()
            if on_listening is not None:
                on_listening()
            await app.bot.set_webhook(url=public_url, secret_token=secret)
            await app.start()
            if app.job_queue is not None:
                every = heartbeat_interval() * CHECK_EVERY_BEATS
                app.job_queue.run_repeating(
                    _check_webhook, interval=every, first=every, name="webhook:check",
                    data=(public_url, secret),
                )
                app.job_queue.run_repeating(
                    _sweep_inbox, interval=SWEEP_EVERY, first=SWEEP_EVERY, name="webhook:sweep",
                    job_kwargs={"misfire_grace_time": 60, "coalesce": True},
                )
            await stop.wait()
        finally:
            await server.stop()
            if app.running:
                await app.stop()
                if app.post_stop is not None:
                    await app.post_stop(app)
            await app.shutdown()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


class StandbyEndpoint:
    """A standby's webhook endpoint (shared store): the same :class:`WebhookServer`, keeping what it receives
    in the inbox and handling nothing, on an event loop in a thread of its own (the lease wait,
    bot/chat/standby.py, stays on the main thread with its signals).

    ``app`` is built for this alone (``build_application(..., standby=True)``: it writes nothing) and never
    started: the endpoint needs its bot (getMe: which messages are questions depends on the bot's
    @username) and its keep predicate, the same as the active process's, so a standby keeps exactly what
    the active one would and never members' chatter. Until getMe has answered the port is not opened (a
    request then finds no one and Telegram retries), so nothing is ever answered 200 unkept.
    """

    #: seconds between two getMe tries while Telegram cannot be reached
    RETRY_EVERY = 5.0

    def __init__(self, app: Any, *, listen: str, port: int, url_path: str, secret: str) -> None:
        self._app = app
        self._server = WebhookServer(app, listen=listen, port=port, url_path=url_path, secret=secret,
                                     reuse_port=True)
        self._server.handling = False
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-standby", daemon=True)
        #: set once the endpoint listens
        self.listening = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Close the endpoint (idempotent); waits up to ``timeout`` s for it."""
        if not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._stop.set)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except Exception:
            log.exception("webhook: the standby's endpoint stopped")
        finally:
            self._loop.close()

    async def _main(self) -> None:
        bot = self._app.bot
        if isinstance(bot, InboxBot):
            bot.liveness.mode = "webhook"
        while not self._stop.is_set():
            try:
                await bot.initialize()
                break
            except TelegramError as exc:  # Telegram away (a 401 is met again by the active start)
                log.warning("webhook: standby cannot ask getMe yet (%s); its endpoint opens once it can", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.RETRY_EVERY)
        if self._stop.is_set():
            return
        try:
            await self._server.start()
        except OSError as exc:
            log.error("webhook: the standby cannot listen (%s); it takes no webhook requests until active", exc)
            return
        self.listening.set()
        try:
            await self._stop.wait()
        finally:
            await self._server.stop()
            with contextlib.suppress(Exception):
                await bot.shutdown()


async def _sweep_inbox(context: Any) -> None:
    """Job: queue what is pending in the inbox and not yet queued here (kept by another process's endpoint)."""
    from bot.chat.inbox import sweep_inbox
    from bot.store import StoreError

    if not context.application.running:
        return
    try:
        await sweep_inbox(context.application)
    except StoreError as exc:  # the store is down: the next sweep tries again
        log.warning("webhook: inbox sweep failed: %s", exc)


async def _check_webhook(context: Any) -> None:
    """Job: the token still works and the webhook is still ours (see the module docstring)."""
    from telegram.error import InvalidToken, TelegramError

    public_url, secret = context.job.data
    bot = context.application.bot
    try:
        info = await bot.get_webhook_info()
        if info.url != public_url:
            log.warning("webhook: Telegram has %s, not ours; setting it again", "none" if not info.url else "another URL")
            await bot.set_webhook(url=public_url, secret_token=secret)
    except InvalidToken:
        if isinstance(bot, InboxBot):
            bot.stop_for(TOKEN_REJECTED)
    except TelegramError as exc:  # the network: the next check tries again
        log.warning("webhook: check failed: %s", exc)
