"""A real forecast: today and the next days, winter hazards, air quality (HJ 633-2012), and a
forecast that does not cover today reported as a failed source."""

from __future__ import annotations

import json
from datetime import date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from digests.build import build, fetch_all
from digests.model import SHANGHAI, AirQuality, SectionSpec, SourceSpec, WeatherReport
from digests.render import render, render_weather
from digests.sources.weather import (
    PM10_24H,
    PM25_24H,
    air_quality_url,
    chinese_aqi,
    iaqi,
    parse_air_quality,
    parse_weather,
    weather_url,
)
from digests.templates import load_templates
from tests.digests.conftest import DATA, LocalServer, send

ZH = load_templates("zh")
EN = load_templates("en")
DECEMBER = (DATA / "weather/open-meteo-xiongan-december.json").read_bytes()
AIR = (DATA / "weather/open-meteo-air-quality-xiongan.json").read_bytes()
TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 7, 55, tzinfo=SHANGHAI)
LOCAL = ("127.0.0.1",)


def test_winter_hazards_from_daily_fields_and_codes() -> None:
    days = {r.day: r for r in parse_weather(DECEMBER)}
    # 12-01: minimum 1.9 -> -8.7 °C in 24 h (GB/T 21987: >= 8 °C, ending <= 4 °C), gusts 68 km/h
    assert days[date(2026, 12, 1)].warnings == ("cold_wave", "gusts")
    assert days[date(2026, 12, 2)].warnings == ("snow", "cold_wave")  # 1.9 -> -10.2 in 48 h
    assert days[date(2026, 12, 3)].warnings == ("fog",)
    assert days[date(2026, 11, 30)].warnings == ()


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        (WeatherReport(TODAY, code=66), ("freezing_rain",)),
        (WeatherReport(TODAY, code=56), ("freezing_rain",)),
        (WeatherReport(TODAY, code=3, snowfall_sum=0.4), ("snow",)),
        (WeatherReport(TODAY, code=48), ("fog",)),
        (WeatherReport(TODAY, wind_max=39.0), ("strong_wind",)),  # mean force 6
        (WeatherReport(TODAY, wind_max=20.0, gusts_max=50.0), ("strong_wind",)),  # gusts force 7
        (WeatherReport(TODAY, wind_max=38.9, gusts_max=49.9), ()),
        (WeatherReport(TODAY, code=2, low=-5.0), ()),
    ],
)
def test_each_winter_warning(report: WeatherReport, expected: tuple[str, ...]) -> None:
    assert report.warnings == expected


def test_a_cold_drop_that_stays_above_4_degrees_is_no_cold_wave() -> None:
    doc = json.loads(DECEMBER)
    doc["daily"]["temperature_2m_min"] = [14.0, 15.0, 6.0, 5.0, 5.0]  # fell 9 °C but ends at 6 °C
    assert not any(r.cold_wave for r in parse_weather(json.dumps(doc).encode()))


def test_the_requests_ask_for_past_days_snowfall_and_hourly_particulates() -> None:
    q = parse_qs(urlsplit(weather_url("https://api.open-meteo.com/v1/forecast", 39.03, 115.93)).query)
    assert q["past_days"] == ["2"] and "snowfall_sum" in q["daily"][0] and q["timezone"] == ["Asia/Shanghai"]
    a = parse_qs(urlsplit(air_quality_url("https://air-quality-api.open-meteo.com/v1/air-quality", 39.03, 115.93)).query)
    assert a["hourly"] == ["pm2_5,pm10"] and a["timezone"] == ["Asia/Shanghai"]


@pytest.mark.parametrize(
    ("table", "points"),
    [
        # HJ 633-2012 table 1 (24-hour means, µg/m³) -> IAQI at each breakpoint
        (PM25_24H, [(0, 0), (35, 50), (75, 100), (115, 150), (150, 200), (250, 300), (350, 400), (500, 500)]),
        (PM10_24H, [(0, 0), (50, 50), (150, 100), (250, 150), (350, 200), (420, 300), (500, 400), (600, 500)]),
    ],
)
def test_iaqi_breakpoints_of_hj_633_2012(table: tuple[int, ...], points: list[tuple[int, int]]) -> None:
    assert [iaqi(c, table) for c, _ in points] == [i for _, i in points]


def test_aqi_and_its_six_categories() -> None:
    assert iaqi(55.0, PM25_24H) == 75  # halfway between 35 and 75, rounded up
    assert chinese_aqi(40.0, 300.0) == 175  # PM10 decides: (200-150)/(350-250)*(300-250)+150
    assert chinese_aqi(None, None) is None
    cases = [(50, "excellent"), (51, "good"), (100, "good"), (101, "light"), (151, "moderate"),
             (201, "heavy"), (300, "heavy"), (301, "severe"), (500, "severe")]
    assert [AirQuality(TODAY, aqi=a).category for a, _ in cases] == [c for _, c in cases]
    assert [ZH.weather.aqi_categories[c] for c in ("excellent", "good", "light", "moderate", "heavy", "severe")] == [
        "优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"]


