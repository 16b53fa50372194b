"""One label for an FAQ entry wherever staff read it — the card's "已自动答复" line and the draft's sources
alike: "FAQ 子女入学/1", the topic's display name in the configured language, never its file key
("education/1"); and the card's labels punctuated for that language ("Owner: …", "by 11:00")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sandbox import STAFF_CHAT_ID
from tests.chat.harness import running_bot
from tests.desk_chat.test_desk_flow import FRIDAY_10, ask, card_of


@pytest.mark.parametrize(("lang", "label"), [("zh", "FAQ 子女入学/1"), ("en", "FAQ School enrolment/1")])
async def test_the_card_names_the_faq_entry_one_way_in_the_users_language(
    tmp_path: Path, lang: str, label: str
) -> None:
    async with running_bot(tmp_path, now=FRIDAY_10, language=lang) as h:
        await ask(h, 105, "@servicebot 孩子上学要什么材料")
        assert h.services.desk.get(1).faq_offered == "education/1"
        card = (await card_of(h, 1))["plain_text"]
        labels = re.findall(r"FAQ [^/「“()（）\n]+/\d+", card)
        assert len(labels) >= 2 and set(labels) == {label}, card  # the offer line and the draft's sources
        assert "education" not in card, card
        # the draft is the very FAQ answer the member already read in the promise: staff are told so
        assert ("这正是提问人已看到的自动答复" if lang == "zh" else "the asker already read") in card, card
        asked = await h.say(201, STAFF_CHAT_ID, "/ticket 1")  # the audit trail names the entry the same way
        history = await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["reply_to_message_id"] == asked["message_id"])
        assert label in history["plain_text"].split("\n", 2)[2] and "education" not in history["plain_text"], history["plain_text"]
        if lang == "en":  # the card's own punctuation follows the reader's language (the question is the member's)
            ours = card.split("💡 Draft")[0]  # the draft below is the FAQ's (Chinese) answer
            assert "：" not in ours and "First response: by 11:00" in card and "Owner: (unclaimed)" in card, card
        else:
            assert "首次答复：11:00 前" in card and "负责人：（待认领）" in card, card
