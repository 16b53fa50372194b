"""What a member reads: the shipped config.yaml rendered from its demo samples (content/samples) and
the editors' queue (content/queue), through the bot's own Publisher, as a phone shows it.

The golden files in tests/data/golden/ are the member's view of each part: tags removed, links as
their text, a quoted body marked "│ " and a folded one "┆ " (what a tap unfolds). They change only
with ``pytest --update-golden`` (then review the diff like any text change). Issue 15: a brief is at
most 25 visible phone lines (digests.render.visible_lines: 20 Chinese characters a line, a folded
quote counts its 3 shown lines).
"""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import yaml

from bot.chat.demo import SAMPLE_FILES, demo_config
from bot.config import Config
from bot.delivery.publisher import Publisher
from bot.editorial.content import load_queue_dir, present_keys
from bot.editorial.queue import EditorialQueue
from bot.editorial.rules import EditorialPolicy
from bot.store import Store
from bot.store.digest_parts import StoredDigest
from bot.store.queue import QueueRepository
from digests.build import SourceResult, load_source
from digests.render import visible_lines
from digests.sources.http import FetchResult
from tests.conftest import Golden

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "golden"
MAX_VISIBLE_LINES = 25


def shipped(tmp_path: Path, language: str = "zh") -> Config:
    base = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    base["language"] = language
    return demo_config(base, api_base="http://127.0.0.1:1/bot", samples_url="http://127.0.0.1:1",
                       data_dir=tmp_path / "data", root=ROOT)


def sample_results(config: Config, day: date) -> dict[str, SourceResult]:
    results: dict[str, SourceResult] = {}
    from bot.delivery.publisher import source_spec

    for source in config.sources:
        body = (ROOT / "content" / "samples" / SAMPLE_FILES[source.name]).read_bytes()
        if source.kind == "weather":  # as the demo serves it: the forecast starts today
            data = json.loads(body)
            data["daily"]["time"] = [(day + timedelta(days=i)).isoformat() for i in range(len(data["daily"]["time"]))]
            body = json.dumps(data).encode()
        results[source.name] = load_source(source_spec(source), FetchResult(source.url, "ok", body, final_url=source.url))
    return results


def member_view(part: str) -> str:
    """A part as the member reads it: text only; quoted lines marked, folded ones marked differently."""

    def quote(match: re.Match[str]) -> str:
        mark = "┆ " if match.group(1) else "│ "
        return "\n".join(mark + line for line in match.group(2).split("\n"))

    text = re.sub(r"<blockquote( expandable)?>(.*?)</blockquote>", quote, part, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def brief(tmp_path: Path, slot: str, days: list[date], language: str = "zh") -> list[tuple[date, list[str]]]:
    """Each day's parts for the first group, with the queue used up as the bot uses it."""
    config = shipped(tmp_path, language)
    store = Store.in_memory()
    queue = EditorialQueue(QueueRepository(store))
    first = datetime.combine(days[0], time(7, 0), config.tz)
    items, problems = load_queue_dir(config.content_dir / "queue", EditorialPolicy.from_config(config).sections,
                                     tz=config.tz, loaded_at=first)
    assert not problems
    queue.sync_files(items, first, present_keys(config.content_dir / "queue"))
    publisher = Publisher(config, store, queue=queue)
    publisher.identity = lambda: ("xiongan_service_bot", "服务助手")  # what getMe says in the demo world
    group = config.chats.groups[0]
    out = []
    for day in days:
        cfg = publisher.digest_config(slot)  # type: ignore[arg-type]
        now = datetime.combine(day, cfg.time, config.tz)
        plan = publisher.plan(group, day, slot, sample_results(config, day), now)  # type: ignore[arg-type]
        assert plan.parts is not None
        publisher.delivered({group.id: StoredDigest(plan.parts, dict(plan.digest.seen_updates), plan.queued_numbers)},
                            day, now)
        out.append((day, plan.parts))
    return out


CASES = [
    ("morning", [date(2026, 12, 1), date(2026, 12, 2)], "zh"),
    ("tea", [date(2026, 12, 5)], "zh"),
    ("morning", [date(2026, 12, 1)], "en"),
]


@pytest.mark.parametrize(("slot", "days", "language"), CASES, ids=lambda v: str(v[0]) if isinstance(v, list) else str(v))
def test_the_brief_a_member_reads(tmp_path: Path, golden: Golden, slot: str, days: list[date], language: str) -> None:
    for day, parts in brief(tmp_path, slot, days, language):
        lines = sum(visible_lines(p) for p in parts)
        view = "\n----- next message -----\n".join(member_view(p) for p in parts)
        golden.check(GOLDEN / f"{slot}-{day.isoformat()}.{language}.txt", f"{view}\n\n[{lines} visible lines]")
        assert lines <= MAX_VISIBLE_LINES, f"{slot} {day}: {lines} visible lines on a phone"


def test_a_multi_day_notice_runs_in_full_once_then_as_a_reminder(tmp_path: Path) -> None:
    (_, day1), (_, day2) = brief(tmp_path, "morning", [date(2026, 12, 1), date(2026, 12, 2)])
    assert "首套自住住房" in day1[0] and "<blockquote expandable>" in day1[0]
    assert "公积金｜疏解人员购房、租房提取政策提示" in day2[0] and "首套自住住房" not in day2[0]
    for parts in (day1, day2):
        # every "•" line is a digest item: a queued head or a feed item with its source and date
        for line in "\n".join(parts).split("\n"):
            if line.startswith("•") and "<a href" in line and "详情" not in line:
                assert re.search(r"（[^（）]+ · \d{1,2}月\d{1,2}日）$", line), line
