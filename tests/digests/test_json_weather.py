"""JSON list sources (gov.cn shape) and the Open-Meteo forecast, including its nulls."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from digests.model import SHANGHAI, WeatherReport
from digests.render import render_weather
from digests.sources.jsonlist import GOV_CN_FIELDS, JsonListError, parse_json_list
from digests.sources.weather import WeatherError, parse_weather, weather_url
from digests.templates import load_templates
from tests.digests.conftest import DATA

ZH = load_templates("zh")
EN = load_templates("en")


def test_gov_cn_rows_become_items() -> None:
    data = (DATA / "govcn-zuixin.reshaped.json").read_bytes()
    items = parse_json_list(data, GOV_CN_FIELDS, source="gov", base_url="https://www.gov.cn/zhengce/zuixin/ZUIXINZHENGCE.json")
    assert len(items) == 7  # the row without a title is skipped
    first = items[0]
    assert first.title == "关于我市事业单位性质殡葬服务机构用水、用电执行居民价格的通知"
    assert first.id == first.link == "http://fgw.sh.gov.cn/fgw_jggl/20260414/7c1e2dd1573b4989bd71a33a59102776.html"
    assert first.published == datetime(2026, 4, 14, tzinfo=SHANGHAI)
    odd = items[-1]
    assert odd.title == "带标签的标题 全角空格"
    assert odd.link == "https://www.gov.cn/zhengce/content/202604/content_1.htm"
    assert odd.summary == ""


def test_mapping_with_nested_items_and_id() -> None:
    data = json.dumps({"data": {"list": [{"t": "A", "u": "https://x.org/a", "k": "7", "d": "2026-04-14 10:00:00"}]}}).encode()
    items = parse_json_list(data, {"items": "data.list", "title": "t", "link": "u", "id": "k", "published": "d"})
    assert items[0].id == "7"
    assert items[0].published == datetime(2026, 4, 14, 10, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("data", "fields", "message"),
    [
        (b"[]", {"title": "TITLE"}, "fields.link"),
        (b"{not json", GOV_CN_FIELDS, "not JSON"),
        (b'{"a": 1}', GOV_CN_FIELDS, "expected a JSON array"),
        (b"[1]", GOV_CN_FIELDS, r"item \[0\]: expected an object"),
        (b'{"data": []}', {**GOV_CN_FIELDS, "items": "rows"}, "key 'rows'"),
    ],
)
def test_bad_json_lists_say_what_and_where(data: bytes, fields: dict[str, str], message: str) -> None:
    with pytest.raises(JsonListError, match=message):
        parse_json_list(data, fields)


def test_open_meteo_days_with_nulls() -> None:
    days = parse_weather((DATA / "weather/open-meteo-xiongan-daily.json").read_bytes())
    assert [d.day for d in days] == [date(2025, 7, 9), date(2025, 7, 10), date(2025, 7, 11)]
    assert days[0] == WeatherReport(date(2025, 7, 9), 95, 34.6, 24.1, 78.0, 12.4, 18.7, 42.1, 135.0)
    assert days[2].low is None and days[2].precipitation_probability is None
    assert days[0].warnings == ("thunderstorm",)


def test_open_meteo_error_body() -> None:
    with pytest.raises(WeatherError, match="Open-Meteo error: "):
        parse_weather((DATA / "weather/open-meteo-error-400.json").read_bytes())


def test_weather_in_words_zh_and_en() -> None:
    day = parse_weather((DATA / "weather/open-meteo-xiongan-daily.json").read_bytes())[0]
    assert render_weather(day, ZH) == ["雷阵雨 24.1~34.6°C，降水概率78%，东南风3级", "⚠️ 有雷雨，请注意防范雷电，避免户外停留"]
    assert render_weather(day, EN)[0] == "Thunderstorm 24.1–34.6 °C, rain chance 78%, wind SE force 3"


def test_nulls_are_left_out_never_none() -> None:
    last = parse_weather((DATA / "weather/open-meteo-xiongan-daily.json").read_bytes())[2]
    lines = render_weather(last, ZH)
    assert lines == ["小雨 最高28.9°C，东北风3级"]
    empty = render_weather(WeatherReport(date(2025, 7, 9)), ZH)
    assert empty == []
    assert render_weather(WeatherReport(date(2025, 7, 9), low=-3.0, wind_max=30.0), EN) == ["low -3 °C, wind force 5"]
    assert render_weather(WeatherReport(date(2025, 7, 9), low=-3.0, wind_max=30.0), ZH) == ["最低-3°C，风5级"]


@pytest.mark.parametrize(
    ("report", "warnings"),
    [
        (WeatherReport(date(2025, 7, 9), code=65), ("heavy_rain",)),
        (WeatherReport(date(2025, 7, 9), precipitation_sum=30.0), ("heavy_rain",)),
        (WeatherReport(date(2025, 7, 9), high=35.0), ("heat",)),
        (WeatherReport(date(2025, 7, 9), high=34.9), ()),
        (WeatherReport(date(2025, 7, 9), gusts_max=62.0), ("gusts",)),
        (WeatherReport(date(2025, 7, 9), code=99, high=37.0), ("thunderstorm", "heat")),
    ],
)
def test_warning_thresholds(report: WeatherReport, warnings: tuple[str, ...]) -> None:
    assert report.warnings == warnings
    assert len(render_weather(report, ZH)) >= len(warnings)


def test_weather_url_asks_for_local_days() -> None:
    url = weather_url("http://127.0.0.1:8/v1/forecast", 39.03, 115.93)
    assert "latitude=39.03" in url and "longitude=115.93" in url
    assert "timezone=Asia%2FShanghai" in url and "weather_code" in url
