"""Telegram errors through the real Application, the Outbox and a digest (sandbox fault injection).

Each test delivers the morning brief and checks every group's parts: all there, in order, none twice
(or a counted duplicate within the bound).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.chat import jobs
from bot.store.ledger import DeliveryKey
from sandbox import GROUP_ID, OPS_CHAT_ID, Sandbox
from tests.chat.harness import running_bot

from .conftest import Figures
from .world import BIG_SECTIONS, group_ids, groups_config, world_with_groups

BIG = {"digests.morning.sections": BIG_SECTIONS, "digests.max_lines": 0}  # several parts: no phone limit


def bot_texts(h: Any, chat_id: int) -> list[str]:
    return [m["plain_text"] for m in h.messages(chat_id) if m["sender_id"] == 9000 and not m.get("service")]


def check_parts(h: Any, chat_id: int, expected: list[str]) -> int:
    """All the expected parts in order; returns how many were duplicated (a part shown twice in a row)."""
    texts = bot_texts(h, chat_id)
    distinct = list(dict.fromkeys(texts))
    assert distinct == expected, f"chat {chat_id}: parts missing or out of order"
    following = 0  # index in distinct of the next new part
    for i, text in enumerate(texts):  # a repeat only ever follows its original directly
        if following < len(distinct) and text == distinct[following]:
            following += 1
        else:
            assert i > 0 and texts[i - 1] == text, "out of order"
    return len(texts) - len(distinct)


_BASELINE: list[str] = []


async def _baseline(tmp_path: Path) -> list[str]:
    """The parts the morning brief has without faults (same config, same clock).

    Delivered once per test process and kept: every run here has the same config, running_bot's fixed
    clock (Friday 10:00) and the same feeds, so each delivery of it renders the same parts."""
    if not _BASELINE:
        async with running_bot(tmp_path / "baseline", **BIG) as h:
            await jobs.deliver_slot(h.app, "morning")
            parts = bot_texts(h, GROUP_ID)
        assert len(parts) >= 3, f"expected a multi-part digest, got {len(parts)}"
        _BASELINE.extend(parts)
    return list(_BASELINE)


async def test_telegram_429_mid_digest(tmp_path: Path, figures: Figures) -> None:
    expected = await _baseline(tmp_path)
    async with running_bot(tmp_path / "run", **BIG) as h:
        with figures.run() as run:
            h.sandbox.inject_fault("sendMessage", 429, retry_after=1, chat_id=GROUP_ID, skip=1, count=2)
            run.faults += 2
            await jobs.deliver_slot(h.app, "morning")
            run.duplicated += check_parts(h, GROUP_ID, expected)
            assert run.duplicated == 0
            refused = [c for c in h.sandbox.calls("sendMessage") if c.get("error_code") == 429]
            assert len(refused) == 2
            assert h.services.ledger.outcome(DeliveryKey.of(GROUP_ID, h.clock.now().date(), "morning")) == "sent"


async def test_telegram_timeout_after_accept(tmp_path: Path, figures: Figures) -> None:
    expected = await _baseline(tmp_path)
    async with running_bot(tmp_path / "run", **BIG) as h:
        with figures.run() as run:
            h.sandbox.inject_fault("sendMessage", 504, after_accept=True, chat_id=GROUP_ID, skip=1)
            run.faults += 1
            await jobs.deliver_slot(h.app, "morning")
            dup = check_parts(h, GROUP_ID, expected)
            run.duplicated += dup
            assert dup <= 1, f"{dup} duplicates after one lost answer"
            assert any(c.get("dropped") for c in h.sandbox.calls("sendMessage"))


async def test_telegram_cant_parse_entities_falls_back_once(tmp_path: Path, figures: Figures) -> None:
    expected = await _baseline(tmp_path)
    async with running_bot(tmp_path / "run", **BIG) as h:
        with figures.run() as run:
            h.sandbox.inject_fault(
                "sendMessage", 400, chat_id=GROUP_ID, skip=1,
                description='Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0',
            )
            run.faults += 1
            await jobs.deliver_slot(h.app, "morning")
            texts = bot_texts(h, GROUP_ID)
            assert len(texts) == len(expected)
            assert texts[:1] + texts[2:] == expected[:1] + expected[2:]
            # the refused part: the same words as plain text (links written out after their titles)
            for want, got in zip(expected[1].splitlines(), texts[1].splitlines(), strict=True):
                assert re.sub(r" \(https?://[^)]*\)", "", got) == want
            calls = [c for c in h.sandbox.calls("sendMessage") if int(c["params"]["chat_id"]) == GROUP_ID]
            assert len(calls) == len(expected) + 1, "the refused part was retried more than once"
            second = [m for m in h.messages(GROUP_ID) if m["sender_id"] == 9000][1]
            assert second["parse_mode"] is None, "the fallback is plain text"


async def test_telegram_403_in_one_group_others_unaffected(tmp_path: Path, figures: Figures) -> None:
    ids = group_ids(3)
    sb = Sandbox(world_with_groups(3), flood=False)
    await sb.start()
    try:
        async with running_bot(tmp_path, sandbox=sb, **BIG, **{"chats.groups": groups_config(ids)}) as h:
            with figures.run() as run:
                sb.inject_fault("sendMessage", 403, chat_id=ids[1], count=99,
                                description="Forbidden: bot was kicked from the supergroup chat")
                run.faults += 1
                outcomes = {o.key.chat_id: o.outcome for o in await jobs.deliver_slot(h.app, "morning")}
                assert outcomes[ids[0]] == "sent" and outcomes[ids[2]] == "sent"
                assert outcomes[ids[1]] == "failed"
                assert bot_texts(h, ids[0]) == bot_texts(h, ids[2]) and len(bot_texts(h, ids[0])) >= 3
                alert = await h.wait_for_message(OPS_CHAT_ID, lambda m: str(ids[1]) in m["plain_text"])
                assert "kicked" in alert["plain_text"]
                await h.wait_for_message(OPS_CHAT_ID, lambda m: "发送失败" in m["plain_text"])
                # tried once, not hammered
                assert len([c for c in sb.calls("sendMessage") if int(c["params"]["chat_id"]) == ids[1]]) == 1
    finally:
        await sb.stop()


async def test_telegram_chat_migrated_is_followed(tmp_path: Path, figures: Figures) -> None:
    old = -5001
    sb = Sandbox(world_with_groups(1, basic_group=old), flood=False)
    await sb.start()
    try:
        groups = [*groups_config([GROUP_ID]), {"id": old, "name": "old", "title": "老群"}]
        async with running_bot(tmp_path, sandbox=sb, **BIG, **{"chats.groups": groups}) as h:
            with figures.run() as run:
                new = sb.migrate_chat(old)
                run.faults += 1
                outcomes = {o.key.chat_id: o.outcome for o in await jobs.deliver_slot(h.app, "morning")}
                assert outcomes[old] == "sent"
                expected = bot_texts(h, GROUP_ID)
                assert bot_texts(h, new) == expected
                # one refused call for the old id, then every part straight to the new one
                to_old = [c for c in sb.calls("sendMessage") if int(c["params"]["chat_id"]) == old]
                assert len(to_old) == 1
                assert h.services.outbox.resolve(old) == new
                await h.wait_for_message(OPS_CHAT_ID, lambda m: str(new) in m["plain_text"] and "升级" in m["plain_text"])
                h.set_time(h.clock.now().replace(hour=16))
                await jobs.deliver_slot(h.app, "tea")
                assert len([c for c in sb.calls("sendMessage") if int(c["params"]["chat_id"]) == old]) == 1
    finally:
        await sb.stop()


async def test_a_migrated_group_is_remembered_across_restarts_and_still_asks(tmp_path: Path) -> None:
    old = -5001
    sb = Sandbox(world_with_groups(1, basic_group=old), flood=False)
    await sb.start()
    try:
        groups = [*groups_config([GROUP_ID]), {"id": old, "name": "old", "title": "老群"}]
        async with running_bot(tmp_path, sandbox=sb, **{"chats.groups": groups}) as h:
            new = sb.migrate_chat(old)
            await jobs.deliver_slot(h.app, "morning")
            assert h.services.outbox.resolve(old) == new
        # restart on the same data dir: the new id is known before the first send
        async with running_bot(tmp_path, sandbox=sb, **{"chats.groups": groups}) as h:
            assert h.services.outbox.resolve(old) == new
            member = 101  # a member of the old group, and so of the new supergroup
            await h.say(member, new, "@servicebot 请问公积金怎么提取？")
            promise = await h.wait_for_message(new, lambda m: m["sender_id"] == 9000 and "已受理" in (m["plain_text"] or ""))
            assert "#1" in promise["plain_text"]
    finally:
        await sb.stop()
