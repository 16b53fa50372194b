"""fetch_all + build over a local server: concurrency, a hanging source, 304s, failures, seen."""

from __future__ import annotations

import importlib
import time
from datetime import date, datetime

import pytest

from digests.build import build, fetch_all, source_url
from digests.model import SHANGHAI, QueuedItem, SectionSpec, SourceSpec
from digests.render import render
from digests.sources.http import MemoryCache
from digests.templates import load_templates
from tests.digests.conftest import DATA, LocalServer, send

LOCAL = ("127.0.0.1",)
DAY = date(2026, 1, 20)
NOW = datetime(2026, 1, 20, 8, 0, tzinfo=SHANGHAI)


def serve_files(server: LocalServer) -> list[SourceSpec]:
    xinhua = (DATA / "policy/xinhua-china-politics.rss.xml").read_bytes()
    jobs = (DATA / "jobs/wwr-remote-design-jobs-2022.rss").read_bytes()
    weather = (DATA / "weather/open-meteo-xiongan-daily.json").read_bytes()
    gov = (DATA / "govcn-zuixin.reshaped.json").read_bytes()

    def etagged(body: bytes, tag: str):  # type: ignore[no-untyped-def]
        def route(h) -> None:  # type: ignore[no-untyped-def]
            if h.headers.get("If-None-Match") == tag:
                send(h, b"", 304, ETag=tag)
            else:
                send(h, body, ETag=tag, Content_Type="application/rss+xml; charset=utf-8")
        return route

    server.routes.update({
        "/xinhua.xml": etagged(xinhua, '"x1"'),
        "/jobs.rss": etagged(jobs, '"j1"'),
        "/forecast": lambda h: send(h, weather, Content_Type="application/json"),
        "/gov.json": lambda h: send(h, gov, Content_Type="application/json"),
        "/hang": lambda h: server.stop.wait(30),
        "/broken": lambda h: send(h, b"<html>maintenance</html>", Content_Type="text/html"),
    })
    return [
        SourceSpec("xinhua", "feed", server.url("/xinhua.xml")),
        SourceSpec("jobs", "jobs", server.url("/jobs.rss")),
        SourceSpec("weather", "weather", server.url("/forecast"), latitude=39.03, longitude=115.93),
        SourceSpec("gov", "json", server.url("/gov.json"), fields={"title": "TITLE", "link": "URL", "published": "DOCRELPUBTIME"}),
        SourceSpec("slow", "feed", server.url("/hang"), timeout=0.8),
        SourceSpec("broken", "feed", server.url("/broken")),
    ]


@pytest.mark.timeout(20)
def test_a_hanging_source_fails_alone_and_the_others_arrive(server: LocalServer) -> None:
    specs = serve_files(server)
    results = fetch_all(specs, allow_hosts=LOCAL, grace=0.3)
    assert results["slow"].status == "failed"
    assert "timed out" in (results["slow"].reason or "") or "no answer" in (results["slow"].reason or "")
    assert results["broken"].status == "failed" and "not a feed" in (results["broken"].reason or "")
    assert {n: r.status for n, r in results.items() if n not in ("slow", "broken")} == {
        "xinhua": "ok", "jobs": "ok", "weather": "ok", "gov": "ok"}
    assert len(results["xinhua"].items) == 30
    assert results["weather"].weather[0].code == 95
    assert "latitude=39.03" in next(path for path, _ in server.requests if path.startswith("/forecast"))


@pytest.mark.timeout(20)
def test_fetch_all_returns_within_the_timeout_even_if_a_source_never_ends(server: LocalServer) -> None:
    specs = serve_files(server)
    hung = [SourceSpec("slow", "feed", server.url("/hang"), timeout=0.5, connect_timeout=0.5)]
    # the server holds the request for 30 s; the test's 20 s timeout fails if fetch_all waited for it
    results = fetch_all([*specs[:1], *hung], allow_hosts=LOCAL, grace=0.2)
    assert results["slow"].status == "failed"
    assert results["xinhua"].status == "ok"


