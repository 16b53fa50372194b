"""智能帮办 in the staff chat: a draft on every card, canned replies, 一类事 answered at once, 存为问答.

Thin hooks into the card (bot/chat/staff.py): :func:`card_lines` adds the draft and the class line to the
card's text, :func:`card_rows` its buttons, :func:`on_reply` takes replies to a draft or a class prompt,
:func:`stats_line` adds the drafts' figures to /stats and the weekly report. Everything the assistant
decides lives in bot/assist (no Telegram).

Nothing reaches a member without a person: a draft, a canned reply or a class answer is sent only when
a staff member taps or replies, and it goes through :func:`bot.chat.staff.answer_ticket` — the desk's
owner rules (首问负责) apply as to any answer: sending an unclaimed ticket's draft claims it for the
sender (answering claims, bot/tickets/desk.py), a ticket someone else owns is refused unless the sender
is a supervisor.

Button data: the ``ASSIST_*`` formats of bot/chat/callbacks.py (``as:<action>:<n>[:<key>]``): send
(the draft as it is), edit (the draft as a message to reply to), cn (canned replies picker), cp (a
canned reply picked), cls (answer the class of N), kb (存为问答), ok / no (an editor approves /
rejects proposal N).
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from bot.assist.book import AssistBook, Proposal, StoredDraft, append_entry
from bot.assist.classes import ClassIndex, Group
from bot.assist.drafts import Draft, build_draft, strip_marks
from bot.assist.llm import LlmRewriter
from bot.assist.replies import ALL_TOPICS, ReplyBook, load_replies
from bot.assist.similar import MatcherRetrieval
from bot.chat.callbacks import (
    ASSIST,
    ASSIST_CANNED,
    ASSIST_CANNED_PICK,
    ASSIST_CLASS,
    ASSIST_DRAFT_EDIT,
    ASSIST_DRAFT_SEND,
    ASSIST_PROPOSAL_APPROVE,
    ASSIST_PROPOSAL_REJECT,
    ASSIST_SAVE_FAQ,
    CARD_BACK,
)
from bot.chat.context import Services, services
from bot.chat.outbox import answer_query
from bot.chat.views.errors import error_text
from bot.texts import Markup, plain, tr
from bot.tickets.errors import DeskError, NotStaff
from bot.tickets.faq import FaqMatcher
from bot.tickets.model import Status, Ticket
from bot.tickets.topics import GENERAL, load_faq

log = logging.getLogger(__name__)

CARD_DRAFT = 800  # the draft as the card shows it (the whole of it: 修改草稿)
MAX_WINDOW = 300  # questions grouped at most (the newest)


@dataclass
class AssistState:
    book: AssistBook
    replies: ReplyBook
    retrieval: MatcherRetrieval
    llm: LlmRewriter | None
    no_draft: set[int] = field(default_factory=set)  # tickets nothing was found for (not searched again)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    class_prompts: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict)
    index: ClassIndex | None = None
    _classes: tuple[tuple[Any, ...], list[Group]] | None = None


def install(svc: Services) -> list[str]:
    """The assistant's state, built once with the services; returns the canned replies' problems (also
    reported by bot/checks.py with every content problem)."""
    replies, problems = load_replies(svc.config.content_dir / "replies", set(svc.library.topics) | {GENERAL})
    for line in problems:
        log.warning("content: %s", line)
    llm_cfg = svc.config.assist.llm
    llm = None
    if llm_cfg.base_url:
        llm = LlmRewriter(
            llm_cfg.base_url, llm_cfg.model, os.environ.get(llm_cfg.api_key_env, ""), llm_cfg.timeout_seconds
        )
    svc.assist = AssistState(AssistBook(svc.store), replies, _retrieval(svc), llm)
    return problems


def _retrieval(svc: Services) -> MatcherRetrieval:
    return MatcherRetrieval(svc.desk.matcher or FaqMatcher(svc.library))


def state(svc: Services) -> AssistState:
    if svc.assist is None:
        install(svc)
    assert svc.assist is not None
    return svc.assist


def reload_faq(svc: Services) -> list[str]:
    """Re-read content/faq into the running desk (an approved proposal is live without a restart)."""
    library, problems = load_faq(svc.config.content_dir / "faq")
    svc.desk.library = library
    svc.desk.matcher = FaqMatcher(library)
    svc.library = library
    st = state(svc)
    st.retrieval = _retrieval(svc)
    st.no_draft.clear()
    st.index = None
    st._classes = None
    return problems


# -- drafts -----------------------------------------------------------------------------------------------


def _recent(svc: Services, now: datetime) -> list[Ticket]:
    since = now - timedelta(days=svc.config.assist.recent_days)
    return [t for t in svc.desk.repo.created_since(since) if not t.is_complaint]


def draft_of(svc: Services, t: Ticket) -> StoredDraft | None:
    """The ticket's draft: stored, or built now for a ticket nobody answered yet (None: nothing close)."""
    if not svc.config.assist.drafts or t.is_complaint:
        return None
    st = state(svc)
    found = st.book.draft(t.number)
    if found is not None or t.answers or t.is_closed or t.number in st.no_draft:
        return found
    now = svc.clock.now()
    answered = [x for x in _recent(svc, now) if x.answers]
    draft = build_draft(t.text, st.retrieval, svc.library, answered, lang=svc.lang, exclude=t.number)
    if draft is None:
        st.no_draft.add(t.number)
        return None
    stored = st.book.put_draft(t.number, draft, now)
    if st.llm is not None:
        task = asyncio.get_running_loop().create_task(_rewrite(svc, st.llm, t.number, t.text, draft))
        st.tasks.add(task)
        task.add_done_callback(st.tasks.discard)
    return stored


