"""The digests' fixed texts per language, from ``content/templates/<lang>.yaml``.

Loaded once and checked: a missing or mistyped key is a :class:`TemplateError` naming the file
and the key path (``content/templates/en.yaml: weather.conditions: expected a mapping``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from babel import Locale, UnknownLocaleError

from digests import safe_yaml

__all__ = ["DEFAULT_DIR", "LANGUAGES", "TemplateError", "Templates", "WeatherTexts", "load_templates"]

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "content" / "templates"
LANGUAGES = ("zh", "en")
#: a language's digest texts are about 2 KB; refused above this
TEMPLATE_FILE_MAX_BYTES = 256 * 1024


class TemplateError(ValueError):
    """A template file is missing, unreadable or lacks a key; the message names file and key."""


@dataclass(frozen=True, slots=True)
class WeatherTexts:
    high_low: str
    high_only: str
    low_only: str
    precipitation: str
    wind: str
    separator: str
    directions: tuple[str, ...]
    conditions: Mapping[int, str]
    warnings: Mapping[str, str]
    warnings_short: Mapping[str, str]
    air: str
    air_short: str
    aqi_categories: Mapping[str, str]
    day_labels: tuple[str, ...]
    later: str


@dataclass(frozen=True, slots=True)
class Templates:
    lang: str
    locale: str
    titles: Mapping[str, str]
    icons: Mapping[str, str]
    title_line: str
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    sections: Mapping[str, str]
    continued: str
    updated: str
    item_meta: str
    item_meta_date: str
    more: str
    empty: str
    closing: str
    closing_ask: str
    weather: WeatherTexts


class _Reader:
    def __init__(self, where: str, data: Any) -> None:
        self.where = where
        self.data = data

    def _fail(self, key: str, expected: str) -> TemplateError:
        return TemplateError(f"{self.where}: {key}: expected {expected}")

    def node(self, path: str) -> Any:
        node = self.data
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise self._fail(path, "a value (missing)")
            node = node[part]
        return node

    def text(self, path: str) -> str:
        value = self.node(path)
        if not isinstance(value, str) or not value:
            raise self._fail(path, "a non-empty string")
        return value

    def texts(self, path: str, length: int | None = None) -> tuple[str, ...]:
        value = self.node(path)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(path, "a list of strings")
        if length is not None and len(value) != length:
            raise self._fail(path, f"{length} entries, got {len(value)}")
        return tuple(value)

    def mapping(self, path: str) -> Mapping[str, str]:
        value = self.node(path)
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
            raise self._fail(path, "a mapping of strings")
        return MappingProxyType({str(k): v for k, v in value.items()})


def load_templates(lang: str = "zh", directory: Path | None = None) -> Templates:
    """Load and check ``<directory>/<lang>.yaml`` (default: the repository's content/templates)."""
    path = (directory or DEFAULT_DIR) / f"{lang}.yaml"
    try:
        data = safe_yaml.load(safe_yaml.read_text(path, TEMPLATE_FILE_MAX_BYTES, "template file"))
    except FileNotFoundError as exc:
        raise TemplateError(f"{path}: no template file for language {lang!r}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: cannot read: {exc}") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise TemplateError(f"{where}: not valid YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML: {safe_yaml.clip(str(exc), 200)}") from exc
    r = _Reader(str(path), data)
    conditions = r.node("weather.conditions")
    if not isinstance(conditions, Mapping):
        raise TemplateError(f"{path}: weather.conditions: expected a mapping of WMO code to text")
    try:
        codes = MappingProxyType({int(k): str(v) for k, v in conditions.items()})
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"{path}: weather.conditions: expected integer WMO codes") from exc
    locale = r.text("locale")
    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError) as exc:
        raise TemplateError(f"{path}: locale: {locale!r} is not a locale Babel knows (e.g. zh_CN, en_GB)") from exc
    months = r.texts("months", 12) if isinstance(data, Mapping) and "months" in data else ()
    return Templates(
        lang=lang,
        locale=locale,
        titles=r.mapping("titles"),
        icons=r.mapping("icons"),
        title_line=r.text("title_line"),
        weekdays=r.texts("weekdays", 7),
        months=months,
        sections=r.mapping("sections"),
        continued=r.text("continued"),
        updated=r.text("updated"),
        item_meta=r.text("item_meta"),
        item_meta_date=r.text("item_meta_date"),
        more=r.text("more"),
        empty=r.text("empty"),
        closing=r.text("closing"),
        closing_ask=r.text("closing_ask"),
        weather=WeatherTexts(
            high_low=r.text("weather.high_low"),
            high_only=r.text("weather.high_only"),
            low_only=r.text("weather.low_only"),
            precipitation=r.text("weather.precipitation"),
            wind=r.text("weather.wind"),
            separator=r.text("weather.separator"),
            directions=r.texts("weather.directions", 8),
            conditions=codes,
            warnings=r.mapping("weather.warnings"),
            warnings_short=r.mapping("weather.warnings_short"),
            air=r.text("weather.air"),
            air_short=r.text("weather.air_short"),
            aqi_categories=r.mapping("weather.aqi_categories"),
            day_labels=r.texts("weather.day_labels", 2),
            later=r.text("weather.later"),
        ),
    )
