"""A scheduled digest reaches the group exactly once, through the ledger."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.chat import jobs
from bot.store.ledger import DeliveryKey
from sandbox import GROUP_ID, OPS_CHAT_ID

from .harness import running_bot


def bot_messages(h, chat_id: int) -> list[dict]:  # type: ignore[no-untyped-def]
    return [m for m in h.messages(chat_id) if m["sender_id"] == 9000]


async def test_scheduled_morning_brief_is_posted_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        job = h.app.job_queue.get_jobs_by_name("digest:morning")[0]
        await job.run(h.app)
        posted = bot_messages(h, GROUP_ID)
        assert posted, "the morning brief was not posted"
        first = posted[0]["plain_text"]
        assert first.startswith("☀️ 服务早知道 · 11月27日 周五"), first
        text = "\n".join(m["plain_text"] for m in posted)
        assert "今日天气" in text and "政务要闻" in text and "招聘信息" in text
        # the bot's real @username from getMe: Telegram cannot deliver "@服务助手" (its display name)
        assert "有问题？@servicebot 或发送 /ask 问题" in posted[-1]["plain_text"]
        for m in posted:
            assert m["parse_mode"] == "HTML"
        day = h.clock.now().date()
        assert h.services.ledger.outcome(DeliveryKey.of(GROUP_ID, day, "morning")) == "sent"
        # a duplicate trigger (a second job run, a restart) sends nothing more
        await job.run(h.app)
        await jobs.deliver_slot(h.app, "morning")
        assert len(bot_messages(h, GROUP_ID)) == len(posted)


async def test_a_queued_notice_names_the_bots_username(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.set_time(h.clock.now().replace(month=12, day=2))  # content/queue/2026-12-01-gongjijin-policy.md runs
        await jobs.deliver_slot(h.app, "morning")
        text = "\n".join(m["plain_text"] for m in bot_messages(h, GROUP_ID))
        assert "公积金" in text and "直接在群里 @servicebot 提问" in text, text
        assert "@服务助手" not in text and "@{bot}" not in text
        pub = h.services.publisher
        assert pub.mention_bot("请 @服务助手 或 @{bot}") == "请 @servicebot 或 @servicebot"


async def test_items_already_shown_are_not_repeated_next_day(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await jobs.deliver_slot(h.app, "morning")
        first = [m["plain_text"] for m in bot_messages(h, GROUP_ID)]
        h.set_time(h.clock.now().replace(day=28))
        await jobs.deliver_slot(h.app, "morning")
        second = [m["plain_text"] for m in bot_messages(h, GROUP_ID)][len(first):]
        assert second, "the second day's brief was not posted"
        joined = "\n".join(second)
        assert "服务早知道 · 11月28日 周六" in joined
        items_day1 = {line for part in first for line in part.splitlines() if line.startswith("• ")}
        items_day2 = {line for part in second for line in part.splitlines() if line.startswith("• ")}
        assert items_day1 and items_day2
        assert not items_day1 & items_day2, "an item shown yesterday was shown again"


async def test_a_broken_source_does_not_stop_the_digest_and_ops_is_told(tmp_path: Path) -> None:
    async with running_bot(tmp_path, **{"health.alert_after_failures": 1}) as h:
        h.config.sources  # noqa: B018
        # point jobs at a missing file: the feed server answers 404
        h.services.publisher.config = h.config.model_copy(
            update={
                "sources": tuple(
                    s.model_copy(update={"url": s.url.replace("jobs.rss", "missing.rss")}) for s in h.config.sources
                )
            }
        )
        await jobs.deliver_slot(h.app, "morning")
        text = "\n".join(m["plain_text"] for m in bot_messages(h, GROUP_ID))
        assert "政务要闻" in text and "招聘信息" not in text
        alert = await h.wait_for_message(OPS_CHAT_ID, lambda m: "jobs" in m["plain_text"])
        assert "失败" in alert["plain_text"]
        # backoff: the tea slot soon after does not hammer the failing source
        tried = sum("missing.rss" in r for r in h.feeds.requests)
        h.services.publisher.config = h.services.publisher.config.model_copy(
            update={"digests": h.config.digests.model_copy(
                update={"tea": h.config.digests.morning.model_copy(update={"time": h.config.digests.tea.time})}
            )}
        )
        h.set_time(h.clock.now() + timedelta(minutes=5))
        await jobs.deliver_slot(h.app, "tea")
        assert sum("missing.rss" in r for r in h.feeds.requests) == tried
        # fixed, and past the backoff: fetched again, and ops hears it recovered (once)
        h.services.publisher.config = h.services.publisher.config.model_copy(update={"sources": h.config.sources})
        h.set_time(h.clock.now().replace(day=28))
        await jobs.deliver_slot(h.app, "morning")
        await h.wait_for_message(OPS_CHAT_ID, lambda m: "jobs 已恢复" in m["plain_text"])


async def test_mojibake_titles_are_never_posted_and_ops_is_told_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.services.publisher.config = h.config.model_copy(
            update={
                "sources": tuple(
                    s.model_copy(update={"url": s.url.replace("politics.xml", "mojibake-notices.xml")})
                    if s.name == "gov-latest" else s
                    for s in h.config.sources
                )
            }
        )
        await jobs.deliver_slot(h.app, "morning")
        text = "\n".join(m["plain_text"] for m in bot_messages(h, GROUP_ID))
        assert "容东片区社区卫生服务中心冬季流感疫苗接种安排" in text
        assert "¹ØÓÚ" not in text
        alert = await h.wait_for_message(OPS_CHAT_ID, lambda m: "gov-latest" in m["plain_text"])
        assert "mojibake" in alert["plain_text"] and "¹ØÓÚ" in alert["plain_text"]
        h.set_time(h.clock.now().replace(day=28))
        await jobs.deliver_slot(h.app, "morning")
        assert len(bot_messages(h, GROUP_ID)) > 1  # the second brief is out: its alerts were sent before it
        warned = [m for m in h.messages(OPS_CHAT_ID) if "gov-latest" in m["plain_text"]]
        assert len(warned) == 1, "ops was told more than once about the same source"


async def test_slot_missed_during_downtime_is_caught_up_inside_the_window(tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 27, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # 08:00 missed by 90 min
    async with running_bot(tmp_path, now=now) as h:
        h.services.meta.set("first_started_at", "2026-11-01T00:00:00+08:00")
        outcomes = await jobs.catch_up(h.app)
        today = [o.outcome for o in outcomes if o.key.slot == "morning" and o.key.date == "2026-11-27"]
        assert today == ["sent"]
        assert any("服务早知道" in m["plain_text"] for m in bot_messages(h, GROUP_ID))
        # yesterday's afternoon tea is long past the window: recorded as expired, and ops is told
        yesterday = DeliveryKey.of(GROUP_ID, now.date().replace(day=26), "tea")
        assert h.services.ledger.outcome(yesterday) == "expired"
        await h.wait_for_message(OPS_CHAT_ID, lambda m: "过期未发" in m["plain_text"])


async def test_slot_missed_beyond_the_window_is_expired_not_sent(tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 27, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # missed by 150 min > 120
    async with running_bot(tmp_path, now=now) as h:
        h.services.meta.set("first_started_at", "2026-11-01T00:00:00+08:00")
        await jobs.catch_up(h.app)
        assert h.services.ledger.outcome(DeliveryKey.of(GROUP_ID, now.date(), "morning")) == "expired"
        assert not any("服务早知道" in m["plain_text"] for m in bot_messages(h, GROUP_ID))
        alert = await h.wait_for_message(OPS_CHAT_ID, lambda m: "服务早知道" in m["plain_text"])
        assert "过期未发" in alert["plain_text"]
        # and a restart does not send it either
        await jobs.catch_up(h.app)
        assert not any("服务早知道" in m["plain_text"] for m in bot_messages(h, GROUP_ID))


async def test_a_fresh_install_reports_no_missed_slots(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:  # Friday 10:00, morning was at 08:00, but we never ran before
        assert await jobs.catch_up(h.app) == []
        await h.settle()
        assert h.messages(OPS_CHAT_ID) == []


async def test_each_group_gets_its_own_selection_and_a_forum_gets_its_topic(tmp_path: Path) -> None:
    import yaml

    from sandbox import DEFAULT_WORLD, Sandbox
    from sandbox.world import dump_world, parse_world

    raw = yaml.safe_load(dump_world(DEFAULT_WORLD))
    raw["chats"].append(
        {"id": -1001002, "type": "supergroup", "title": "雄安-企业服务", "members": [101, 9000], "admins": [9000],
         "is_forum": True, "topics": [{"id": 7, "name": "每日简报"}]}
    )
    sb = Sandbox(parse_world(raw, "test world"), flood=False)
    await sb.start()
    groups = [
        {"id": GROUP_ID, "name": "main", "title": "雄安-疏解之友"},
        {"id": -1001002, "name": "firms", "title": "雄安-企业服务", "thread_id": 7, "sections": ["jobs"]},
    ]
    try:
        async with running_bot(tmp_path, sandbox=sb, **{"chats.groups": groups}) as h:
            await jobs.deliver_slot(h.app, "morning")
            firms = bot_messages(h, -1001002)
            assert firms and all(m["message_thread_id"] == 7 for m in firms)
            text = "\n".join(m["plain_text"] for m in firms)
            assert "招聘信息" in text and "政务要闻" not in text and "今日天气" not in text
            main = "\n".join(m["plain_text"] for m in bot_messages(h, GROUP_ID))
            assert "政务要闻" in main and "招聘信息" in main
    finally:
        await sb.stop()


async def test_workdays_only_skips_weekends_and_holidays_but_not_make_up_days(tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    saturday = datetime(2026, 11, 28, 8, 0, tzinfo=tz)
    national_day = datetime(2026, 10, 2, 8, 0, tzinfo=tz)  # a Friday, statutory holiday
    make_up_saturday = datetime(2026, 10, 10, 8, 0, tzinfo=tz)  # 调休: a working Saturday
    async with running_bot(tmp_path, now=saturday, **{"digests.service_days": "workdays"}) as h:
        job = h.app.job_queue.get_jobs_by_name("digest:morning")[0]
        for when, expected in ((saturday, False), (national_day, False), (make_up_saturday, True)):
            h.set_time(when)
            before = len(bot_messages(h, GROUP_ID))
            await job.run(h.app)
            posted = len(bot_messages(h, GROUP_ID)) > before
            assert posted == expected, f"{when:%Y-%m-%d}: posted={posted}"


async def test_a_resumed_delivery_still_remembers_what_it_showed(tmp_path: Path) -> None:
    """As after a SIGKILL mid-digest: parts stored, part 0 sent, the process gone; the restart finishes it."""
    async with running_bot(tmp_path) as h:
        svc = h.services
        day = h.clock.now().date()
        group = h.config.chats.groups[0]
        fetched = svc.publisher.fetch("morning", h.clock.now())
        plan = svc.publisher.plan(group, day, "morning", fetched.results, h.clock.now())
        assert plan.parts and plan.digest.seen_updates
        key = DeliveryKey.of(group.id, day, "morning")
        svc.digest_parts.put(key, plan.parts, seen=plan.digest.seen_updates, queued=plan.queued_numbers)
        svc.ledger.begin(key, len(plan.parts))
        first = await svc.outbox.send(group.id, plan.parts[0])
        assert first is not None
        svc.ledger.part_sent(key, 0, first.message_id)
        # "restart": deliver again; only the missing parts go out, and the items are remembered as seen
        await jobs.deliver_slot(h.app, "morning")
        texts = [m["text"] for m in bot_messages(h, GROUP_ID)]
        assert texts == plan.parts
        seen = svc.publisher.seen.get(group.id, "digest")
        assert set(plan.digest.seen_updates) <= set(seen)


async def test_telegram_unreachable_leaves_the_digest_open_and_it_is_retried(tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 27, 8, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    async with running_bot(tmp_path, now=now) as h:
        h.sandbox.inject_fault("sendMessage", 502, count=2)  # the outbox's try and its one retry
        outcomes = await jobs.deliver_slot(h.app, "morning")
        assert [o.outcome for o in outcomes] == ["retrying"]
        key = DeliveryKey.of(GROUP_ID, now.date(), "morning")
        assert h.services.ledger.outcome(key) is None, "a transient failure must not close the delivery"
        retry = h.app.job_queue.get_jobs_by_name("digest-retry:morning:2026-11-27")
        assert len(retry) == 1
        # the one scheduler configuration reaches a job added later too: a busy loop does not drop it
        assert (retry[0].job.misfire_grace_time, retry[0].job.coalesce) == (600, True)
        await retry[0].run(h.app)
        assert h.services.ledger.outcome(key) == "sent"
        assert any("服务早知道" in m["plain_text"] for m in bot_messages(h, GROUP_ID))


async def test_a_refused_digest_is_failed_and_reported_not_retried(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.sandbox.inject_fault("sendMessage", 400, description="Bad Request: something is wrong", count=1)
        outcomes = await jobs.deliver_slot(h.app, "morning")
        assert [o.outcome for o in outcomes] == ["failed"]
        assert not h.app.job_queue.get_jobs_by_name("digest-retry:morning:2026-11-27")
        await h.wait_for_message(OPS_CHAT_ID, lambda m: "发送失败" in (m["plain_text"] or ""))


async def test_a_preview_fetching_meanwhile_does_not_change_what_the_slot_records(tmp_path: Path) -> None:
    """The publisher keeps no state between calls: a /preview's fetch (in a thread) between the slot's
    fetch and its record_health used to clear the slot's set of sources left alone (backing off), so a
    source not even tried was counted as failing once more."""
    async with running_bot(tmp_path) as h:
        publisher = h.services.publisher
        now = h.clock.now()
        name = h.config.sources[0].name
        for _ in range(h.config.health.alert_after_failures):
            publisher.health.record_failure(name, "timed out", at=now)
        before = publisher.health.get(name).consecutive_failures
        slot = publisher.fetch("morning", now)
        assert name in slot.skipped, "a source failing again and again is left alone for a while"
        preview = publisher.fetch("morning")  # /preview: no backoff, everything fetched
        assert name not in preview.skipped
        publisher.record_health(slot, now)
        assert publisher.health.get(name).consecutive_failures == before
