"""Footprint: what a slot needs is imported when it needs it, so an idle bot stays small.

The figures (RSS idle, time to ready, ours vs the code before) are in bench/bench_footprint.py; this only
pins the imports, in a fresh interpreter: building the application loads no segmentation (marisa_trie,
OpenCC), no BM25 (numpy), no plotting (matplotlib), no feed fetching (requests, urllib3, feedparser,
lxml), no HTTP server (aiohttp: webhook mode, metrics), no holiday calendar but China's (python-holidays'
countries package imports all 280: bot/workcal.py loads china.py alone). Each is imported by the first
question, weekly report or digest that uses it, or by the mode that serves it. jieba itself is never
imported by the bot: its dictionary is read as a memory-mapped trie (bot/knowledge/segment.py), not as
jieba's ~70 MB Python dict.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("jieba", "marisa_trie", "opencc", "numpy", "rank_bm25", "matplotlib", "requests", "urllib3", "feedparser", "aiohttp",
         "lxml", "holidays.countries")

PROBE = f"""
import json, sys
import yaml
from bot.chat.app import build_application
from bot.config import parse_config
from bot.store import Store
data = yaml.safe_load(open("config.yaml", encoding="utf-8"))
data["data_dir"] = sys.argv[1]
store = Store.open(sys.argv[1])
app = build_application(parse_config(data, "test"), "1:probe", store=store)
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""


def test_building_the_application_imports_nothing_heavy(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "data")], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


FIRST_QUESTION = """
import json, sys
from pathlib import Path
from bot.tickets.faq import FaqMatcher
from bot.tickets.topics import load_faq
library, _ = load_faq(Path("content") / "faq")
match = FaqMatcher(library).match("孩子转学需要什么材料")
print(json.dumps([match.entry.topic, "marisa_trie" in sys.modules, "jieba" in sys.modules]))
"""


def test_the_first_question_segments_without_jieba() -> None:
    out = subprocess.run([sys.executable, "-c", FIRST_QUESTION], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["education", True, False]


def test_the_first_question_loads_segmentation() -> None:
    from bot.tickets.faq import FaqMatcher
    from bot.tickets.topics import load_faq

    library, _ = load_faq(ROOT / "content" / "faq")
    matcher = FaqMatcher(library)
    match = matcher.match("孩子转学需要什么材料")
    assert match is not None and match.entry.topic == "education"
