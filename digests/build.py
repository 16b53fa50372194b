"""Building a digest: ``fetch_all`` (the only I/O) then ``build`` (pure) then ``render``.

    results = fetch_all(specs, cache=cache, allow_hosts=("127.0.0.1",))
    digest = build("morning", day, sections, results, queued, seen, now)
    parts = render(digest, load_templates(digest.lang))
    # once sent: persist digest.seen_updates; report digest.failed_sources to source health
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from digests.model import (
    SHANGHAI,
    AirQuality,
    Digest,
    Item,
    QueuedItem,
    Section,
    SectionSpec,
    Slot,
    SourceSpec,
    WeatherReport,
)
from digests.select import select
from digests.sources.encoding import looks_like_mojibake
from digests.sources.feed import FeedError, parse_feed, parse_jobs
from digests.sources.htmllist import HtmlListError, parse_html_list
from digests.sources.http import USER_AGENT, FetchCache, FetchResult, Resolver, fetch
from digests.sources.jsonlist import JsonListError, parse_json_list
from digests.sources.weather import (
    WeatherError,
    air_quality_url,
    parse_air_quality,
    parse_weather,
    weather_url,
)
from digests.templates import Templates, load_templates

if TYPE_CHECKING:
    import requests

__all__ = ["SourceResult", "build", "drop_mojibake", "fetch_all", "fetch_source", "load_source", "source_url"]

SourceStatus = Literal["ok", "not_modified", "failed"]


@dataclass(frozen=True, slots=True)
class SourceResult:
    """One source's outcome for source health, and what it gave: items or weather days."""

    name: str
    status: SourceStatus
    items: tuple[Item, ...] = ()
    weather: tuple[WeatherReport, ...] = ()
    air: tuple[AirQuality, ...] = ()
    reason: str | None = None
    body_bytes: int = 0
    elapsed: float = 0.0
    # trouble short of failure, worth telling ops once per source (e.g. titles dropped as mojibake)
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def source_url(spec: SourceSpec) -> str:
    """The URL actually requested for ``spec`` (weather sources add the forecast query)."""
    if spec.kind in ("weather", "air_quality"):
        if spec.latitude is None or spec.longitude is None:
            raise ValueError(f"source {spec.name!r}: a {spec.kind} source needs latitude and longitude")
        make = weather_url if spec.kind == "weather" else air_quality_url
        return make(spec.url, spec.latitude, spec.longitude)
    return spec.url


def _covers(days: Sequence[date], day: date | None) -> str | None:
    """Why a forecast that lacks ``day`` is no forecast for the digest (None when it covers it)."""
    if day is None or day in days:
        return None
    if not days:
        return f"the forecast has no days (expected {day.isoformat()})"
    return f"the forecast does not cover {day.isoformat()} (it has {min(days).isoformat()}..{max(days).isoformat()})"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def load_source(spec: SourceSpec, fetched: FetchResult, day: date | None = None) -> SourceResult:
    """Parse a fetched body according to the source's kind (pure).

    With ``day`` (the digest's day), a forecast or air-quality answer without that day is a failed
    source: a stale or mis-zoned forecast must be reported, not shown as an empty section.
    """
    if not fetched.ok:
        return SourceResult(spec.name, "failed", reason=fetched.reason, body_bytes=fetched.body_bytes, elapsed=fetched.elapsed)
    base = fetched.final_url or spec.url
    size, took = fetched.body_bytes, fetched.elapsed
    try:
        if spec.kind == "weather":
            reports = parse_weather(fetched.body)
            problem = _covers([r.day for r in reports], day)
            if problem:
                return SourceResult(spec.name, "failed", reason=problem, body_bytes=size, elapsed=took)
            return SourceResult(spec.name, fetched.status, weather=reports, body_bytes=size, elapsed=took)
        if spec.kind == "air_quality":
            air = parse_air_quality(fetched.body)
            problem = _covers([a.day for a in air], day)
            if problem:
                return SourceResult(spec.name, "failed", reason=problem, body_bytes=size, elapsed=took)
            return SourceResult(spec.name, fetched.status, air=air, body_bytes=size, elapsed=took)
        if spec.kind == "json":
            items = parse_json_list(fetched.body, spec.fields, source=spec.name, base_url=base)
        elif spec.kind == "html":
            items = parse_html_list(fetched.body, spec.fields, source=spec.name, base_url=base,
                                    content_type=_header(fetched.headers, "content-type"))
        elif spec.kind == "jobs":
            items = parse_jobs(fetched.body, source=spec.name, headers=fetched.headers, base_url=base)
        else:
            items = parse_feed(fetched.body, source=spec.name, headers=fetched.headers, base_url=base)
    except (FeedError, JsonListError, HtmlListError, WeatherError) as exc:
        return SourceResult(spec.name, "failed", reason=str(exc), body_bytes=fetched.body_bytes, elapsed=fetched.elapsed)
    kept, warnings = drop_mojibake(items)
    return SourceResult(
        spec.name,
        fetched.status,
        items=kept,
        body_bytes=fetched.body_bytes,
        elapsed=fetched.elapsed,
        warnings=warnings,
    )


