"""The small repositories, a contract on the journal store and on PostgreSQL (any_store, durable_store):
delivery ledger, seen items, feed cache, source health, inbox, digest parts, meta, sign-ups."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.config import DEFAULT_TZ as SHANGHAI
from bot.editorial.signups import Signup, SignupBook
from bot.store import Store, StoreError
from bot.store.digest_parts import DigestParts
from bot.store.feedcache import FeedCache
from bot.store.health import SourceHealth
from bot.store.inbox import Inbox
from bot.store.ledger import DeliveryKey, DeliveryLedger
from bot.store.meta import Meta
from bot.store.seen import SeenItems
from tests.conftest import Reopen

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=SHANGHAI)


def clock() -> datetime:
    return T0


KEY = DeliveryKey.of(-1001001, date(2026, 3, 2), "morning")


def test_ledger_resumes_a_multipart_delivery_after_restart(durable_store: Reopen) -> None:
    with durable_store() as store:
        ledger = DeliveryLedger(store, clock=clock)
        assert ledger.outcome(KEY) is None and ledger.get(KEY) is None
        started = ledger.begin(KEY, parts=3)
        assert (started.parts, started.sent, started.done) == (3, {}, False)
        ledger.part_sent(KEY, 0, 501)
        ledger.part_sent(KEY, 1, 502)
    with durable_store() as store:  # "restart"
        ledger = DeliveryLedger(store, clock=clock)
        assert ledger.sent_parts(KEY) == {0: 501, 1: 502}
        assert ledger.begin(KEY, parts=3).sent == {0: 501, 1: 502}  # resume keeps what was sent
        ledger.part_sent(KEY, 2, 503)
        ledger.finish(KEY, "sent")
    with durable_store() as store:
        ledger = DeliveryLedger(store, clock=clock)
        got = ledger.get(KEY)
        assert got is not None and got.outcome == "sent" and got.done
        assert got.key == KEY and got.finished_at == T0.isoformat()
        with pytest.raises(StoreError, match="already finished: sent"):
            ledger.begin(KEY, parts=3)


def test_ledger_keys_are_separate_and_validated(any_store: Store) -> None:
    ledger = DeliveryLedger(any_store, clock=clock)
    other = KEY._replace(slot="afternoon")
    ledger.finish(other, "empty")  # an empty slot never begins
    assert ledger.outcome(other) == "empty" and ledger.outcome(KEY) is None
    with pytest.raises(StoreError, match="date must be YYYY-MM-DD"):
        ledger.begin(DeliveryKey(1, "02/03/2026", "morning"), 1)
    with pytest.raises(StoreError, match="outcome must be one of sent, empty, expired, failed"):
        ledger.finish(KEY, "done")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="part_sent before begin"):
        ledger.part_sent(KEY, 0, 1)
    ledger.begin(KEY, 2)
    with pytest.raises(StoreError, match=r"part 2 out of range 0\.\.1"):
        ledger.part_sent(KEY, 2, 1)


def test_seen_items_track_titles_per_scope_and_source(any_store: Store) -> None:
    store = any_store
    seen = SeenItems(store, clock=clock)
    assert seen.get(-1001001, "xiongan-gov") == {}
    assert seen.mark_many(-1001001, "xiongan-gov", [("a", "通知一"), ("b", "通知二")]) == 2
    later = T0 + timedelta(days=1)
    seen.mark_many(-1001001, "xiongan-gov", [("a", "通知一（更新）")], at=later)
    got = seen.get(-1001001, "xiongan-gov")
    assert got["a"].title == "通知一（更新）" and got["a"].first_seen == T0.isoformat()
    assert got["a"].last_seen == later.isoformat()
    assert seen.get(-1001001, "other") == {} and seen.get("all-groups", "xiongan-gov") == {}
    assert seen.forget_before(T0 + timedelta(hours=1)) == 1
    assert set(seen.get(-1001001, "xiongan-gov")) == {"a"}
    with pytest.raises(ValueError, match="naive"):
        seen.mark_many(1, "s", [("x", "t")], at=datetime(2026, 1, 1))


def test_feed_cache_round_trip(durable_store: Reopen) -> None:
    with durable_store() as store:
        cache = FeedCache(store, clock=clock)
        assert cache.get("https://example.org/rss") is None
        cache.put("https://example.org/rss", etag='"v1"', last_modified=None, items=[{"id": 1}])
        cache.put("https://example.org/rss", etag='"v2"', last_modified="Mon, 02 Mar 2026 00:00:00 GMT",
                  items=[{"id": 2, "title": "停水通知"}])
    with durable_store() as store:
        got = FeedCache(store).get("https://example.org/rss")
        assert got is not None
        assert (got.etag, got.items, got.fetched_at) == ('"v2"', [{"id": 2, "title": "停水通知"}], T0.isoformat())
        assert len(store.table("feeds")) == 1


def test_source_health_counts_failures_and_alerts_once(any_store: Store) -> None:
    health = SourceHealth(any_store, clock=clock)
    assert health.get("weather").consecutive_failures == 0
    health.record_failure("weather", "timeout")
    status = health.record_failure("weather", "HTTP 502")
    assert (status.consecutive_failures, status.last_error, status.alerted) == (2, "HTTP 502", False)
    health.mark_alerted("weather")
    assert health.get("weather").alerted
    assert health.record_ok("weather") is True  # ends an alerted outage: announce recovery
    back = health.get("weather")
    assert (back.consecutive_failures, back.alerted, back.last_ok_at) == (0, False, T0.isoformat())
    assert health.record_ok("weather") is False
    assert [s.source for s in health.all()] == ["weather"]


def _question(update_id: int, message_id: int) -> dict[str, object]:
    return {"update_id": update_id, "message": {"message_id": message_id, "chat": {"id": -1001001}, "text": "问"}}


def test_inbox_keeps_questions_until_done_across_a_restart(durable_store: Reopen) -> None:
    with durable_store() as store:
        inbox = Inbox(store)
        assert inbox.add_many([(12, _question(12, 7)), (11, _question(11, 6))]) == 2
        assert inbox.add_many([(12, _question(12, 7)), (13, _question(13, 8))]) == 1  # 12 already kept
        inbox.mark_promised(-1001001, 7)
        assert inbox.done(11) and not inbox.done(99)
    with durable_store() as store:  # "restart": what was not done is replayed, oldest first
        inbox = Inbox(store)
        assert [u for u, _ in inbox.pending()] == [12, 13]
        assert inbox.pending()[0][1] == _question(12, 7)
        assert inbox.promised(-1001001, 7) and not inbox.promised(-1001001, 8)
        assert 13 in inbox and 11 not in inbox and len(inbox) == 2
        with pytest.raises(ValueError, match="non-negative integer"):
            inbox.add_many([(-1, _question(1, 1))])
        assert len(inbox) == 2


def test_digest_parts_and_meta_round_trip(durable_store: Reopen) -> None:
    with durable_store() as store:
        parts = DigestParts(store)
        assert parts.get(KEY) is None
        parts.put(KEY, ["<b>服务早知道</b>", "第二部分"], seen={"a": "通知一"}, queued=[3])
        parts.put(KEY, ["<b>服务早知道</b>"], seen={"a": "通知一"}, queued=[3, 4])  # replaces, one document
        meta = Meta(store)
        assert meta.setdefault("first_run", "2026-03-02") == "2026-03-02"
        assert meta.setdefault("first_run", "later") == "2026-03-02"
        meta.set("chat_migrations", {"-100": -1001001})
    with durable_store() as store:
        got = DigestParts(store).record(KEY)
        assert got is not None and (got.parts, got.seen, got.queued, got.empty) == (
            ["<b>服务早知道</b>"], {"a": "通知一"}, [3, 4], False)
        assert len(store.table("digest_parts")) == 1
        assert Meta(store).get("chat_migrations") == {"-100": -1001001}
        assert Meta(store).get("missing", 5) == 5


def test_signups_record_once_export_and_forget(any_store: Store) -> None:
    book = SignupBook(any_store)
    first = Signup(reply_id=31, user_id=5001, name="刘", text="报名 2人", at=T0)
    listed, added = book.add(chat_id=-1001001, message_id=9, item="周六义诊", signup=first)
    assert added and [s.user_id for s in listed.entries] == [5001]
    _, again = book.add(chat_id=-1001001, message_id=9, item="周六义诊", signup=first)
    assert not again
    assert [e["item"] for e in book.export_user(5001)] == ["周六义诊"]
    assert book.forget_user(5001) == 1
    assert book.export_user(5001) == []


def test_inbox_receive_keeps_each_update_once_and_never_changes_a_kept_one(durable_store: Reopen) -> None:
    """Inbox.receive (a webhook endpoint's write, Store.insert_new): one durable write, keyed by update id."""
    update = {"update_id": 41, "message": {"message_id": 7, "chat": {"id": -100}, "text": "社保卡丢了怎么补办"}}
    with durable_store() as store:
        inbox = Inbox(store)
        assert inbox.receive([(41, update)]) == 1
        inbox.mark_promised(-100, 7)
        assert inbox.receive([(41, {**update, "edited": True}), (42, {"update_id": 42})]) == 1
        assert store.insert_new("inbox", {}) == []
        with pytest.raises(ValueError, match="non-negative integer"):
            inbox.receive([(-1, update)])
    with durable_store() as store:  # "restart": both kept, the first one as it was
        inbox = Inbox(store)
        assert [i for i, _ in inbox.pending()] == [41, 42]
        assert inbox.pending()[0][1] == update and inbox.promised(-100, 7)
        assert inbox.receive([(41, update)]) == 0 and len(inbox) == 2
