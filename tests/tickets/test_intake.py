"""The intake classifier (bot/tickets/intake.py) on the labelled set tests/data/intake/messages.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.tickets.intake import Verdict, Via, classify

DATA = Path(__file__).resolve().parents[1] / "data" / "intake" / "messages.yaml"


def load() -> list[dict[str, Any]]:
    rows = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    for i, row in enumerate(rows):
        assert set(row) <= {"via", "label", "text", "media"}, (
            f"{DATA.name} entry {i}: unknown keys {set(row)}"
        )
        Via(row["via"]), Verdict(row["label"])  # a typo in the data is an error, not a silent miss
    return rows


def rates(rows: list[dict[str, Any]]) -> tuple[float, float, list[str]]:
    """(share of questions ticketed, share of the rest not ticketed, the misses explained)."""
    q_hit = q_all = n_hit = n_all = 0
    misses = []
    for row in rows:
        got = classify(row["text"], Via(row["via"]), attachment=bool(row.get("media")))
        want = row["label"] == Verdict.QUESTION
        if want:
            q_all += 1
            q_hit += got.is_question
        else:
            n_all += 1
            n_hit += not got.is_question
        if got.is_question != want:
            misses.append(f"{row['label']} -> {got.explain()}: {row['text']!r}")
    return q_hit / q_all, n_hit / n_all, misses


def test_the_labelled_set_is_big_and_varied() -> None:
    rows = load()
    labels = [r["label"] for r in rows]
    assert len(rows) >= 200
    assert labels.count("question") >= 100 and len(rows) - labels.count("question") >= 100
    assert {r["via"] for r in rows} == {v.value for v in Via} - {"none"}
    assert sum(1 for r in rows if r["text"].isascii() and r["text"]) >= 20  # some English
    assert sum(1 for r in rows if r.get("media")) >= 10


def test_goal_98_percent_of_questions_ticketed_and_98_percent_of_the_rest_not() -> None:
    questions, others, misses = rates(load())
    assert questions >= 0.98 and others >= 0.98, "\n".join(misses)


@pytest.mark.parametrize(
    ("text", "via", "verdict"),
    [
        ("👍", Via.REPLY_DIGEST, Verdict.ACK),
        ("收到，谢谢", Via.REPLY_DIGEST, Verdict.THANKS),
        ("我报名读书会，2个人", Via.REPLY_SIGNUP, Verdict.SIGNUP),
        ("我报名读书会，2个人", Via.REPLY_NOTICE, Verdict.CHATTER),
        ("好的，谢谢李老师！", Via.REPLY_ANSWER, Verdict.THANKS),
        ("谢谢！那社保卡呢？", Via.REPLY_ANSWER, Verdict.QUESTION),
        ("@servicebot 医保卡丢了补办", Via.MENTION, Verdict.QUESTION),
        ("@servicebot 在吗", Via.MENTION, Verdict.EMPTY),
        ("", Via.PRIVATE, Verdict.EMPTY),
        ("今天好冷啊", Via.REPLY_DIGEST, Verdict.CHATTER),
        ("今天好冷啊", Via.NONE, Verdict.CHATTER),
    ],
)
def test_decisions(text: str, via: Via, verdict: Verdict) -> None:
    assert classify(text, via).verdict is verdict


def test_a_captionless_photo_in_private_is_a_question_but_not_under_a_digest() -> None:
    assert classify("", Via.PRIVATE, attachment=True).is_question
    assert not classify("", Via.REPLY_DIGEST, attachment=True).is_question


def test_the_explanation_never_quotes_the_message() -> None:
    for row in load():
        text = row["text"].replace("@servicebot", "").strip()
        why = classify(row["text"], Via(row["via"]), attachment=bool(row.get("media"))).explain()
        words = [
            w
            for w in (text[i : i + 2] for i in range(len(text) - 1))
            if any("\u4e00" <= c <= "\u9fff" for c in w)
        ]
        assert not any(w in why for w in words), (why, text)
