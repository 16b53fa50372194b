"""The promise: the one public reply to a question, edited in place through the ticket's life.

What the group sees (at most 3 visible lines; everything longer is folded)::

    💡 <b>FAQ question</b>：the FAQ answer on one line…        (only when an FAQ entry fits)
    已受理 #12 · 子女入学 · 受理人 王敏 · 预计 14:30 前答复     (the status line, edited in place)
    ▸ 【一次性告知 · 子女入学】 …                                (an expandable blockquote, folded)

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
from bot.chat.views.common import message_link, user_link
from bot.texts import Markup, escape, plain, tr
from bot.texts.measure import shorten
from bot.tickets.model import EventKind, Rating, Status, Ticket
from bot.tickets.topics import Checklist, FaqEntry

__all__ = [
    "FAQ_LINE",
    "PromiseFacts",
    "batch_view",
    "faq_keyboard",
    "promise_html",
    "promise_keyboard",
    "rating_keyboard",
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
    hotline: str = ""  # service.hotline: the visible human path under every automated answer


def _when(lang: str, due: datetime, since: datetime, tz: ZoneInfo) -> str:
    """HH:MM when the deadline falls on the day asked, else its date too ("1月4日 10:30")."""
    local = due.astimezone(tz)
    if local.date() == since.astimezone(tz).date():
        return f"{local:%H:%M}"
    return f"{local:%m-%d %H:%M}" if lang.startswith("en") else f"{local.month}月{local.day}日 {local:%H:%M}"


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
        sup = "、".join(f.supervisors) or "—"
        parts.append(tr(lang, "promise_escalated", name=sup))
    elif t.reopened:
        if t.rating is not None:  # 不满意 reopened it: the asker sees their rating was heard
            parts.append(tr(lang, "promise_your_rating", rating=_rating_label(lang, t.rating)))
        parts.append(tr(lang, "promise_reopened", when=_when(lang, t.resolution_due, t.created_at, f.tz)))
    else:
        due = _when(lang, t.first_response_due, t.created_at, f.tz)
        line = tr(lang, "promise_due", when=due)
        if f.resumes_at is not None and t.owner_id is None:
            line += tr(lang, "promise_after_hours", when=_when(lang, f.resumes_at, t.created_at, f.tz))
        parts.append(line)
    return Markup(" · ").join(parts)


def _one_line(text: str, limit: int) -> str:
    """The answer on one line: as many whole sentences as fit in ``limit`` characters (a sentence ends at
    。！？；), else the first sentence cut with "…" — a member reads a complete statement, not a fragment."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    kept = ""
    for sentence in re.findall(r"[^。！？；!?;]+[。！？；!?;]?", flat):
        if len(kept) + len(sentence) > limit:
            break
        kept += sentence
    return kept.strip() or shorten(flat, limit)


def promise_html(t: Ticket, f: PromiseFacts) -> Markup:
    """The promise's text: [FAQ line], the status line, the folded checklist (and the whole FAQ answer)."""
    lines: list[str] = []
    folded: list[str] = []
    if f.faq is not None:
        answer = f.faq.member_answer.strip()  # editorial marks ("（待本地核实）") are for staff, not members
        short = _one_line(answer, FAQ_LINE)
        human = Markup(" · ☎ ") + tr(f.lang, "hotline_line", hotline=f.hotline) if f.hotline else ""
        lines.append(Markup("💡 <b>{}</b>：{}{}").format(f.faq.question, short, human))
        if short != answer:
            folded.append(tr(f.lang, "faq_offer", question=f.faq.question) + "\n" + answer)
    lines.append(status_line(t, f))
    if f.checklist is not None:
        folded.append(escape(f.checklist.render(f.topic_label, f.lang)))
    if folded:
        # one folded quote: the visible part stays short however long the checklist is
        lines.append(Markup("<blockquote expandable>{}</blockquote>").format(Markup("\n\n").join(folded)))
    return Markup("\n").join(lines)


def promise_keyboard(t: Ticket, lang: str, *, faq_live: bool) -> InlineKeyboardMarkup | None:
    """已解决 / 转人工 while the FAQ offer decides; the rating buttons once closed and not yet rated
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