async def _rewrite(svc: Services, llm: LlmRewriter, number: int, question: str, draft: Draft) -> None:
    """The LLM's version replaces the draft if it comes in time and nobody acted on the ticket yet."""
    text = await llm.rewrite(question, draft.text, svc.lang)  # the question and the draft: nothing else
    if text is None:
        return
    clean, marked = strip_marks(text)
    st = state(svc)
    t = svc.desk.get(number)
    current = st.book.draft(number)
    if current is None or current.outcome is not None or t.answers or t.is_closed or not clean:
        return
    st.book.put_draft(number, Draft(clean, draft.sources, draft.unverified or marked, rewritten=True), svc.clock.now())
    from bot.chat.cards import refresh_card

    await refresh_card(svc, t)


async def drain(svc: Services) -> None:
    """Wait for the LLM rewrites under way (at shutdown, and in tests)."""
    st = state(svc)
    if st.tasks:
        await asyncio.gather(*list(st.tasks), return_exceptions=True)


# -- 一类事 ------------------------------------------------------------------------------------------------


def classes(svc: Services) -> list[Group]:
    """Open and recent questions grouped (bot/assist/classes.py); the same window, the same groups."""
    st = state(svc)
    now = svc.clock.now()
    window: dict[int, Ticket] = {t.number: t for t in _recent(svc, now)}
    for t in svc.desk.repo.active():
        if not t.is_complaint:
            window[t.number] = t
    tickets = sorted(window.values(), key=lambda t: t.number)[-MAX_WINDOW:]
    key = tuple((t.number, t.text) for t in tickets)
    if st._classes is not None and st._classes[0] == key:
        return st._classes[1]
    if st.index is None:
        st.index = ClassIndex(st.retrieval)
    groups = st.index.update([(t.number, t.text) for t in tickets])  # a new question: compared, not regrouped
    st._classes = (key, groups)
    return groups


def _waiting(t: Ticket) -> bool:
    return not t.is_closed and not t.answers and not t.is_complaint


