"""Webhook mode is authenticated always, and a forged or oversized request costs the bot nothing.

`servicebot run` in webhook mode against the sandbox, which delivers updates the way Telegram does (POST with
``X-Telegram-Bot-Api-Secret-Token`` set to setWebhook's ``secret_token``). The forger is this test, posting
straight to the bot's port.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from sandbox import GROUP_ID, STAFF_CHAT_ID
from sandbox.server import SandboxThread

from .harness import ROOT, SHANGHAI, TOKEN, FeedServer
from .test_process import _free_port, bot_messages, wait_until, write_config

FORGED_TEXT = "请把身份证照片发到 http://evil.example/upload 办理"


def _start_webhook_bot(tmp_path: Path, sb: SandboxThread, feeds: FeedServer, port: int,
                       env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], Path]:
    config = write_config(
        tmp_path, sb, feeds,
        **{"telegram.mode": "webhook",
           "telegram.webhook": {"listen": "127.0.0.1", "port": port, "url_path": "hook",
                                "public_url": f"http://127.0.0.1:{port}/hook"}},
    )
    log = tmp_path / "bot.log"
    base = {k: v for k, v in os.environ.items() if k != "WEBHOOK_SECRET"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        cwd=ROOT, env={**base, "BOT_TOKEN": TOKEN, **(env or {})},
        stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )
    wait_until(lambda: any(c["method"] == "setWebhook" for c in sb.calls()), timeout=60, what="setWebhook")
    return proc, log


def _forged_reply(update_id: int) -> dict[str, Any]:
    """A `/reply 1 …` "from" the supervisor 赵刚 (204) in the staff chat, as a forger would post it."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 9999, "date": 1_700_000_000, "text": f"/reply 1 {FORGED_TEXT}",
            "chat": {"id": STAFF_CHAT_ID, "type": "supergroup", "title": "staff"},
            "from": {"id": 204, "is_bot": False, "first_name": "赵刚"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _big_post(port: int, headers: dict[str, str], size: int) -> tuple[int | None, int]:
    """POST ``size`` bytes in 1 MB chunks; (the status the bot answered, bytes it let us send first)."""
    head = (f"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n")
    sent = 0
    chunk = b"x" * (1 << 20)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        try:
            while sent < size:
                sock.sendall(chunk[: size - sent])
                sent += min(len(chunk), size - sent)
        except OSError:
            pass  # the bot closed the connection: what we want
        try:
            reply = sock.recv(4096).decode(errors="replace")
        except OSError:
            reply = ""
    status = int(reply.split()[1]) if reply.startswith("HTTP/") else None
    return status, sent


def test_without_a_configured_secret_the_bot_makes_one_and_refuses_forged_updates(tmp_path: Path) -> None:
    port = _free_port()
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        proc, log = _start_webhook_bot(tmp_path, sb, feeds, port)  # no WEBHOOK_SECRET in the environment
        try:
            hook = next(c for c in sb.calls() if c["method"] == "setWebhook")
            secret = hook["params"].get("secret_token")
            assert secret and len(secret) >= 32, "setWebhook without a strong secret_token"
            # the sandbox delivers with the secret, as Telegram does: a member's /help is answered
            sb.send_user_message(101, GROUP_ID, "/help@servicebot")
            wait_until(lambda: any("/ask" in m["plain_text"] for m in bot_messages(sb, GROUP_ID)),
                       timeout=60, what="the answer through the webhook")
            url = f"http://127.0.0.1:{port}/hook"
            body = json.dumps(_forged_reply(10_000)).encode()
            assert _post(url, body, {}) == 403
            assert _post(url, body, {"X-Telegram-Bot-Api-Secret-Token": "guessed"}) == 403
            assert _post(url, body, {"X-Telegram-Bot-Api-Secret-Token": secret[:-1]}) == 403
            # the health endpoint answers on the same port, without the secret
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
                assert response.status == 200 and json.loads(response.read())["status"] == "ok"
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        everything = [m["plain_text"] for chat in (GROUP_ID, STAFF_CHAT_ID) for m in sb.messages(chat)]
        assert not any("evil.example" in text for text in everything), "a forged update was handled"
        assert secret not in log.read_text(errors="replace")


def test_forged_and_oversized_bodies_are_refused_before_they_are_read(tmp_path: Path) -> None:
    port = _free_port()
    secret = "s3cret-token_123"
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        proc, _log = _start_webhook_bot(tmp_path, sb, feeds, port, env={"WEBHOOK_SECRET": secret})
        try:
            sb.send_user_message(101, GROUP_ID, "/help@servicebot")
            wait_until(lambda: any("/ask" in m["plain_text"] for m in bot_messages(sb, GROUP_ID)),
                       timeout=60, what="the bot to be up")
            # the start-up's own growth (the FAQ retrieval's dictionary, loaded in a thread) is over first
            wait_until(lambda: "FAQ retrieval ready" in _log.read_text(encoding="utf-8", errors="replace"),
                       timeout=60, what="the FAQ retrieval to be loaded")
            before = _rss_mb(proc.pid)
            size = 90 * 2**20
            for _ in range(3):  # three unauthenticated 90 MB POSTs
                status, _sent = _big_post(port, {}, size)
                assert status == 403, status
            # with the secret but too big: refused on the declared length alone
            status, _sent = _big_post(port, {"X-Telegram-Bot-Api-Secret-Token": secret}, size)
            assert status == 413, status
            # with the secret, no declared length (chunked), longer than the cap: cut off at the cap
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/hook", data=iter([b"{" + b" " * (300 * 1024) + b"}"]),
                headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret,
                         "Transfer-Encoding": "chunked"},
            )
            try:
                urllib.request.urlopen(request, timeout=30)
                chunked_status = 200
            except urllib.error.HTTPError as exc:
                chunked_status = exc.code
            assert chunked_status == 413
            grown = _rss_mb(proc.pid) - before
            print(f"RSS {before:.0f} MB before, {before + grown:.0f} MB after 3 forged 90 MB POSTs and 2 oversized")
            assert grown < 40, f"the bot grew by {grown:.0f} MB from refused requests"
            # and it still works
            sb.send_user_message(102, GROUP_ID, "/help@servicebot")
            wait_until(lambda: sum("/ask" in m["plain_text"] for m in bot_messages(sb, GROUP_ID)) >= 2,
                       timeout=60, what="the second answer")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def test_a_webhook_secret_telegram_would_refuse_is_a_clear_error(tmp_path: Path) -> None:
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        config = write_config(
            tmp_path, sb, feeds,
            **{"telegram.mode": "webhook",
               "telegram.webhook": {"listen": "127.0.0.1", "port": _free_port(), "url_path": "hook",
                                    "public_url": "https://bot.example.org/hook"}},
        )
        done = subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=ROOT, capture_output=True,
            text=True, timeout=60, env={**os.environ, "BOT_TOKEN": TOKEN, "WEBHOOK_SECRET": "has spaces!"},
        )
        assert done.returncode == 2
        assert "WEBHOOK_SECRET" in done.stderr and "A-Z a-z 0-9 _ -" in done.stderr
        assert "has spaces!" not in done.stderr
        assert not any(c["method"] == "setWebhook" for c in sb.calls())


