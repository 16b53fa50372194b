"""The digests package's public face, its templates, and its cache persistence form."""

from __future__ import annotations

from pathlib import Path

import pytest

import digests
from digests.sources.http import CacheEntry
from digests.templates import LANGUAGES, TemplateError, load_templates


def test_exported_members_exist_and_are_pinned() -> None:
    assert all(hasattr(digests, name) for name in digests.__all__)
    assert {"build", "fetch_all", "render", "load_templates", "SourceSpec", "SectionSpec", "QueuedItem",
            "Digest", "FetchCache", "CacheEntry", "MemoryCache"} <= set(digests.__all__)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_shipped_templates_cover_every_wmo_code_and_warning(lang: str) -> None:
    t = load_templates(lang)
    assert set(t.titles) == {"morning", "tea"}
    assert {0, 1, 2, 3, 45, 48, 51, 53, 55, 61, 63, 65, 71, 73, 75, 80, 81, 82, 95, 96, 99} <= set(t.weather.conditions)
    kinds = {"thunderstorm", "heavy_rain", "freezing_rain", "snow", "cold_wave", "fog", "heat", "gusts", "strong_wind"}
    assert set(t.weather.warnings) == kinds | {"air_pollution"}
    assert set(t.weather.warnings_short) == kinds
    assert set(t.weather.aqi_categories) == {"excellent", "good", "light", "moderate", "heavy", "severe"}
    assert {"weather", "policy", "services", "jobs", "traffic", "life", "events"} <= set(t.sections)


def test_missing_key_names_file_and_key(tmp_path: Path) -> None:
    text = (Path(digests.__file__).parent.parent / "content/templates/zh.yaml").read_text(encoding="utf-8")
    (tmp_path / "zh.yaml").write_text(text.replace("empty: 今日无更新\n", ""), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"zh\.yaml: empty: expected"):
        load_templates("zh", tmp_path)
    with pytest.raises(TemplateError, match="no template file for language 'fr'"):
        load_templates("fr", tmp_path)
    (tmp_path / "en.yaml").write_text("weekdays: [a, b]\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"en\.yaml: "):
        load_templates("en", tmp_path)


def test_cache_entry_round_trips_through_json() -> None:
    entry = CacheEntry(b"\x00\xffbody", etag='"e"', last_modified="Sat, 28 Nov 2026 00:00:00 GMT",
                       content_type="text/xml; charset=gb2312", final_url="https://x.org/f")
    assert CacheEntry.from_json(entry.to_json()) == entry
