"""SourceHealth: per source, consecutive failures, last success/failure and whether ops was alerted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.clock import Now, default_now, to_text
from bot.store.core import Store
from bot.store.keyed import put_by


@dataclass(frozen=True)
class SourceStatus:
    """The health of one source."""

    source: str
    consecutive_failures: int = 0
    last_ok_at: str | None = None
    last_fail_at: str | None = None
    last_error: str | None = None
    alerted: bool = False
    #: the first failure of the current outage (None while the source works)
    failing_since: str | None = None
    #: the newest item date the source has given (for "nothing new for N days")
    newest_item_at: str | None = None


_FIELDS = ("consecutive_failures", "last_ok_at", "last_fail_at", "last_error", "alerted", "failing_since",
           "newest_item_at")


class SourceHealth:
    """Source health, in table ``source_health``."""

    def __init__(self, store: Store, *, clock: Now = default_now) -> None:
        self._t = store.table("source_health", index=("source",))
        self._warned = store.table("source_warnings", index=("source",))
        self._clock = clock

    def warn_once(self, source: str, warning: str, *, at: datetime | None = None) -> bool:
        """Remember a source's first warning (e.g. mojibake titles); True only the first time."""
        if self._warned.find("source", source):
            return False
        self._warned.insert({"source": source, "warning": warning, "at": to_text(at or self._clock())})
        return True

    def get(self, source: str) -> SourceStatus:
        """The source's status (a clean one if never recorded)."""
        found = self._t.find("source", source)
        if not found:
            return SourceStatus(source)
        return SourceStatus(source, **{k: found[0][k] for k in _FIELDS if k in found[0]})

    def all(self) -> list[SourceStatus]:
        return [SourceStatus(d["source"], **{k: d[k] for k in _FIELDS if k in d}) for d in self._t.all()]

    def _save(self, status: SourceStatus) -> None:
        doc = {"source": status.source, **{k: getattr(status, k) for k in _FIELDS}}
        put_by(self._t, "source", doc)

    def record_failure(self, source: str, error: str, *, at: datetime | None = None) -> SourceStatus:
        """Count one more consecutive failure; returns the new status."""
        old = self.get(source)
        when = to_text(at or self._clock())
        new = SourceStatus(source, old.consecutive_failures + 1, old.last_ok_at, when, error, old.alerted,
                           old.failing_since if old.consecutive_failures else when, old.newest_item_at)
        self._save(new)
        return new

    def record_ok(self, source: str, *, at: datetime | None = None, newest_item: datetime | None = None) -> bool:
        """Reset the failure count (and remember the newest item date given, if later than the last);
        True when this success ends an outage ops was alerted about."""
        old = self.get(source)
        newest = old.newest_item_at
        if newest_item is not None and (newest is None or newest_item > datetime.fromisoformat(newest)):
            newest = to_text(newest_item)
        self._save(SourceStatus(source, 0, to_text(at or self._clock()), old.last_fail_at, old.last_error, False,
                                None, newest))
        return old.alerted

    def mark_alerted(self, source: str) -> None:
        """Remember that ops was told about the current outage (so it is told once)."""
        old = self.get(source)
        self._save(SourceStatus(source, old.consecutive_failures, old.last_ok_at, old.last_fail_at,
                                old.last_error, True, old.failing_since, old.newest_item_at))
