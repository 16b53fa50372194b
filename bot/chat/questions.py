"""Members' questions -> tickets: @-mentions, replies to the bot or staff, /ask, private messages.

Privacy: a group message that is none of these is neither answered nor stored (nor logged with its
text) — :func:`is_question` decides before anything else looks at it.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, NamedTuple

from telegram import Bot, Message, MessageEntity, Update, User
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import BaseHandler

from bot.chat.burst import acknowledger_of
from bot.chat.callbacks import FAQ
from bot.chat.cards import post_card, refresh_card, supervisors_html, to_staff_chat, user_link
from bot.chat.context import BotContext, Services
from bot.chat.inbox import inbox_of
from bot.chat.outbox import MAX_MESSAGE, answer_query, tg_len
from bot.chat.promise import refresh_promise
from bot.chat.promise import render as render_promise
from bot.chat.views.errors import error_text
from bot.editorial.signups import Signup, SignupBook, signup_item
from bot.texts import Markup, plain, tr
from bot.tickets.desk import Intake
from bot.tickets.errors import DeskError, InvalidInput, TakenByStaff
from bot.tickets.intake import Decision, Verdict, Via, classify
from bot.tickets.model import Ticket

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"#(\d+)")
_FAQ = FAQ.pattern  # bot/chat/callbacks.py


# -- what counts as a question ------------------------------------------------------------------------


class StaffUsernames:
    """The roster's @usernames (lower case), so "@wangmin_edu 请问…" in a group reaches the desk.

    Learnt two ways, and kept fresh: from the staff's own messages and button presses (any chat the bot
    sees; the newest username wins, so a changed one is picked up at once), and by asking Telegram
    (getChatMember in the staff chat) for each staff member whose answer is older than ``ttl``, or
    ``retry`` after a failed lookup (someone who joins the staff chat later is found then).
    """

    def __init__(self, ttl: float = 6 * 3600, retry: float = 600) -> None:
        self.ttl = ttl
        self.retry = retry
        self.by_user: dict[int, str] = {}
        self._asked: dict[
            int, tuple[float, bool]
        ] = {}  # monotonic time of the last answer, and whether it was one

    def learn(self, user_id: int, username: str | None) -> None:
        """What Telegram says the staff member is called now (None: they have no username any more)."""
        if username:
            self.by_user[user_id] = username.lower()
        else:
            self.by_user.pop(user_id, None)
        self._asked[user_id] = (time.monotonic(), True)

    def names(self) -> set[str]:
        return set(self.by_user.values())

    async def refresh(self, bot: Bot, staff_chat: int, staff_ids: list[int]) -> None:
        """Ask Telegram about each staff member whose lookup is due; one failure never stops the rest."""
        now = time.monotonic()
        for uid in staff_ids:
            at, ok = self._asked.get(uid, (0.0, False))
            if at and now - at < (self.ttl if ok else self.retry):
                continue
            try:
                member = await bot.get_chat_member(staff_chat, uid)
            except TelegramError as exc:
                log.warning("staff %s: username unknown (%s); asking again later", uid, exc)
                self._asked[uid] = (now, False)
                continue
            self.learn(uid, member.user.username)


def staff_usernames_of(svc: Services) -> StaffUsernames:
    if svc.usernames is None:
        svc.usernames = StaffUsernames()
    return svc.usernames


async def staff_usernames(svc: Services, message: Message) -> set[str]:
    """The roster's @usernames (lower case), refreshed from Telegram where due."""
    known = staff_usernames_of(svc)
    await known.refresh(message.get_bot(), svc.config.chats.staff, [s.user_id for s in svc.desk.roster.staff])
    return known.names()


async def on_any_update(update: Update, context: BotContext) -> None:
    """Every update (before the other handlers): a staff member's current @username is learnt."""
    svc = context.svc
    user = update.effective_user
    if user is not None and svc.desk.roster.is_staff(user.id):
        staff_usernames_of(svc).learn(user.id, user.username)