def class_of(svc: Services, t: Ticket) -> tuple[Group, list[int]] | None:
    """The ticket's class and its questions still waiting for an answer, when at least two wait."""
    if not _waiting(t):
        return None
    for g in classes(svc):
        if t.number in g.keys:
            waiting = [int(str(n)) for n in g.keys if _waiting(svc.desk.get(int(str(n))))]
            return (g, waiting) if len(waiting) >= 2 else None
    return None


def _numbers(numbers: list[int] | tuple[int, ...]) -> str:
    return " ".join(f"#{n}" for n in numbers)


# -- the card's hooks ------------------------------------------------------------------------------------


def card_lines(svc: Services, t: Ticket) -> list[Markup]:
    """The draft (or what became of it) and the class line, as HTML lines under the card."""
    lang = svc.lang
    lines: list[Markup] = []
    sd = draft_of(svc, t)
    if sd is not None:
        if sd.outcome in ("sent", "edited"):
            lines.append(tr(lang, f"assist_draft_outcome_{sd.outcome}"))
        elif t.answers or t.is_closed:
            lines.append(tr(lang, "assist_draft_outcome_ignored"))
        else:
            from bot.texts.measure import shorten

            title = tr(lang, "assist_draft_title", sources=sd.draft.sources_line())
            if sd.draft.rewritten:
                title += tr(lang, "assist_draft_rewritten")
            lines.append(title)
            lines.append(Markup("<blockquote expandable>{}</blockquote>").format(shorten(sd.draft.text, CARD_DRAFT, "…")))
            if sd.draft.unverified:
                lines.append(tr(lang, "assist_draft_unverified"))
            if t.faq_offered and all(s.kind == "faq" and s.ref == t.faq_offered for s in sd.draft.sources):
                # the member read this very answer in the promise: sent as-is it says the same thing twice
                lines.append(tr(lang, "assist_draft_seen"))
    found = class_of(svc, t)
    if found is not None:
        g, waiting = found
        count = len(g.keys)
        lines.append(tr(lang, "assist_class_line", count=count, label=g.label, numbers=_numbers(waiting)))
    return lines


def card_rows(svc: Services, t: Ticket) -> list[list[InlineKeyboardButton]]:
    """The assistant's buttons on the card: send / edit the draft, canned replies, the class, 存为问答."""
    if t.is_complaint:
        return []
    lang = svc.lang
    st = state(svc)
    rows: list[list[InlineKeyboardButton]] = []
    n = t.number
    if _waiting(t):
        sd = st.book.draft(n)
        if sd is not None and sd.outcome is None:
            rows.append([
                InlineKeyboardButton(plain(lang, "assist_btn_send_draft"), callback_data=ASSIST_DRAFT_SEND.pack(n)),
                InlineKeyboardButton(plain(lang, "assist_btn_edit_draft"), callback_data=ASSIST_DRAFT_EDIT.pack(n)),
            ])
    row: list[InlineKeyboardButton] = []
    if not t.is_closed and st.replies.for_topic(t.topic):
        row.append(InlineKeyboardButton(plain(lang, "assist_btn_canned"), callback_data=ASSIST_CANNED.pack(n)))
    found = class_of(svc, t)
    if found is not None:
        row.append(InlineKeyboardButton(plain(lang, "assist_btn_class", n=len(found[1])), callback_data=ASSIST_CLASS.pack(n)))
    if t.answers and not t.is_closed and st.book.pending_for(n) is None:  # a closed card has no buttons
        row.append(InlineKeyboardButton(plain(lang, "assist_btn_save_faq"), callback_data=ASSIST_SAVE_FAQ.pack(n)))
    if row:
        rows.append(row)
    return rows


def stats_line(svc: Services, since: datetime, until: datetime) -> str | None:
    """/stats and the weekly report: drafts offered, sent as-is, edited, ignored (None: no drafts)."""
    done = {
        t.number for t in svc.desk.repo.created_since(since) if t.answers or t.status is Status.CLOSED
    }
    c = state(svc).book.draft_counts(since, until, done)
    if not c.offered:
        return None
    return plain(svc.lang, "assist_stats_drafts", offered=c.offered, sent=c.sent, edited=c.edited, ignored=c.ignored)


