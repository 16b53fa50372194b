"""Members' private copies (issue 15 item 7): /subscribe with section buttons, /unsubscribe, a copy per
member per slot through the delivery ledger, paced, after the groups; through the sandbox over HTTP."""

from __future__ import annotations

import asyncio
import itertools
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.chat import copies, jobs
from bot.delivery import copies as copies_rules
from bot.delivery.deliver import PartLane
from bot.store.ledger import DeliveryKey
from bot.store.subscribers import CopyRuns, Subscribers, Subscription
from sandbox import DEFAULT_WORLD, GROUP_ID, OPS_CHAT_ID, Sandbox
from sandbox.world import World, dump_world, parse_world
from tests.faults.world import BIG_SECTIONS

from .harness import Harness, running_bot

BOT = 9000
MEMBER = 101
MORNING = ("weather", "policy", "services", "jobs", "traffic")
BIG = {"digests.morning.sections": BIG_SECTIONS, "digests.max_lines": 0}  # a digest of several parts


def world_with_members(ids: list[int], *, blocked: tuple[int, ...] = ()) -> World:
    raw = yaml.safe_load(dump_world(DEFAULT_WORLD))
    known = {u["id"] for u in raw["users"]}
    for uid in ids:
        if uid not in known:
            raw["users"].append({"id": uid, "first_name": f"居民{uid}", **({"blocked": True} if uid in blocked else {})})
    return parse_world(raw, "members world")


def from_bot(h: Harness, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in h.messages(chat_id) if m["sender_id"] == BOT]


def buttons(m: dict[str, Any]) -> dict[str, str]:
    """Button data -> label of a message's inline keyboard."""
    rows = (m.get("reply_markup") or {}).get("inline_keyboard") or []
    return {b["callback_data"]: b["text"] for row in rows for b in row}


def subscribe_directly(h: Harness, chat_id: int, morning: tuple[str, ...] = MORNING, tea: tuple[str, ...] = ()) -> None:
    Subscribers(h.store).put(Subscription(chat_id, {"morning": morning, "tea": tea}, "zh"))