def _mentions_desk(svc: Services, message: Message, bot: User, staff_names: set[str]) -> bool:
    """The bot or a staff member is @-mentioned (entity, text_mention, or the name glued to Chinese)."""
    lowered = (message.text or message.caption or "").lower()
    roster = svc.desk.roster
    bot_name = (bot.username or "").lower()
    if bot_name and f"@{bot_name}" in lowered:  # entity or not: "@servicebot" glued to Chinese has none
        return True
    for ent in (*(message.entities or ()), *(message.caption_entities or ())):
        mentioned = ent.user.id if ent.type == MessageEntity.TEXT_MENTION and ent.user is not None else None
        if mentioned is not None and (mentioned == bot.id or roster.is_staff(mentioned)):
            return True
    return any(f"@{n}" in lowered for n in staff_names)


def _own_ticket(svc: Services, message: Message, bot: User) -> tuple[Via, Ticket] | None:
    """A reply to the bot's promise or answer about the sender's own ticket ("#N" in it)."""
    reply = message.reply_to_message
    sender = message.from_user
    if reply is None or reply.from_user is None or reply.from_user.id != bot.id or sender is None:
        return None
    m = _NUMBER.search(reply.text or reply.caption or "")
    if m is None:
        return None
    try:
        t = svc.desk.get(int(m.group(1)))
    except DeskError:
        return None
    private = message.chat.type == ChatType.PRIVATE
    if t.asker_id != sender.id or not (t.chat_id == message.chat_id or private):
        return None
    answered = any(a.message_id == reply.message_id for a in t.answers) or (private and bool(t.answers))
    return (Via.REPLY_ANSWER if answered else Via.REPLY_PROMISE), t


async def addressed(svc: Services, message: Message, bot: User) -> tuple[Via, Ticket | None]:
    """How a message reached the desk, and the sender's own ticket when it replies to one."""
    own = _own_ticket(svc, message, bot)
    if own is not None:
        return own
    if message.chat.type == ChatType.PRIVATE:
        return Via.PRIVATE, None
    text = (message.text or message.caption or "").lower()
    names = await staff_usernames(svc, message) if "@" in text else set()
    if _mentions_desk(svc, message, bot, names):
        return Via.MENTION, None
    reply = message.reply_to_message
    replied_to = reply.from_user.id if reply is not None and reply.from_user is not None else None
    if replied_to is not None and replied_to == bot.id:
        if reply is not None and signup_item(reply.text or reply.caption or "") is not None:
            return Via.REPLY_SIGNUP, None  # an editors' item that says "报名：回复本条"
        return Via.REPLY_BOT, None  # a digest, a notice, someone else's promise or answer, a hint
    if replied_to is not None and svc.desk.roster.is_staff(replied_to):
        return Via.REPLY_STAFF, None
    return Via.NONE, None


def has_attachment(message: Message) -> bool:
    """A photo or a document (a screenshot, a scanned form): the staff card carries a copy."""
    return bool(message.photo) or message.document is not None


async def decide(svc: Services, message: Message, bot: User) -> tuple[Decision, Ticket | None]:
    """The intake decision for a member's message (bot/tickets/intake.py), and the ticket it is about."""
    via, ticket = await addressed(svc, message, bot)
    if via is Via.NONE:
        return Decision(Verdict.CHATTER, via, ("not-addressed",)), None
    decision = classify(message.text or message.caption or "", via, attachment=has_attachment(message))
    return decision, ticket


def acted_on(decision: Decision, ticket: Ticket | None) -> bool:
    """Whether the handlers do anything with the message (and so the inbox keeps it)."""
    if decision.verdict is Verdict.THANKS:
        return ticket is not None  # thanks on one's own ticket are recorded; other thanks are not stored
    return decision.verdict in (Verdict.QUESTION, Verdict.EMPTY, Verdict.SIGNUP)


async def is_question(svc: Services, message: Message, bot: User) -> bool:
    """A member's group message the desk acts on: a question, thanks on their ticket, a bare mention."""
    decision, ticket = await decide(svc, message, bot)
    return acted_on(decision, ticket)


class QuestionHandlers(NamedTuple):
    """The handlers that take questions, as registered in app.py: /ask, a member group, a private chat."""

    ask: BaseHandler[Update, Any, Any]
    in_group: BaseHandler[Update, Any, Any]
    in_private: BaseHandler[Update, Any, Any]


def _takes(handler: BaseHandler[Update, Any, Any], update: Update) -> bool:
    check = handler.check_update(update)
    return check is not None and check is not False


