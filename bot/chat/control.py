"""The running bot's control socket: `servicebot post` hands its post to the bot that owns the data directory.

While `servicebot run` owns a data directory nobody else may write the store, so a post by hand cannot
be sent from a second process. Instead the bot listens on ``<data_dir>/control/post.sock`` (a Unix
socket in a directory of mode 0700: whoever may open the data directory may post, as with the store
itself; nobody else can reach it) and runs the post as one of its own jobs, through the same
``deliver_slot`` and delivery ledger as the scheduled slots, one delivery at a time. A post handed over
while the bot is stopping is refused.

One JSON line each way::

    -> {"command": "post", "slot": "morning", "groups": ["main"], "force": false}
    <- {"outcomes": [{"group": "main", "outcome": "sent", "parts": 3}]}      or {"error": "..."}

Only ``servicebot run`` installs it (:func:`install`); the demo and the tests' harness do not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.chat import jobs
from bot.chat.app import BotApp
from bot.chat.context import BotContext, services_of

__all__ = ["hand_post", "install", "socket_path"]

log = logging.getLogger(__name__)

_MAX_REQUEST = 64 * 1024
_READ_TIMEOUT = 10.0  # seconds for a client to send its one line
_MAX_PATH = 107  # sun_path holds 108 bytes with its terminating NUL (unix(7))


def socket_path(data_dir: Path) -> Path:
    return data_dir / "control" / "post.sock"


def install(app: BotApp, data_dir: Path) -> None:
    """Serve the control socket from post_init until post_stop (both chained to the ones already set)."""
    path = socket_path(data_dir)
    before_init, before_stop = app.post_init, app.post_stop
    servers: list[asyncio.AbstractServer] = []

    async def post_init(application: BotApp) -> None:
        if before_init is not None:
            await before_init(application)
        if len(os.fsencode(path)) > _MAX_PATH:
            log.warning("control socket not started: %s is longer than a Unix socket path may be; "
                        "`servicebot post` refuses while the bot runs", path)
            return
        path.parent.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path.parent, 0o700)  # mkdir's mode is cut by the umask; and an old directory is fixed too
        path.unlink(missing_ok=True)  # left by a killed bot: we own the store's lock, so it is no one's
        servers.append(await asyncio.start_unix_server(_handler(application), path=str(path), limit=_MAX_REQUEST))

    async def post_stop(application: BotApp) -> None:
        for server in servers:
            server.close()  # no new posts; one running was a job, and the application waited for it
            with contextlib.suppress(TimeoutError):  # a client that never reads its answer holds no one up
                await asyncio.wait_for(server.wait_closed(), _READ_TIMEOUT)
        if servers:
            path.unlink(missing_ok=True)
        servers.clear()
        if before_stop is not None:
            await before_stop(application)

    app.post_init = post_init
    app.post_stop = post_stop


def _handler(app: BotApp) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\n"), _READ_TIMEOUT)
            answer = await _post(app, line)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            answer = {"error": "expected one JSON line"}
        try:
            writer.write(json.dumps(answer, ensure_ascii=False).encode() + b"\n")
            await writer.drain()
        except ConnectionError:
            log.info("control socket: the client left before the answer (the post ran all the same)")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    return handle


async def _post(app: BotApp, line: bytes) -> dict[str, Any]:
    svc = services_of(app)
    try:
        request = json.loads(line)
    except ValueError:
        return {"error": "expected one JSON line"}
    if not isinstance(request, dict) or request.get("command") != "post":
        return {"error": 'expected {"command": "post", ...}'}
    slot, names, force = request.get("slot"), request.get("groups"), request.get("force", False)
    if slot not in ("morning", "tea") or not isinstance(force, bool):
        return {"error": "expected slot morning or tea, and force true or false"}
    known = {g.name: g for g in svc.config.chats.groups}
    if names is not None and (not isinstance(names, list) or not all(n in known for n in names)):
        return {"error": f"groups: expected names of member groups (known: {', '.join(known)})"}
    groups = [known[n] for n in names] if names is not None else None
    if not app.running or app.job_queue is None:
        return {"error": "the bot is stopping; post again once it runs"}
    done: asyncio.Future[list[jobs.SlotOutcome]] = asyncio.get_running_loop().create_future()

    async def post_job(context: BotContext) -> None:
        # a job, as the scheduled slots and the catch-up are: a stop waits for a running job to finish
        try:
            outcomes = await jobs.deliver_slot(app, slot, groups=groups, force=force)
        except BaseException as exc:
            if not done.done():
                done.set_exception(exc)
            raise  # to the error handler: logged with its traceback, ops told
        if not done.done():
            done.set_result(outcomes)

    app.job_queue.run_once(post_job, when=0, name=f"digest:post-{slot}")
    try:
        outcomes = await done
    except Exception as exc:  # already logged and told to ops by the error handler; the CLI says it too
        return {"error": f"the bot could not post: {type(exc).__name__}: {exc}"}
    return {"outcomes": [{"group": o.group, "outcome": o.outcome, "parts": o.parts} for o in outcomes]}


def hand_post(
    data_dir: Path, slot: str, groups: list[str] | None, force: bool, *, timeout: float = 900
) -> dict[str, Any] | None:
    """Ask the bot running on ``data_dir`` to post; its answer, or None if no bot listens there."""
    path = socket_path(data_dir)
    if len(os.fsencode(path)) > _MAX_PATH:
        return None
    request = {"command": "post", "slot": slot, "groups": groups, "force": force}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        try:
            conn.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError, PermissionError):
            return None  # no socket, or one left by a killed bot, or not ours to use
        conn.sendall(json.dumps(request).encode() + b"\n")
        conn.settimeout(timeout)  # a digest in many parts under flood control takes a while
        data = b""
        while not data.endswith(b"\n") and len(data) < _MAX_REQUEST:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    if not data.endswith(b"\n"):
        return {"error": "the bot closed the connection without an answer (see its log)"}
    answer: dict[str, Any] = json.loads(data)
    return answer