async def wait_for(predicate: Any, what: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def run_copies(h: Harness, slot: str = "morning") -> None:
    """The slot through the real path: groups, then the copies job; wait until the run is done."""
    await jobs.deliver_slot(h.app, slot)  # type: ignore[arg-type]
    day = h.clock.now().date().isoformat()
    await wait_for(lambda: (r := CopyRuns(h.store).get(day, slot)) is None or r.done, "the copies run to finish")


async def test_subscribe_in_private_picks_sections_with_buttons(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.say(MEMBER, None, "/subscribe")
        menu = await h.wait_for_message(MEMBER, lambda m: m["sender_id"] == BOT and "私信订阅" in m["plain_text"])
        assert "已订阅私信副本" in menu["plain_text"]
        data = buttons(menu)
        assert "sub:t:morning:policy" in data and "sub:t:tea:life" in data and "sub:off" in data
        assert data["sub:t:morning:policy"].startswith("✅")
        # what is stored: the chat id, the sections per digest, the language — nothing else
        docs = h.store.table("subscribers").all()
        assert len(docs) == 1 and set(docs[0]) == {"chat_id", "sections", "language"}
        assert docs[0]["chat_id"] == MEMBER and docs[0]["language"] == "zh"
        assert docs[0]["sections"]["morning"] == list(MORNING)
        # one press switches one section off, saved at once, the menu edited in place
        await h.press(MEMBER, MEMBER, menu["message_id"], "sub:t:morning:jobs")
        await wait_for(lambda: "jobs" not in Subscribers(h.store).get(MEMBER).wants("morning"), "jobs switched off")  # type: ignore[union-attr]
        edited = await h.wait_for_message(
            MEMBER, lambda m: m["message_id"] == menu["message_id"] and buttons(m).get("sub:t:morning:jobs", "").startswith("⬜")
        )
        assert "招聘信息" not in edited["plain_text"].split("服务早知道")[1].split("\n")[0]
        # the whole afternoon digest off with its own button
        await h.press(MEMBER, MEMBER, menu["message_id"], "sub:s:tea")
        await wait_for(lambda: Subscribers(h.store).get(MEMBER).wants("tea") == (), "tea switched off")  # type: ignore[union-attr]
        assert len([m for m in from_bot(h, MEMBER) if "私信订阅" in m["plain_text"]]) == 1, "a new menu instead of an edit"


async def test_subscribe_in_a_group_points_to_the_private_chat(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.say(MEMBER, GROUP_ID, "/subscribe")
        hint = await h.wait_for_message(GROUP_ID, lambda m: m["sender_id"] == BOT and "私聊" in m["plain_text"])
        assert "t.me/servicebot?start=subscribe" in hint["plain_text"]
        assert Subscribers(h.store).get(MEMBER) is None
        # the deep link's /start subscribe subscribes
        await h.say(MEMBER, None, "/start subscribe")
        await h.wait_for_message(MEMBER, lambda m: m["sender_id"] == BOT and "已订阅私信副本" in m["plain_text"])
        assert Subscribers(h.store).get(MEMBER) is not None


async def test_each_member_gets_a_copy_of_their_sections_once_after_the_groups(tmp_path: Path) -> None:
    members = [MEMBER, 102, 103]
    async with running_bot(tmp_path) as h:
        subscribe_directly(h, MEMBER)  # everything of the morning
        subscribe_directly(h, 102, ("policy",))
        subscribe_directly(h, 103, (), ("life",))  # the afternoon only: no morning copy
        await run_copies(h)
        day = h.clock.now().date()
        group_text = "\n".join(m["plain_text"] for m in from_bot(h, GROUP_ID))
        full = "\n".join(m["plain_text"] for m in from_bot(h, MEMBER))
        only_policy = "\n".join(m["plain_text"] for m in from_bot(h, 102))
        assert full.startswith("☀️ 服务早知道 · 11月27日 周五") and "政务要闻" in full and "招聘信息" in full
        assert "政务要闻" in only_policy and "招聘信息" not in only_policy and "今日天气" not in only_policy
        assert from_bot(h, 103) == []
        assert group_text and "招聘信息" in group_text
        # the button under every copy (its last part): sections, unsubscribe
        for uid in (MEMBER, 102):
            assert "sub:off" in buttons(from_bot(h, uid)[-1])
            assert h.services.ledger.outcome(DeliveryKey.of(uid, day, "morning")) == "sent"
        # groups first: every group part was accepted before the first private copy was sent
        sends = [c for c in h.sandbox.calls("sendMessage") if c.get("ok")]
        group_times = [c["time"] for c in sends if int(c["params"]["chat_id"]) == GROUP_ID]
        copy_times = [c["time"] for c in sends if int(c["params"]["chat_id"]) in members]
        assert group_times and copy_times and max(group_times) <= min(copy_times)
        # a second trigger (a duplicate job, a restart) sends no copy again
        before = {uid: len(from_bot(h, uid)) for uid in members}
        await jobs.deliver_slot(h.app, "morning")
        await copies.send_copies(h.services, "morning", day)
        await h.settle()
        assert {uid: len(from_bot(h, uid)) for uid in members} == before


async def test_unsubscribe_stops_the_copies_at_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        subscribe_directly(h, MEMBER)
        subscribe_directly(h, 102)
        await run_copies(h)
        last = from_bot(h, MEMBER)[-1]
        # the button under the copy
        await h.press(MEMBER, MEMBER, last["message_id"], "sub:off")
        await h.wait_for_message(MEMBER, lambda m: m["sender_id"] == BOT and "已退订" in m["plain_text"])
        assert Subscribers(h.store).get(MEMBER) is None
        # the command
        await h.say(102, None, "/unsubscribe")
        await h.wait_for_message(102, lambda m: m["sender_id"] == BOT and "已退订" in m["plain_text"])
        assert Subscribers(h.store).get(102) is None and h.store.table("subscribers").all() == []
        counts = {uid: len(from_bot(h, uid)) for uid in (MEMBER, 102)}
        h.set_time(h.clock.now().replace(hour=15, minute=1))
        await run_copies(h, "tea")
        assert {uid: len(from_bot(h, uid)) for uid in (MEMBER, 102)} == counts


async def test_a_member_who_blocked_the_bot_is_unsubscribed_and_the_rest_get_theirs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [MEMBER, 102, 150, 103]
    sb = Sandbox(world_with_members(ids, blocked=(150,)), flood=True)
    await sb.start()
    try:
        async with running_bot(tmp_path, sandbox=sb) as h:
            for uid in ids:
                subscribe_directly(h, uid)
            sb.inject_fault("sendMessage", 403, description="Forbidden: user is deactivated", chat_id=103)
            with caplog.at_level(logging.WARNING, logger="bot.chat.copies"):
                await run_copies(h)
            assert Subscribers(h.store).get(150) is None and Subscribers(h.store).get(103) is None
            assert Subscribers(h.store).get(MEMBER) is not None and Subscribers(h.store).get(102) is not None
            for uid in (MEMBER, 102):
                assert "有问题？" in from_bot(h, uid)[-1]["plain_text"], f"member {uid} did not get the whole copy"
            assert "bot was blocked by the user" in caplog.text and "150" in caplog.text
            # a member's 403 is the member's business, not an ops alert (the groups' 403 still is)
            assert not any("150" in m["plain_text"] or "103" in m["plain_text"] for m in from_bot(h, OPS_CHAT_ID))
            assert not [c for c in sb.calls("sendMessage") if c.get("error_code") == 429]
    finally:
        await sb.stop()


async def test_copies_are_paced_one_a_second_per_chat_with_flood_control_on(tmp_path: Path) -> None:
    ids = [MEMBER, 102, 103, 104, *list(range(5001, 5013))]
    sb = Sandbox(world_with_members(ids), flood=True)
    await sb.start()
    try:
        async with running_bot(tmp_path, sandbox=sb, **BIG) as h:
            for uid in ids:
                subscribe_directly(h, uid, ("policy", "jobs"))
            await run_copies(h)
            calls = sb.calls("sendMessage")
            assert not [c for c in calls if c.get("error_code") == 429], "a copy met Telegram's flood control"
            for uid in ids:
                times = [c["time"] for c in calls if c.get("ok") and int(c["params"]["chat_id"]) == uid]
                assert len(times) >= 2, f"member {uid}: expected a copy of several parts"
                gaps = [b - a for a, b in itertools.pairwise(times)]
                assert min(gaps) >= 0.9, f"member {uid}: parts {gaps} s apart"
    finally:
        await sb.stop()


async def test_english_texts_with_language_en(tmp_path: Path) -> None:
    async with running_bot(tmp_path, language="en") as h:
        await h.say(MEMBER, None, "/subscribe")
        menu = await h.wait_for_message(MEMBER, lambda m: m["sender_id"] == BOT and "Private copies" in m["plain_text"])
        assert "Subscribed" in menu["plain_text"] and buttons(menu)["sub:off"] == "Unsubscribe"
        assert Subscribers(h.store).get(MEMBER).language == "en"  # type: ignore[union-attr]
        await h.say(MEMBER, None, "/unsubscribe")
        await h.wait_for_message(MEMBER, lambda m: m["sender_id"] == BOT and "no more private copies" in m["plain_text"])


async def test_a_run_resumes_where_it_stopped(tmp_path: Path) -> None:
    """A run left open (a kill) serves exactly the members not yet served, each from their first unsent part."""
    ids = [MEMBER, 102, 103, 104]
    async with running_bot(tmp_path, **BIG) as h:
        svc = h.services
        for uid in ids:
            subscribe_directly(h, uid, ("policy", "jobs"))
        now = h.clock.now()
        day = now.date()
        fetched = await asyncio.to_thread(svc.publisher.fetch, "morning", now)
        run = svc.copies.prepare("morning", day, fetched.results, now)
        assert run is not None and [c for c, _ in run.recipients] == ids
        parts = run.editions[run.recipients[0][1]].parts
        assert len(parts) >= 2, "expected a copy of several parts"
        # before the "kill": MEMBER was served, 102 had its first part out
        svc.ledger.begin(DeliveryKey.of(MEMBER, day, "morning"), len(parts))
        for i in range(len(parts)):
            svc.ledger.part_sent(DeliveryKey.of(MEMBER, day, "morning"), i, 1000 + i)
        svc.ledger.finish(DeliveryKey.of(MEMBER, day, "morning"), "sent")
        svc.ledger.begin(DeliveryKey.of(102, day, "morning"), len(parts))
        svc.ledger.part_sent(DeliveryKey.of(102, day, "morning"), 0, 2000)
        counts = await copies.send_copies(svc, "morning", day)
        assert counts["sent"] == 3
        assert from_bot(h, MEMBER) == []
        assert [m["text"] for m in from_bot(h, 102)] == parts[1:]
        for uid in (103, 104):
            assert [m["text"] for m in from_bot(h, uid)] == parts
        assert CopyRuns(h.store).get(day.isoformat(), "morning").done  # type: ignore[union-attr]
        assert svc.ledger.outcome(DeliveryKey.of(102, day, "morning")) == "sent"


async def test_the_lane_lets_a_groups_part_go_before_queued_copies() -> None:
    lane = PartLane()
    order: list[str] = []
    release = asyncio.Event()

    async def part(name: str, priority: int, hold: bool = False) -> None:
        async with lane.turn(priority):
            order.append(name)
            if hold:
                await release.wait()

    first = asyncio.create_task(part("copy-1", 1, hold=True))
    await asyncio.sleep(0)
    queued = [asyncio.create_task(part(f"copy-{n}", 1)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    group = asyncio.create_task(part("group", 0))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, group, *queued)
    assert order == ["copy-1", "group", "copy-2", "copy-3", "copy-4"]


async def test_export_and_forget_cover_the_private_copies(tmp_path: Path) -> None:
    from bot.admin import export_user, forget_user

    async with running_bot(tmp_path) as h:
        subscribe_directly(h, MEMBER, ("policy",))
        subscribe_directly(h, 102, ("policy",))
        await run_copies(h)
        day = h.clock.now().date()
        now = h.clock.now()
        exported = export_user(h.services.desk, h.store, MEMBER, now)
        assert exported["private_copies"] == {"sections": {"morning": ["policy"], "tea": []}, "language": "zh"}
        forget_user(h.services.desk, h.store, MEMBER, now)
        assert Subscribers(h.store).get(MEMBER) is None
        run = CopyRuns(h.store).get(day.isoformat(), "morning")
        assert run is not None and [c for c, _ in run.recipients] == [102]
        assert h.services.ledger.get(DeliveryKey.of(MEMBER, day, "morning")) is None
        assert not [d for d in h.store.table("deliveries").all() if d["k"][0] == MEMBER]
        # the other member keeps everything
        assert Subscribers(h.store).get(102) is not None
        assert h.services.ledger.outcome(DeliveryKey.of(102, day, "morning")) == "sent"


async def test_unsubscribing_during_a_run_stops_that_members_copy(tmp_path: Path) -> None:
    """More members than are served side by side: the last wait until a first one is done, which takes
    at least two seconds (three parts, a second apart in one chat); one who unsubscribes meanwhile gets nothing."""
    ids = [6001 + i for i in range(copies_rules.SIDE_BY_SIDE + 5)]
    last = ids[-1]
    sb = Sandbox(world_with_members(ids), flood=False)
    await sb.start()
    try:
        async with running_bot(tmp_path, sandbox=sb, **BIG) as h:
            for uid in ids:
                subscribe_directly(h, uid, ("policy", "jobs"))
            now = h.clock.now()
            day = now.date()
            fetched = await asyncio.to_thread(h.services.publisher.fetch, "morning", now)
            run = h.services.copies.prepare("morning", day, fetched.results, now)
            assert run is not None and len(run.editions["jobs,policy"].parts) >= 3
            sending = asyncio.create_task(copies.send_copies(h.services, "morning", day))
            await wait_for(lambda: from_bot(h, ids[0]), "the first copy's first part")
            assert not from_bot(h, last)
            Subscribers(h.store).remove(last)  # what /unsubscribe and the 退订 button do
            counts = await sending
            assert from_bot(h, last) == [], "the member got a copy after unsubscribing"
            assert counts["skipped"] == 1 and counts["sent"] == len(ids) - 1
            assert h.services.ledger.get(DeliveryKey.of(last, day, "morning")) is None
    finally:
        await sb.stop()
