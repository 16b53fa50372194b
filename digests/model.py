"""The typed values a digest is made of: sources, items, weather, queued items, sections, digests.

Everything here is a frozen dataclass: built once by a parser or by ``build``, never mutated.
Datetimes are always timezone-aware.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "SHANGHAI",
    "AirQuality",
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
SourceKind = Literal["feed", "json", "html", "weather", "air_quality", "jobs"]

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
    days: int = 2  # weather sections: today, tomorrow (and the day after with 3)


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
    snowfall_sum: float | None = None  # cm
    # 寒潮 by GB/T 21987-2017: the daily minimum falls >= 8 °C in 24 h (>= 10 °C in 48 h, >= 12 °C
    # in 72 h) and ends <= 4 °C. Set by the parser, which sees the previous days (past_days).
    cold_wave: bool = False

    @property
    def warnings(self) -> tuple[str, ...]:
        """Warning keys whose thresholds are crossed, most serious first."""
        found: list[str] = []
        code = self.code
        if code in (95, 96, 99):
            found.append("thunderstorm")
        if code in (65, 82) or (self.precipitation_sum is not None and self.precipitation_sum >= 25.0):
            found.append("heavy_rain")
        if code in (56, 57, 66, 67):  # freezing drizzle / freezing rain: 冻雨, roads glazed
            found.append("freezing_rain")
        if code in (71, 73, 75, 77, 85, 86) or (self.snowfall_sum is not None and self.snowfall_sum > 0):
            found.append("snow")
        if self.cold_wave:
            found.append("cold_wave")
        if code in (45, 48):
            found.append("fog")
        if self.high is not None and self.high >= 35.0:
            found.append("heat")
        if self.gusts_max is not None and self.gusts_max >= 62.0:  # Beaufort 8, 17.2 m/s
            found.append("gusts")
        elif (self.wind_max is not None and self.wind_max >= 39.0) or (
            self.gusts_max is not None and self.gusts_max >= 50.0
        ):  # 大风 as CMA counts it: mean force 6 (10.8 m/s) or gusts force 7 (13.9 m/s)
            found.append("strong_wind")
        return tuple(found)


#: the Chinese AQI categories of HJ 633-2012 (table 2), by upper bound of the index
AQI_CATEGORIES: tuple[tuple[int, str], ...] = (
    (50, "excellent"),  # 优
    (100, "good"),  # 良
    (150, "light"),  # 轻度污染
    (200, "moderate"),  # 中度污染
    (300, "heavy"),  # 重度污染
)


@dataclass(frozen=True, slots=True)
class AirQuality:
    """One day's air quality: daily means of the hourly forecast and the Chinese AQI from them."""

    day: date
    pm2_5: float | None = None  # µg/m³, mean of the day's hours
    pm10: float | None = None
    aqi: int | None = None

    @property
    def category(self) -> str | None:
        """excellent | good | light | moderate | heavy | severe (优 … 严重污染); None without an index."""
        if self.aqi is None:
            return None
        return next((name for bound, name in AQI_CATEGORIES if self.aqi <= bound), "severe")


@dataclass(frozen=True, slots=True)
class QueuedItem:
    """An editor-queue item approved for this slot and date. ``html`` is already Telegram HTML.

    ``first_run``: this is the first day the item runs (its full body is shown, folded when long);
    on later days of a multi-day item it is a one-line reminder with its link.
    """

    item_id: str
    section: str
    html: str
    link: str | None = None
    first_run: bool = True


@dataclass(frozen=True, slots=True)
class Section:
    """A section of a built digest. Weather sections carry a report, the others items."""

    key: str
    heading: str
    items: tuple[Item, ...] = ()
    queued: tuple[QueuedItem, ...] = ()
    weather: WeatherReport | None = None
    # the days after ``weather`` (tomorrow, the day after) and air quality by day
    later: tuple[WeatherReport, ...] = ()
    air: tuple[AirQuality, ...] = ()

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
    #: source name -> the name members read next to an item (``SourceSpec.display_name``)
    source_names: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    #: the zone item dates are shown in (the bot's configured zone)
    tz: tzinfo = SHANGHAI

    @property
    def empty(self) -> bool:
        """Nothing new for members: no item and no queued notice (weather alone is not news)."""
        return not any(s.items or s.queued for s in self.sections)
