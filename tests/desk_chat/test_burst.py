"""Issue 13 item 3: a burst of questions in one group is acknowledged in fewer messages, within Telegram's
flood limits (the sandbox enforces them: 20 a minute per group, about one a second per chat), so no send
meets a 429 and every asker still sees their own acknowledgement; the staff chat lists the tickets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox import GROUP_ID, STAFF_CHAT_ID
from tests.chat.harness import running_bot
from tests.desk_chat.test_desk_flow import BOT, FRIDAY_10

ASKERS = list(range(101, 112))
QUESTIONS = ["孩子转学需要什么材料？", "公积金怎么提取？", "医保怎么转移接续？", "雄才卡在哪里办理？", "住房补贴怎么申请？"]


def acknowledges(m: dict[str, Any], q: dict[str, Any], asker: int) -> bool:
    if m["sender_id"] != BOT:
        return False
    if m["reply_to_message_id"] == q["message_id"]:
        return True
    return any(e["type"] == "text_mention" and e.get("user", {}).get("id") == asker for e in m["entities"])


async def test_a_burst_is_acknowledged_in_fewer_messages_without_a_429(tmp_path: Path) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10, flood=True) as h:
        asked: list[tuple[dict[str, Any], int]] = []
        for i in range(18):
            user = ASKERS[i % len(ASKERS)]
            q = await h.say(user, GROUP_ID, f"@servicebot {QUESTIONS[i % len(QUESTIONS)]}（{i}）")
            asked.append((q, user))
        for q, user in asked:
            await h.wait_for_message(GROUP_ID, lambda m, q=q, user=user: acknowledges(m, q, user), timeout=90)
        desk = h.services.desk
        assert desk.repo.next_number() == 19
        for n in range(1, 19):
            await h.wait_for_message(STAFF_CHAT_ID, lambda m, n=n: f"#{n} " in (m["plain_text"] or ""), timeout=90)
        refused = [c for c in h.sandbox.core.calls_log if c.get("error_code") == 429]
        assert refused == []
        acks = [m for m in h.messages(GROUP_ID) if m["sender_id"] == BOT]
        assert len(acks) < 18  # fewer messages than questions
        # a shared acknowledgement is every listed ticket's promise: a claim edits it in place
        shared = next(n for n in range(1, 19) if desk.get(n).promise_peers)
        t = desk.get(shared)
        listing = next(m for m in h.messages(STAFF_CHAT_ID) if f"tk:claim:{shared}" in str(m["reply_markup"]))
        await h.press(201, STAFF_CHAT_ID, listing["message_id"], f"tk:claim:{shared}")
        await h.wait_for_message(
            GROUP_ID, lambda m: m["message_id"] == t.promise_message_id and "受理人 王敏" in m["plain_text"]
        )
        await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith(f"#{shared} ") and "王敏" in m["plain_text"])