# -- buttons ----------------------------------------------------------------------------------------------


def _canned_values(svc: Services, t: Ticket, by: int) -> dict[str, str]:
    from bot.chat.cards import when

    staff = svc.desk.roster.get(by)
    return {
        "asker": t.asker_name or ("您" if not svc.lang.startswith("en") else "there"),
        "number": str(t.number),
        "deadline": when(svc, t.resolution_due),
        "topic": svc.library.topic(t.topic).label(svc.lang),
        "staff": staff.name if staff is not None else str(by),
    }


def _picker(svc: Services, t: Ticket) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(r.title[:40], callback_data=ASSIST_CANNED_PICK.pack(t.number, r.key))]
        for r in state(svc).replies.for_topic(t.topic)
    ]
    rows.append([InlineKeyboardButton(plain(svc.lang, "assist_btn_back"), callback_data=CARD_BACK.pack(t.number))])
    return InlineKeyboardMarkup(rows)


async def send_canned(svc: Services, bot: Any, number: int, by: int, key: str) -> Markup:
    """A canned reply, filled in, sent as the ticket's answer; returns the staff-chat confirmation."""
    from bot.chat.cards import answer_ticket

    reply = state(svc).replies.get(key)
    if reply is None:
        return tr(svc.lang, "assist_canned_unknown", reply=key)
    t = svc.desk.get(number)
    await answer_ticket(svc, bot, number, by, reply.fill(_canned_values(svc, t, by)))
    return tr(svc.lang, "assist_canned_sent_ok", title=reply.title, n=number)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The assistant's buttons on cards (staff) and on FAQ proposals (editors)."""
    from bot.chat.cards import answer_ticket, card_html, refresh_card

    svc = services(context)
    query = update.callback_query
    if query is None or query.data is None:
        return
    found = next(((a, m) for a, cb in ASSIST.items() if (m := cb.pattern.match(query.data))), None)
    if found is None:
        await answer_query(query)
        return
    action, m = found
    number, key = int(m.group("number")), m.groupdict().get("key")
    user = query.from_user.id
    lang = svc.lang
    st = state(svc)
    if action in ("ok", "no"):
        await _review(svc, query, number, user, approve=action == "ok")
        return
    try:
        if not svc.desk.roster.is_staff(user):
            raise NotStaff()
        t = svc.desk.get(number)
        if action == "send":
            sd = st.book.draft(number)
            if sd is None or sd.outcome is not None:
                await answer_query(query, plain(lang, "assist_no_draft", n=number), show_alert=True)
                return
            t = await answer_ticket(svc, context.bot, number, user, sd.draft.text)
            st.book.set_outcome(number, "sent")
            await refresh_card(svc, t)
            await answer_query(query, plain(lang, "assist_draft_sent_ok", n=number))
        elif action == "edit":
            sd = st.book.draft(number)
            if sd is None:
                await answer_query(query, plain(lang, "assist_no_draft", n=number), show_alert=True)
                return
            sent = await svc.outbox.send(
                svc.config.chats.staff,
                tr(lang, "assist_draft_edit", n=number, text=sd.draft.text),
                reply_to=t.card_message_id,
            )
            if sent is not None:
                st.book.set_edit_message(number, sent.message_id)
            await answer_query(query)
        elif action == "cn":
            if not st.replies.for_topic(t.topic):
                await answer_query(query, plain(lang, "assist_canned_none"), show_alert=True)
                return
            if t.card_message_id is not None:
                await svc.outbox.edit(
                    svc.config.chats.staff,
                    t.card_message_id,
                    card_html(svc, t) + Markup("\n\n") + tr(lang, "assist_canned_pick", n=number),
                    keyboard=_picker(svc, t),
                )
            await answer_query(query)
        elif action == "cp" and key is not None:
            done = await send_canned(svc, context.bot, number, user, key)
            await answer_query(query, done.unescape())
        elif action == "cls":
            await _class_prompt(svc, query, t)
        elif action == "kb":
            await answer_query(query, (await propose_from_ticket(svc, t, user)).unescape())
            await refresh_card(svc, svc.desk.get(number))
        else:
            await answer_query(query)
    except DeskError as exc:
        log.info("assist button %s by %s refused: %s", query.data, user, exc.code)
        await answer_query(query, error_text(lang, exc).unescape(), show_alert=True)


