"""/subscribe and /unsubscribe: a member's private copies of the digests, sections picked with buttons.

In a private chat with the bot, /subscribe subscribes to every section of both digests at once and
shows the menu: one button per digest (all of its sections on or off) and one per section, each press
saved at once and the menu edited in place; 完成 closes it, 退订 unsubscribes. /unsubscribe, and the
退订 button under every copy, stop the copies at once (a copy run in progress skips the member from
then on). In a group /subscribe points to the private chat (``/start subscribe`` deep link).

What is stored: the chat id, the sections per digest, the language of these texts (bot/store/subscribers.py).
Delivery: bot/chat/copies.py.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot.chat.context import BotContext, Services
from bot.chat.outbox import answer_query
from bot.store.subscribers import SLOTS, Subscribers, Subscription
from bot.texts import Markup, plain, tr
from digests.model import Slot

log = logging.getLogger(__name__)

PREFIX = "sub:"  # sub:t:<slot>:<section> | sub:s:<slot> | sub:done | sub:off | sub:menu
ROW = 3


def slot_sections(svc: Services, slot: str) -> list[tuple[str, str]]:
    """(section key, label) of a slot, in the digest's order."""
    cfg = svc.publisher.digest_config(slot)  # type: ignore[arg-type]
    labels = svc.publisher.templates.sections
    return [(s.key, s.title or labels.get(s.key, s.key)) for s in cfg.sections]


def slot_title(svc: Services, slot: str) -> tuple[str, str]:
    """(icon, title) of a slot's digest."""
    t = svc.publisher.templates
    cfg = svc.publisher.digest_config(slot)  # type: ignore[arg-type]
    return t.icons.get(slot, ""), cfg.title or t.titles.get(slot, slot)


def everything(svc: Services, chat_id: int) -> Subscription:
    return Subscription(chat_id, {slot: tuple(k for k, _ in slot_sections(svc, slot)) for slot in SLOTS}, svc.lang)


def menu_text(svc: Services, sub: Subscription) -> str:
    lang = sub.language
    lines = [tr(lang, "copies_menu_title")]
    for slot in SLOTS:
        icon, title = slot_title(svc, slot)
        chosen = [label for key, label in slot_sections(svc, slot) if key in sub.wants(slot)]
        shown = plain(lang, "copies_menu_separator").join(chosen) if chosen else plain(lang, "copies_menu_none")
        lines.append(tr(lang, "copies_menu_slot", icon=icon, title=title, sections=shown))
    if sub.empty:
        lines.append(tr(lang, "copies_nothing_chosen"))
    lines.append(tr(lang, "copies_menu_footer"))
    return Markup("\n").join(lines)


def menu_keyboard(svc: Services, sub: Subscription) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for slot in SLOTS:
        icon, title = slot_title(svc, slot)
        sections = slot_sections(svc, slot)
        whole = bool(sections) and all(k in sub.wants(slot) for k, _ in sections)
        rows.append([InlineKeyboardButton(f"{icon} {title} {'✅' if whole else '⬜'}", callback_data=f"{PREFIX}s:{slot}")])
        buttons = [
            InlineKeyboardButton(f"{'✅' if key in sub.wants(slot) else '⬜'} {label}", callback_data=f"{PREFIX}t:{slot}:{key}")
            for key, label in sections
        ]
        rows += [buttons[i:i + ROW] for i in range(0, len(buttons), ROW)]
    rows.append([
        InlineKeyboardButton(plain(sub.language, "copies_button_done"), callback_data=f"{PREFIX}done"),
        InlineKeyboardButton(plain(sub.language, "copies_button_off"), callback_data=f"{PREFIX}off"),
    ])
    return InlineKeyboardMarkup(rows)


