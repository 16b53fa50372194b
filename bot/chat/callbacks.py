"""Every button's callback data, declared once: a fixed prefix and named fields ("tk:claim:12").

Keyboards build data with :meth:`Callback.pack`; app.py registers one ``CallbackQueryHandler`` per
format with :attr:`Callback.pattern`, so each handler gets its fields from ``context.match`` and no
handler parses ``query.data`` by hand (PTB's examples/inlinekeyboard2.py; aiogram's CallbackData).
Telegram allows 1-64 bytes of callback data (https://core.telegram.org/bots/api#inlinekeyboardbutton).
The formats are the wire format of buttons already sent: changing one orphans the old buttons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ASSIST",
    "ASSIST_CANNED",
    "ASSIST_CANNED_PICK",
    "ASSIST_CLASS",
    "ASSIST_DRAFT_EDIT",
    "ASSIST_DRAFT_SEND",
    "ASSIST_PROPOSAL_APPROVE",
    "ASSIST_PROPOSAL_REJECT",
    "ASSIST_SAVE_FAQ",
    "CARD_BACK",
    "CARD_CLAIM",
    "CARD_CLOSE",
    "CARD_NOTE",
    "CARD_PICK",
    "CARD_TO",
    "COMPLAIN",
    "EDITOR_DIGEST",
    "EDITOR_SECTION",
    "FAQ",
    "RATE",
    "Callback",
]

MAX_DATA = 64  # bytes


@dataclass(frozen=True)
class Callback:
    """A callback data format: ``prefix`` then one ``:value`` per field, each matching its regex."""

    prefix: str
    fields: tuple[tuple[str, str], ...] = ()  # (name, regex of its value)

    def pack(self, *values: object) -> str:
        if len(values) != len(self.fields):
            raise ValueError(f"{self.prefix}: expected {len(self.fields)} values, got {len(values)}")
        data = ":".join([self.prefix, *(str(v) for v in values)])
        if len(data.encode()) > MAX_DATA or not self.pattern.match(data):
            raise ValueError(f"callback data {data!r} does not fit {self.pattern.pattern}")
        return data

    @property
    def pattern(self) -> re.Pattern[str]:
        """The regex a ``CallbackQueryHandler`` takes: each field a named group."""
        groups = "".join(f":(?P<{name}>{regex})" for name, regex in self.fields)
        return re.compile(f"^{re.escape(self.prefix)}{groups}$")


_NUMBER = ("number", r"\d{1,9}")

# the staff card (bot/chat/staff.py)
CARD_CLAIM = Callback("tk:claim", (_NUMBER,))
CARD_PICK = Callback("tk:xfer", (_NUMBER,))  # 转交: show the staff to pick from
CARD_TO = Callback("tk:to", (_NUMBER, ("user", r"\d{1,15}")))  # the one picked
CARD_NOTE = Callback("tk:note", (_NUMBER,))
CARD_CLOSE = Callback("tk:close", (_NUMBER,))
CARD_BACK = Callback("tk:card", (_NUMBER,))  # 取消 in the picker: the card's own buttons again
# the member's promise (bot/chat/questions.py, members.py, complaints.py)
FAQ = Callback("faq", (("choice", r"ok|human"), _NUMBER))
RATE = Callback("rate", (_NUMBER, ("rating", r"satisfied|basic|unsatisfied")))
COMPLAIN = Callback("cp", (_NUMBER,))
# the editors' conversation (bot/chat/editors.py)
EDITOR_DIGEST = Callback("ed:d", (("digest", r"morning|tea"),))
EDITOR_SECTION = Callback("ed:s", (("section", r".+"),))
# 智能帮办 on the card and on FAQ proposals (bot/chat/assist.py)
ASSIST_DRAFT_SEND = Callback("as:send", (_NUMBER,))  # 发送草稿
ASSIST_DRAFT_EDIT = Callback("as:edit", (_NUMBER,))  # 修改草稿
ASSIST_CANNED = Callback("as:cn", (_NUMBER,))  # 常用回复: the picker
ASSIST_CANNED_PICK = Callback("as:cp", (_NUMBER, ("key", r"[a-z0-9_-]{1,30}/\d{1,3}")))  # one picked
ASSIST_CLASS = Callback("as:cls", (_NUMBER,))  # 一并答复 the class of the ticket
ASSIST_SAVE_FAQ = Callback("as:kb", (_NUMBER,))  # 存为问答
ASSIST_PROPOSAL_APPROVE = Callback("as:ok", (_NUMBER,))  # an editor approves proposal N
ASSIST_PROPOSAL_REJECT = Callback("as:no", (_NUMBER,))
#: every format above, by the action bot/chat/assist.py dispatches on
ASSIST = {
    "send": ASSIST_DRAFT_SEND,
    "edit": ASSIST_DRAFT_EDIT,
    "cn": ASSIST_CANNED,
    "cp": ASSIST_CANNED_PICK,
    "cls": ASSIST_CLASS,
    "kb": ASSIST_SAVE_FAQ,
    "ok": ASSIST_PROPOSAL_APPROVE,
    "no": ASSIST_PROPOSAL_REJECT,
}
