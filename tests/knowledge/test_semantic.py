"""The optional semantic layer (service.faq_semantic, extra semantic): WordLlama's bundled model loads
with no download, and fused with BM25 it meets the goals on the held-out half while answering more."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bench import retrieval_eval as ev

wordllama = pytest.importorskip("wordllama")  # the dev extra installs it; the bot without it is the default

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model() -> object:
    from bot.knowledge.semantic import load_model

    return load_model()  # the machine has no route to a model hub: this proves nothing is fetched


def test_fused_with_bm25_the_goals_hold_and_more_members_get_their_answer(model: object) -> None:
    held = ev.split(ev.load(), "held-out")
    fused, alone = ev.evaluate(held, *ev.ours(semantic=model)), ev.evaluate(held, *ev.ours())
    assert fused.meets(), fused.wrong
    assert fused.answered >= alone.answered + 5.0, (fused.answered, alone.answered)
    assert fused.oos_declined >= alone.oos_declined


def test_the_config_switch_gives_the_desk_the_semantic_layer(tmp_path: Path, model: object) -> None:
    from bot.config import parse_config
    from bot.store import Store
    from bot.wiring import desk_for

    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "data")
    data.setdefault("service", {})["faq_semantic"] = True
    config = parse_config(data, "test")
    desk = desk_for(config, Store.open(tmp_path / "data"), ROOT / "content")
    assert desk.matcher is not None and desk.matcher.retriever.semantic is not None
    question = "媳妇跟着过来了，工作怎么解决"  # BM25 alone is not sure enough to offer anything
    hit = desk.matcher.match(question)
    assert hit is not None and hit.entry.id == "employment/1"
    data["service"]["faq_semantic"] = False
    plain = desk_for(parse_config(data, "test"), Store.open(tmp_path / "data2"), ROOT / "content")
    assert plain.matcher is not None and plain.matcher.match(question) is None
