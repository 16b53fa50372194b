"""Webhook mode loses nothing Telegram was told was delivered: a kill -9 between our 200 and the handling.

Telegram forgets a webhook update once it has the 200 (https://core.telegram.org/bots/api#setwebhook), so
the bot writes the update to the durable inbox before answering, handles it from there and replays it
after a restart. The handling is held up by a 429 on the group (retry after 60 s), the sandbox has
confirmed the delivery, and the bot is killed with SIGKILL: the restarted bot handles it exactly once.
"""

from __future__ import annotations

import json
import signal
from datetime import datetime
from pathlib import Path
from typing import Any

from sandbox import GROUP_ID, STAFF_CHAT_ID
from sandbox.server import SandboxThread

from .harness import SHANGHAI, FeedServer
from .test_process import _free_port, bot_messages, wait_until
from .test_webhook import _post, _start_webhook_bot

SECRET = "kill-test-secret_0123456789"
ANSWER = "请带身份证原件到政务服务中心二楼补办"


def _webhook_confirmed(sb: SandboxThread) -> bool:
    """The sandbox got our 200 for everything it had to deliver (it forgets a confirmed update)."""
    return not sb._run(lambda: list(sb.sandbox.core.updates))


def _held_up(sb: SandboxThread, since: int) -> bool:
    """A send into the group met the injected 429 after call number ``since``."""
    return any(c["method"] == "sendMessage" and c.get("error_code") == 429
               and c["params"].get("chat_id") in (GROUP_ID, str(GROUP_ID)) for c in sb.calls()[since:])


def _kill(proc: Any) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def test_a_kill_between_the_200_and_the_handling_loses_neither_a_question_nor_a_staff_reply(tmp_path: Path) -> None:
    port = _free_port()
    env = {"WEBHOOK_SECRET": SECRET}
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        proc, _ = _start_webhook_bot(tmp_path, sb, feeds, port, env)
        try:
            # 1. a question whose promise is held up by a 429: killed after the 200, before the card
            sb.inject_fault("sendMessage", 429, retry_after=60, chat_id=GROUP_ID)
            since = len(sb.calls())
            asked = sb.send_user_message(101, GROUP_ID, "@servicebot 社保卡丢了怎么补办")
            wait_until(lambda: _held_up(sb, since) and _webhook_confirmed(sb), what="the promise held up, 200 given")
            _kill(proc)
            proc, _ = _start_webhook_bot(tmp_path, sb, feeds, port, env)
            wait_until(lambda: any(m["plain_text"].startswith("#1 ") for m in bot_messages(sb, STAFF_CHAT_ID)),
                       what="the replayed question's card")
            wait_until(lambda: any(m["reply_to_message_id"] == asked["message_id"] for m in bot_messages(sb, GROUP_ID)),
                       what="the replayed question's promise")

            # 2. a staff /reply whose answer is held up the same way: Telegram has forgotten the update
            sb.inject_fault("sendMessage", 429, retry_after=60, chat_id=GROUP_ID)
            since = len(sb.calls())
            sb.send_user_message(204, STAFF_CHAT_ID, f"/reply 1 {ANSWER}")
            wait_until(lambda: _held_up(sb, since) and _webhook_confirmed(sb), what="the answer held up, 200 given")
            _kill(proc)
            proc, _ = _start_webhook_bot(tmp_path, sb, feeds, port, env)
            wait_until(lambda: any(ANSWER in m["plain_text"] for m in bot_messages(sb, GROUP_ID)),
                       what="the replayed /reply's answer in the group")

            # 3. Telegram delivers the same update again (its 200 was lost): handled once
            again = {"update_id": 777_001, "message": {
                "message_id": 8001, "date": int(datetime.now().timestamp()), "text": "/reply 1 再补充：周六也可以办理",
                "chat": {"id": STAFF_CHAT_ID, "type": "supergroup", "title": "staff"},
                "from": {"id": 204, "is_bot": False, "first_name": "赵刚"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            body = json.dumps(again, ensure_ascii=False).encode()
            assert _post(f"http://127.0.0.1:{port}/hook", body, headers) == 200
            wait_until(lambda: any("周六也可以办理" in m["plain_text"] for m in bot_messages(sb, GROUP_ID)),
                       what="the staff addition in the group")
            assert _post(f"http://127.0.0.1:{port}/hook", body, headers) == 200
            # the next update is a marker: once it is handled, the duplicate before it was too (one at a time)
            sb.send_user_message(102, GROUP_ID, "@servicebot 公积金怎么提取")
            wait_until(lambda: any(m["plain_text"].startswith("#2 ") for m in bot_messages(sb, STAFF_CHAT_ID)),
                       what="the marker question's card")

            group = [m["plain_text"] for m in bot_messages(sb, GROUP_ID)]
            cards = [m for m in bot_messages(sb, STAFF_CHAT_ID) if m["plain_text"].startswith("#1 ")]
            assert len(cards) == 1, cards
            assert sum(text.startswith("已受理 #1") for text in group) == 1, group  # one promise
            assert sum(ANSWER in text for text in group) == 1, group
            assert sum("周六也可以办理" in text for text in group) == 1, group
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