async def is_desk_question(svc: Services, update: Update, bot: User, handlers: QuestionHandlers) -> bool:
    """Would the question handlers take this update as a question? (/ask; a question in a member group;
    private text.)

    Asks the registered handlers themselves (``check_update``, what the Application asks), then makes the
    decision their callbacks make, without handling anything: the durable inbox (bot/chat/inbox.py) keeps
    exactly the updates that become questions — and never chatter.
    """
    message = update.message or update.edited_message
    sender = message.from_user if message is not None else None
    if message is None or sender is None or sender.is_bot:
        return False
    if _takes(handlers.ask, update):
        return True
    if _takes(handlers.in_private, update):
        decision, ticket = await decide(svc, message, bot)
        return acted_on(decision, ticket)
    if _takes(handlers.in_group, update) and not svc.desk.roster.is_staff(sender.id):
        return await is_question(svc, message, bot)
    return False


def strip_mention(text: str, bot_username: str | None) -> str:
    """The question without the @bot mention ("" when the mention is all there is)."""
    if not bot_username:
        return text.strip()
    return re.sub(rf"@{re.escape(bot_username)}\b", " ", text, flags=re.I).strip()


def has_words(text: str) -> bool:
    """A question says something: "@servicebot ？" or "/ask ..." (punctuation and spaces only) does not."""
    return any(ch.isalnum() for ch in text)


# -- intake -------------------------------------------------------------------------------------------------


async def take_question(svc: Services, message: Message, asker: User, text: str) -> Intake | None:
    """Open (or find, on redelivery) the ticket; reply to the asker once; post the staff card once."""
    chat = message.chat
    try:
        intake = svc.desk.open_ticket(
            chat_id=chat.id,
            message_id=message.message_id,
            asker_id=asker.id,
            asker_name=asker.full_name,
            text=text,
            now=svc.clock.now(),
            thread_id=message.message_thread_id if message.is_topic_message else None,
            chat_title=chat.title or ("私聊" if chat.type == ChatType.PRIVATE else ""),
        )
    except InvalidInput:
        await message.reply_text(tr(svc.lang, "ask_empty"))
        return None
    async with svc.intake_locks.hold((chat.id, message.message_id)):
        # An overlapping delivery of the same message may have sent the promise and posted the card
        # while this one waited: read the ticket again under the lock.
        t = svc.desk.get(intake.ticket.number)
        if not intake.created and t.card_message_id is not None:
            return intake  # a redelivered update: the reply and the card went out already
        inbox = inbox_of(svc)
        # A replayed question (bot/chat/inbox.py) killed between its promise and its card: only the card is
        # missing. Promised: the ticket records its promise, or the inbox says it was sent (a kill before
        # the ticket recorded it, or a send that returned no message).
        promised = not intake.created and (
            t.promise_message_id is not None or bool(t.promise_peers)
            or (inbox is not None and inbox.promised(chat.id, message.message_id))
        )
        burst = acknowledger_of(svc)
        if not promised and burst.should_batch(chat.id):
            burst.acknowledge(t)  # the group's budget is short: one message for several askers (bot/chat/burst.py)
        elif not promised:
            text, keyboard = render_promise(svc, t, first=True)
            promise = await svc.outbox.send(
                chat.id, text, reply_to=message.message_id, thread_id=t.thread_id, keyboard=keyboard, quiet=True
            )
            if promise is not None:  # the ticket first: a kill after this write finds its promise there
                t = svc.desk.set_promise(t.number, promise.message_id)  # edited in place from now on
                if keyboard is not None:
                    t = svc.desk.set_faq_buttons(t.number, promise.message_id)  # removed once a person takes it
            if inbox is not None:
                inbox.mark_promised(chat.id, message.message_id)
        if burst.should_batch(svc.config.chats.staff) and not has_attachment(message):
            burst.list_card(t)  # listed with others; its own card once claimed
            return intake
        t = await post_card(svc, t)
        if has_attachment(message) and t.card_message_id is not None:
            # the screenshot or scanned form goes to the staff with the card, as a reply to it
            await svc.outbox.copy(
                svc.config.chats.staff, chat.id, message.message_id, reply_to=t.card_message_id
            )
    return intake


