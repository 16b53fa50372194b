"""Webhook mode on PostgreSQL: every process behind the load balancer takes Telegram's requests; the active
one handles them (issue 16 item 3).

Two `servicebot run` in webhook mode on one PostgreSQL and the sandbox. Both give setWebhook the address
of the standby's port, as a load balancer that happens to pick the standby for every request: whatever is
answered, the standby took. A forged request is refused there (the same checks, in the same order, as on
the active process); a genuine question is kept by the standby and answered by the active process; and a
question the standby acknowledged while the active one was in the middle of it is answered after the
active one is killed (-9) and the standby took over.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bot.store.inbox import Inbox
from bot.store.lease import Fenced, Lease, connect
from bot.store.pg import PgStore
from bot.store.tickets import TicketStore
from sandbox import GROUP_ID, STAFF_CHAT_ID
from sandbox.server import SandboxThread
from tests.chat.harness import ROOT, SHANGHAI, TOKEN, FeedServer, config_data
from tests.chat.test_process import _free_port, bot_messages
from tests.chat.test_webhook import FORGED_TEXT, _forged_reply, _post
from tests.chat.test_webhook_kill import _held_up, _webhook_confirmed

from .cluster import Standby, wait_until

SECRET = "standby-test-secret_0123456789"


def _health(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return dict(json.loads(response.read()))
    except OSError:
        return None


def _update(update_id: int, text: str) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": 70_000 + update_id % 1000, "date": int(time.time()), "text": text,
        "chat": {"id": GROUP_ID, "type": "supergroup", "title": "group"},
        "from": {"id": 105, "is_bot": False, "first_name": "李"}}}


def test_a_standby_keeps_webhook_updates_that_the_active_process_answers(tmp_path: Path, pg_dsn: str) -> None:
    ports = [_free_port(), _free_port()]
    hook = f"http://127.0.0.1:{ports[1]}/hook"  # the "load balancer" sends every request to the standby
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        nodes = Standby(tmp_path, pg_dsn, sb.api_base, feeds.url, lease_seconds=3.0, webhook_ports=ports,
                        public_url=hook, env={"WEBHOOK_SECRET": SECRET},
                        **{"digests.morning.time": "23:58", "digests.tea.time": "23:59"})
        reader = None
        try:
            nodes.start(0)
            assert nodes.wait_active() == 0
            nodes.start(1)
            wait_until(lambda: (_health(ports[1]) or {}).get("role") == "standby", what="the standby's endpoint")
            reader = PgStore.connect(pg_dsn, read_only=True)
            tickets, inbox = TicketStore(reader), Inbox(reader)

            # forged: no secret, a wrong one, and an oversized body, all refused by the standby before a
            # byte of the body is kept; nothing reaches the inbox or the staff chat
            forged = json.dumps(_forged_reply(990_001), ensure_ascii=False).encode()
            assert _post(hook, forged, {}) == 403
            assert _post(hook, forged, {"X-Telegram-Bot-Api-Secret-Token": "guess"}) == 403
            big = json.dumps({**_forged_reply(990_002), "pad": "x" * 300_000}).encode()
            assert _post(hook, big, {"X-Telegram-Bot-Api-Secret-Token": SECRET}) == 413
            assert len(inbox) == 0

            # genuine: Telegram (the sandbox, with the secret the active process gave setWebhook) posts the
            # question to the standby; the active process answers it
            asked_at = time.monotonic()
            first = sb.send_user_message(101, GROUP_ID, "@servicebot 社保卡丢了怎么补办")
            wait_until(lambda: any(m["reply_to_message_id"] == first["message_id"] for m in bot_messages(sb, GROUP_ID)),
                       what="the promise for the question the standby took")
            print(f"question posted to the standby -> promise: {time.monotonic() - asked_at:.2f} s")
            assert nodes.active() == 0 and nodes.procs[1] is not None and nodes.procs[1].poll() is None
            assert tickets.by_message(GROUP_ID, first["message_id"]) is not None
            # the same update delivered again (its 200 lost) to the standby: kept once, handled once
            again = json.dumps(_update(880_001, "@servicebot 居住证怎么办理"), ensure_ascii=False).encode()
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            assert _post(hook, again, headers) == 200
            wait_until(lambda: tickets.by_message(GROUP_ID, 70_001) is not None, what="the posted question's ticket")
            assert _post(hook, again, headers) == 200

            # the active process is in the middle of a question the standby acknowledged (its promise held up
            # by a 429): killed with -9, the standby takes over and answers it
            epoch = nodes.lease()[1]
            sb.inject_fault("sendMessage", 429, retry_after=60, chat_id=GROUP_ID)
            since = len(sb.calls())
            second = sb.send_user_message(102, GROUP_ID, "@servicebot 公积金怎么提取")
            wait_until(lambda: _held_up(sb, since) and _webhook_confirmed(sb), what="acknowledged, promise held up")
            nodes.kill(0)
            assert nodes.wait_active(other_than_epoch=epoch) == 1
            wait_until(lambda: any(m["reply_to_message_id"] == second["message_id"] for m in bot_messages(sb, GROUP_ID)),
                       what="the promise, after the takeover")
            # a marker through the new active process's own endpoint: once it has a ticket, the duplicate
            # delivery above was dealt with long ago (one update at a time)
            third = sb.send_user_message(103, GROUP_ID, "@servicebot 孩子入学需要什么材料")
            wait_until(lambda: any(m["reply_to_message_id"] == third["message_id"] for m in bot_messages(sb, GROUP_ID)),
                       what="the marker's promise")
            numbers = [t.number for t in tickets.created_since(datetime(2000, 1, 1, tzinfo=SHANGHAI))]
            assert sorted(numbers) == [1, 2, 3, 4], numbers
            # one answer to each question (a promise, or an FAQ answer with the ticket), none repeated
            replies = [m["reply_to_message_id"] for m in bot_messages(sb, GROUP_ID)]
            asked = [first["message_id"], second["message_id"], third["message_id"]]
            assert [replies.count(i) for i in asked] == [1, 1, 1], (asked, replies)
            assert replies.count(None) == 1, replies  # the posted one (no such message in the sandbox to reply to)
            assert not any(FORGED_TEXT in m["plain_text"] for m in bot_messages(sb, GROUP_ID) + bot_messages(sb, STAFF_CHAT_ID))
        finally:
            nodes.stop_all()
            if reader is not None:
                reader.close()
        assert SECRET not in nodes.log_tail(10**7)  # the secret is never logged


def test_the_inbox_insert_is_the_one_write_a_process_without_the_lease_makes(pg_dsn: str) -> None:
    """An idempotent insert keyed by update id, let through the fence for the inbox only; it never changes
    a row the active process has."""
    holder, standby = PgStore.connect(pg_dsn), PgStore.connect(pg_dsn)
    active, waiting = Lease(lambda: connect(pg_dsn), ttl=10), Lease(lambda: connect(pg_dsn), ttl=10)
    try:
        assert active.acquire() and not waiting.acquire()
        holder.fence, standby.fence = active.fence, waiting.fence
        holder.fence_exempt = standby.fence_exempt = frozenset({"inbox"})
        update = _update(5, "@servicebot 社保卡丢了怎么补办")
        assert Inbox(standby).receive([(5, update)]) == 1
        assert Inbox(standby).receive([(5, update)]) == 0  # delivered again: nothing new
        Inbox(holder).mark_promised(GROUP_ID, update["message"]["message_id"])
        assert Inbox(standby).receive([(5, update), (6, _update(6, "@servicebot 公积金"))]) == 1
        assert Inbox(holder).promised(GROUP_ID, update["message"]["message_id"])  # not reset by the standby
        assert [i for i, _ in Inbox(holder).pending()] == [5, 6]
        # every other write of the standby is refused, the inbox's ordinary writes included
        for write in (lambda: Inbox(standby).add_many([(7, _update(7, "x"))]), lambda: Inbox(standby).done(5),
                      lambda: standby.table("tickets").insert({"n": 1}),
                      lambda: standby.insert_new("tickets", {9: {"n": 1}})):
            try:
                write()
            except Fenced:
                continue
            raise AssertionError("a write without the lease went through")
        assert [i for i, _ in Inbox(holder).pending()] == [5, 6]
    finally:
        active.release()
        waiting.release()
        holder.close()
        standby.close()


def test_webhook_mode_on_postgres_requires_the_shared_secret(tmp_path: Path) -> None:
    data = config_data(tmp_path / "data", "http://127.0.0.1:9/bot", "http://127.0.0.1:9")
    data["store"] = {"kind": "postgres", "dsn_env": "DATABASE_URL"}
    data["telegram"]["mode"] = "webhook"
    data["telegram"]["webhook"] = {"port": _free_port(), "public_url": "https://bot.example/hook"}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if k != "WEBHOOK_SECRET"}, "BOT_TOKEN": TOKEN,
           "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}
    done = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("environment: WEBHOOK_SECRET: not set"), done.stderr
    assert "same WEBHOOK_SECRET" in lines[0]
