"""Who exists in the sandbox: the bot, the users and the chats.

A world is read from YAML (or built in Python) and is immutable; the server keeps the changing state
(messages, migrations, blocked users) separately. Shape of the file::

    bot:   {id: 9000, username: servicebot, first_name: 服务助手, can_read_all_group_messages: false}
    users: [{id: 101, first_name: 郭超, last_name?: ..., username?: guochao, language_code?: zh-hans,
             blocked?: false, started?: true}]
    chats: [{id: -1001001, type: supergroup, title: 雄安-疏解之友, members: [101, 9000], admins: [9000],
             is_forum?: false, topics?: [{id: 2, name: 入学}], username?: ...}]

A private chat with a user needs no entry (its id is the user's id). ``blocked: true`` makes the bot
meet Telegram's 403 "bot was blocked by the user"; ``started: false`` makes it meet 403 "bot can't
initiate conversation with a user" until that user writes to the bot in private.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import yaml

ChatType = Literal["private", "group", "supergroup", "channel"]
_CHAT_TYPES: tuple[str, ...] = ("private", "group", "supergroup", "channel")


class WorldError(ValueError):
    """A world file is malformed; the message names the file, the key path and what was expected."""


@dataclass(frozen=True)
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    blocked: bool = False
    started: bool = True

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        out: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out


@dataclass(frozen=True)
class Topic:
    id: int
    name: str


@dataclass(frozen=True)
class Chat:
    id: int
    type: ChatType
    title: str
    members: tuple[int, ...] = ()
    admins: tuple[int, ...] = ()
    is_forum: bool = False
    topics: tuple[Topic, ...] = ()
    username: str | None = None


@dataclass(frozen=True)
class Bot:
    id: int
    username: str
    first_name: str
    can_read_all_group_messages: bool = False

    def to_user(self) -> User:
        return User(id=self.id, first_name=self.first_name, username=self.username, is_bot=True)


@dataclass(frozen=True)
class World:
    bot: Bot
    users: tuple[User, ...] = ()
    chats: tuple[Chat, ...] = ()
    _users_by_id: dict[int, User] = field(default_factory=dict, init=False, repr=False, compare=False)
    _chats_by_id: dict[int, Chat] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._users_by_id.update({u.id: u for u in self.users})
        self._users_by_id[self.bot.id] = self.bot.to_user()
        self._chats_by_id.update({c.id: c for c in self.chats})

    def user(self, user_id: int) -> User | None:
        return self._users_by_id.get(user_id)

    def chat(self, chat_id: int) -> Chat | None:
        return self._chats_by_id.get(chat_id)

    def to_dict(self) -> dict[str, Any]:
        """The YAML/JSON shape this world was (or could have been) read from."""
        users: list[dict[str, Any]] = []
        for u in self.users:
            d: dict[str, Any] = {"id": u.id, "first_name": u.first_name}
            for key in ("last_name", "username", "language_code"):
                if getattr(u, key):
                    d[key] = getattr(u, key)
            if u.blocked:
                d["blocked"] = True
            if not u.started:
                d["started"] = False
            users.append(d)
        chats: list[dict[str, Any]] = []
        for c in self.chats:
            cd: dict[str, Any] = {"id": c.id, "type": c.type, "title": c.title,
                                  "members": list(c.members), "admins": list(c.admins)}
            if c.is_forum:
                cd["is_forum"] = True
            if c.topics:
                cd["topics"] = [{"id": t.id, "name": t.name} for t in c.topics]
            if c.username:
                cd["username"] = c.username
            chats.append(cd)
        bot: dict[str, Any] = {"id": self.bot.id, "username": self.bot.username,
                               "first_name": self.bot.first_name}
        if self.bot.can_read_all_group_messages:
            bot["can_read_all_group_messages"] = True
        return {"bot": bot, "users": users, "chats": chats}


# --------------------------------------------------------------------------- parsing


def _fail(source: str, path: str, expected: str, got: object) -> WorldError:
    return WorldError(f"{source}: {path}: expected {expected}, got {got!r}")


def _mapping(raw: object, source: str, path: str, allowed: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise _fail(source, path or "(top level)", "a mapping", raw)
    for key in raw:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise WorldError(f"{source}: {where}: unknown key (allowed: {', '.join(allowed)})")
    return cast(Mapping[str, Any], raw)


def _get(m: Mapping[str, Any], key: str, kind: type, source: str, path: str,
         default: object = ..., expected: str | None = None) -> Any:
    if key not in m:
        if default is ...:
            raise WorldError(f"{source}: {path}.{key}: missing (expected {expected or kind.__name__})")
        return default
    value = m[key]
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok or (kind is str and not value.strip()):
        raise _fail(source, f"{path}.{key}", expected or kind.__name__, value)
    return value


def _ids(m: Mapping[str, Any], key: str, source: str, path: str) -> tuple[int, ...]:
    raw = m.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
        raise _fail(source, f"{path}.{key}", "a list of integer ids", raw)
    return tuple(raw)


def parse_world(raw: object, source: str = "<world>") -> World:
    """Build a World from already-loaded YAML/JSON data, checking every key."""
    top = _mapping(raw, source, "", ("bot", "users", "chats"))
    b = _mapping(top.get("bot"), source, "bot", ("id", "username", "first_name", "can_read_all_group_messages"))
    bot = Bot(
        id=_get(b, "id", int, source, "bot"),
        username=_get(b, "username", str, source, "bot").lstrip("@"),
        first_name=_get(b, "first_name", str, source, "bot"),
        can_read_all_group_messages=_get(b, "can_read_all_group_messages", bool, source, "bot", False),
    )
    raw_users = top.get("users", [])
    if not isinstance(raw_users, list):
        raise _fail(source, "users", "a list", raw_users)
    users: list[User] = []
    seen: set[int] = {bot.id}
    for i, ru in enumerate(raw_users):
        p = f"users[{i}]"
        u = _mapping(ru, source, p, ("id", "first_name", "last_name", "username", "language_code",
                                     "blocked", "started"))
        uid = _get(u, "id", int, source, p)
        if uid <= 0:
            raise _fail(source, f"{p}.id", "a positive user id", uid)
        if uid in seen:
            raise WorldError(f"{source}: {p}.id: duplicate id {uid}")
        seen.add(uid)
        users.append(User(
            id=uid,
            first_name=_get(u, "first_name", str, source, p),
            last_name=_get(u, "last_name", str, source, p, None),
            username=(_get(u, "username", str, source, p, None) or "").lstrip("@") or None,
            language_code=_get(u, "language_code", str, source, p, None),
            blocked=_get(u, "blocked", bool, source, p, False),
            started=_get(u, "started", bool, source, p, True),
        ))
    raw_chats = top.get("chats", [])
    if not isinstance(raw_chats, list):
        raise _fail(source, "chats", "a list", raw_chats)
    chats: list[Chat] = []
    chat_ids: set[int] = set()
    for i, rc in enumerate(raw_chats):
        p = f"chats[{i}]"
        c = _mapping(rc, source, p, ("id", "type", "title", "members", "admins", "is_forum", "topics",
                                     "username"))
        cid = _get(c, "id", int, source, p)
        ctype = _get(c, "type", str, source, p, expected="one of " + "|".join(_CHAT_TYPES))
        if ctype not in _CHAT_TYPES:
            raise _fail(source, f"{p}.type", "one of " + "|".join(_CHAT_TYPES), ctype)
        if ctype != "private" and cid >= 0:
            raise _fail(source, f"{p}.id", "a negative id for a group, supergroup or channel", cid)
        if cid in chat_ids:
            raise WorldError(f"{source}: {p}.id: duplicate id {cid}")
        chat_ids.add(cid)
        members = _ids(c, "members", source, p)
        admins = _ids(c, "admins", source, p)
        for j, mid in enumerate((*members, *admins)):
            if mid not in seen:
                key = "members" if j < len(members) else "admins"
                raise WorldError(f"{source}: {p}.{key}: unknown user id {mid} (declare it under users)")
        topics_raw = c.get("topics", [])
        if not isinstance(topics_raw, list):
            raise _fail(source, f"{p}.topics", "a list of {id, name}", topics_raw)
        topics = []
        for k, rt in enumerate(topics_raw):
            tp = f"{p}.topics[{k}]"
            t = _mapping(rt, source, tp, ("id", "name"))
            topics.append(Topic(id=_get(t, "id", int, source, tp), name=_get(t, "name", str, source, tp)))
        is_forum = _get(c, "is_forum", bool, source, p, False)
        if topics and not is_forum:
            raise WorldError(f"{source}: {p}.topics: topics need is_forum: true")
        chats.append(Chat(
            id=cid, type=cast(ChatType, ctype),
            title=_get(c, "title", str, source, p),
            members=tuple(dict.fromkeys((*members, *admins))),  # an admin is a member too
            admins=admins, is_forum=is_forum, topics=tuple(topics),
            username=_get(c, "username", str, source, p, None),
        ))
    return World(bot=bot, users=tuple(users), chats=tuple(chats))


def load_world(path: str | Path) -> World:
    """Read a world YAML file. Raises WorldError naming the file, line/column or key path."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorldError(f"{p}: cannot read world file: {exc.strerror or exc}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise WorldError(f"{p}{where}: YAML syntax error: {getattr(exc, 'problem', None) or exc}") from exc
    return parse_world(raw, str(p))