def test_a_question_the_store_cannot_keep_gets_503_and_telegram_delivers_it_again(tmp_path: Path) -> None:
    import resource

    port = _free_port()
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        config = write_config(
            tmp_path, sb, feeds,
            **{"telegram.mode": "webhook",
               "telegram.webhook": {"listen": "127.0.0.1", "port": port, "url_path": "hook",
                                    "public_url": f"http://127.0.0.1:{port}/hook"}},
        )
        proc = subprocess.Popen(  # output through a pipe: a regular file would hit the size limit too
            [sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=ROOT,
            env={**os.environ, "BOT_TOKEN": TOKEN}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            sb.send_user_message(101, GROUP_ID, "@servicebot 第一个问题：垃圾分类的桶放在哪里")
            wait_until(lambda: any(m["plain_text"].startswith("#1 ") for m in bot_messages(sb, STAFF_CHAT_ID)),
                       timeout=60, what="the first card")
            segment = max((tmp_path / "data").glob("journal-[0-9]*.log"))
            resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (segment.stat().st_size, resource.RLIM_INFINITY))
            asked = sb.send_user_message(102, GROUP_ID, "@servicebot 第二个问题：停车证怎么办理")
            wait_until(lambda: "503" in str(sb._run(lambda: sb.sandbox.core.webhook.last_error_message)),
                       timeout=60, what="the bot to answer 503")
            assert not any(m["plain_text"].startswith("#2 ") for m in bot_messages(sb, STAFF_CHAT_ID))
            resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            wait_until(lambda: any(m["plain_text"].startswith("#2 ") for m in bot_messages(sb, STAFF_CHAT_ID)),
                       timeout=90, what="the second question's card once space is back")
            promise = [m for m in bot_messages(sb, GROUP_ID) if m["reply_to_message_id"] == asked["message_id"]]
            assert len(promise) == 1
            assert len([m for m in bot_messages(sb, STAFF_CHAT_ID) if m["plain_text"].startswith("#2 ")]) == 1
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def test_webhook_mode_sets_a_lost_webhook_again_and_exits_on_a_revoked_token(tmp_path: Path) -> None:
    port = _free_port()
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        # WatchdogSec=1: heartbeats every 0.5 s, so the webhook check runs every 3 s
        proc, log = _start_webhook_bot(tmp_path, sb, feeds, port, env={"WATCHDOG_USEC": "1000000"})
        try:
            sb._run(lambda: sb.sandbox.core.m_delete_webhook({}))  # someone ran deleteWebhook
            wait_until(lambda: len(sb.calls("setWebhook")) >= 2, timeout=60, what="the webhook set again")
            secret = sb.calls("setWebhook")[-1]["params"]["secret_token"]
            assert secret == sb.calls("setWebhook")[0]["params"]["secret_token"]
            sb.send_user_message(101, GROUP_ID, "/help@servicebot")
            wait_until(lambda: any("/ask" in m["plain_text"] for m in bot_messages(sb, GROUP_ID)),
                       timeout=60, what="the answer through the restored webhook")
            sb.inject_fault("getWebhookInfo", 401, count=100)  # the token revoked in @BotFather
            assert proc.wait(timeout=60) == 1
        finally:
            if proc.poll() is None:
                proc.kill()
        text = log.read_text(errors="replace")
        assert len([ln for ln in text.splitlines() if "rejected the bot token" in ln]) == 1, text[-2000:]
        assert "Traceback" not in text
