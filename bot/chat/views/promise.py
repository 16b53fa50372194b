"""The promise: the one public reply to a question, edited in place through the ticket's life.

What the group sees (at most 3 visible lines; everything longer is folded)::

    💡 <b>FAQ question？</b>the FAQ answer's first sentences     (only when an FAQ entry fits)
    已受理 #12 · 子女入学 · 受理人 王敏 · 预计 14:30 前答复     (the status line, edited in place)
    ▸ the rest of the FAQ answer … 【一次性告知 · 子女入学】 …   (an expandable blockquote, folded)

Each thing is shown once: the answer's first sentences on the visible line and only its continuation in
the fold (never the answer again under a heading), then the checklist; the buttons 解决了 / 找人工 while
the offer decides.

The status line follows the ticket: 预计 … 前答复 (open) -> 受理人 X (claim, transfer, auto-assign) ->
已超时，主管 Y 跟进 (escalation) -> ✅ 已答复 with a link to the answer -> 已办结 / 已自动办结 with the
rating buttons -> 您的评价 … (or 已重新打开 after 不满意 / a follow-up). No new group message for any of it.

The folded checklist is Bot API 7.4's ``<blockquote expandable>`` (https://core.telegram.org/bots/api#html-style;
TDLib: "collapsed by default to 3 lines with the ability to show full text").

Editing: https://core.telegram.org/bots/api#editmessagetext — a bot may edit its own messages in a group
at any time (the 48-hour limit applies only to business messages); Telegram answers "message is not
modified" to an edit that changes nothing, which :meth:`Outbox.edit` counts as success.

This module is the view, pure (ticket + :class:`PromiseFacts` -> text + keyboard); bot/chat/promise.py
looks up the facts and sends the edit through the outbox, the one sender.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.chat.callbacks import FAQ, RATE
from bot.chat.views.common import message_link, user_link, when
from bot.texts import Markup, escape, plain, tr
from bot.tickets.model import EventKind, Rating, Status, Ticket
from bot.tickets.topics import Checklist, FaqEntry

__all__ = [
    "FAQ_LINE",
    "PromiseFacts",
    "batch_view",
    "faq_heading",
    "faq_keyboard",
    "promise_html",
    "promise_keyboard",
    "rating_keyboard",
    "split_answer",
    "status_line",
]

FAQ_LINE = 90  # characters of the FAQ answer shown on its visible line (whole sentences); the rest is in the fold


def faq_keyboard(lang: str, number: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(plain(lang, "btn_solved"), callback_data=FAQ.pack("ok", number)),
                InlineKeyboardButton(plain(lang, "btn_human"), callback_data=FAQ.pack("human", number)),
            ]
        ]
    )


def rating_keyboard(lang: str, number: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    plain(lang, f"rating_{r.value}"), callback_data=RATE.pack(number, r.value)
                )
                for r in Rating
            ]
        ]
    )


@dataclass(frozen=True)
class PromiseFacts:
    """What the promise needs besides the ticket (the chat layer looks these up)."""

    lang: str
    tz: ZoneInfo
    topic_label: str
    checklist: Checklist | None
    faq: FaqEntry | None
    supervisors: tuple[str, ...]  # names
    resumes_at: datetime | None = None  # asked outside service hours: when service resumes
    day_off: bool = False  # asked on a weekend or public holiday (not only after hours on a workday)
    hotline: str = ""  # service.hotline: the visible human path under every automated answer


def _when(lang: str, due: datetime, since: datetime, tz: ZoneInfo) -> str:
    """HH:MM when the deadline falls on the day asked, else with its date and weekday ("11月30日周一 10:30")."""
    return when(due, lang, tz, since, weekday=True)


def _closed_by(t: Ticket) -> EventKind | None:
    for e in reversed(t.events):
        if e.kind in (EventKind.CLOSED, EventKind.AUTO_CLOSED, EventKind.FAQ_RESOLVED):
            return e.kind
    return None


def _rating_label(lang: str, r: Rating) -> str:
    return tr(lang, f"rating_{r.value}")


def status_line(t: Ticket, f: PromiseFacts) -> Markup:
    """The promise's one status line (HTML)."""
    lang = f.lang
    parts = [tr(lang, "promise_head", n=t.number, topic=f.topic_label)]
    closed_by = _closed_by(t)
    if t.status is Status.CLOSED:
        if closed_by is EventKind.FAQ_RESOLVED:
            parts.append(tr(lang, "promise_self_solved"))
        else:
            auto = closed_by is EventKind.AUTO_CLOSED
            if t.rating is None:
                parts.append(tr(lang, "promise_auto_closed_rate" if auto else "promise_closed_rate"))
            else:
                key = "promise_auto_rated" if auto else "promise_rated"
                parts.append(tr(lang, key, rating=_rating_label(lang, t.rating)))
        return Markup(" · ").join(parts)
    if t.owner_id is not None:
        parts.append(tr(lang, "promise_owner", name=t.owner_name))
    if t.status is Status.ANSWERED:
        last = t.answers[-1] if t.answers else None
        link = message_link(t.chat_id, last.message_id) if last is not None and last.message_id else None
        parts.append(tr(lang, "promise_answered_html", link=link) if link else tr(lang, "promise_answered"))
        return Markup(" · ").join(parts)
    overdue = (t.escalated_first_response and t.first_response_at is None) or t.escalated_resolution
    if overdue:
        sup = plain(lang, "list_separator").join(f.supervisors) or "—"
        parts.append(tr(lang, "promise_escalated", name=sup))
    elif t.reopened:
        if t.rating is not None:  # 不满意 reopened it: the asker sees their rating was heard
            parts.append(tr(lang, "promise_your_rating", rating=_rating_label(lang, t.rating)))
        parts.append(tr(lang, "promise_reopened", when=_when(lang, t.resolution_due, t.created_at, f.tz)))
    else:
        due = _when(lang, t.first_response_due, t.created_at, f.tz)
        line = tr(lang, "promise_due", when=due)
        if f.resumes_at is not None and t.owner_id is None:
            # the date once: service resumes on the day of the deadline, so only its time is repeated
            resumes = _when(lang, f.resumes_at, t.first_response_due, f.tz)
            line += tr(lang, "promise_day_off" if f.day_off else "promise_after_hours", when=resumes)
        parts.append(line)
    return Markup(" · ").join(parts)