async def _class_prompt(svc: Services, query: Any, t: Ticket) -> None:
    """一并答复: a message under the card listing the class; the reply to it answers them all."""
    lang = svc.lang
    found = class_of(svc, t)
    if found is None:
        await answer_query(query, plain(lang, "assist_class_gone", n=t.number), show_alert=True)
        return
    g, waiting = found
    sent = await svc.outbox.send(
        svc.config.chats.staff,
        tr(lang, "assist_class_prompt", count=len(waiting), label=g.label, numbers=_numbers(waiting)),
        reply_to=t.card_message_id,
    )
    if sent is not None:
        state(svc).class_prompts[(sent.chat_id, sent.message_id)] = tuple(waiting)
    await answer_query(query)


# -- replies in the staff chat ------------------------------------------------------------------------------


async def on_reply(svc: Services, bot: Any, msg: Message, target: Message, user_id: int) -> bool:
    """A reply to a draft (修改草稿) or to a class prompt (一并答复); False: not ours."""
    from bot.chat.cards import answer_ticket

    st = state(svc)
    lang = svc.lang
    text = msg.text or ""
    numbers = st.class_prompts.get((target.chat_id, target.message_id))
    if numbers is not None:
        await answer_class(svc, bot, msg, numbers, user_id, text)
        return True
    sd = st.book.by_edit_message(target.message_id)
    if sd is None:
        return False
    try:
        t = await answer_ticket(svc, bot, sd.number, user_id, text)
    except DeskError as exc:
        await msg.reply_text(error_text(lang, exc))
        return True
    st.book.set_outcome(sd.number, "sent" if text.strip() == sd.draft.text.strip() else "edited")
    from bot.chat.cards import refresh_card

    await refresh_card(svc, t)
    await msg.reply_text(tr(lang, "answered_ok", n=t.number))
    return True


async def answer_class(svc: Services, bot: Any, msg: Message, numbers: tuple[int, ...], by: int, text: str) -> None:
    """One answer for the class: each question answered in its own chat and thread, then closed (each
    ticket's own audit entries and rating); an FAQ entry is proposed from it."""
    from bot.chat.cards import answer_ticket, close_ticket

    lang = svc.lang
    done: list[int] = []
    skipped: list[str] = []
    for n in numbers:
        try:
            t = svc.desk.get(n)
            if not _waiting(t):
                skipped.append(f"#{n}" + plain(svc.lang, "aside", text=plain(svc.lang, f"status_{t.status.value}")))
                continue
            await answer_ticket(svc, bot, n, by, text)
            await close_ticket(svc, n, by)
            done.append(n)
        except DeskError as exc:
            skipped.append(f"#{n} {error_text(lang, exc).unescape()}")
    lines = [tr(lang, "assist_class_done", count=len(done), numbers=_numbers(done))]
    if skipped:
        lines.append(tr(lang, "assist_class_skipped", lines="；".join(skipped)))
    if done and text.strip():
        tickets = [svc.desk.get(n) for n in done]
        topics = [t.topic for t in tickets]
        topic = max(set(topics), key=topics.count)
        label = min((t.text for t in tickets), key=len)
        p = await propose(svc, question=label, answer=text.strip(), topic=topic, numbers=tuple(done), by=by)
        lines.append(tr(lang, "assist_faq_proposed", id=p.id))
    await msg.reply_text(Markup("\n").join(lines))


