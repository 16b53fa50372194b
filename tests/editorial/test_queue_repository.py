"""QueueRepository, a contract (journal store and PostgreSQL): numbers, atomic add, one queue for chat and
file items, durability across reopen."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.editorial.content import load_queue_dir, present_keys
from bot.editorial.queue import EditorialQueue
from bot.editorial.rules import EditorialPolicy, InvalidItem, approve, create_item, to_queued, withdraw
from bot.store import Store
from bot.store.errors import StoreError
from bot.store.queue import QueueRepository
from tests.conftest import Reopen

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=TZ)
MON = date(2026, 11, 30)
POLICY = EditorialPolicy(editors=frozenset({301, 302}), four_eyes=True)
FILE = "---\ndigest: morning\nsection: services\ndate: 2026-11-30\nuntil: 2026-12-06\nstatus: {status}\n---\n{body}\n"


def new_item(repo: EditorialQueue, **kw: object) -> int:
    args: dict[str, object] = dict(
        actor=301, digest="morning", section="services", html="消费券发放", first_date=MON, now=NOW
    )
    args.update(kw)
    return repo.add(lambda n: create_item(POLICY, number=n, **args)).number  # type: ignore[arg-type]


def test_numbers_count_up_and_get_by_number(any_store: Store) -> None:
    repo = EditorialQueue(QueueRepository(any_store))
    assert repo.next_number() == 1
    assert [new_item(repo), new_item(repo), new_item(repo)] == [1, 2, 3]
    item = repo.get(2)
    assert item is not None and item.number == 2 and item.status == "draft"
    assert repo.get(99) is None


def test_failed_build_writes_nothing_and_keeps_the_number(any_store: Store) -> None:
    repo = EditorialQueue(QueueRepository(any_store))
    with pytest.raises(InvalidItem):
        new_item(repo, html="  ")
    assert repo.all() == [] and repo.next_number() == 1


def test_approve_then_due_then_published_once(any_store: Store) -> None:
    repo = EditorialQueue(QueueRepository(any_store))
    n = new_item(repo)
    item = repo.get(n)
    assert item is not None
    repo.save(approve(POLICY, item, 302, NOW))
    (due,) = repo.due("morning", MON)
    assert to_queued(due).item_id == str(n)
    repo.mark_published([n], MON, NOW)
    assert repo.due("morning", MON + timedelta(days=1)) == []
    stored = repo.get(n)
    assert stored is not None and stored.status == "published" and stored.published_on == (MON,)


def test_save_of_unknown_item_is_refused(any_store: Store) -> None:
    repo = EditorialQueue(QueueRepository(any_store))
    n = new_item(repo)
    item = repo.get(n)
    assert item is not None
    from dataclasses import replace

    with pytest.raises(StoreError):
        repo.save(replace(item, number=42))


def test_expire_and_withdrawn_items_leave_the_open_list(any_store: Store) -> None:
    repo = EditorialQueue(QueueRepository(any_store))
    a = new_item(repo, until=MON + timedelta(days=2))
    b = new_item(repo)
    item_b = repo.get(b)
    assert item_b is not None
    repo.save(withdraw(POLICY, item_b, 301, "重复", NOW))
    assert [i.number for i in repo.open_items()] == [a]
    (gone,) = repo.expire(MON + timedelta(days=3), NOW)
    assert gone.number == a and repo.open_items() == []


def test_file_items_merge_by_path_and_share_the_numbering(tmp_path: Path, any_store: Store) -> None:
    queue = tmp_path / "queue"
    queue.mkdir()
    repo = EditorialQueue(QueueRepository(any_store))
    chat = new_item(repo)
    (queue / "a.md").write_text(FILE.format(status="approved", body="公积金新政"), encoding="utf-8")

    items, _ = load_queue_dir(queue)
    first = repo.sync_files(items, NOW, present_keys(queue))
    assert first.added == [chat + 1] and first.updated == []
    again = repo.sync_files(load_queue_dir(queue)[0], NOW, present_keys(queue))
    assert not again.changed  # re-read: no duplicate, no write
    assert len(repo.all()) == 2

    (queue / "a.md").write_text(FILE.format(status="approved", body="公积金新政（更正）"), encoding="utf-8")
    edited = repo.sync_files(load_queue_dir(queue)[0], NOW, present_keys(queue))
    assert edited.updated == [chat + 1]
    stored = repo.by_path("a.md")
    assert stored is not None and "更正" in stored.html and stored.number == chat + 1
    assert [h.action for h in stored.history] == ["read", "loaded", "reloaded"]
    assert [i.number for i in repo.due("morning", MON)] == [chat + 1]


def test_broken_file_keeps_last_good_version_and_deleted_file_is_withdrawn(tmp_path: Path, any_store: Store) -> None:
    queue = tmp_path / "queue"
    queue.mkdir()
    repo = EditorialQueue(QueueRepository(any_store))
    (queue / "a.md").write_text(FILE.format(status="approved", body="通知"), encoding="utf-8")
    repo.sync_files(load_queue_dir(queue)[0], NOW, present_keys(queue))

    (queue / "a.md").write_text(
        FILE.format(status="approved", body="通知").replace("2026-11-30", "2026-11-31")
    )
    items, problems = load_queue_dir(queue)
    assert items == [] and len(problems) == 1
    assert not repo.sync_files(items, NOW, present_keys(queue)).changed
    assert [i.path for i in repo.due("morning", MON)] == ["a.md"]

    (queue / "a.md").unlink()
    report = repo.sync_files([], NOW, present_keys(queue))
    assert report.removed == [1]
    stored = repo.get(1)
    assert stored is not None and stored.status == "withdrawn" and stored.history[-1].detail == "file removed"


def test_queue_survives_reopen(durable_store: Reopen) -> None:
    with durable_store() as store:
        repo = EditorialQueue(QueueRepository(store))
        n = new_item(repo, until=MON + timedelta(days=6))
        item = repo.get(n)
        assert item is not None
        repo.save(approve(POLICY, item, 302, NOW))
    with durable_store() as store:
        repo = EditorialQueue(QueueRepository(store))
        again = repo.get(n)
        assert again is not None and again.status == "approved" and again.approver_id == 302
        assert repo.next_number() == n + 1
        assert new_item(repo) == n + 1