def drop_mojibake(items: Iterable[Item]) -> tuple[tuple[Item, ...], tuple[str, ...]]:
    """Items whose title is still mis-decoded text are dropped (never posted), and said so.

    A summary that is mojibake under a good title is blanked; the title alone is still worth a line.
    """
    kept: list[Item] = []
    dropped: list[str] = []
    for item in items:
        if looks_like_mojibake(item.title):
            dropped.append(item.title)
            continue
        kept.append(replace(item, summary="") if item.summary and looks_like_mojibake(item.summary) else item)
    if not dropped:
        return tuple(kept), ()
    example = dropped[0] if len(dropped[0]) <= 40 else dropped[0][:39] + "…"
    return tuple(kept), (f"{len(dropped)} title(s) dropped as mojibake (wrong or missing charset), e.g. {example!r}",)


def _fetch_one(
    spec: SourceSpec,
    *,
    cache: FetchCache | None,
    allow_hosts: Iterable[str],
    user_agent: str,
    session: requests.Session | None,
    resolver: Resolver | None,
) -> FetchResult | SourceResult:
    """The network half of a source: the fetched body, or a failed result if its URL is unusable."""
    try:
        url = source_url(spec)
    except ValueError as exc:
        return SourceResult(spec.name, "failed", reason=str(exc))
    return fetch(
        url,
        cache=cache,
        allow_hosts=allow_hosts,
        timeout=spec.timeout,
        connect_timeout=min(spec.connect_timeout, spec.timeout),
        max_bytes=spec.max_bytes,
        user_agent=user_agent,
        session=session,
        resolver=resolver,
    )


def _parsed(spec: SourceSpec, fetched: FetchResult | SourceResult, day: date | None = None) -> SourceResult:
    return fetched if isinstance(fetched, SourceResult) else load_source(spec, fetched, day)


def fetch_source(
    spec: SourceSpec,
    *,
    cache: FetchCache | None = None,
    allow_hosts: Iterable[str] = (),
    user_agent: str = USER_AGENT,
    session: requests.Session | None = None,
    resolver: Resolver | None = None,
) -> SourceResult:
    """Fetch and parse one source; never raises for network or format trouble."""
    fetched = _fetch_one(
        spec, cache=cache, allow_hosts=allow_hosts, user_agent=user_agent, session=session, resolver=resolver
    )
    return _parsed(spec, fetched)  # no day: a one-off fetch shows whatever the forecast has