# -- 存为问答: FAQ proposals --------------------------------------------------------------------------------


async def propose_from_ticket(svc: Services, t: Ticket, by: int) -> Markup:
    """存为问答 on an answered ticket: its question and last answer to the editors (text for the toast)."""
    lang = svc.lang
    st = state(svc)
    if not t.answers:
        return tr(lang, "assist_faq_no_answer", n=t.number)
    pending = st.book.pending_for(t.number)
    if pending is not None:
        return tr(lang, "assist_faq_already", n=t.number, id=pending.id)
    p = await propose(svc, question=t.text, answer=t.answers[-1].text, topic=t.topic, numbers=(t.number,), by=by)
    return tr(lang, "assist_faq_proposed", id=p.id)


def _topic_file(svc: Services, topic: str) -> str:
    return topic if (svc.config.content_dir / "faq" / f"{topic}.md").is_file() else GENERAL


def _proposal_html(svc: Services, p: Proposal) -> Markup:
    lang = svc.lang
    staff = svc.desk.roster.get(p.by)
    origin = (
        tr(lang, "assist_proposal_from_ticket", n=p.numbers[0])
        if len(p.numbers) == 1
        else tr(lang, "assist_proposal_from_class", numbers=_numbers(p.numbers))
    )
    return tr(
        lang,
        "assist_proposal",
        id=p.id,
        origin=origin,
        by=staff.name if staff else str(p.by),
        topic=svc.library.topic(p.topic).label(lang),
        question=p.question,
        answer=p.answer,
        file=_topic_file(svc, p.topic),
    )


def _review_keyboard(lang: str, pid: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(plain(lang, "assist_btn_approve"), callback_data=ASSIST_PROPOSAL_APPROVE.pack(pid)),
        InlineKeyboardButton(plain(lang, "assist_btn_reject"), callback_data=ASSIST_PROPOSAL_REJECT.pack(pid)),
    ]])


async def propose(
    svc: Services, *, question: str, answer: str, topic: str, numbers: tuple[int, ...], by: int
) -> Proposal:
    """A proposal stored and shown in the editors chat with 批准 / 驳回."""
    st = state(svc)
    q, _ = strip_marks(" ".join(question.split()))
    p = st.book.propose(question=q, answer=answer, topic=topic, numbers=numbers, by=by, now=svc.clock.now())
    sent = await svc.outbox.send(svc.config.chats.editors, _proposal_html(svc, p), keyboard=_review_keyboard(svc.lang, p.id))
    if sent is not None:
        p = st.book.set_proposal(p.id, message_id=sent.message_id)
    return p


async def _review(svc: Services, query: Any, pid: int, user: int, *, approve: bool) -> None:
    """An editor approves (written to content/faq, the FAQ reloaded: live at once) or rejects."""
    lang = svc.lang
    st = state(svc)
    if not svc.config.is_editor(user):
        await answer_query(query, plain(lang, "assist_only_editors"), show_alert=True)
        return
    p = st.book.proposal(pid)
    if p is None or p.status != "pending":
        await answer_query(query, plain(lang, "assist_proposal_done", id=pid), show_alert=True)
        return
    who = next((e.name for e in svc.config.people.editors if e.id == user), str(user))
    if not approve:
        p = st.book.set_proposal(pid, status="rejected")
        if p.message_id is not None:
            await svc.outbox.edit(
                svc.config.chats.editors, p.message_id,
                _proposal_html(svc, p) + Markup("\n\n") + tr(lang, "assist_proposal_rejected", who=who),
                keyboard=None,
            )
        await answer_query(query)
        return
    topic = _topic_file(svc, p.topic)
    note = f"存为问答 P{p.id}: {' '.join(f'#{n}' for n in p.numbers)}, {who}, {svc.clock.now():%Y-%m-%d}"
    try:
        path = append_entry(svc.config.content_dir / "faq", topic, p.question, p.answer, note)
    except OSError as exc:
        await answer_query(query, plain(lang, "assist_proposal_failed", id=pid, reason=str(exc)), show_alert=True)
        return
    reload_faq(svc)
    entry = next(
        (e.id for e in reversed(svc.library.topic(topic).entries) if e.question == " ".join(p.question.split())),
        None,
    )
    p = st.book.set_proposal(pid, status="approved", entry=entry)
    if p.message_id is not None:
        label = svc.library.entry_label(entry or f"{topic}/?", lang)
        await svc.outbox.edit(
            svc.config.chats.editors, p.message_id,
            _proposal_html(svc, p) + "\n\n"
            + tr(lang, "assist_proposal_approved", who=who, path=str(path), entry=label),
            keyboard=None,
        )
    await answer_query(query)


