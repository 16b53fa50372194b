"""Retries in one layer, bounded: a flood-limited send is retried by the rate limiter (3 times) and no
more — the outbox does not wait it out again on top (that made 16 attempts of one send) — and an edit
that meets a 429 gives up instead of recursing without bound."""

from __future__ import annotations

from pathlib import Path

from sandbox import GROUP_ID
from tests.chat.harness import running_bot


def tries(h, method: str, since: int) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return [c for c in h.sandbox.calls(method)[since:] if str(c["params"].get("chat_id")) == str(GROUP_ID)]


async def test_a_flood_limited_send_and_edit_are_tried_a_bounded_number_of_times(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        outbox = h.services.outbox
        first = await outbox.send(GROUP_ID, "第一条")
        assert first is not None
        h.sandbox.inject_fault("sendMessage", 429, retry_after=1, chat_id=GROUP_ID, count=100)
        since = len(h.sandbox.calls("sendMessage"))
        assert await outbox.send(GROUP_ID, "限流中") is None
        assert outbox.last_failure == "transient"
        assert len(tries(h, "sendMessage", since)) == 4, "one try and the rate limiter's 3 retries, no more"

        h.sandbox.inject_fault("editMessageText", 429, retry_after=1, chat_id=GROUP_ID, count=100)
        since = len(h.sandbox.calls("editMessageText"))
        assert await outbox.edit(GROUP_ID, first.message_id, "改过") is False
        assert len(tries(h, "editMessageText", since)) == 4
