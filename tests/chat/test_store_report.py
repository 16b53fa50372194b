"""The store's recovery report and its alerts reach the ops chat, not only stderr."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from pathlib import Path

from bot.chat.store_report import report_store
from bot.store import Store
from sandbox import OPS_CHAT_ID
from sandbox.server import SandboxThread

from .harness import SHANGHAI, FeedServer, running_bot
from .test_process import bot_messages, start_bot, wait_until, write_config


def test_a_recovery_at_start_is_reported_in_the_ops_chat(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        store.table("t").insert({"n": 1})
    segment = sorted((tmp_path / "data").glob("journal-[0-9]*.log"))[-1]
    with segment.open("ab") as f:
        f.write(b"0badc0de {\"seq\":2,\"op")  # a torn last record
    with SandboxThread(flood=False) as sb, FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        config = write_config(tmp_path, sb, feeds)
        proc = start_bot(config, tmp_path / "bot.log")
        try:
            wait_until(lambda: any("数据存储启动时做了 1 项恢复处理" in m["plain_text"]
                                   for m in bot_messages(sb, OPS_CHAT_ID)), what="the recovery report")
            report = next(m["plain_text"] for m in bot_messages(sb, OPS_CHAT_ID) if "恢复" in m["plain_text"])
            assert segment.name in report and "dropped 1 incomplete record after record 1" in report
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


async def test_store_alerts_from_another_thread_reach_the_ops_chat(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await report_store(h.app)
        assert h.store.on_alert is not None
        thread = threading.Thread(target=h.store.on_alert, args=("compaction failed (No space left on device)",))
        thread.start()
        thread.join()
        msg = await h.wait_for_message(OPS_CHAT_ID, lambda m: "数据存储" in m["plain_text"])
        assert "compaction failed (No space left on device)" in msg["plain_text"]
