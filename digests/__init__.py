"""Building digests: fetch -> parse -> normalise -> select -> render. No Telegram, no store.

The public face (everything the bot should need)::

    from digests import (SourceSpec, SectionSpec, QueuedItem, MemoryCache,
                         fetch_all, build, render, load_templates)
    results = fetch_all(specs, cache=cache, allow_hosts=config.network.allow_hosts)
    digest = build("morning", day, sections, results, queued, seen, now, "zh")
    parts = render(digest, load_templates("zh"), when_empty="notice")   # None: no post
"""

from digests.build import SourceResult, build, fetch_all, fetch_source, load_source, source_url
from digests.model import (
    SHANGHAI,
    Digest,
    Item,
    QueuedItem,
    Section,
    SectionSpec,
    Slot,
    SourceKind,
    SourceSpec,
    WeatherReport,
)
from digests.render import PART_LIMIT, TELEGRAM_LIMIT, render, render_weather, utf16_len
from digests.select import Selection, select
from digests.sources.http import (
    CacheEntry,
    FetchCache,
    FetchResult,
    MemoryCache,
    UnsafeURLError,
    check_url,
    fetch,
)
from digests.templates import TemplateError, Templates, load_templates

__all__ = [
    "PART_LIMIT",
    "SHANGHAI",
    "TELEGRAM_LIMIT",
    "CacheEntry",
    "Digest",
    "FetchCache",
    "FetchResult",
    "Item",
    "MemoryCache",
    "QueuedItem",
    "Section",
    "SectionSpec",
    "Selection",
    "Slot",
    "SourceKind",
    "SourceResult",
    "SourceSpec",
    "TemplateError",
    "Templates",
    "UnsafeURLError",
    "WeatherReport",
    "build",
    "check_url",
    "fetch",
    "fetch_all",
    "fetch_source",
    "load_source",
    "load_templates",
    "render",
    "render_weather",
    "select",
    "source_url",
    "utf16_len",
]
