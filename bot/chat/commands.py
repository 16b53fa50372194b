"""Each role's commands: the /help text and the "/" menu (setMyCommands with a scope per chat).

Telegram shows a person the first command list that is set, from the narrowest scope to the widest
(https://core.telegram.org/bots/api#determining-list-of-commands): in a private chat
BotCommandScopeChat(that chat) before the private-chat and default scopes; in a group BotCommandScopeChat
(that group) before the all-group-chats and default scopes. So:

=========================================  =====================================================
scope                                      commands
=========================================  =====================================================
default (every private chat)               /ask /mytickets /complain /subscribe /unsubscribe /help
all group chats (the member groups)        /ask /complain /help (/mytickets answers privately only)
the staff chat                             /queue /mine /ticket /reply /canned /classes /reopen /resolve
                                           /stats /help
the editors chat                           /new /queue /item /approve /withdraw /edit /announce
                                           /preview /reload /help
each staff member's / editor's private     the members' commands plus that person's own
chat with the bot
=========================================  =====================================================

A private chat scope needs a chat Telegram knows ("chat not found" until the person has started the
bot): such a scope is skipped at start-up and set when that person sends /start.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.chat.context import Services
from bot.texts import Markup, plain, tr

log = logging.getLogger(__name__)

MEMBER_PRIVATE = ("ask", "mytickets", "complain", "subscribe", "unsubscribe", "help")
MEMBER_GROUP = ("ask", "complain", "help")
STAFF = ("queue", "mine", "ticket", "reply", "canned", "classes", "reopen", "resolve", "stats", "help")
EDITORS = ("new", "queue_editors", "item", "approve", "withdraw", "edit", "announce", "preview", "reload", "help")


def _commands(lang: str, keys: Iterable[str]) -> list[BotCommand]:
    out: list[BotCommand] = []
    seen: set[str] = set()
    for key in keys:
        command = key.removesuffix("_editors")
        if command not in seen:
            seen.add(command)
            out.append(BotCommand(command, plain(lang, f"cmd_{key}")))
    return out


def is_editor(svc: Services, user_id: int) -> bool:
    return svc.config.is_editor(user_id)


def private_keys(svc: Services, user_id: int) -> list[str]:
    """What a person can do in a private chat with the bot, by their roles."""
    keys = list(MEMBER_PRIVATE)
    if svc.desk.roster.is_staff(user_id):
        keys += STAFF
    if is_editor(svc, user_id):
        keys += EDITORS  # (a staff member who edits too: /queue is described as the staff's)
    return keys


def menus(svc: Services) -> list[tuple[BotCommandScope, list[BotCommand]]]:
    """Every scope the bot sets, with its commands (see the module docstring)."""
    lang = svc.lang
    chats = svc.config.chats
    out: list[tuple[BotCommandScope, list[BotCommand]]] = [
        (BotCommandScopeDefault(), _commands(lang, MEMBER_PRIVATE)),
        (BotCommandScopeAllGroupChats(), _commands(lang, MEMBER_GROUP)),
        (BotCommandScopeChat(chats.staff), _commands(lang, STAFF)),
        (BotCommandScopeChat(chats.editors), _commands(lang, EDITORS)),
    ]
    people = {s.user_id for s in svc.desk.roster.staff} | set(svc.config.editor_ids)
    out += [(BotCommandScopeChat(uid), _commands(lang, private_keys(svc, uid))) for uid in sorted(people)]
    return out


async def set_menus(bot: Bot, svc: Services) -> int:
    """Set every scope's menu; one scope Telegram refuses (a private chat not started) never stops the rest."""
    done = 0
    for scope, commands in menus(svc):
        try:
            await bot.set_my_commands(commands, scope=scope)
            done += 1
        except TelegramError as exc:
            log.info("command menu for %s not set: %s", scope.to_dict(), exc)
    return done


async def set_private_menu(bot: Bot, svc: Services, user_id: int) -> None:
    """A staff member or editor who just started the bot gets their own private menu."""
    if not (svc.desk.roster.is_staff(user_id) or is_editor(svc, user_id)):
        return
    try:
        await bot.set_my_commands(_commands(svc.lang, private_keys(svc, user_id)), scope=BotCommandScopeChat(user_id))
    except TelegramError as exc:
        log.info("private command menu for %s not set: %s", user_id, exc)


def help_text(svc: Services, chat_id: int, chat_type: str, user_id: int, username: str | None) -> str:
    """/help: the commands of the roles this person has here (a member group sees members' commands only)."""
    lang = svc.lang
    chats = svc.config.chats
    member = tr(lang, "help", username=username or "")
    hotline = svc.config.service.hotline.strip()
    if hotline:  # the published human path (issue 13)
        member += "\n" + tr(lang, "help_hotline", hotline=hotline)
    staff, editor = svc.desk.roster.is_staff(user_id), is_editor(svc, user_id)
    if chat_id == chats.staff:
        return tr(lang, "help_staff")
    if chat_id == chats.editors:
        return tr(lang, "help_editors")
    if chat_type != ChatType.PRIVATE:
        return member
    parts = [member]
    if staff:
        parts.append(tr(lang, "help_staff"))
    if editor:
        parts.append(tr(lang, "help_editors"))
    return Markup("\n\n").join(parts)
