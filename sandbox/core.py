"""The sandbox's Telegram: chats, messages, updates and the Bot API methods, without any HTTP.

``TelegramCore.call(method, params)`` runs one Bot API method the way api.telegram.org does and returns
its ``result`` or raises ``ApiError(code, description, parameters)``. The control side
(``send_user_message``, ``press_button``, ``inject_fault``...) acts as the people of the world.
Everything runs on one asyncio loop; nothing here is thread-safe (server.SandboxThread hops threads).

Error wording is Telegram's (https://core.telegram.org/bots/api#making-requests: ``ok``,
``error_code``, ``description``, optional ``parameters`` with ``retry_after`` / ``migrate_to_chat_id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sandbox.flood import FloodControl
from sandbox.markup import EntityParseError, compute_entities, parse_html, utf16_len
from sandbox.world import Chat, User, World

MAX_TEXT = 4096      # https://core.telegram.org/bots/api#sendmessage: 1-4096 characters after parsing
MAX_CAPTION = 1024

# update types delivered when allowed_updates is not given:
# https://core.telegram.org/bots/api#getupdates "all update types except chat_member,
# message_reaction, and message_reaction_count"
_DEFAULT_UPDATE_TYPES = frozenset({"message", "edited_message", "channel_post", "edited_channel_post",
                                   "callback_query", "my_chat_member", "inline_query"})

_JSON_PARAMS = frozenset({"reply_markup", "reply_parameters", "link_preview_options", "entities",
                          "caption_entities", "allowed_updates", "commands", "scope"})


class DroppedAfterAccept(Exception):
    """The call was carried out, but the client gets no answer (an "after_accept" fault): the HTTP
    server closes the connection, as when Telegram accepted a message and the reply was lost."""


class ApiError(Exception):
    """A Bot API error exactly as Telegram answers it."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


