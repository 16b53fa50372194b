"""The promise's chat side: the facts a promise shows, looked up in the services, and the edit in place
through the outbox. The view itself (what the group reads) is bot/chat/views/promise.py."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.chat.context import Services
from bot.chat.views.common import message_link
from bot.chat.views.promise import (
    PromiseFacts,
    batch_view,
    faq_keyboard,
    promise_html,
    promise_keyboard,
    rating_keyboard,
    status_line,
)
from bot.texts import Markup
from bot.tickets.model import Status, Ticket

__all__ = [
    "batch_render",
    "facts_for",
    "faq_keyboard",
    "faq_live",
    "message_link",
    "rating_keyboard",
    "refresh_promise",
    "render",
    "status_line",
]


# -- the chat side: facts from the services, the edit through the outbox ------------------------------


def facts_for(svc: Services, t: Ticket) -> PromiseFacts:
    topic = svc.library.topic(t.topic)
    hours = svc.desk.hours
    return PromiseFacts(
        lang=svc.lang,
        tz=svc.config.tz,
        topic_label=topic.label(svc.lang),
        checklist=topic.checklist,
        faq=svc.library.entry(t.faq_offered) if t.faq_offered else None,
        supervisors=tuple(s.name for s in svc.desk.roster.supervisors()),
        resumes_at=None if hours.is_open(t.created_at) else hours.next_service_start(t.created_at),
        day_off=not hours.calendar.is_workday(t.created_at.astimezone(hours.tz).date()),
        hotline=svc.config.service.hotline.strip(),
    )


def faq_live(svc: Services, t: Ticket) -> bool:
    """The FAQ offer's buttons stay until a person has the ticket (or it is closed)."""
    return t.faq_offered is not None and not svc.desk.taken(t) and t.status is not Status.CLOSED


def render(svc: Services, t: Ticket, *, first: bool = False) -> tuple[Markup, InlineKeyboardMarkup | None]:
    """The promise's text and buttons now (``first``: as sent at intake, the FAQ buttons if an entry fits)."""
    live = faq_live(svc, t) and (first or t.faq_buttons_message_id is not None)
    return promise_html(t, facts_for(svc, t)), promise_keyboard(t, svc.lang, faq_live=live)


def batch_render(svc: Services, tickets: list[Ticket]) -> tuple[Markup, InlineKeyboardMarkup | None]:
    """A burst's shared acknowledgement, as the tickets are now (bot/chat/views/promise.py)."""
    return batch_view(tickets, [facts_for(svc, t) for t in tickets], svc.lang)


async def refresh_promise(svc: Services, t: Ticket) -> bool:
    """Edit the promise to show the ticket as it is now; True when the group shows it (or nothing changed).

    A ticket from before the promise was remembered (no ``promise_message_id``) keeps the old behaviour:
    only its FAQ buttons are removed once a person takes it (the caller does that)."""
    if t.promise_message_id is None:
        return False
    if t.promise_peers:  # a burst's shared acknowledgement: all its tickets, as they are now
        text, keyboard = batch_render(svc, [t if n == t.number else svc.desk.get(n) for n in t.promise_peers])
        return await svc.outbox.edit(t.chat_id, t.promise_message_id, text, keyboard=keyboard)
    text, keyboard = render(svc, t)
    ok = await svc.outbox.edit(t.chat_id, t.promise_message_id, text, keyboard=keyboard)
    if ok and t.faq_buttons_message_id is not None and (keyboard is None or not faq_live(svc, t)):
        svc.desk.set_faq_buttons(t.number, None)  # the edit took the FAQ buttons away
    return ok