async def _followup(svc: Services, message: Message, asker: User, t: Ticket) -> None:
    """The asker asking again under their own ticket's promise or answer: a follow-up, not a new question."""
    reopened = svc.desk.asker_reply(t.number, by=asker.id, now=svc.clock.now())
    if reopened is not None:
        t = reopened
        await refresh_card(svc, t)
    text = message.text or message.caption or ""
    # a member may write 4096 characters: the follow-up goes under the card in parts if need be
    await svc.outbox.send_long(
        svc.config.chats.staff,
        plain(svc.lang, "asker_followup", n=t.number, text=text),
        reply_to=t.card_message_id,
    )
    key = "asker_reopened" if reopened is not None else "asker_followup_ok"
    await message.reply_text(tr(svc.lang, key, n=t.number), disable_notification=True)


def signups_of(svc: Services) -> SignupBook:
    return svc.signups


async def take_signup(svc: Services, message: Message, member: User) -> None:
    """A sign-up under an item that takes them: recorded, and the item's list in the editors chat updated."""
    item_message = message.reply_to_message
    if item_message is None:
        return
    item = signup_item(item_message.text or item_message.caption or "") or "?"
    book = signups_of(svc)
    entry = Signup(
        message.message_id,
        member.id,
        member.full_name,
        message.text or message.caption or "",
        svc.clock.now(),
    )
    listing, new = book.add(
        chat_id=message.chat_id, message_id=item_message.message_id, item=item, signup=entry
    )
    if not new:
        return  # a redelivered update: recorded and shown already
    lines: list[str] = [tr(svc.lang, "signup_list_title", item=item, n=len(listing.entries))]
    lines += [f"{i}. {plain(svc.lang, 'label_value', label=e.name, value=e.text)}" for i, e in enumerate(listing.entries, 1)]
    text = Markup("\n").join(lines)
    editors = svc.config.chats.editors
    edited = (
        listing.list_message_id is not None
        and tg_len(text) <= MAX_MESSAGE
        and await svc.outbox.edit(editors, listing.list_message_id, text)
    )
    if not edited:  # the first sign-up, or the list outgrew one message: a new list message
        sent = await svc.outbox.send(
            editors, text if tg_len(text) <= MAX_MESSAGE else Markup("\n").join([lines[0], lines[-1]])
        )
        if sent is not None:
            book.set_list_message(message.chat_id, item_message.message_id, sent.message_id)
    await message.reply_text(tr(svc.lang, "signup_ok", item=item), disable_notification=True)


async def _act(svc: Services, message: Message, asker: User, bot: User, text: str) -> None:
    """Do what the intake decision says: a ticket, a follow-up, thanks recorded, the ask hint, or nothing."""
    decision, ticket = await decide(svc, message, bot)
    if decision.via is not Via.NONE:  # the reasons only, never the text (privacy)
        log.info("intake %s/%s: %s", message.chat_id, message.message_id, decision.explain())
    verdict = decision.verdict
    if verdict is Verdict.QUESTION and ticket is not None:
        await _followup(svc, message, asker, ticket)
    elif verdict is Verdict.QUESTION:
        await take_question(svc, message, asker, text or plain(svc.lang, "attachment_only"))
    elif verdict is Verdict.THANKS and ticket is not None:
        svc.desk.thank(ticket.number, by=asker.id, now=svc.clock.now())
    elif verdict is Verdict.SIGNUP:
        await take_signup(svc, message, asker)
    elif verdict is Verdict.EMPTY:  # a bare "@servicebot", "在吗": the hint a bare /ask gets, and no ticket
        await message.reply_text(tr(svc.lang, "ask_empty"))


async def on_group_message(update: Update, context: BotContext) -> None:
    """A member group message: a question when addressed to the desk and asking something; else ignored."""
    svc = context.svc
    message = update.effective_message
    asker = update.effective_user
    if message is None or asker is None or asker.is_bot:
        return
    if svc.desk.roster.is_staff(asker.id):
        return  # staff talking in the group are not asking the desk
    text = strip_mention(message.text or message.caption or "", context.bot.username)
    await _act(svc, message, asker, context.bot.bot, text)