class ControlError(ValueError):
    """A control-API request that cannot be acted on (unknown user, not a member, ...)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


_DEFAULT_FAULT_TEXT = {400: "Bad Request: injected fault", 401: "Unauthorized",
                       403: "Forbidden: bot was blocked by the user", 404: "Not Found",
                       409: "Conflict: terminated by other getUpdates request; make sure that only one "
                            "bot instance is running",
                       500: "Internal Server Error", 502: "Bad Gateway", 504: "Gateway Timeout"}


@dataclass
class Fault:
    method: str
    error_code: int
    count: int = 1
    description: str | None = None
    retry_after: int | None = None
    chat_id: int | None = None
    after_accept: bool = False  # carry the call out, then close the connection without an answer
    skip: int = 0  # let this many matching calls through first (a fault in the middle of a run)
    delay: float = 0.0  # hold the call this many seconds first (a slow Telegram); error_code 0: then carry it out

    def error(self) -> ApiError:
        if self.error_code == 429:
            ra = self.retry_after or 1
            return ApiError(429, self.description or f"Too Many Requests: retry after {ra}", {"retry_after": ra})
        text = self.description or _DEFAULT_FAULT_TEXT.get(self.error_code, f"Error {self.error_code}")
        return ApiError(self.error_code, text)


@dataclass
class MessageRecord:
    """One message as the sandbox keeps it (richer than the Bot API's Message)."""

    chat_id: int
    message_id: int
    sender_id: int
    date: int
    text: str | None = None            # plain text, after parse_mode
    source_text: str | None = None     # text as sent (HTML source when parse_mode=HTML)
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    photo: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None  # {"file_id", "file_unique_id", "file_name", "mime_type"}
    sticker: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    message_thread_id: int | None = None
    is_topic_message: bool = False
    reply_markup: dict[str, Any] | None = None
    link_preview_options: dict[str, Any] | None = None
    disable_notification: bool = False
    forward_origin: dict[str, Any] | None = None
    edit_date: int | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    pinned: bool = False
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    service: dict[str, Any] | None = None   # e.g. {"migrate_to_chat_id": ...}

    def record(self) -> dict[str, Any]:
        """The control API's view of the message (GET /sandbox/chats/{id}/messages)."""
        return {
            "message_id": self.message_id, "chat_id": self.chat_id, "sender_id": self.sender_id,
            "date": self.date, "text": self.source_text if self.source_text is not None else self.text,
            "plain_text": self.text, "caption": self.caption, "parse_mode": self.parse_mode,
            "entities": self.entities, "photo": self.photo is not None,
            "photo_file_id": self.photo[-1]["file_id"] if self.photo else None,
            "document": self.document, "sticker": self.sticker,
            "reply_to_message_id": self.reply_to_message_id, "message_thread_id": self.message_thread_id,
            "reply_markup": self.reply_markup, "link_preview_options": self.link_preview_options,
            "disable_notification": self.disable_notification, "forward_origin": self.forward_origin,
            "edits": self.edits, "edit_date": self.edit_date, "deleted": self.deleted, "pinned": self.pinned,
            "callback_answers": self.callback_answers, "service": self.service,
        }


@dataclass
class CallbackRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer: dict[str, Any] | None = None


@dataclass
class Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


Event = dict[str, Any]


class TelegramCore:
    """State and semantics of the offline Telegram. Create it inside the loop that will use it."""

    def __init__(self, world: World, *, flood: FloodControl | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.world = world
        self.flood = flood
        self.clock = clock
        self._listeners: list[asyncio.Queue[Event]] = []
        self._changed = asyncio.Event()
        self._reset_state()

    # ------------------------------------------------------------------ state

    def _reset_state(self) -> None:
        self.messages: dict[int, list[MessageRecord]] = {}
        self._next_message_id: dict[int, int] = {}
        self.updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self.calls_log: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.callbacks: dict[str, CallbackRecord] = {}
        self._callback_ids = itertools.count(1)
        self.webhook: Webhook | None = None
        self.allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.migrated: dict[int, int] = {}
        self.extra_chats: dict[int, Chat] = {}
        self.started_users: set[int] = set()
        self.pinned: dict[int, int] = {}
        self.files: dict[str, bytes] = {}
        self._poll_generation = 0
        if self.flood is not None:
            self.flood.reset()

    def reset(self) -> None:
        """Forget every message, update, call, fault and webhook (POST /sandbox/reset)."""
        self._reset_state()
        self._notify()
        for q in self._listeners:
            q.put_nowait({"type": "reset"})

    def subscribe(self) -> asyncio.Queue[Event]:
        """A queue receiving {"type": "message_created"|"message_edited"|"message_deleted", ...}
        and {"type": "reset"} when everything is forgotten."""
        q: asyncio.Queue[Event] = asyncio.Queue()
        self._listeners.append(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[Event]) -> None:
        if q in self._listeners:
            self._listeners.remove(q)

    def _emit(self, kind: str, rec: MessageRecord) -> None:
        event: Event = {"type": kind, "chat_id": rec.chat_id, "message": rec.record()}
        for q in self._listeners:
            q.put_nowait(event)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_changed(self, timeout: float) -> None:
        """Wait until an update is queued (or anything changes), at most ``timeout`` seconds."""
        ev = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ev.wait(), timeout)

    def now(self) -> int:
        return int(self.clock())

    # ------------------------------------------------------------------ chats and users

    def chat(self, chat_id: int) -> Chat | None:
        return self.extra_chats.get(chat_id) or self.world.chat(chat_id)

    def chat_api(self, chat_id: int) -> dict[str, Any]:
        """The Bot API ``Chat`` object as it appears inside a Message."""
        if chat_id > 0:
            u = self.world.user(chat_id)
            out: dict[str, Any] = {"id": chat_id, "type": "private"}
            if u is not None:
                out["first_name"] = u.first_name
                if u.last_name:
                    out["last_name"] = u.last_name
                if u.username:
                    out["username"] = u.username
            return out
        c = self.chat(chat_id)
        assert c is not None
        out = {"id": c.id, "type": c.type, "title": c.title}
        if c.username:
            out["username"] = c.username
        if c.is_forum:
            out["is_forum"] = True
        return out

    def _resolve_chat_id(self, raw: Any) -> int:
        if isinstance(raw, str) and raw.startswith("@"):
            name = raw[1:].lower()
            for c in (*self.world.chats, *self.extra_chats.values()):
                if c.username and c.username.lower() == name:
                    return c.id
            raise bad_request("chat not found")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None

    def _readable_chat(self, chat_id: int) -> None:
        if chat_id > 0:
            if self.world.user(chat_id) is None:
                raise bad_request("chat not found")
            return
        c = self.chat(chat_id)
        if c is None or self.world.bot.id not in c.members:
            raise bad_request("chat not found")

    def _writable_chat(self, chat_id: int) -> None:
        """The checks Telegram makes before the bot may post in a chat."""
        if chat_id in self.migrated:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": self.migrated[chat_id]})
        bot_id = self.world.bot.id
        if chat_id > 0:
            u = self.world.user(chat_id)
            if u is None:
                raise bad_request("chat not found")
            if u.is_bot:
                raise ApiError(403, "Forbidden: bot can't send messages to bots")
            if u.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not u.started and u.id not in self.started_users:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            return
        c = self.chat(chat_id)
        if c is None:
            raise bad_request("chat not found")
        if bot_id not in c.members:
            raise ApiError(403, f"Forbidden: bot is not a member of the {c.type} chat")
        if c.type == "channel" and bot_id not in c.admins:
            raise bad_request("need administrator rights in the channel chat")

    def _is_admin(self, chat_id: int, user_id: int) -> bool:
        c = self.chat(chat_id)
        return c is not None and user_id in c.admins

    def _find(self, chat_id: int, message_id: int) -> MessageRecord | None:
        for rec in self.messages.get(chat_id, []):
            if rec.message_id == message_id and not rec.deleted:
                return rec
        return None

    def _new_message_id(self, chat_id: int) -> int:
        if chat_id not in self._next_message_id:
            c = self.chat(chat_id)
            first = max((t.id for t in c.topics), default=0) + 1 if c is not None else 1
            self._next_message_id[chat_id] = first
        mid = self._next_message_id[chat_id]
        self._next_message_id[chat_id] = mid + 1
        return mid

    # ------------------------------------------------------------------ Message objects

    def message_api(self, rec: MessageRecord, *, with_reply: bool = True) -> dict[str, Any]:
        """The Bot API ``Message`` object for a record."""
        sender = self.world.user(rec.sender_id)
        out: dict[str, Any] = {"message_id": rec.message_id}
        if sender is not None:
            out["from"] = sender.to_api()
        out["chat"] = self.chat_api(rec.chat_id)
        out["date"] = rec.date
        if rec.message_thread_id is not None:
            out["message_thread_id"] = rec.message_thread_id
            if rec.is_topic_message:
                out["is_topic_message"] = True
        if rec.forward_origin is not None:
            out["forward_origin"] = rec.forward_origin
        if with_reply and rec.reply_to_message_id is not None:
            target = self._find(rec.chat_id, rec.reply_to_message_id)
            if target is not None:
                out["reply_to_message"] = self.message_api(target, with_reply=False)
        if rec.edit_date is not None:
            out["edit_date"] = rec.edit_date
        if rec.text is not None:
            out["text"] = rec.text
            if rec.entities:
                out["entities"] = rec.entities
            if rec.link_preview_options is not None:
                out["link_preview_options"] = rec.link_preview_options
        if rec.sticker is not None:
            out["sticker"] = rec.sticker
        if rec.photo is not None or rec.document is not None:
            if rec.photo is not None:
                out["photo"] = rec.photo
            if rec.document is not None:
                out["document"] = rec.document
            if rec.caption is not None:
                out["caption"] = rec.caption
                if rec.entities:
                    out["caption_entities"] = rec.entities
        if rec.service:
            out.update(rec.service)
        if rec.reply_markup is not None and "inline_keyboard" in rec.reply_markup:
            # Bot API: Message.reply_markup is an InlineKeyboardMarkup only; a ForceReply or reply keyboard
            # the message was sent with is never echoed back (python-telegram-bot cannot parse it there).
            out["reply_markup"] = rec.reply_markup
        return out

    # ------------------------------------------------------------------ updates

    def _queue_update(self, kind: str, payload: dict[str, Any]) -> None:
        allowed = (frozenset(self.webhook.allowed_updates) if self.webhook and self.webhook.allowed_updates
                   else self.allowed_updates)
        if kind not in allowed:
            return
        self.updates.append({"update_id": next(self._update_ids), kind: payload})
        self._notify()

    def _bot_sees(self, rec: MessageRecord) -> bool:
        """Privacy mode (https://core.telegram.org/bots/features#privacy-mode; BotFather: "your bot
        will only receive messages that either start with the '/' symbol or mention the bot by
        username"), plus replies to the bot's messages. Admins and bots with privacy off see all."""
        if rec.chat_id > 0:
            return True
        bot = self.world.bot
        if bot.can_read_all_group_messages or self._is_admin(rec.chat_id, bot.id):
            return True
        text = rec.text or rec.caption or ""
        for e in rec.entities:
            piece = _utf16_slice(text, e["offset"], e["length"])
            if e["type"] == "bot_command":
                target = piece.split("@", 1)[1] if "@" in piece else None
                if target is None or target.lower() == bot.username.lower():
                    return True
            if e["type"] == "mention" and piece[1:].lower() == bot.username.lower():
                return True
        if rec.reply_to_message_id is not None:
            target_rec = self._find(rec.chat_id, rec.reply_to_message_id)
            if target_rec is not None and target_rec.sender_id == bot.id:
                return True
        return False

    # ------------------------------------------------------------------ the Bot API

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """Run one Bot API call; logs it in ``calls_log``. Raises ApiError."""
        started = self.clock()
        name = method.lower()
        params = _decode_params(params)
        logged = {k: f"<{len(v)} bytes>" if isinstance(v, bytes) else v for k, v in params.items()}
        entry: dict[str, Any] = {"method": method, "params": logged, "time": started}
        self.calls_log.append(entry)
        try:
            dropped, delay, error = self._apply_fault(name, params)
            if delay > 0:
                await asyncio.sleep(delay)
            if error is not None:
                raise error
            handler = _METHODS.get(name)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            if name == "getupdates":
                result = await self._get_updates(params)
            else:
                result = handler(self, params)
        except ApiError as exc:
            entry.update(ok=False, error_code=exc.code, description=exc.description)
            if exc.parameters:
                entry["parameters"] = exc.parameters
            raise
        entry["ok"] = True
        entry["duration"] = self.clock() - started
        if dropped:
            entry["dropped"] = True
            raise DroppedAfterAccept(method)
        return result

    def _apply_fault(self, name: str, params: dict[str, Any]) -> tuple[bool, float, ApiError | None]:
        """The first matching fault: (True if it is an after_accept fault: carry on, then drop; the seconds
        to hold the call first; the error to answer with, None: carry the call out)."""
        for fault in self.faults:
            if fault.method.lower() != name or fault.count <= 0:
                continue
            if fault.chat_id is not None:
                try:
                    if int(params.get("chat_id", 0)) != fault.chat_id:
                        continue
                except (TypeError, ValueError):
                    continue
            if fault.skip > 0:
                fault.skip -= 1
                continue
            fault.count -= 1
            self.faults = [f for f in self.faults if f.count > 0]
            if fault.after_accept or not fault.error_code:
                return fault.after_accept, fault.delay, None
            return False, fault.delay, fault.error()
        return False, 0.0, None

    # -- helpers for parameters

    @staticmethod
    def _int(params: dict[str, Any], key: str, required: bool = False) -> int | None:
        raw = params.get(key)
        if raw is None or raw == "":
            if required:
                raise bad_request(f"{key} is empty" if key != "chat_id" else "chat_id is empty")
            return None
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {key} specified") from None

    @staticmethod
    def _bool(params: dict[str, Any], key: str) -> bool:
        raw = params.get(key)
        if isinstance(raw, str):
            return raw.lower() in ("true", "1")
        return bool(raw)

    def _format(self, text: str, parse_mode: str | None,
                entities: list[dict[str, Any]] | None, what: str = "message") -> tuple[str, list[dict[str, Any]]]:
        mode = (parse_mode or "").lower()
        if mode == "html":
            try:
                plain, ents = parse_html(text)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif mode in ("", "none"):
            plain, ents = text, list(entities or [])
        elif mode in ("markdown", "markdownv2"):
            # the bot sends HTML; Markdown is accepted verbatim (no entities) rather than guessed at
            plain, ents = text, []
        else:
            raise bad_request(f"unsupported parse_mode {parse_mode}")
        if not plain.strip():
            raise bad_request(f"{what} text is empty")
        return _trim(plain, _with_found_entities(plain, ents))

    def _reply_target(self, chat_id: int, params: dict[str, Any]) -> int | None:
        rp = params.get("reply_parameters")
        reply_to: int | None
        allow = self._bool(params, "allow_sending_without_reply")
        if isinstance(rp, dict) and rp.get("message_id") is not None:
            reply_to = int(rp["message_id"])
            allow = allow or bool(rp.get("allow_sending_without_reply"))
            if rp.get("chat_id") is not None and self._resolve_chat_id(rp["chat_id"]) != chat_id:
                raise bad_request("message to be replied not found")
        else:
            reply_to = self._int(params, "reply_to_message_id")
        if reply_to is None:
            return None
        if self._find(chat_id, reply_to) is None:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return reply_to

    def _thread(self, chat_id: int, params: dict[str, Any], reply_to: int | None) -> tuple[int | None, bool]:
        thread = self._int(params, "message_thread_id")
        c = self.chat(chat_id)
        if thread is None and reply_to is not None:
            target = self._find(chat_id, reply_to)
            if target is not None and target.message_thread_id is not None:
                return target.message_thread_id, target.is_topic_message
        if thread is None:
            return None, False
        if c is None or not c.is_forum or thread not in {t.id for t in c.topics} | {1}:
            raise bad_request("message thread not found")
        return thread, thread != 1

    def _check_flood(self, chat_id: int) -> None:
        if self.flood is None:
            return
        retry = self.flood.check(chat_id, is_group=chat_id < 0)
        if retry is not None:
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})

    def _store(self, rec: MessageRecord) -> MessageRecord:
        self.messages.setdefault(rec.chat_id, []).append(rec)
        self._emit("message_created", rec)
        return rec

    # -- methods

    def m_get_me(self, params: dict[str, Any]) -> Any:
        b = self.world.bot
        return {"id": b.id, "is_bot": True, "first_name": b.first_name, "username": b.username,
                "can_join_groups": True, "can_read_all_group_messages": b.can_read_all_group_messages,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}

    def m_send_message(self, params: dict[str, Any]) -> Any:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        text = params.get("text")
        if text is None or text == "":
            raise bad_request("message text is empty")
        self._writable_chat(chat_id)
        plain, entities = self._format(str(text), params.get("parse_mode"), params.get("entities"))
        if utf16_len(plain) > MAX_TEXT:
            raise bad_request("message is too long")
        reply_to = self._reply_target(chat_id, params)
        thread, is_topic = self._thread(chat_id, params, reply_to)
        markup = _check_markup(params.get("reply_markup"))
        self._check_flood(chat_id)
        lpo = params.get("link_preview_options")
        if lpo is None and self._bool(params, "disable_web_page_preview"):
            lpo = {"is_disabled": True}
        rec = self._store(MessageRecord(
            chat_id=chat_id, message_id=self._new_message_id(chat_id), sender_id=self.world.bot.id,
            date=self.now(), text=plain, source_text=str(text), parse_mode=params.get("parse_mode"),
            entities=entities, reply_to_message_id=reply_to, message_thread_id=thread,
            is_topic_message=is_topic, reply_markup=markup,
            link_preview_options=lpo if isinstance(lpo, dict) else None,
            disable_notification=self._bool(params, "disable_notification"),
        ))
        return self.message_api(rec)

    def m_send_photo(self, params: dict[str, Any]) -> Any:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        self._writable_chat(chat_id)
        photo = params.get("photo")
        if photo is None or photo == "":
            raise bad_request("there is no photo in the request")
        caption = params.get("caption")
        plain: str | None = None
        entities: list[dict[str, Any]] = []
        if caption:
            plain, entities = self._format(str(caption), params.get("parse_mode"),
                                           params.get("caption_entities"), "caption")
            if utf16_len(plain) > MAX_CAPTION:
                raise bad_request("message caption is too long")
        reply_to = self._reply_target(chat_id, params)
        thread, is_topic = self._thread(chat_id, params, reply_to)
        markup = _check_markup(params.get("reply_markup"))
        self._check_flood(chat_id)
        data = photo if isinstance(photo, bytes) else str(photo).encode()
        file_id = f"AgAC{len(self.files) + 1:06d}"
        self.files[file_id] = data if isinstance(photo, bytes) else b""
        sizes = [{"file_id": f"{file_id}_{w}", "file_unique_id": f"AQAD{len(self.files):06d}{w}",
                  "width": w, "height": w * 3 // 4, "file_size": len(data)} for w in (90, 320, 800)]
        for size in sizes:
            self.files[str(size["file_id"])] = self.files[file_id]
        rec = self._store(MessageRecord(
            chat_id=chat_id, message_id=self._new_message_id(chat_id), sender_id=self.world.bot.id,
            date=self.now(), caption=plain, source_text=str(caption) if caption else None,
            parse_mode=params.get("parse_mode"), entities=entities, photo=sizes,
            reply_to_message_id=reply_to, message_thread_id=thread, is_topic_message=is_topic,
            reply_markup=markup, disable_notification=self._bool(params, "disable_notification"),
        ))
        return self.message_api(rec)

    def m_copy_message(self, params: dict[str, Any]) -> Any:
        """copyMessage (https://core.telegram.org/bots/api#copymessage): the message's content, without a
        link to the original, sent by the bot; returns only the new MessageId. Service messages cannot
        be copied ("Bad Request: message can't be copied")."""
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        self._writable_chat(chat_id)
        from_chat = self._resolve_chat_id(params.get("from_chat_id"))
        self._readable_chat(from_chat)
        src = self._find(from_chat, self._int(params, "message_id", required=True) or 0)
        if src is None:
            raise bad_request("message to copy not found")
        if src.service is not None:
            raise bad_request("message can't be copied")
        reply_to = self._reply_target(chat_id, params)
        thread, is_topic = self._thread(chat_id, params, reply_to)
        markup = _check_markup(params.get("reply_markup"))
        self._check_flood(chat_id)
        rec = self._store(MessageRecord(
            chat_id=chat_id, message_id=self._new_message_id(chat_id), sender_id=self.world.bot.id,
            date=self.now(), text=src.text, source_text=src.text, entities=list(src.entities),
            caption=src.caption, photo=src.photo, document=src.document, sticker=src.sticker,
            reply_to_message_id=reply_to, message_thread_id=thread, is_topic_message=is_topic,
            reply_markup=markup, disable_notification=self._bool(params, "disable_notification"),
        ))
        return {"message_id": rec.message_id}

    def _bot_message(self, params: dict[str, Any], what: str) -> MessageRecord:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the sandbox")
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        self._readable_chat(chat_id)
        message_id = self._int(params, "message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        rec = self._find(chat_id, message_id)
        if rec is None:
            raise bad_request(f"message to {what} not found")
        return rec

    def m_edit_message_text(self, params: dict[str, Any]) -> Any:
        rec = self._bot_message(params, "edit")
        if rec.sender_id != self.world.bot.id:
            raise bad_request("message can't be edited")
        text = params.get("text")
        if text is None or text == "":
            raise bad_request("message text is empty")
        if rec.text is None:
            raise bad_request("there is no text in the message to edit")
        plain, entities = self._format(str(text), params.get("parse_mode"), params.get("entities"))
        if utf16_len(plain) > MAX_TEXT:
            raise bad_request("message is too long")
        # Omitting reply_markup in editMessageText removes the inline keyboard, as on Telegram.
        markup = _check_markup(params.get("reply_markup"))
        if plain == rec.text and entities == rec.entities and markup == rec.reply_markup:
            raise bad_request("message is not modified: specified new message content and reply markup "
                              "are exactly the same as a current content and reply markup of the message")
        rec.edits.append({"text": rec.source_text, "date": rec.edit_date or rec.date})
        rec.text, rec.source_text, rec.entities = plain, str(text), entities
        rec.parse_mode = params.get("parse_mode")
        rec.reply_markup = markup
        lpo = params.get("link_preview_options")
        if isinstance(lpo, dict):
            rec.link_preview_options = lpo
        rec.edit_date = self.now()
        self._emit("message_edited", rec)
        return self.message_api(rec)

    def m_edit_message_reply_markup(self, params: dict[str, Any]) -> Any:
        rec = self._bot_message(params, "edit")
        if rec.sender_id != self.world.bot.id:
            raise bad_request("message can't be edited")
        markup = _check_markup(params.get("reply_markup"))
        if markup == rec.reply_markup:
            raise bad_request("message is not modified: specified new message content and reply markup "
                              "are exactly the same as a current content and reply markup of the message")
        rec.edits.append({"text": rec.source_text, "date": rec.edit_date or rec.date,
                          "reply_markup": rec.reply_markup})
        rec.reply_markup = markup
        rec.edit_date = self.now()
        self._emit("message_edited", rec)
        return self.message_api(rec)

    def m_delete_message(self, params: dict[str, Any]) -> Any:
        rec = self._bot_message(params, "delete")
        bot_id = self.world.bot.id
        if rec.sender_id != bot_id and rec.chat_id < 0 and not self._is_admin(rec.chat_id, bot_id):
            raise bad_request("message can't be deleted")
        rec.deleted = True
        self._emit("message_deleted", rec)
        return True

    def m_pin_chat_message(self, params: dict[str, Any]) -> Any:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        self._writable_chat(chat_id)
        if chat_id < 0 and not self._is_admin(chat_id, self.world.bot.id):
            raise bad_request("not enough rights to manage pinned messages in the chat")
        mid = self._int(params, "message_id", required=True)
        assert mid is not None
        rec = self._find(chat_id, mid)
        if rec is None:
            raise bad_request("message to pin not found")
        rec.pinned = True
        self.pinned[chat_id] = mid
        self._emit("message_edited", rec)
        return True

    def m_unpin_chat_message(self, params: dict[str, Any]) -> Any:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        self._writable_chat(chat_id)
        mid = self._int(params, "message_id") or self.pinned.get(chat_id)
        rec = self._find(chat_id, mid) if mid is not None else None
        if rec is None:
            raise bad_request("message to unpin not found")
        rec.pinned = False
        self.pinned.pop(chat_id, None)
        self._emit("message_edited", rec)
        return True

    def m_answer_callback_query(self, params: dict[str, Any]) -> Any:
        qid = str(params.get("callback_query_id") or "")
        cb = self.callbacks.get(qid)
        if cb is None or cb.answered:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        cb.answered = True
        cb.answer = {"text": params.get("text"), "show_alert": self._bool(params, "show_alert"),
                     "url": params.get("url"), "date": self.now(), "user_id": cb.user_id,
                     "callback_query_id": qid}
        rec = self._find(cb.chat_id, cb.message_id)
        if rec is not None:
            rec.callback_answers.append(cb.answer)
            self._emit("message_edited", rec)
        return True

    def m_get_chat(self, params: dict[str, Any]) -> Any:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        if chat_id in self.migrated:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": self.migrated[chat_id]})
        self._readable_chat(chat_id)
        out = self.chat_api(chat_id)
        out.update(accent_color_id=0, max_reaction_count=11,
                   accepted_gift_types={"unlimited_gifts": False, "limited_gifts": False,
                                        "unique_gifts": False, "premium_subscription": False,
                                        "gifts_from_channels": False})
        if chat_id in self.pinned:
            pinned = self._find(chat_id, self.pinned[chat_id])
            if pinned is not None:
                out["pinned_message"] = self.message_api(pinned, with_reply=False)
        return out

    def _member_api(self, chat_id: int, user: User) -> dict[str, Any]:
        c = self.chat(chat_id)
        if chat_id > 0:
            return {"status": "member", "user": user.to_api()}
        assert c is not None
        if user.id in c.admins:
            if c.admins and c.admins[0] == user.id and not user.is_bot:
                return {"status": "creator", "user": user.to_api(), "is_anonymous": False}
            rights = dict.fromkeys(("can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                                    "can_restrict_members", "can_change_info", "can_invite_users",
                                    "can_post_stories", "can_edit_stories", "can_delete_stories",
                                    "can_pin_messages", "can_manage_topics"), True)
            return {"status": "administrator", "user": user.to_api(), "can_be_edited": False,
                    "is_anonymous": False, "can_promote_members": False, **rights}
        if user.id in c.members:
            return {"status": "member", "user": user.to_api()}
        return {"status": "left", "user": user.to_api()}

    def m_get_chat_member(self, params: dict[str, Any]) -> Any:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        self._readable_chat(chat_id)
        uid = self._int(params, "user_id", required=True)
        user = self.world.user(uid) if uid is not None else None
        if user is None:
            raise bad_request("user not found")
        return self._member_api(chat_id, user)

    def m_get_chat_administrators(self, params: dict[str, Any]) -> Any:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        self._readable_chat(chat_id)
        if chat_id > 0:
            raise bad_request("there are no administrators in the private chat")
        c = self.chat(chat_id)
        assert c is not None
        return [self._member_api(chat_id, u) for uid in c.admins if (u := self.world.user(uid)) is not None]

    def m_get_chat_member_count(self, params: dict[str, Any]) -> Any:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        self._readable_chat(chat_id)
        c = self.chat(chat_id)
        return len(c.members) if c is not None else 2

    _SCOPES: ClassVar[dict[str, tuple[str, ...]]] = {"default": (), "all_private_chats": (), "all_group_chats": (), "all_chat_administrators": (),
               "chat": ("chat_id",), "chat_administrators": ("chat_id",), "chat_member": ("chat_id", "user_id")}

    def _commands_key(self, params: dict[str, Any], *, check: bool = False) -> str:
        """One key per (scope, language_code), as Telegram keeps one list per pair
        (https://core.telegram.org/bots/api#setmycommands). ``check``: the scope's chat must be one the bot
        can see (a private chat only once its user started the bot), as Telegram answers "chat not found"."""
        scope = params.get("scope") or {"type": "default"}
        if isinstance(scope, str):
            try:
                scope = json.loads(scope)
            except ValueError:
                raise bad_request("can't parse BotCommandScope") from None
        if not isinstance(scope, dict) or scope.get("type") not in self._SCOPES:
            raise bad_request("can't parse BotCommandScope")
        fields = self._SCOPES[scope["type"]]
        key: dict[str, Any] = {"type": scope["type"]}
        for name in fields:
            if scope.get(name) is None:
                raise bad_request(f"can't parse BotCommandScope: {name} is missing")
            key[name] = self._resolve_chat_id(scope[name]) if name == "chat_id" else int(scope[name])
        chat_id = key.get("chat_id")
        if check and chat_id is not None:
            if chat_id > 0:
                if scope["type"] != "chat":
                    raise bad_request("chat not found")  # administrators/member scopes are for groups
                u = self.world.user(chat_id)
                if u is None or not (u.started or chat_id in self.started_users):
                    raise bad_request("chat not found")
            else:
                self._readable_chat(chat_id)
        return json.dumps([key, params.get("language_code") or ""], sort_keys=True)

    def commands_menu(self, chat_id: int, user_id: int, language_code: str | None = None) -> list[dict[str, Any]]:
        """The "/" menu ``user_id`` sees in ``chat_id``: the first list set, narrowest scope first
        (https://core.telegram.org/bots/api#determining-list-of-commands)."""
        if chat_id > 0:
            scopes: list[dict[str, Any]] = [{"type": "chat", "chat_id": chat_id}, {"type": "all_private_chats"},
                                            {"type": "default"}]
        else:
            admin = self._is_admin(chat_id, user_id)
            scopes = [{"type": "chat_member", "chat_id": chat_id, "user_id": user_id}]
            if admin:
                scopes.append({"type": "chat_administrators", "chat_id": chat_id})
            scopes.append({"type": "chat", "chat_id": chat_id})
            if admin:
                scopes.append({"type": "all_chat_administrators"})
            scopes += [{"type": "all_group_chats"}, {"type": "default"}]
        for scope in scopes:
            for lang in ([language_code] if language_code else []) + [""]:
                found = self.commands.get(json.dumps([scope, lang], sort_keys=True))
                if found:
                    return found
        return []

    def m_set_my_commands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse BotCommand array")
        for c in commands:
            if not isinstance(c, dict) or not c.get("command") or not c.get("description"):
                raise bad_request("can't parse BotCommand array")
            cmd = str(c["command"])
            if not (1 <= len(cmd) <= 32) or not all(ch.islower() or ch.isdigit() or ch == "_" for ch in cmd):
                raise bad_request("BOT_COMMAND_INVALID")
        self.commands[self._commands_key(params, check=True)] = commands
        return True

    def m_get_my_commands(self, params: dict[str, Any]) -> Any:
        return self.commands.get(self._commands_key(params), [])

    def m_delete_my_commands(self, params: dict[str, Any]) -> Any:
        self.commands.pop(self._commands_key(params), None)
        return True

    def m_send_chat_action(self, params: dict[str, Any]) -> Any:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        self._writable_chat(chat_id)
        return True

    def m_trivial(self, params: dict[str, Any]) -> Any:
        return True

    def m_set_webhook(self, params: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return self.m_delete_webhook(params)
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        allowed = params.get("allowed_updates")
        self.webhook = Webhook(url=url, secret_token=params.get("secret_token") or None,
                               max_connections=self._int(params, "max_connections") or 40,
                               allowed_updates=list(allowed) if isinstance(allowed, list) and allowed else None)
        if self._bool(params, "drop_pending_updates"):
            self.updates.clear()
        self._notify()
        return True

    def m_delete_webhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if self._bool(params, "drop_pending_updates"):
            self.updates.clear()
        self._notify()
        return True

    def m_get_webhook_info(self, params: dict[str, Any]) -> Any:
        out: dict[str, Any] = {"url": self.webhook.url if self.webhook else "",
                               "has_custom_certificate": False, "pending_update_count": len(self.updates)}
        if self.webhook is not None:
            out["max_connections"] = self.webhook.max_connections
            if self.webhook.allowed_updates:
                out["allowed_updates"] = self.webhook.allowed_updates
            if self.webhook.last_error_date:
                out["last_error_date"] = self.webhook.last_error_date
                out["last_error_message"] = self.webhook.last_error_message
        return out

    def m_get_file(self, params: dict[str, Any]) -> Any:
        fid = str(params.get("file_id") or "")
        if fid not in self.files:
            raise bad_request("invalid file_id")
        return {"file_id": fid, "file_unique_id": f"u{fid}", "file_size": len(self.files[fid]),
                "file_path": f"photos/{fid}.jpg"}

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = self._int(params, "offset")
        limit = max(1, min(100, self._int(params, "limit") or 100))
        timeout = max(0, self._int(params, "timeout") or 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            # "Please note that this parameter doesn't affect updates created before the call"
            self.allowed_updates = frozenset(allowed) if allowed else _DEFAULT_UPDATE_TYPES
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # wakes an older long poll, which then ends with 409 Conflict
        self._confirm(offset)
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that "
                                    "only one bot instance is running")
            if self.webhook is not None:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                    "use deleteWebhook to delete the webhook first")
            if self.updates:
                return self._pending(offset)[:limit]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            await self.wait_changed(remaining)

    def _confirm(self, offset: int | None) -> None:
        """An offset confirms (forgets) every update with a smaller id; a negative one keeps the last |n|."""
        if offset is None:
            return
        if offset < 0:
            self.updates = self.updates[offset:]
        else:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def _pending(self, offset: int | None) -> list[dict[str, Any]]:
        return list(self.updates)

    # ------------------------------------------------------------------ webhook support

    def take_webhook_batch(self) -> list[dict[str, Any]]:
        return list(self.updates[:1])

    def confirm_webhook(self, update_id: int) -> None:
        self.updates = [u for u in self.updates if u["update_id"] != update_id]

    # ------------------------------------------------------------------ acting as people

    def send_user_message(self, user_id: int, chat_id: int | None, text: str | None = None, *,
                          reply_to_message_id: int | None = None, message_thread_id: int | None = None,
                          forward_from_chat_id: int | None = None, forward_from_message_id: int | None = None,
                          entities: list[dict[str, Any]] | None = None, photo: bool = False,
                          document: str | None = None, sticker: str | None = None) -> dict[str, Any]:
        """A person of the world writes in a chat (chat_id None or = user_id: the private chat).

        ``photo`` / ``document`` (a file name): the message is a photo or a file and ``text`` its caption
        (optional, at most 1024 characters); ``sticker`` (its emoji): a sticker, no text."""
        user = self.world.user(user_id)
        if user is None or user.is_bot:
            raise ControlError(f"unknown user {user_id} (not in the world's users)", 404)
        chat_id = user_id if chat_id is None else chat_id
        if chat_id > 0:
            if chat_id != user_id:
                raise ControlError(f"user {user_id} can only write in private chat {user_id}, not {chat_id}")
            self.started_users.add(user_id)
        else:
            if chat_id in self.migrated:
                raise ControlError(f"chat {chat_id} was migrated to {self.migrated[chat_id]}")
            c = self.chat(chat_id)
            if c is None:
                raise ControlError(f"unknown chat {chat_id}", 404)
            if user_id not in c.members:
                raise ControlError(f"user {user_id} is not a member of chat {chat_id} ({c.title})")
        forward: dict[str, Any] | None = None
        if forward_from_message_id is not None:
            src_chat = forward_from_chat_id if forward_from_chat_id is not None else chat_id
            src = self._find(src_chat, forward_from_message_id)
            if src is None:
                raise ControlError(f"message {forward_from_message_id} not found in chat {src_chat}")
            src_chat_obj = self.chat(src_chat)
            if src_chat_obj is not None and src_chat_obj.type == "channel":
                forward = {"type": "channel", "date": src.date, "chat": self.chat_api(src_chat),
                           "message_id": src.message_id}
            else:
                sender = self.world.user(src.sender_id)
                forward = {"type": "user", "date": src.date,
                           "sender_user": sender.to_api() if sender else {"id": src.sender_id}}
            if text is None:
                text = src.text or src.caption or ""
                entities = src.entities
        media = photo or document is not None
        if sticker is not None and (text or media):
            raise ControlError("a sticker has no text and no caption")
        if not text and not media and sticker is None:
            raise ControlError("text is empty")
        if media and text and utf16_len(text) > MAX_CAPTION:
            raise ControlError("caption is longer than 1024 characters")
        if reply_to_message_id is not None and self._find(chat_id, reply_to_message_id) is None:
            raise ControlError(f"message {reply_to_message_id} not found in chat {chat_id}")
        thread: int | None = message_thread_id
        is_topic = False
        c = self.chat(chat_id)
        if thread is None and reply_to_message_id is not None:
            target = self._find(chat_id, reply_to_message_id)
            if target is not None and target.message_thread_id is not None:
                thread, is_topic = target.message_thread_id, target.is_topic_message
        elif thread is not None:
            if c is None or not c.is_forum or thread not in {t.id for t in c.topics}:
                raise ControlError(f"chat {chat_id} has no topic {thread}")
            is_topic = True
            if reply_to_message_id is None:
                reply_to_message_id = thread  # a message in a topic replies to the topic's first message
        found = (list(entities) if entities is not None else compute_entities(text)) if text else []
        n = len(self.files) + 1
        sizes = [{"file_id": f"AgAU{n:06d}_{w}", "file_unique_id": f"AQAU{n:06d}{w}", "width": w,
                  "height": w * 3 // 4, "file_size": 1000 * w} for w in (90, 320, 1280)] if photo else None
        doc = ({"file_id": f"BQAU{n:06d}", "file_unique_id": f"AgAU{n:06d}", "file_name": document,
                "mime_type": "application/pdf" if document.endswith(".pdf") else "application/octet-stream",
                "file_size": 20480} if document is not None else None)
        stk = ({"file_id": f"CAAU{n:06d}", "file_unique_id": f"AgAS{n:06d}", "type": "regular", "width": 512,
                "height": 512, "is_animated": False, "is_video": False, "emoji": sticker}
               if sticker is not None else None)
        for f in [*(sizes or ()), *((doc,) if doc else ()), *((stk,) if stk else ())]:
            self.files[str(f["file_id"])] = b""
        rec = self._store(MessageRecord(
            chat_id=chat_id, message_id=self._new_message_id(chat_id), sender_id=user_id, date=self.now(),
            text=None if media or stk else text, source_text=None if media or stk else text,
            caption=text if media and text else None, photo=sizes, document=doc, sticker=stk, entities=found,
            reply_to_message_id=reply_to_message_id, message_thread_id=thread, is_topic_message=is_topic,
            forward_origin=forward,
        ))
        message = self.message_api(rec)
        if self._bot_sees(rec):
            c2 = self.chat(chat_id)
            self._queue_update("channel_post" if c2 is not None and c2.type == "channel" else "message", message)
        return message

    def press_button(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        """A person presses an inline button carrying ``data``; returns the CallbackQuery id."""
        user = self.world.user(user_id)
        if user is None or user.is_bot:
            raise ControlError(f"unknown user {user_id} (not in the world's users)", 404)
        rec = self._find(chat_id, message_id)
        if rec is None:
            raise ControlError(f"message {message_id} not found in chat {chat_id}", 404)
        if chat_id < 0:
            c = self.chat(chat_id)
            if c is None or user_id not in c.members:
                raise ControlError(f"user {user_id} is not a member of chat {chat_id}")
        buttons = [b for row in (rec.reply_markup or {}).get("inline_keyboard", []) for b in row]
        if not any(b.get("callback_data") == data for b in buttons):
            raise ControlError(f"message {message_id} has no button with callback_data {data!r}")
        qid = f"{self.world.bot.id}{next(self._callback_ids):010d}"
        self.callbacks[qid] = CallbackRecord(qid, user_id, chat_id, message_id, data)
        query = {"id": qid, "from": user.to_api(), "message": self.message_api(rec),
                 "chat_instance": str(abs(chat_id) * 7919 % 10**12), "data": data}
        self._queue_update("callback_query", query)
        return qid

    def migrate_chat(self, chat_id: int, new_chat_id: int | None = None) -> int:
        """A basic group becomes a supergroup: service messages in both, the old id answers 400."""
        c = self.chat(chat_id)
        if c is None or c.type != "group":
            raise ControlError(f"chat {chat_id} is not a basic group (only a group can be migrated)")
        new_id = new_chat_id if new_chat_id is not None else -(10**12) - abs(chat_id)
        if self.chat(new_id) is not None:
            raise ControlError(f"chat {new_id} already exists")
        self.extra_chats[new_id] = Chat(id=new_id, type="supergroup", title=c.title, members=c.members,
                                        admins=c.admins, username=c.username)
        creator = c.admins[0] if c.admins else self.world.bot.id
        for cid, service in ((chat_id, {"migrate_to_chat_id": new_id}), (new_id, {"migrate_from_chat_id": chat_id})):
            rec = self._store(MessageRecord(chat_id=cid, message_id=self._new_message_id(cid),
                                            sender_id=creator, date=self.now(), service=service))
            self._queue_update("message", self.message_api(rec))
        self.migrated[chat_id] = new_id
        return new_id

    def inject_fault(self, method: str, error_code: int, *, count: int = 1, description: str | None = None,
                     retry_after: int | None = None, chat_id: int | None = None,
                     after_accept: bool = False, skip: int = 0, delay: float = 0.0) -> None:
        if count < 1 or skip < 0 or not 0 <= delay <= 600:
            raise ControlError("count must be at least 1, skip at least 0, delay 0-600 seconds")
        if not (error_code == 0 and delay > 0) and (error_code < 400 or error_code > 599):
            raise ControlError("error_code must be an HTTP error status (400-599), or 0 with a delay (a slow call)")
        self.faults.append(Fault(method=method, error_code=error_code, count=count, description=description,
                                 retry_after=retry_after, chat_id=chat_id, after_accept=after_accept, skip=skip,
                                 delay=delay))

    def chat_records(self, chat_id: int) -> list[dict[str, Any]]:
        if self.chat(chat_id) is None and (chat_id <= 0 or self.world.user(chat_id) is None):
            raise ControlError(f"unknown chat {chat_id}", 404)
        return [r.record() for r in self.messages.get(chat_id, [])]

    def chats_overview(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for c in (*self.world.chats, *self.extra_chats.values()):
            out.append({"id": c.id, "type": c.type, "title": c.title, "members": list(c.members),
                        "admins": list(c.admins), "is_forum": c.is_forum,
                        "topics": [{"id": t.id, "name": t.name} for t in c.topics],
                        "migrated_to": self.migrated.get(c.id),
                        "message_count": len(self.messages.get(c.id, []))})
        for cid, recs in self.messages.items():
            if cid > 0:
                u = self.world.user(cid)
                out.append({"id": cid, "type": "private", "title": u.full_name if u else str(cid),
                            "members": [cid, self.world.bot.id], "admins": [], "is_forum": False,
                            "topics": [], "migrated_to": None, "message_count": len(recs)})
        return out


# ---------------------------------------------------------------------- helpers


# entities inside which Telegram finds nothing more (a command in a code span or a link stays as it is)
_OPAQUE_ENTITIES = frozenset({"code", "pre", "text_link", "text_mention", "url", "email", "phone_number",
                              "mention", "hashtag", "cashtag", "bot_command", "custom_emoji"})


def _with_found_entities(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Telegram also finds mentions, bot commands and URLs in what a bot sends, beside its own entities:
    Message.entities holds "special entities like usernames, URLs, bot commands, etc. that appear in the
    text" (https://core.telegram.org/bots/api#message), and apps make those commands tappable."""
    opaque = [(e["offset"], e["offset"] + e["length"]) for e in entities if e.get("type") in _OPAQUE_ENTITIES]
    found = [f for f in compute_entities(text)
             if not any(s < f["offset"] + f["length"] and f["offset"] < e for s, e in opaque)]
    if not found:
        return entities
    return sorted([*entities, *found], key=lambda e: (e["offset"], -e["length"]))


def _utf16_slice(text: str, offset: int, length: int) -> str:
    data = text.encode("utf-16-le")
    return data[offset * 2:(offset + length) * 2].decode("utf-16-le", errors="replace")


_TRIM = " \t\r\n"


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims leading and trailing whitespace of a sent text (TDLib fix_formatted_text);
    entities are shifted and clipped to what is left."""
    stripped = text.strip(_TRIM)
    if stripped == text:
        return text, entities
    left = utf16_len(text[:len(text) - len(text.lstrip(_TRIM))])
    size = utf16_len(stripped)
    out: list[dict[str, Any]] = []
    for e in entities:
        start = max(0, e["offset"] - left)
        end = min(size, e["offset"] + e["length"] - left)
        if end > start:
            out.append({**e, "offset": start, "length": end - start})
    return stripped, out


def _decode_params(params: dict[str, Any]) -> dict[str, Any]:
    """Form values arrive as strings; Telegram accepts JSON-serialised objects in them."""
    out = dict(params)
    for key in _JSON_PARAMS:
        raw = out.get(key)
        if isinstance(raw, str) and raw:
            try:
                out[key] = json.loads(raw)
            except ValueError:
                raise bad_request(f"can't parse {key} JSON object") from None
    return out


def _check_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup should be an Array of Arrays")
        for row in rows:
            for b in row:
                if not isinstance(b, dict) or not b.get("text"):
                    raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the "
                                      "inline keyboard")
                data = b.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
                if not any(k in b for k in ("callback_data", "url", "switch_inline_query", "login_url",
                                            "switch_inline_query_current_chat", "web_app", "copy_text", "pay",
                                            "callback_game", "switch_inline_query_chosen_chat")):
                    raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the "
                                      "inline keyboard")
        if not any(rows):
            return None  # an empty keyboard removes the markup
    return markup


_METHODS: dict[str, Callable[[TelegramCore, dict[str, Any]], Any]] = {
    "getme": TelegramCore.m_get_me,
    "sendmessage": TelegramCore.m_send_message,
    "sendphoto": TelegramCore.m_send_photo,
    "copymessage": TelegramCore.m_copy_message,
    "editmessagetext": TelegramCore.m_edit_message_text,
    "editmessagereplymarkup": TelegramCore.m_edit_message_reply_markup,
    "deletemessage": TelegramCore.m_delete_message,
    "pinchatmessage": TelegramCore.m_pin_chat_message,
    "unpinchatmessage": TelegramCore.m_unpin_chat_message,
    "answercallbackquery": TelegramCore.m_answer_callback_query,
    "getchat": TelegramCore.m_get_chat,
    "getchatmember": TelegramCore.m_get_chat_member,
    "getchatadministrators": TelegramCore.m_get_chat_administrators,
    "getchatmembercount": TelegramCore.m_get_chat_member_count,
    "setmycommands": TelegramCore.m_set_my_commands,
    "getmycommands": TelegramCore.m_get_my_commands,
    "deletemycommands": TelegramCore.m_delete_my_commands,
    "sendchataction": TelegramCore.m_send_chat_action,
    "setwebhook": TelegramCore.m_set_webhook,
    "deletewebhook": TelegramCore.m_delete_webhook,
    "getwebhookinfo": TelegramCore.m_get_webhook_info,
    "getfile": TelegramCore.m_get_file,
    "getupdates": TelegramCore.m_trivial,   # dispatched to the async _get_updates in call()
    "close": TelegramCore.m_trivial,
    "logout": TelegramCore.m_trivial,
}