def dump_world(world: World) -> str:
    """The world as YAML text (what ``sandbox/default_world.yaml`` holds for the default world)."""
    header = ("# The sandbox's default world (generated by `python -m sandbox --export-world`; "
              "the source is sandbox/world.py).\n")
    return header + yaml.safe_dump(world.to_dict(), allow_unicode=True, sort_keys=False, width=110)


# --------------------------------------------------------------------------- the default world

BOT_ID = 9000
GROUP_ID = -1001001
STAFF_CHAT_ID = -1002001
EDITORS_CHAT_ID = -1003001
OPS_CHAT_ID = -1004001

_MEMBERS: tuple[User, ...] = (
    User(101, "郭超", None, "guochao"),
    User(102, "孙丽华", None, "sunlihua"),
    User(103, "周建国", None, "zhoujianguo"),
    User(104, "吴芳", None, "wufang_xa"),
    User(105, "郑磊", None, None),
    User(106, "冯静", None, "fengjing"),
    User(107, "何海涛", None, "hehaitao"),
    User(108, "许娜", None, None),
    User(109, "马伟", None, "mawei_bj2xa"),
    User(110, "朱晓燕", None, "zhuxiaoyan"),
    User(111, "胡鹏", None, "hupeng"),
    User(112, "林雪梅", None, "linxuemei", started=False),
)
_STAFF: tuple[User, ...] = (
    User(201, "王敏", None, "wangmin_edu"),      # 教育/入学
    User(202, "李强", None, "liqiang_yb"),       # 医保/社保
    User(203, "张丽", None, "zhangli_gjj"),      # 公积金/住房
    User(204, "赵刚", None, "zhaogang_lead"),    # supervisor
)
_EDITORS: tuple[User, ...] = (
    User(301, "陈编辑", None, "chen_editor"),
    User(302, "刘编辑", None, "liu_editor"),
)


