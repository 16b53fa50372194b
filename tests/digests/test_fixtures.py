"""Data-driven digests, feedparser style: each tests/digests/fixtures/<name>/ holds feed files,
fixture.yaml (its description and config) and expected.txt (the rendered text, reviewed by eye;
``pytest --update-golden`` rewrites it, nothing else does).

Parse -> build -> render run exactly as in production; only the HTTP fetch is replaced by the
files (a FetchResult with the file's bytes).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from digests.build import SourceResult, build, load_source
from digests.model import QueuedItem, SectionSpec, SourceSpec
from digests.render import render
from digests.sources.http import FetchResult
from digests.templates import load_templates
from tests.conftest import Golden

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PART_BREAK = "\n----- next part -----\n"
NO_POST = "(no post)"


def render_fixture(folder: Path) -> str:
    spec: dict[str, Any] = yaml.safe_load((folder / "fixture.yaml").read_text(encoding="utf-8"))
    results: dict[str, SourceResult] = {}
    for name, source in spec["sources"].items():
        body = (folder / source["file"]).read_bytes()
        source_spec = SourceSpec(
            name=name, kind=source["kind"], url=source["url"], fields=source.get("fields", {}),
            latitude=source.get("latitude"), longitude=source.get("longitude"),
        )
        results[name] = load_source(source_spec, FetchResult(source["url"], "ok", body, final_url=source["url"]))
    sections = [
        SectionSpec(
            key=s["key"], sources=tuple(s.get("sources", ())), title=s.get("title"), limit=s.get("limit", 5),
            include=tuple(s.get("include", ())), exclude=tuple(s.get("exclude", ())),
            max_age_hours=s.get("max_age_hours", 72),
        )
        for s in spec["sections"]
    ]
    day = spec["day"] if isinstance(spec["day"], date) else date.fromisoformat(spec["day"])
    now = spec["now"] if isinstance(spec["now"], datetime) else datetime.fromisoformat(spec["now"])
    templates = load_templates(spec.get("lang", "zh"))
    digest = build(
        spec["slot"], day, sections, results,
        queued=[QueuedItem(**q) for q in spec.get("queued", [])],
        seen=spec.get("seen") or {}, now=now, templates=templates,
        source_names={name: s["display_name"] for name, s in spec["sources"].items() if "display_name" in s},
    )
    parts = render(digest, templates, when_empty=spec.get("when_empty", "notice"), bot="servicebot")
    return NO_POST if parts is None else PART_BREAK.join(parts)


@pytest.mark.parametrize("folder", sorted(p for p in FIXTURES.iterdir() if p.is_dir()), ids=lambda p: p.name)
def test_fixture_renders_its_expected_text(folder: Path, golden: Golden) -> None:
    golden.check(folder / "expected.txt", render_fixture(folder))
