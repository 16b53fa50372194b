"""From config and store to the parts of one digest: the bot's side of digests.build, without Telegram.

    publisher = Publisher(config, store)
    fetched = publisher.fetch("morning", now)            # every source of the slot, concurrently
    changes = publisher.record_health(fetched, now)      # the fetch cache and source health, stored
    plan = publisher.plan(group, day, "morning", fetched.results, now)
    # send plan.parts one by one through the ledger (bot.delivery.deliver), then:
    publisher.delivered({group.id: stored_digest}, day, now)   # seen items, queue items published

What the digest needs from the store (seen items, cached feeds, approved queue items) is read here;
what it leaves behind (seen items, source health) is written here. The publisher keeps no state from
one call to the next: a fetch returns everything it found (results, the sources it skipped, the cache
entries it buffered) as a :class:`Fetched` value, so a /preview fetching on a worker thread while a
slot's job does the same cannot disturb the job's record. The cache entries are buffered in memory
while sources are fetched on worker threads and written afterwards from the caller's thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from bot.config import Config, DigestConfig, GroupConfig, SourceConfig
from bot.store import Store
from bot.store.clock import Now
from bot.store.digest_parts import StoredDigest
from bot.store.feedcache import FeedCache
from bot.store.health import SourceHealth
from bot.store.seen import SeenItems
from digests.build import SourceResult, build, fetch_all
from digests.model import Digest, QueuedItem, SectionSpec, Slot, SourceSpec
from digests.render import fit_to_phone, render
from digests.sources.http import CacheEntry
from digests.templates import Templates, load_templates

log = logging.getLogger(__name__)

SEEN_BUCKET = "digest"
PRIVATE_COPIES = 0  # the seen-items scope of the members' private copies (no chat has id 0)


def source_spec(s: SourceConfig) -> SourceSpec:
    return SourceSpec(
        name=s.name,
        kind=s.kind,
        url=s.url,
        timeout=s.timeout_seconds,
        connect_timeout=min(5.0, s.timeout_seconds),
        max_bytes=s.max_bytes,
        latitude=s.latitude,
        longitude=s.longitude,
        fields=dict(s.fields),
    )


def section_specs(digest: DigestConfig, group: GroupConfig | None = None) -> list[SectionSpec]:
    wanted = set(group.sections) if group is not None and group.sections is not None else None
    return [
        SectionSpec(
            key=s.key,
            sources=s.sources,
            title=s.title,
            limit=s.limit,
            include=s.include,
            exclude=s.exclude,
            max_age_hours=s.max_age_hours,
            days=s.days,
        )
        for s in digest.sections
        if wanted is None or s.key in wanted
    ]


class StoreFetchCache:
    """digests' FetchCache over the store's FeedCache for one fetch: reads any time, writes buffered
    until :meth:`flush` (one per fetch, so two fetches never see or write each other's entries)."""

    def __init__(self, feeds: FeedCache) -> None:
        self._feeds = feeds
        self._pending: dict[str, CacheEntry] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> CacheEntry | None:
        with self._lock:
            if url in self._pending:
                return self._pending[url]
        cached = self._feeds.get(url)
        if cached is None or not cached.items:
            return None
        try:
            return CacheEntry.from_json(cached.items[0])
        except (TypeError, ValueError, KeyError):
            return None

    def put(self, url: str, entry: CacheEntry) -> None:
        with self._lock:
            self._pending[url] = entry

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for url, entry in pending.items():
            self._feeds.put(url, etag=entry.etag, last_modified=entry.last_modified, items=[entry.to_json()])


@dataclass
class Plan:
    """The parts of one digest for one group, and what to record once they are out."""

    group: GroupConfig
    day: date
    slot: Slot
    digest: Digest
    parts: list[str] | None  # None: nothing new and when_empty is skip
    queued_numbers: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Fetched:
    """What one fetch of a slot's sources found: results by source, the sources not tried this time
    (backing off after failures), and the fetch cache entries waiting to be stored."""

    results: dict[str, SourceResult]
    skipped: frozenset[str] = frozenset()
    cache: StoreFetchCache | None = None


@dataclass(frozen=True)
class HealthChange:
    """A source crossed the alert threshold, or recovered after an alert: tell the ops chat."""

    source: str
    failed: bool
    failures: int
    reason: str | None
    warning: str | None = None  # a first warning (the source works, but some of it was dropped)


class Publisher:
    """Builds digests from config, the store and the sources; records what they used."""

    def __init__(self, config: Config, store: Store, *, queue: Any = None, now: Now | None = None) -> None:
        self.config = config
        self.store = store
        self.queue = queue  # bot.editorial.queue.EditorialQueue (optional: an empty queue otherwise)
        now = now or (lambda: datetime.now(config.tz))  # the repositories' times in config.tz
        self.seen = SeenItems(store, clock=now)
        self.health = SourceHealth(store, clock=now)
        self.feeds = FeedCache(store, clock=now)
        self._templates: Templates | None = None
        # How members reach the bot: its @username and display name (which editors tend to write after "@").
        # The running bot replaces this with what getMe said; config's telegram.bot_username otherwise.
        self.identity: Callable[[], tuple[str | None, str | None]] = lambda: (config.telegram.bot_username, None)

    @property
    def bot_username(self) -> str | None:
        return self.identity()[0]

    @property
    def templates(self) -> Templates:
        if self._templates is None:
            self._templates = load_templates(self.config.language, self.config.content_dir / "templates")
        return self._templates

    def digest_config(self, slot: Slot) -> DigestConfig:
        return self.config.digests.morning if slot == "morning" else self.config.digests.tea

    def backoff_until(self, name: str) -> datetime | None:
        """A source failing again and again is left alone for a while: 15 min, doubling, at most 6 h."""
        status = self.health.get(name)
        threshold = self.config.health.alert_after_failures
        if status.consecutive_failures < threshold or not status.last_fail_at:
            return None
        extra = status.consecutive_failures - threshold
        pause = timedelta(minutes=15 * (1 << min(extra, 5)))
        last: datetime = datetime.fromisoformat(status.last_fail_at)
        return last + min(pause, timedelta(hours=6))

    def fetch(self, slot: Slot, now: datetime | None = None) -> Fetched:
        """Fetch every source of ``slot`` concurrently (blocking: run it in a worker thread)."""
        names = sorted({n for s in self.digest_config(slot).sections for n in s.sources})
        skipped: dict[str, SourceResult] = {}
        if now is not None:
            for name in names:
                until = self.backoff_until(name)
                if until is not None and until > now:
                    skipped[name] = SourceResult(name, "failed", reason=f"backing off after failures until {until:%H:%M}")
        specs = [source_spec(self.config.source(n)) for n in names if n not in skipped]
        cache = StoreFetchCache(self.feeds)
        results = fetch_all(
            specs,
            cache=cache,
            allow_hosts=self.config.network.allow_hosts,
            user_agent=self.config.network.user_agent,
            # a forecast without the digest's day is a failed source (reported), not an empty section
            day=now.astimezone(self.config.tz).date() if now is not None else None,
        )
        return Fetched({**results, **skipped}, frozenset(skipped), cache)

    def record_health(self, fetched: Fetched, now: datetime) -> list[HealthChange]:
        """Persist the fetch cache and each source's health; return the changes worth an alert."""
        if fetched.cache is not None:
            fetched.cache.flush()
        changes: list[HealthChange] = []
        threshold = self.config.health.alert_after_failures
        for name, result in sorted(fetched.results.items()):
            if name in fetched.skipped:
                continue  # not tried this time: neither a new failure nor a recovery
            for warning in result.warnings[:1]:
                if self.health.warn_once(name, warning, at=now):
                    changes.append(HealthChange(name, False, 0, None, warning=warning))
            if result.ok:
                dated = [i.published for i in result.items if i.published is not None and i.published <= now]
                if self.health.record_ok(name, at=now, newest_item=max(dated, default=None)):
                    changes.append(HealthChange(name, False, 0, None))
            else:
                status = self.health.record_failure(name, result.reason or "failed", at=now)
                if status.consecutive_failures >= threshold and not status.alerted:
                    self.health.mark_alerted(name)
                    changes.append(HealthChange(name, True, status.consecutive_failures, result.reason))
        return changes

    def queued(self, slot: Slot, day: date) -> tuple[list[QueuedItem], list[int]]:
        if self.queue is None:
            return [], []
        from bot.editorial.rules import to_queued

        items = self.queue.due(slot, day)
        queued = [to_queued(item, day) for item in items]
        return [replace(q, html=self.mention_bot(q.html)) for q in queued], [i.number for i in items]

    def mention_bot(self, text: str) -> str:
        """An editor's text with ``@{bot}`` (and "@<display name>") turned into the bot's real @username.

        Telegram delivers a mention of a username only; "@服务助手" reaches nobody and the bot ignores it.
        Without a known username the text is left as written.
        """
        username, name = self.identity()
        if not username:
            return text
        text = text.replace("@{bot}", f"@{username}")
        if name:
            text = text.replace(f"@{name}", f"@{username}")
        return text

    def plan(
        self,
        group: GroupConfig,
        day: date,
        slot: Slot,
        results: Mapping[str, SourceResult],
        now: datetime,
    ) -> Plan:
        """Build and render the digest of ``slot`` on ``day`` for ``group`` (pure apart from store reads)."""
        digest, numbers = self.fitted(group.id, section_specs(self.digest_config(slot), group), day, slot, results, now)
        parts = render(digest, self.templates, when_empty=self.config.digests.when_empty, bot=self.bot_username)
        return Plan(group, day, slot, digest, parts, numbers)

    def fitted(
        self,
        scope: int,
        sections: list[SectionSpec],
        day: date,
        slot: Slot,
        results: Mapping[str, SourceResult],
        now: datetime,
    ) -> tuple[Digest, list[int]]:
        """The digest of ``slot`` for the readers ``scope`` (a group's id, or PRIVATE_COPIES: what they have
        seen), fitted to a phone; and the numbers of the editors' queue items in it."""
        queued, numbers = self.queued(slot, day)
        seen = {k: v.title for k, v in self.seen.get(scope, SEEN_BUCKET).items()}
        cfg = self.digest_config(slot)
        digest = build(
            slot,
            day,
            sections,
            results,
            queued,
            seen,
            now,
            self.config.language,
            title=cfg.title,
            templates=self.templates,
            source_names={s.name: s.display_name for s in self.config.sources if s.display_name},
        )
        # two phone screens at most: feed items beyond them wait (not marked seen) for the next digest
        return fit_to_phone(digest, self.templates, self.config.digests.max_lines, bot=self.bot_username), numbers

    def delivered(self, digests: Mapping[int, StoredDigest], day: date, now: datetime) -> None:
        """These stored digests reached their groups (by group id): remember their items, use up their
        queue items (once for all groups)."""
        for group_id, stored in digests.items():
            self.seen.mark_many(group_id, SEEN_BUCKET, stored.seen.items(), at=now)
        numbers = sorted({n for stored in digests.values() for n in stored.queued})
        if self.queue is not None and numbers:
            self.queue.mark_published(numbers, day, now)
