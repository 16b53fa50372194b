"""The JobQueue runs each digest slot at its configured local time: read the scheduler's own next run
times (APScheduler's, through PTB's ``Job.next_t``) against config.yaml — in Asia/Shanghai and in
another configured zone. A slot moved by an hour, scheduled in UTC, or not scheduled at all fails here.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from .harness import running_bot


def next_runs(app) -> dict[str, datetime]:  # type: ignore[no-untyped-def]
    runs: dict[str, datetime] = {}
    for job in app.job_queue.jobs():
        if job.name in ("digest:morning", "digest:tea"):
            assert job.name not in runs, f"{job.name} scheduled twice"
            assert job.next_t is not None, f"{job.name} has no next run"
            runs[job.name] = job.next_t
    return runs


def assert_next_local_run(when: datetime, zone: ZoneInfo, at: time) -> None:
    local = when.astimezone(zone)
    assert (local.hour, local.minute, local.second) == (at.hour, at.minute, 0), f"runs at {local.isoformat()}"
    # the next occurrence: within a day from now (a job set for tomorrow's slot would skip today's)
    ahead = when - datetime.now(ZoneInfo("UTC"))
    assert timedelta(0) < ahead <= timedelta(days=1), f"next run {ahead} away"


async def test_both_slots_are_scheduled_at_the_shipped_local_times(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        runs = next_runs(h.app)
        assert set(runs) == {"digest:morning", "digest:tea"}, "a slot is not scheduled"
        shanghai = ZoneInfo("Asia/Shanghai")
        assert h.config.tz == shanghai
        assert_next_local_run(runs["digest:morning"], shanghai, time(8, 0))  # config.yaml: morning 08:00
        assert_next_local_run(runs["digest:tea"], shanghai, time(15, 0))  # tea 15:00
        assert h.config.digests.morning.time == time(8, 0) and h.config.digests.tea.time == time(15, 0)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "America/New_York"])
async def test_slots_follow_the_configured_times_and_zone(tmp_path: Path, zone: str) -> None:
    async with running_bot(tmp_path, **{"timezone": zone, "digests.morning.time": "07:30",
                                        "digests.tea.time": "16:45"}) as h:
        runs = next_runs(h.app)
        tz = ZoneInfo(zone)
        assert_next_local_run(runs["digest:morning"], tz, time(7, 30))
        assert_next_local_run(runs["digest:tea"], tz, time(16, 45))
        # one job per slot, daily: the run after next is the same local time a day later
        for name in runs:
            job = h.app.job_queue.get_jobs_by_name(name)[0]
            following = job.job.trigger.get_next_fire_time(job.next_t, job.next_t + timedelta(seconds=1))
            assert following is not None
            assert following.astimezone(tz).time() == job.next_t.astimezone(tz).time()
            assert timedelta(hours=23) <= following - job.next_t <= timedelta(hours=25)


async def test_every_job_takes_the_one_scheduler_configuration(tmp_path: Path) -> None:
    """APScheduler's default misfire grace is 1 s: a job started late on a busy loop would be dropped.
    Every job, scheduled at start or later, gets 10 minutes and coalesces missed runs."""
    async with running_bot(tmp_path) as h:

        async def later(context: object) -> None:
            return None

        h.app.job_queue.run_once(later, when=3600, name="added-later")
        jobs = h.app.job_queue.jobs()
        assert {"digest:morning", "desk-sweep", "editorial:announce", "added-later"} <= {j.name for j in jobs}
        for job in jobs:
            assert (job.job.misfire_grace_time, job.job.coalesce) == (600, True), job.name


async def test_the_stored_times_follow_the_configured_zone(tmp_path: Path) -> None:
    """One time zone, from config: the repositories record times in config.timezone (they defaulted to
    Asia/Shanghai whatever the config said)."""
    from bot.chat import jobs
    from bot.store.ledger import DeliveryKey

    zone = ZoneInfo("America/New_York")
    now = datetime(2026, 11, 27, 8, 0, 30, tzinfo=zone)
    async with running_bot(tmp_path, now=now, timezone="America/New_York") as h:
        await jobs.deliver_slot(h.app, "morning")
        oks = [st.last_ok_at for st in h.services.publisher.health.all() if st.last_ok_at]
        assert oks and all(datetime.fromisoformat(t).utcoffset() == timedelta(hours=-5) for t in oks), oks
        group = h.config.chats.groups[0]
        delivery = h.services.ledger.get(DeliveryKey.of(group.id, now.date(), "morning"))
        assert delivery is not None and datetime.fromisoformat(delivery.started_at).utcoffset() == timedelta(hours=-5)