async def on_private_message(update: Update, context: BotContext) -> None:
    """In a private chat with the bot: a question unless it only greets, thanks or acknowledges."""
    svc = context.svc
    message = update.effective_message
    asker = update.effective_user
    if message is None or asker is None:
        return
    await _act(svc, message, asker, context.bot.bot, message.text or message.caption or "")


async def on_ask(update: Update, context: BotContext) -> None:
    """/ask 问题 — in a member group or in private."""
    svc = context.svc
    message = update.effective_message
    asker = update.effective_user
    if message is None or asker is None:
        return
    parts = (message.text or "").split(maxsplit=1)
    text = parts[1] if len(parts) > 1 else ""
    decision = classify(text, Via.ASK)
    log.info("intake %s/%s: %s", message.chat_id, message.message_id, decision.explain())
    if not has_words(text) or not decision.is_question:
        await message.reply_text(tr(svc.lang, "ask_empty"))
        return
    await take_question(svc, message, asker, text)


def topic_staff_html(svc: Services, t: Ticket) -> Markup:
    """Mentions of the staff on duty for the ticket's topic now (else all who take the topic)."""
    people = svc.desk.on_duty_for(t.topic, svc.clock.now()) or [
        s for s in svc.desk.roster.staff if s.takes_routine(t.topic)
    ]
    return Markup(plain(svc.lang, "list_separator")).join(user_link(s.user_id, s.name) for s in people) or supervisors_html(svc)


# -- the FAQ offer's buttons ------------------------------------------------------------------------------


async def on_faq_button(update: Update, context: BotContext) -> None:
    """已解决 closes the ticket (asker only); 转人工 leaves it with the staff. Others get an alert."""
    svc = context.svc
    query = update.callback_query
    if query is None or query.data is None:
        return
    m = _FAQ.match(query.data)
    if m is None:
        await answer_query(query)
        return
    lang = svc.lang
    number = int(m.group(2))
    msg = query.message
    try:
        t = svc.desk.get(number)
        if query.from_user.id != t.asker_id:
            await answer_query(query, plain(lang, "only_asker"), show_alert=True)
            return
        if svc.desk.taken(t) and not t.is_closed:
            raise TakenByStaff(number, t.owner_name)  # 转人工 too: a person has it already
        if m.group(1) == "ok":
            t = svc.desk.resolve_by_faq(number, by=query.from_user.id, now=svc.clock.now())
            await refresh_card(svc, t)
            outcome = tr(lang, "faq_solved")
        else:
            t = svc.desk.request_human(number, by=query.from_user.id, now=svc.clock.now())  # in the history
            await to_staff_chat(svc, t, tr(lang, "human_staff_html", n=number, who=topic_staff_html(svc, t)))
            await refresh_card(svc, t)  # the card says the asker wants a person (and the promise follows)
            outcome = tr(lang, "faq_human")
    except TakenByStaff as exc:
        # A late press (the buttons were not removed in time, or an old client): refused, never a silent
        # close of a ticket a person is working on. The asker is told why; the owner hears what was pressed.
        log.info("FAQ button %s on #%s refused: the ticket is with staff", m.group(1), number)
        await answer_query(query, error_text(lang, exc).unescape(), show_alert=True)
        if isinstance(msg, Message):
            await svc.outbox.edit_keyboard(msg.chat_id, msg.message_id, None)
        svc.desk.set_faq_buttons(number, None)
        if m.group(1) == "ok":
            owner = user_link(t.owner_id, t.owner_name) if t.owner_id is not None else tr(lang, "card_nobody")
            await to_staff_chat(svc, t, tr(lang, "faq_late_solved_html", n=number, owner=owner))
        return
    except DeskError as exc:
        await answer_query(query, error_text(lang, exc).unescape(), show_alert=True)
        return
    if t.faq_buttons_message_id is not None:
        t = svc.desk.set_faq_buttons(number, None)  # the edit below takes the buttons away
    if isinstance(msg, Message) and msg.message_id == t.promise_message_id:
        await refresh_promise(svc, t)  # 已解决: the status line says so; 转人工: the buttons go, the toast says it
        await answer_query(query, outcome)
        return
    if isinstance(msg, Message):  # a promise from before it was remembered: the outcome goes below it
        await svc.outbox.edit(msg.chat_id, msg.message_id, Markup(msg.text_html) + "\n\n" + outcome)
    await answer_query(query)
