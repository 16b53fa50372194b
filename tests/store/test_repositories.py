"""The small repositories: delivery ledger, seen items, feed cache, source health."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import Store, StoreError
from bot.store.clock import SHANGHAI
from bot.store.feedcache import FeedCache
from bot.store.health import SourceHealth
from bot.store.ledger import DeliveryKey, DeliveryLedger
from bot.store.seen import SeenItems

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=SHANGHAI)


def clock() -> datetime:
    return T0


KEY = DeliveryKey.of(-1001001, date(2026, 3, 2), "morning")


def test_ledger_resumes_a_multipart_delivery_after_restart(tmp_path: Path) -> None:
    d = tmp_path / "data"
    with Store.open(d) as store:
        ledger = DeliveryLedger(store, clock=clock)
        assert ledger.outcome(KEY) is None and ledger.get(KEY) is None
        started = ledger.begin(KEY, parts=3)
        assert (started.parts, started.sent, started.done) == (3, {}, False)
        ledger.part_sent(KEY, 0, 501)
        ledger.part_sent(KEY, 1, 502)
    with Store.open(d) as store:  # "restart"
        ledger = DeliveryLedger(store, clock=clock)
        assert ledger.sent_parts(KEY) == {0: 501, 1: 502}
        assert ledger.begin(KEY, parts=3).sent == {0: 501, 1: 502}  # resume keeps what was sent
        ledger.part_sent(KEY, 2, 503)
        ledger.finish(KEY, "sent")
    with Store.open(d) as store:
        ledger = DeliveryLedger(store, clock=clock)
        got = ledger.get(KEY)
        assert got is not None and got.outcome == "sent" and got.done
        assert got.key == KEY and got.finished_at == T0.isoformat()
        with pytest.raises(StoreError, match="already finished: sent"):
            ledger.begin(KEY, parts=3)


def test_ledger_keys_are_separate_and_validated() -> None:
    ledger = DeliveryLedger(Store.in_memory(), clock=clock)
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


def test_seen_items_track_titles_per_scope_and_source() -> None:
    store = Store.in_memory()
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


def test_feed_cache_round_trip(tmp_path: Path) -> None:
    with Store.open(tmp_path / "d") as store:
        cache = FeedCache(store, clock=clock)
        assert cache.get("https://example.org/rss") is None
        cache.put("https://example.org/rss", etag='"v1"', last_modified=None, items=[{"id": 1}])
        cache.put("https://example.org/rss", etag='"v2"', last_modified="Mon, 02 Mar 2026 00:00:00 GMT",
                  items=[{"id": 2, "title": "停水通知"}])
    with Store.open(tmp_path / "d") as store:
        got = FeedCache(store).get("https://example.org/rss")
        assert got is not None
        assert (got.etag, got.items, got.fetched_at) == ('"v2"', [{"id": 2, "title": "停水通知"}], T0.isoformat())
        assert len(store.table("feeds")) == 1


def test_source_health_counts_failures_and_alerts_once() -> None:
    health = SourceHealth(Store.in_memory(), clock=clock)
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