def copy_keyboard(lang: str) -> InlineKeyboardMarkup:
    """Under every private copy: change the sections, or stop."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(plain(lang, "copies_button_sections"), callback_data=f"{PREFIX}menu"),
        InlineKeyboardButton(plain(lang, "copies_button_off"), callback_data=f"{PREFIX}off"),
    ]])


def _save(svc: Services, sub: Subscription) -> None:
    """An empty choice is no subscription: nothing of the member is kept."""
    subs = Subscribers(svc.store)
    if sub.empty:
        subs.remove(sub.chat_id)
    else:
        subs.put(sub)


async def on_subscribe(update: Update, context: BotContext) -> None:
    """/subscribe (or /start subscribe): subscribe to everything, or show the current choice, with the menu."""
    svc = context.svc
    msg = update.effective_message
    if msg is None or update.effective_chat is None:
        return
    if update.effective_chat.type != ChatType.PRIVATE:
        link = f"https://t.me/{context.bot.username}?start=subscribe"
        await msg.reply_text(tr(svc.lang, "copies_private_only", link=link))
        return
    chat_id = update.effective_chat.id
    subs = Subscribers(svc.store)
    sub = subs.get(chat_id)
    intro = Markup()
    if sub is None:
        sub = everything(svc, chat_id)
        subs.put(sub)
        log.info("private copies: chat %s subscribed", chat_id)
        intro = tr(sub.language, "copies_subscribed") + "\n\n"
    await svc.outbox.send(chat_id, intro + menu_text(svc, sub), keyboard=menu_keyboard(svc, sub))


async def on_unsubscribe(update: Update, context: BotContext) -> None:
    """/unsubscribe: no more private copies, from now on (the record is removed)."""
    svc = context.svc
    msg = update.effective_message
    if msg is None or update.effective_chat is None:
        return
    chat_id = update.effective_chat.id
    sub = Subscribers(svc.store).get(chat_id)
    removed = Subscribers(svc.store).remove(chat_id)
    if removed:
        log.info("private copies: chat %s unsubscribed", chat_id)
    lang = sub.language if sub is not None else svc.lang
    await msg.reply_text(tr(lang, "copies_unsubscribed" if removed else "copies_not_subscribed"))


async def on_button(update: Update, context: BotContext) -> None:
    """A press in the menu or under a copy: switch a section or a digest, close, unsubscribe, reopen."""
    svc = context.svc
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    chat_id = query.message.chat.id
    if chat_id <= 0:  # the buttons live in private chats only
        await answer_query(query)
        return
    subs = Subscribers(svc.store)
    current = subs.get(chat_id)
    sub = current or Subscription(chat_id, {}, svc.lang)
    action = query.data.removeprefix(PREFIX)
    if action == "off":
        removed = subs.remove(chat_id)
        if removed:
            log.info("private copies: chat %s unsubscribed (button)", chat_id)
        await answer_query(query, plain(sub.language, "copies_toast_off"))
        await svc.outbox.edit_keyboard(chat_id, query.message.message_id, None)
        await svc.outbox.send(chat_id, tr(sub.language, "copies_unsubscribed" if removed else "copies_not_subscribed"))
        return
    if action == "menu":
        await answer_query(query)
        await svc.outbox.send(chat_id, menu_text(svc, sub), keyboard=menu_keyboard(svc, sub))
        return
    if action == "done":
        await answer_query(query, plain(sub.language, "copies_toast_saved"))
        await svc.outbox.edit(chat_id, query.message.message_id, menu_text(svc, sub) + "\n" +
                              tr(sub.language, "copies_done"))
        return
    parts = action.split(":")
    slot: Slot
    if parts[0] == "s" and len(parts) == 2 and parts[1] in SLOTS:
        slot = parts[1]  # type: ignore[assignment]
        keys = [k for k, _ in slot_sections(svc, slot)]
        whole = all(k in sub.wants(slot) for k in keys)
        sub = sub.with_sections(slot, () if whole else keys)
    elif parts[0] == "t" and len(parts) == 3 and parts[1] in SLOTS:
        slot = parts[1]  # type: ignore[assignment]
        keys = [k for k, _ in slot_sections(svc, slot)]
        if parts[2] not in keys:  # a section no longer in config: the menu is redrawn without it
            await answer_query(query)
            await svc.outbox.edit(chat_id, query.message.message_id, menu_text(svc, sub), keyboard=menu_keyboard(svc, sub))
            return
        wanted = set(sub.wants(slot)) ^ {parts[2]}
        sub = sub.with_sections(slot, [k for k in keys if k in wanted])
    else:
        await answer_query(query)
        return
    _save(svc, sub)
    await answer_query(query, plain(sub.language, "copies_toast_saved"))
    await svc.outbox.edit(chat_id, query.message.message_id, menu_text(svc, sub), keyboard=menu_keyboard(svc, sub))
