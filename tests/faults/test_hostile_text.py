"""Hostile text in feed titles, member questions and staff answers: every message the bot sends is
within 4096 characters (UTF-16) and accepted by the sandbox's HTML check (no call refused)."""

from __future__ import annotations

import html
from pathlib import Path

from bot.chat import jobs
from sandbox import EDITORS_CHAT_ID, GROUP_ID, OPS_CHAT_ID, STAFF_CHAT_ID
from tests.chat.harness import running_bot

from .conftest import Figures
from .hostile import HostileServer

NASTY = [
    "<p>段落</p>", "<script>alert(1)</script>", "a << b >> c", "AT&T &amp; &nbsp; &#0; &", "</b><b>", "<a href='x'>",
    "😀👨‍👩‍👧‍👦🇨🇳", "مرحبا بالعالم", "\u202eRTL override\u202c", "\u200b零宽", "<", "& <",
]


def _tg_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _hostile_feed() -> bytes:
    items = []
    for i, bad in enumerate([*NASTY, "长" * 10_000, "😀" * 5000]):
        items.append(
            f"<item><title>{html.escape(bad)}</title><link>https://example.org/{i}?a=1&amp;b=&lt;2&gt;</link>"
            f"<description>{html.escape(bad)}</description><pubDate>Fri, 27 Nov 2026 08:00:00 +0800</pubDate></item>"
        )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{"".join(items)}'
            "</channel></rss>").encode()


def _check_everything_sent(h: object) -> int:
    calls = [c for c in h.sandbox.calls() if c["method"] in ("sendMessage", "editMessageText")]  # type: ignore[attr-defined]
    refused = [(c["method"], c.get("description")) for c in calls if not c.get("ok")]
    assert refused == [], f"Telegram refused: {refused[:3]}"
    for chat in (GROUP_ID, STAFF_CHAT_ID, EDITORS_CHAT_ID, OPS_CHAT_ID, 101, 201):
        for m in h.messages(chat):  # type: ignore[attr-defined]
            if m["sender_id"] == 9000 and m.get("plain_text"):
                assert _tg_len(m["plain_text"]) <= 4096
    return len(calls)


async def test_hostile_titles_in_the_digest(tmp_path: Path, figures: Figures) -> None:
    with HostileServer() as feeds:
        feeds.bodies["/nasty.xml"] = _hostile_feed()
        async with running_bot(tmp_path) as h:
            cfg = h.services.publisher.config
            h.services.publisher.config = cfg.model_copy(update={"sources": tuple(
                s.model_copy(update={"url": feeds.base + "/nasty.xml"}) if s.name == "jobs" else s
                for s in cfg.sources)})
            with figures.run() as run:
                run.faults += len(NASTY) + 2
                outcomes = await jobs.deliver_slot(h.app, "morning")
                assert [o.outcome for o in outcomes] == ["sent"]
                _check_everything_sent(h)
                text = "\n".join(m["plain_text"] for m in h.messages(GROUP_ID) if m["sender_id"] == 9000)
                assert "招聘信息" in text
                # markup in a title is shown as text or stripped by the feed cleaner, never sent as markup
                assert "a << b >> c" in text and "AT&T" in text
                assert "alert(1)" not in text or "<script>" in text


async def test_hostile_question_and_answer(tmp_path: Path, figures: Figures) -> None:
    question = "@servicebot 请问 " + " ".join(NASTY) + " " + "问" * 3000
    answer = " ".join(NASTY) + " " + "答" * 3500
    async with running_bot(tmp_path) as h:
        with figures.run() as run:
            run.faults += 2
            await h.say(101, GROUP_ID, question)
            card = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["sender_id"] == 9000 and "#" in m["plain_text"])
            assert "<script>" in card["plain_text"]
            await h.say(201, STAFF_CHAT_ID, "/reply 1 " + answer)
            relayed = await h.wait_for_message(
                GROUP_ID, lambda m: m["sender_id"] == 9000 and "<script>alert(1)</script>" in m["plain_text"]
            )
            assert "AT&T" in relayed["plain_text"]
            await h.settle(0.5)
            _check_everything_sent(h)