_SENTENCE = re.compile(r"[^。！？；!?;]+[。！？；!?;]?")
_FULL_WIDTH_END = tuple("。！？；：")  # full-width marks carry their own space
_ASCII_END = tuple(".!?;:")


def split_answer(text: str, limit: int) -> tuple[str, str]:
    """The answer cut in two, each part shown once: (as many whole sentences as fit in ``limit`` characters,
    on one line, and at least the first sentence up to twice that; the rest as written). A first sentence
    longer still is cut at its last comma within ``limit`` (else at ``limit``) with "…", and the rest starts
    with "…" — a member reads a statement, then its continuation, never the start twice."""
    text = text.strip()
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat, ""
    kept = ""
    for m in _SENTENCE.finditer(text):
        longer = " ".join((kept + m.group()).split())
        if len(longer) > (limit if kept.strip() else 2 * limit):
            break
        kept += m.group()
    if kept.strip():
        return " ".join(kept.split()), text[len(kept) :].strip()
    comma = max(flat.rfind(c, 0, limit) for c in "，、,")
    cut = comma + 1 if comma > limit // 2 else limit - 1
    return flat[:cut].rstrip("，、, ") + "…", "…" + flat[cut:].lstrip()


def faq_heading(question: str, lang: str) -> Markup:
    """💡 and the FAQ's question in bold, then what joins it to the answer: nothing after a question that
    ends in its own punctuation ("…材料？一般需要"), never "？：" (English: one space)."""
    q = question.strip()
    if q.endswith(_FULL_WIDTH_END):
        sep = ""
    elif q.endswith(_ASCII_END):
        sep = " "
    else:  # a heading without punctuation ("雄才卡办理"): a colon in the reader's language
        sep = plain(lang, "faq_heading_sep")
    return Markup("💡 <b>{}</b>{}").format(q, sep)


def promise_html(t: Ticket, f: PromiseFacts) -> Markup:
    """The promise's text: [the FAQ answer's first sentences], the status line, the fold (the rest of the
    answer, then the 一次性告知 checklist): each shown once."""
    lines: list[Markup] = []
    folded: list[Markup] = []
    if f.faq is not None:
        answer = f.faq.member_answer  # editorial marks ("（待本地核实）") are for staff, not members
        shown, rest = split_answer(answer, FAQ_LINE)
        human = Markup(" · ☎ ") + tr(f.lang, "hotline_line", hotline=f.hotline) if f.hotline else ""
        lines.append(faq_heading(f.faq.question, f.lang) + escape(shown) + human)
        if rest:
            folded.append(escape(rest))
    lines.append(status_line(t, f))
    if f.checklist is not None:
        folded.append(escape(f.checklist.render(f.topic_label, f.lang)))
    if folded:
        # one folded quote: the visible part stays short however long the checklist is
        lines.append(Markup("<blockquote expandable>{}</blockquote>").format(Markup("\n\n").join(folded)))
    return Markup("\n").join(lines)


def promise_keyboard(t: Ticket, lang: str, *, faq_live: bool) -> InlineKeyboardMarkup | None:
    """解决了 / 找人工 while the FAQ offer decides; the rating buttons once closed and not yet rated
    (auto-closed tickets are rated too; one the asker solved with the FAQ is not asked again)."""
    if t.status is Status.CLOSED:
        if t.rating is None and _closed_by(t) is not EventKind.FAQ_RESOLVED:
            return rating_keyboard(lang, t.number)
        return None
    return faq_keyboard(lang, t.number) if faq_live else None


def batch_view(
    tickets: Sequence[Ticket], facts: Sequence[PromiseFacts], lang: str
) -> tuple[Markup, InlineKeyboardMarkup | None]:
    """A burst's shared acknowledgement (bot/chat/burst.py): each asker mentioned with their status line;
    rating buttons for each of its tickets that is closed and not yet rated."""
    lines, rows = [], []
    for t, f in zip(tickets, facts, strict=True):
        lines.append(user_link(t.asker_id, t.asker_name or str(t.asker_id)) + " " + status_line(t, f))
        if promise_keyboard(t, lang, faq_live=False) is not None:
            rows.append(
                [
                    InlineKeyboardButton(
                        f"#{t.number} {plain(lang, 'rating_' + r.value)}", callback_data=RATE.pack(t.number, r.value)
                    )
                    for r in Rating
                ]
            )
    return Markup("\n").join(lines), InlineKeyboardMarkup(rows) if rows else None