@pytest.mark.timeout(30)
def test_the_deadline_bounds_the_download_not_our_parsing(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy machine parses slowly: a feed that arrived in time is not failed for it (issue 10)."""
    build_module = importlib.import_module("digests.build")

    specs = serve_files(server)[:1]
    fast = [SourceSpec(specs[0].name, "feed", specs[0].url, timeout=0.4, connect_timeout=0.4)]
    real = build_module.load_source

    def slow_parse(spec, fetched, day=None):  # type: ignore[no-untyped-def]
        time.sleep(2.0)  # far beyond the 0.4 s + 0.1 s deadline, whatever the machine's load
        return real(spec, fetched, day)

    monkeypatch.setattr(build_module, "load_source", slow_parse)
    results = fetch_all(fast, allow_hosts=LOCAL, grace=0.1)
    assert results["xinhua"].status == "ok", results["xinhua"].reason
    assert len(results["xinhua"].items) == 30


def test_second_build_with_unchanged_feeds_downloads_no_body(server: LocalServer) -> None:
    specs = serve_files(server)[:2]
    cache = MemoryCache()
    first = fetch_all(specs, cache=cache, allow_hosts=LOCAL)
    second = fetch_all(specs, cache=cache, allow_hosts=LOCAL)
    assert all(r.status == "ok" and r.body_bytes > 0 for r in first.values())
    assert all(r.status == "not_modified" and r.body_bytes == 0 for r in second.values())
    assert second["xinhua"].items == first["xinhua"].items


def test_build_end_to_end_and_failed_sources_reported(server: LocalServer) -> None:
    specs = serve_files(server)
    results = fetch_all([s for s in specs if s.name != "slow"], allow_hosts=LOCAL)
    sections = [
        SectionSpec("weather", ("weather",)),
        SectionSpec("policy", ("xinhua", "gov", "broken"), limit=3),
        SectionSpec("services"),
        SectionSpec("jobs", ("jobs",), limit=2, max_age_hours=100_000),
    ]
    queued = [QueuedItem("q1", "services", "医保<b>新规</b>"), QueuedItem("q2", "events", "不在本时段")]
    digest = build("morning", DAY, sections, results, queued, {}, NOW, "zh")
    # the forecast covers July 2025, not this day: a failed source, never a silently missing section
    assert dict(digest.failed_sources) == {
        "broken": results["broken"].reason,
        "weather": "the forecast does not cover 2026-01-20 (it has 2025-07-09..2025-07-11)",
    }
    assert digest.sections[0].weather is None
    assert [i.source for i in digest.sections[1].items] == ["xinhua"] * 3
    assert [q.item_id for q in digest.sections[2].queued] == ["q1"]
    assert len(digest.seen_updates) == 5
    parts = render(digest, load_templates("zh"))
    assert parts is not None and len(parts) == 1
    assert "医保<b>新规</b>" in parts[0] and "不在本时段" not in parts[0]


def test_an_item_in_two_sections_is_shown_once(server: LocalServer) -> None:
    specs = serve_files(server)[:1]
    results = fetch_all(specs, allow_hosts=LOCAL)
    sections = [SectionSpec("policy", ("xinhua",), limit=2), SectionSpec("life", ("xinhua",), limit=2)]
    digest = build("tea", DAY, sections, results, now=NOW)
    first, second = (tuple(i.id for i in s.items) for s in digest.sections)
    assert len(first) == len(second) == 2 and not set(first) & set(second)


def test_unlisted_loopback_source_is_refused_in_fetch_all(server: LocalServer) -> None:
    specs = serve_files(server)[:1]
    results = fetch_all(specs)
    assert results["xinhua"].status == "failed" and "non-public" in (results["xinhua"].reason or "")


def test_weather_without_place_is_a_clear_failure() -> None:
    spec = SourceSpec("weather", "weather", "https://api.open-meteo.com/v1/forecast")
    with pytest.raises(ValueError, match="latitude and longitude"):
        source_url(spec)
    assert "latitude" in (fetch_all([spec])["weather"].reason or "")


def test_build_requires_an_aware_now() -> None:
    with pytest.raises(ValueError):
        build("morning", DAY, [SectionSpec("policy")], {}, now=datetime(2026, 1, 20, 8, 0))
