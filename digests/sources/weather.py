"""Open-Meteo daily forecast JSON -> one :class:`WeatherReport` per day.

Request: ``weather_url(base, latitude, longitude)``; both the current names (``weather_code``,
``wind_speed_10m_max``) and the legacy aliases (``weathercode``, ``windspeed_10m_max``) are read.
Nulls stay None and are left out when rendered.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlencode

from digests.model import WeatherReport

__all__ = ["DAILY_FIELDS", "WeatherError", "parse_weather", "weather_url"]

DAILY_FIELDS = (
    "weather_code",
    "temperature_2m_max",
    "temperature_2m_min",
    "precipitation_probability_max",
    "precipitation_sum",
    "wind_speed_10m_max",
    "wind_gusts_10m_max",
    "wind_direction_10m_dominant",
)
_ALIASES = {
    "weather_code": ("weather_code", "weathercode"),
    "wind_speed_10m_max": ("wind_speed_10m_max", "windspeed_10m_max"),
    "wind_gusts_10m_max": ("wind_gusts_10m_max", "windgusts_10m_max"),
    "wind_direction_10m_dominant": ("wind_direction_10m_dominant", "winddirection_10m_dominant"),
}


class WeatherError(ValueError):
    """The response is an Open-Meteo error or not the expected shape."""


def weather_url(
    base_url: str, latitude: float, longitude: float, timezone: str = "Asia/Shanghai", days: int = 3
) -> str:
    """The forecast request for a place, in local days, wind in km/h."""
    query = urlencode(
        {
            "latitude": f"{latitude:g}",
            "longitude": f"{longitude:g}",
            "daily": ",".join(DAILY_FIELDS),
            "timezone": timezone,
            "forecast_days": days,
            "wind_speed_unit": "kmh",
        }
    )
    return f"{base_url}{'&' if '?' in base_url else '?'}{query}"


def _column(daily: Mapping[str, Any], name: str) -> Sequence[Any]:
    for key in _ALIASES.get(name, (name,)):
        value = daily.get(key)
        if isinstance(value, list):
            return value
    return []


def _number(column: Sequence[Any], index: int) -> float | None:
    if index >= len(column):
        return None
    value = column[index]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def parse_weather(data: bytes) -> tuple[WeatherReport, ...]:
    """All days of the forecast, in order; raises :class:`WeatherError` on an error body."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeatherError(f"not JSON: {exc}") from exc
    if not isinstance(document, Mapping):
        raise WeatherError(f"expected a JSON object, got {type(document).__name__}")
    if document.get("error"):
        raise WeatherError(f"Open-Meteo error: {document.get('reason') or 'no reason given'}")
    daily = document.get("daily")
    if not isinstance(daily, Mapping) or not isinstance(daily.get("time"), list):
        raise WeatherError("expected daily.time in the forecast")
    reports: list[WeatherReport] = []
    for index, raw_day in enumerate(daily["time"]):
        try:
            day = date.fromisoformat(str(raw_day))
        except ValueError as exc:
            raise WeatherError(f"daily.time[{index}]: expected YYYY-MM-DD, got {raw_day!r}") from exc
        code = _number(_column(daily, "weather_code"), index)
        reports.append(
            WeatherReport(
                day=day,
                code=None if code is None else int(code),
                high=_number(_column(daily, "temperature_2m_max"), index),
                low=_number(_column(daily, "temperature_2m_min"), index),
                precipitation_probability=_number(_column(daily, "precipitation_probability_max"), index),
                precipitation_sum=_number(_column(daily, "precipitation_sum"), index),
                wind_max=_number(_column(daily, "wind_speed_10m_max"), index),
                gusts_max=_number(_column(daily, "wind_gusts_10m_max"), index),
                wind_direction=_number(_column(daily, "wind_direction_10m_dominant"), index),
            )
        )
    return tuple(reports)