def test_air_quality_response_gives_daily_means_and_categories() -> None:
    days = parse_air_quality(AIR)
    assert [(a.day, a.category) for a in days] == [
        (date(2026, 12, 1), "excellent"), (date(2026, 12, 2), "light"), (date(2026, 12, 3), "moderate")]
    assert days[0].pm2_5 == pytest.approx(22.0, abs=0.1)
    assert days[2].aqi == chinese_aqi(days[2].pm2_5, days[2].pm10)  # the last day averages its 23 non-null hours


def test_the_brief_shows_today_tomorrow_and_air_quality_and_tea_the_day_after(server: LocalServer) -> None:
    server.routes["/v1/forecast"] = lambda h: send(h, DECEMBER, Content_Type="application/json")
    server.routes["/v1/air-quality"] = lambda h: send(h, AIR, Content_Type="application/json")
    specs = [SourceSpec("weather", "weather", server.url("/v1/forecast"), latitude=39.03, longitude=115.93),
             SourceSpec("air", "air_quality", server.url("/v1/air-quality"), latitude=39.03, longitude=115.93)]
    results = fetch_all(specs, allow_hosts=LOCAL, day=TODAY)
    assert {n: r.status for n, r in results.items()} == {"weather": "ok", "air": "ok"}
    morning = build("morning", TODAY, [SectionSpec("weather", ("weather", "air"))], results, now=NOW, templates=ZH)
    parts = render(morning, ZH)
    assert parts is not None
    lines = parts[0].splitlines()
    assert "阴 -8.7~-0.6°C，降水概率10%，西北风6级" in lines
    assert "⚠️ 寒潮：气温骤降，请及时添衣，注意防寒防冻" in lines
    assert "空气优（AQI 39，PM2.5 22μg/m³）" in lines
    assert "明天：中雪 -10.2~-2.3°C，降水概率85%，北风4级，空气轻度污染，⚠️ 降雪、寒潮" in lines
    assert not any(line.startswith("后天") for line in lines)
    tea = build("tea", TODAY, [SectionSpec("weather", ("weather", "air"), days=3)], results, now=NOW, templates=ZH)
    tea_parts = render(tea, ZH)
    assert tea_parts is not None
    assert "后天：雾 -7.5~1.4°C，降水概率15%，南风2级，空气中度污染，⚠️ 雾" in tea_parts[0].splitlines()


def test_english_forecast_lines() -> None:
    reports = parse_weather(DECEMBER)
    lines = render_weather(reports[2], EN, later=reports[3:4], air=parse_air_quality(AIR))
    assert lines[-2] == "air excellent (AQI 39, PM2.5 22 µg/m³)"
    assert lines[-1].startswith("Tomorrow: Snow -10.2–-2.3 °C") and lines[-1].endswith("⚠️ snow, cold wave")


def test_heavy_pollution_today_adds_a_health_warning() -> None:
    lines = render_weather(WeatherReport(TODAY, code=3), ZH, air=[AirQuality(TODAY, 160.0, 200.0, 210)])
    assert lines == ["阴", "空气重度污染（AQI 210，PM2.5 160μg/m³）",
                     "⚠️ 空气污染较重，儿童、老人和心肺疾病患者请减少户外活动"]


def test_a_forecast_that_does_not_cover_today_is_a_failed_source(server: LocalServer) -> None:
    stale = (DATA / "weather/open-meteo-xiongan-daily.json").read_bytes()  # July 2025
    server.routes["/v1/forecast"] = lambda h: send(h, stale, Content_Type="application/json")
    server.routes["/v1/air-quality"] = lambda h: send(h, AIR, Content_Type="application/json")
    specs = [SourceSpec("weather", "weather", server.url("/v1/forecast"), latitude=39.03, longitude=115.93),
             SourceSpec("air", "air_quality", server.url("/v1/air-quality"), latitude=39.03, longitude=115.93)]
    results = fetch_all(specs, allow_hosts=LOCAL, day=TODAY)
    assert results["weather"].status == "failed"
    assert results["weather"].reason == "the forecast does not cover 2026-12-01 (it has 2025-07-09..2025-07-11)"
    assert results["air"].ok
    late = fetch_all(specs[1:], allow_hosts=LOCAL, day=date(2026, 12, 9))
    assert late["air"].status == "failed" and "does not cover 2026-12-09" in (late["air"].reason or "")
    # and the digest says so instead of dropping the section silently
    digest = build("morning", TODAY, [SectionSpec("weather", ("weather", "air"))], results, now=NOW, templates=ZH)
    assert "weather" in digest.failed_sources