def _default_world() -> World:
    members = tuple(u.id for u in _MEMBERS)
    staff = tuple(u.id for u in _STAFF)
    editors = tuple(u.id for u in _EDITORS)
    return World(
        bot=Bot(id=BOT_ID, username="servicebot", first_name="服务助手"),
        users=(*_MEMBERS, *_STAFF, *_EDITORS),
        chats=(
            # the bot is an admin in the member group: admins receive every message even with privacy
            # mode on (https://core.telegram.org/bots/features#privacy-mode)
            Chat(GROUP_ID, "supergroup", "雄安-疏解之友", members=(*members, 204, BOT_ID),
                 admins=(204, BOT_ID)),
            Chat(STAFF_CHAT_ID, "supergroup", "服务中心·工单", members=(*staff, BOT_ID), admins=(204, BOT_ID)),
            Chat(EDITORS_CHAT_ID, "supergroup", "编辑部", members=(*editors, 204, BOT_ID),
                 admins=(301, BOT_ID)),
            Chat(OPS_CHAT_ID, "supergroup", "运维告警", members=(204, BOT_ID), admins=(204, BOT_ID)),
        ),
    )


DEFAULT_WORLD: World = _default_world()
DEFAULT_WORLD_FILE = Path(__file__).with_name("default_world.yaml")
