"""Intake classifier (issue 13 §1): on the labelled set tests/data/intake/messages.yaml, the share of
questions ticketed and of non-questions left alone, ours (bot/tickets/intake.py) vs the rule before it
(anything addressed to the desk with words in it is a ticket; photos and documents are ignored).
Goal: >= 98 % on both. Also: the classifier's time per message.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from bench.common import Result, percentile
from bot.tickets.intake import Verdict, Via, classify

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "intake" / "messages.yaml"


def _old_rule(row: dict[str, Any]) -> bool:
    if row.get("media"):
        return False  # only text messages were taken
    return any(ch.isalnum() for ch in row["text"].replace("@servicebot", ""))


def run() -> list[Result]:
    rows: list[dict[str, Any]] = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    questions = [r for r in rows if r["label"] == Verdict.QUESTION]
    others = [r for r in rows if r["label"] != Verdict.QUESTION]

    def ours(r: dict[str, Any]) -> bool:
        return classify(r["text"], Via(r["via"]), attachment=bool(r.get("media"))).is_question

    q_ours = 100.0 * sum(map(ours, questions)) / len(questions)
    q_old = 100.0 * sum(map(_old_rule, questions)) / len(questions)
    n_ours = 100.0 * sum(not ours(r) for r in others) / len(others)
    n_old = 100.0 * sum(not _old_rule(r) for r in others) / len(others)
    signups = [r for r in rows if r["label"] == Verdict.SIGNUP]
    s_ours = sum(classify(r["text"], Via(r["via"])).verdict is Verdict.SIGNUP for r in signups)

    def per_message(rule: Any) -> float:
        samples = []
        for _ in range(20):
            t0 = time.perf_counter()
            for r in rows:
                rule(r)
            samples.append((time.perf_counter() - t0) / len(rows) * 1e6)
        return percentile(samples, 50)

    n = len(rows)
    return [
        Result.rate(f"classifier: questions ticketed ({len(questions)} of {n} messages)", q_ours, q_old, "%"),
        Result.rate(f"classifier: non-questions not ticketed ({len(others)})", n_ours, n_old, "%"),
        Result.expect("classifier: sign-ups recognised", s_ours, len(signups)),
        Result.expect(
            "classifier: goal >= 98 % on both met", float(q_ours >= 98 and n_ours >= 98), 1.0, "bool"
        ),
        Result.time(
            "classifier: time per message p50 (peer: the old rule)",
            per_message(ours),
            per_message(_old_rule),
            "us",
        ),
    ]