def fetch_all(
    specs: Sequence[SourceSpec],
    *,
    cache: FetchCache | None = None,
    allow_hosts: Iterable[str] = (),
    user_agent: str = USER_AGENT,
    max_workers: int = 64,
    grace: float = 0.5,
    resolver: Resolver | None = None,
    day: date | None = None,
) -> dict[str, SourceResult]:
    """Fetch every source concurrently, then parse what arrived.

    ``day`` is the digest's day: a weather or air-quality source whose answer lacks it is failed.

    The deadline (the longest source timeout plus ``grace``) bounds the network only: a source
    whose download has not ended by then is reported failed and its thread abandoned (it ends on
    its own deadline), so it never delays the digest or stops the others. Parsing happens after
    the downloads, outside the deadline: it is our own bounded work (each body is capped at the
    source's ``max_bytes``), and a busy machine must not turn healthy sources into failed ones.
    """
    if not specs:
        return {}
    allowed = tuple(allow_hosts)
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=min(max_workers, len(specs)), thread_name_prefix="digest-fetch")
    try:
        futures = {
            pool.submit(
                _fetch_one,
                spec,
                cache=cache,
                allow_hosts=allowed,
                user_agent=user_agent,
                session=None,
                resolver=resolver,
            ): spec
            for spec in specs
        }
        wait(futures, timeout=max(spec.timeout for spec in specs) + grace)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    results: dict[str, SourceResult] = {}
    for future, spec in futures.items():
        if future.done() and not future.cancelled() and future.exception() is None:
            try:
                results[spec.name] = _parsed(spec, future.result(), day)
            except Exception as exc:  # one source's parser bug never stops the others
                results[spec.name] = SourceResult(spec.name, "failed", reason=f"{type(exc).__name__}: {exc}")
        elif future.done() and not future.cancelled():
            error = future.exception()
            results[spec.name] = SourceResult(spec.name, "failed", reason=f"{type(error).__name__}: {error}")
        else:
            elapsed = time.monotonic() - started
            results[spec.name] = SourceResult(
                spec.name, "failed", reason=f"no answer within {spec.timeout:g} s", elapsed=elapsed
            )
    return results


def build(
    slot: Slot,
    day: date,
    sections: Sequence[SectionSpec],
    results: Mapping[str, SourceResult],
    queued: Sequence[QueuedItem] = (),
    seen: Mapping[str, str] = MappingProxyType({}),
    now: datetime | None = None,
    lang: str = "zh",
    *,
    title: str | None = None,
    templates: Templates | None = None,
    source_names: Mapping[str, str] = MappingProxyType({}),
) -> Digest:
    """Assemble the digest of ``slot`` for ``day`` from fetched results and approved queue items.

    Pure given ``templates`` (otherwise the language's template file is read). Sections keep the
    configured order; an item is shown in the first section that selects it. Queued items whose
    section is not configured for this slot are left out. ``source_names`` maps a source's name to
    the name members read next to its items (config ``sources[].display_name``); item dates are
    shown in ``now``'s zone.
    """
    if now is None:
        raise ValueError("build: now is required (an aware datetime)")
    t = templates or load_templates(lang)
    taken: set[str] = set()
    seen_updates: dict[str, str] = {}
    failed: dict[str, str] = {}
    built: list[Section] = []
    for spec in sections:
        heading = spec.title or t.sections.get(spec.key, spec.key)
        weather: WeatherReport | None = None
        later: tuple[WeatherReport, ...] = ()
        air: tuple[AirQuality, ...] = ()
        wanted = [day + timedelta(days=n) for n in range(max(spec.days, 1))]
        candidates: list[Item] = []
        for name in spec.sources:
            result = results.get(name)
            if result is None:
                failed[name] = "not fetched"
                continue
            if not result.ok:
                failed[name] = result.reason or "failed"
                continue
            if result.weather and weather is None:
                by_day = {w.day: w for w in result.weather}
                weather = by_day.get(day)
                if weather is None:  # a forecast without today is a broken source, not an empty section
                    failed[name] = _covers(list(by_day), day) or "failed"
                later = tuple(by_day[d] for d in wanted[1:] if d in by_day) if weather else ()
            if result.air and not air:
                air = tuple(a for a in result.air if a.day in wanted)
                if not any(a.day == day for a in air):
                    failed[name] = _covers([a.day for a in result.air], day) or "failed"
            candidates.extend(replace(item, section=spec.key) for item in result.items)
        chosen = select(candidates, spec, seen, now, exclude_ids=taken)
        taken.update(item.id for item in chosen.items)
        seen_updates.update(chosen.seen_updates)
        built.append(
            Section(
                key=spec.key,
                heading=heading,
                items=chosen.items,
                queued=tuple(q for q in queued if q.section == spec.key),
                weather=weather,
                later=later,
                air=air if weather is not None else (),
            )
        )
    return Digest(
        slot=slot,
        day=day,
        title=title or t.titles.get(slot, slot),
        lang=t.lang,
        sections=tuple(built),
        seen_updates=MappingProxyType(seen_updates),
        failed_sources=MappingProxyType(failed),
        source_names=MappingProxyType(dict(source_names)),
        tz=now.tzinfo or SHANGHAI,
    )
