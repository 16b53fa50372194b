"""The staff card of a ticket and its buttons: pure, from the ticket and a few facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.chat.callbacks import CARD_BACK, CARD_CLAIM, CARD_CLOSE, CARD_NOTE, CARD_PICK, CARD_TO, COMPLAIN
from bot.chat.views.common import message_link, status_label, when
from bot.texts import Markup, escape, plain, tr
from bot.texts.measure import MAX_MESSAGE, shorten, split_plain, tg_len
from bot.tickets.model import Status, Ticket

__all__ = [
    "ANSWER_MARGIN",
    "CARD_NOTE_LIMIT",
    "CARD_QUOTE",
    "CardFacts",
    "answer_parts",
    "card_html",
    "card_keyboard",
    "complain_keyboard",
    "picker_keyboard",
]

# A member may send 4096 characters, and the card quotes the question beside its own lines: the quote and
# each note are shortened so the card always fits Telegram's 4096 (the full text: the link, /ticket N).
CARD_QUOTE = 2000
CARD_NOTE_LIMIT = 200
ANSWER_MARGIN = 200  # room for the header and signature of each part of an answer (UTF-16 units)


@dataclass(frozen=True)
class CardFacts:
    """What the card shows besides the ticket (the handler looks these up)."""

    lang: str
    tz: ZoneInfo
    now: datetime
    topic_label: str
    supervisors: Markup  # mentions, for an unclaimed complaint
    on_duty: Markup  # mentions of the topic's on-duty staff, for an unclaimed question
    faq_line: Markup | None = None  # the FAQ offer and what the asker did with it
    extra_lines: tuple[Markup, ...] = ()  # 智能帮办's lines: the draft and its sources, 一类事 (bot/chat/assist.py)


def _field(lang: str, key: str, value: object) -> Markup:
    """"label：value" (zh) / "label: value" (en): a card line's label and its value, in the reader's punctuation."""
    return tr(lang, "label_value", label=tr(lang, key), value=value)


def card_html(t: Ticket, f: CardFacts) -> Markup:
    """The card: number, topic, status, asker, group, question, link, deadlines, owner, answers, notes."""
    lang = f.lang
    kind = tr(lang, "card_kind_complaint") + " · " if t.is_complaint else ""
    lines = [Markup("#{} · {}{} · <b>{}</b>").format(t.number, kind, f.topic_label, status_label(lang, t.status))]
    if t.about is not None:
        lines.append(_field(lang, "card_about", f"#{t.about}"))
    group = t.chat_title or str(t.chat_id)
    lines.append(_field(lang, "card_asker", t.asker_name or "—") + " · " + _field(lang, "card_group", group))
    more = plain(lang, "card_more", total=len(t.text), n=t.number)
    lines.append(Markup("<blockquote>{}</blockquote>").format(shorten(t.text, CARD_QUOTE, more)))
    link = message_link(t.chat_id, t.message_id)
    if link:
        lines.append(Markup('<a href="{}">{}</a>').format(link, tr(lang, "card_link")))

    def due(moment: datetime, done: bool) -> Markup | str:
        return "✓" if done else tr(lang, "card_due", when=when(moment, lang, f.tz, f.now))

    lines.append(
        _field(lang, "card_first_due", due(t.first_response_due, t.first_response_at is not None))
        + " · "
        + _field(lang, "card_resolution_due", due(t.resolution_due, t.closed_at is not None))
    )
    if f.faq_line:
        lines.append(f.faq_line)
    owner: Markup
    if t.owner_id is not None:
        owner = escape(t.owner_name)
    else:  # nobody took it: waiting, or closed by the asker's 已解决 under the FAQ offer
        owner = tr(lang, "card_self_solved" if t.status is Status.CLOSED else "card_nobody")
    if t.auto_assigned and t.owner_id is not None:
        owner += tr(lang, "card_auto")
    line = _field(lang, "card_owner", owner)
    if t.answers:
        line += " · " + tr(lang, "card_answers", n=len(t.answers))
    lines.append(line)
    if t.is_complaint and t.owner_id is None and t.status is Status.OPEN:
        # complaints go to the supervisors, not the owner
        lines.append(_field(lang, "card_supervisors", f.supervisors or "—"))
    elif t.owner_id is None and t.status is Status.OPEN and f.on_duty:
        # routing at intake: the topic's on-duty staff are mentioned at once
        lines.append(_field(lang, "card_on_duty", f.on_duty))
    if t.outcome:
        lines.append(_field(lang, "card_outcome", shorten(t.outcome, CARD_NOTE_LIMIT)))
    if t.notes:
        lines.append(_field(lang, "card_notes", ""))
        lines += [
            "• " + tr(lang, "label_value", label=n.staff_name, value=shorten(n.text, CARD_NOTE_LIMIT)) for n in t.notes[-5:]
        ]
    lines += f.extra_lines
    return Markup("\n").join(lines)


def card_keyboard(
    lang: str, t: Ticket, extra: Sequence[Sequence[InlineKeyboardButton]] = ()
) -> InlineKeyboardMarkup | None:
    """认领 while nobody owns it, 转交 once someone does (an unclaimed ticket is claimed, not handed on);
    备注 / 关闭 until closed; none once closed. ``extra``: the assistant's rows (bot/chat/assist.py)."""
    if t.status is Status.CLOSED or t.is_complaint:
        return None  # a complaint is closed by a supervisor with its outcome: /resolve N 结果
    first = (
        InlineKeyboardButton(plain(lang, "btn_claim"), callback_data=CARD_CLAIM.pack(t.number))
        if t.owner_id is None
        else InlineKeyboardButton(plain(lang, "btn_transfer"), callback_data=CARD_PICK.pack(t.number))
    )
    return InlineKeyboardMarkup(
        [
            [
                first,
                InlineKeyboardButton(plain(lang, "btn_note"), callback_data=CARD_NOTE.pack(t.number)),
                InlineKeyboardButton(plain(lang, "btn_close"), callback_data=CARD_CLOSE.pack(t.number)),
            ],
            *extra,
        ]
    )


def picker_keyboard(lang: str, t: Ticket, staff: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    """The staff who could take the ticket over (``staff``: everyone on the roster, as id and name)."""
    rows = [
        [InlineKeyboardButton(name, callback_data=CARD_TO.pack(t.number, user_id))]
        for user_id, name in staff
        if user_id != t.owner_id
    ]
    rows.append([InlineKeyboardButton(plain(lang, "btn_cancel"), callback_data=CARD_BACK.pack(t.number))])
    return InlineKeyboardMarkup(rows)


def complain_keyboard(lang: str, number: int) -> InlineKeyboardMarkup:
    """投诉 under an answer: the asker's complaint about ticket ``number`` (bot/chat/complaints.py)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(plain(lang, "btn_complain"), callback_data=COMPLAIN.pack(number))]])


def answer_parts(lang: str, number: int, text: str, name: str) -> list[Markup]:
    """The answer as the group shows it: one message, or parts of at most 4096 UTF-16 units each."""
    if tg_len(text) + ANSWER_MARGIN <= MAX_MESSAGE:
        return [tr(lang, "answer_html", n=number, text=text, name=name)]
    pieces = split_plain(text, MAX_MESSAGE - ANSWER_MARGIN)
    k = len(pieces)
    return [
        tr(lang, "answer_last_part_html" if i == k else "answer_part_html", n=number, i=i, k=k, text=piece, name=name)
        for i, piece in enumerate(pieces, 1)
    ]