# -- commands ---------------------------------------------------------------------------------------------


async def on_canned(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/canned: list the canned replies; /canned N: pick one for ticket N; /canned N key: send it."""
    from bot.chat.staff import _staff_guard

    svc = services(context)
    guard = await _staff_guard(update, svc)
    if guard is None:
        return
    msg, user = guard
    lang = svc.lang
    args = context.args or []
    st = state(svc)
    if not args:
        if not st.replies.replies:
            await msg.reply_text(tr(lang, "assist_canned_none"))
            return
        lines = [plain(lang, "assist_canned_list_title", n=len(st.replies.replies))]
        lines += [
            plain(lang, "assist_canned_list_line", ref=r.key, title=r.title, topic=(
                plain(lang, "assist_canned_any_topic") if r.topic == ALL_TOPICS else svc.library.topic(r.topic).label(lang)
            ))
            for r in st.replies.replies
        ]
        await svc.outbox.send_long(msg.chat_id, "\n".join(lines), reply_to=msg.message_id)
        return
    if not args[0].lstrip("#").isdigit() or len(args) > 2:
        await msg.reply_text(tr(lang, "assist_canned_usage"))
        return
    number = int(args[0].lstrip("#"))
    try:
        t = svc.desk.get(number)
        if len(args) == 2:
            await msg.reply_text(await send_canned(svc, context.bot, number, user, args[1]))
            return
        if not st.replies.for_topic(t.topic):
            await msg.reply_text(tr(lang, "assist_canned_none"))
            return
        await svc.outbox.send(
            msg.chat_id, tr(lang, "assist_canned_pick", n=number), reply_to=msg.message_id,
            keyboard=InlineKeyboardMarkup(_picker(svc, t).inline_keyboard[:-1]),
        )
    except DeskError as exc:
        await msg.reply_text(error_text(lang, exc))


async def on_classes(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/classes: the questions several people ask now, each with 一并答复."""
    from bot.chat.staff import _staff_guard

    svc = services(context)
    guard = await _staff_guard(update, svc)
    if guard is None:
        return
    msg, _ = guard
    lang = svc.lang
    found: list[tuple[Group, list[int]]] = []
    for g in classes(svc):
        waiting = [int(str(n)) for n in g.keys if _waiting(svc.desk.get(int(str(n))))]
        if len(waiting) >= 2:
            found.append((g, waiting))
    if not found:
        await msg.reply_text(tr(lang, "assist_class_none"))
        return
    lines = [tr(lang, "assist_classes_title")]
    rows = []
    for g, waiting in found[:10]:
        lines.append(tr(lang, "assist_classes_line", count=len(g.keys), label=g.label, numbers=_numbers(waiting)))
        rows.append([InlineKeyboardButton(
            f"{plain(lang, 'assist_btn_class', n=len(waiting))} · {g.label[:20]}", callback_data=ASSIST_CLASS.pack(waiting[0])
        )])
    await svc.outbox.send(msg.chat_id, Markup("\n").join(lines), reply_to=msg.message_id,
                          keyboard=InlineKeyboardMarkup(rows))
