"""Editorial marks: notes to the service team inside content ("（待本地核实）": an address, a hotline or a
local rule still to be confirmed), never shown to members.

Members get :func:`for_members` of every FAQ answer, checklist and queued item; staff and editors see the
marks (the staff card says how many the offered answer carries; ``servicebot check`` counts them per
file: :func:`count`). The forms in content/ today, and what members see instead::

    以最新政策为准（待本地核实）。            -> 以最新政策为准。
    （入口以官方公布为准，待本地核实）         -> （入口以官方公布为准）
    （具体路段**待本地核实**）                -> (the parenthesis goes: it only said "to be checked")
    **（待本地核实）**                        -> (gone, with its bold)
"""

from __future__ import annotations

import re

__all__ = ["MARK_WORDS", "count", "for_members"]

#: what an editorial mark says (the first is the one content/ uses; the others are its usual variants)
MARK_WORDS = ("待本地核实", "待核实", "待确认", "待补充", "待更新")

_WORD = "(?:" + "|".join(MARK_WORDS) + ")"
_B = r"\*{0,2}"  # Markdown bold around the mark or inside the parenthesis
# a parenthesis that only says "to be checked", maybe after a short label: （待本地核实） （地址**待本地核实**）
_WHOLE = re.compile(rf"{_B}[（(]{_B}[^（）()，,；;。\n]{{0,8}}?{_B}{_WORD}{_B}[）)]{_B}")
# the mark as the last clause of a longer parenthesis: （入口以官方公布为准，待本地核实）
_CLAUSE = re.compile(rf"\s*[，,；;、]\s*{_B}{_WORD}{_B}(?=\s*[）)])")
# anywhere else, bare or bold
_BARE = re.compile(rf"{_B}{_WORD}{_B}")


def count(text: str) -> int:
    """How many editorial marks ``text`` carries."""
    return len(re.findall(_WORD, text))


def for_members(text: str) -> str:
    """``text`` without its editorial marks (and without the punctuation they leave dangling)."""
    out = _WHOLE.sub("", text)
    out = _CLAUSE.sub("", out)
    out = _BARE.sub("", out)
    out = re.sub(r"[ \t]+([。，；：！？])", r"\1", out)  # "以…为准 。" after a mark in the middle went
    out = re.sub(r"([，；、])\1+", r"\1", out)
    out = re.sub(r"[（(]\s*[）)]", "", out)
    out = re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", out)  # "marked **（待本地核实）** here": one space left
    return out
