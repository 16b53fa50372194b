"""The typed values a digest is made of: sources, items, weather, queued items, sections, digests.

Everything here is a frozen dataclass: built once by a parser or by ``build``, never mutated.
Datetimes are always timezone-aware.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "SHANGHAI",
    "Digest",
    "Item",
    "QueuedItem",
    "Section",
    "SectionSpec",
    "Slot",
    "SourceKind",
    "SourceSpec",
    "WeatherReport",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

Slot = Literal["morning", "tea"]
SourceKind = Literal["feed", "json", "html", "weather", "jobs"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Item:
    """One line of a digest: a feed entry, a JSON row or a job, normalised to plain text."""

    id: str
    title: str
    link: str | None
    summary: str = ""
    published: datetime | None = None
    source: str = ""
    section: str = ""
    employer: str | None = None
    location: str | None = None
    updated: bool = False


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """Where and how to fetch one source (mirrors ``sources[]`` in config.yaml)."""

    name: str
    kind: SourceKind
    url: str
    timeout: float = 10.0
    connect_timeout: float = 5.0
    max_bytes: int = 5_000_000
    latitude: float | None = None
    longitude: float | None = None
    # json sources: our field name (title, link, published, summary, id, employer, location) -> the
    # JSON key; html sources: the same names plus items -> a CSS selector (``a@href`` for an attribute)
    fields: Mapping[str, str] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """One section of a slot (mirrors ``digests.<slot>.sections[]`` in config.yaml)."""

    key: str
    sources: tuple[str, ...] = ()
    title: str | None = None
    limit: int = 5
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_age_hours: int = 72


@dataclass(frozen=True, slots=True)
class WeatherReport:
    """One day of the forecast. Any value the API left null is None and is not shown."""

    day: date
    code: int | None = None
    high: float | None = None
    low: float | None = None
    precipitation_probability: float | None = None
    precipitation_sum: float | None = None
    wind_max: float | None = None  # km/h
    gusts_max: float | None = None  # km/h
    wind_direction: float | None = None  # degrees, where the wind comes from

    @property
    def warnings(self) -> tuple[str, ...]:
        """Warning keys whose thresholds are crossed: heavy_rain, thunderstorm, heat, gusts."""
        found: list[str] = []
        if self.code in (95, 96, 99):
            found.append("thunderstorm")
        if self.code in (65, 82) or (self.precipitation_sum is not None and self.precipitation_sum >= 25.0):
            found.append("heavy_rain")
        if self.high is not None and self.high >= 35.0:
            found.append("heat")
        if self.gusts_max is not None and self.gusts_max >= 62.0:  # Beaufort 8, 17.2 m/s
            found.append("gusts")
        return tuple(found)


@dataclass(frozen=True, slots=True)
class QueuedItem:
    """An editor-queue item approved for this slot and date. ``html`` is already Telegram HTML."""

    item_id: str
    section: str
    html: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A section of a built digest. Weather sections carry a report, the others items."""

    key: str
    heading: str
    items: tuple[Item, ...] = ()
    queued: tuple[QueuedItem, ...] = ()
    weather: WeatherReport | None = None

    @property
    def empty(self) -> bool:
        return not self.items and not self.queued and self.weather is None


@dataclass(frozen=True, slots=True)
class Digest:
    """A built digest, ready to render. ``seen_updates`` are the records to persist once sent."""

    slot: Slot
    day: date
    title: str
    lang: str
    sections: tuple[Section, ...]
    seen_updates: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    failed_sources: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    @property
    def empty(self) -> bool:
        """Nothing new for members: no item and no queued notice (weather alone is not news)."""
        return not any(s.items or s.queued for s in self.sections)
