"""config.yaml -> typed, frozen objects; ConfigError names the file and the key path.

Every section declares its own schema (pydantic models, ``extra="forbid"`` so a typo is an error, not a
silently ignored key). :func:`load_config` turns every failure — unreadable file, YAML syntax, a wrong
value, an unknown key, a broken cross-reference — into one :class:`ConfigError` whose lines each read
``config.yaml: digests.morning.time: expected HH:MM, got "25:00"``.

The bot token is never part of the file: it is read from the environment variable named by
``telegram.token_env`` (``BOT_TOKEN`` by default), see :func:`bot_token`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import time
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from yaml.composer import ComposerError

from digests import safe_yaml
from digests.model import Slot

__all__ = [
    "ChatsConfig",
    "Config",
    "ConfigError",
    "DigestConfig",
    "DigestsConfig",
    "EditorConfig",
    "GroupConfig",
    "SectionConfig",
    "SourceConfig",
    "StaffConfig",
    "bot_token",
    "load_config",
    "parse_config",
]


#: the zone when config.yaml names none: the one definition (the bot runs in config.tz, see Config.tz)
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_TZ = ZoneInfo(DEFAULT_TIMEZONE)


class ConfigError(Exception):
    """A config file that cannot be used; ``lines`` are ready to print, one problem each."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _parse_hhmm(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 08:00 as the sexagesimal integer 480.
        value = f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, str) and (m := _HHMM.match(value.strip())):
        return time(int(m.group(1)), int(m.group(2)))
    raise ValueError(f"expected HH:MM, got {_show(value)}")


def _parse_period(value: Any) -> tuple[time, time]:
    if isinstance(value, str) and "-" in value:
        start_s, _, end_s = value.partition("-")
        start, end = _parse_hhmm(start_s.strip()), _parse_hhmm(end_s.strip())
        if start < end:
            return (start, end)
    raise ValueError(f"expected HH:MM-HH:MM with start before end, got {_show(value)}")


def _show(value: Any) -> str:
    return safe_yaml.shorten(value)


HHMM = Annotated[time, BeforeValidator(_parse_hhmm)]
Period = Annotated[tuple[time, time], BeforeValidator(_parse_period)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class WebhookConfig(_Model):
    """Webhook mode: Telegram POSTs updates to ``public_url``; we listen behind a reverse proxy."""

    listen: str = "127.0.0.1"
    port: int = Field(8443, ge=1, le=65535)
    url_path: str = "servicebot"
    public_url: str | None = None
    secret_token_env: str = "WEBHOOK_SECRET"


class TelegramConfig(_Model):
    token_env: str = "BOT_TOKEN"
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook: WebhookConfig = WebhookConfig()
    bot_username: str | None = None


class GroupConfig(_Model):
    """A member group: where digests go and questions come from."""

    id: int
    name: str
    title: str = ""
    thread_id: int | None = None
    digests: tuple[Slot, ...] = ("morning", "tea")
    sections: tuple[str, ...] | None = None

    @field_validator("id")
    @classmethod
    def _group_ids_are_negative(cls, v: int) -> int:
        if v >= 0:
            raise ValueError(f"expected a group chat id (negative, e.g. -1001234567890), got {v}")
        return v


class ChatsConfig(_Model):
    groups: tuple[GroupConfig, ...] = Field(min_length=1)
    staff: int
    editors: int
    ops: int


class StaffConfig(_Model):
    id: int
    name: str
    topics: tuple[str, ...] = ()
    duty_days: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = (
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
    )
    duty_hours: tuple[Period, ...] = ()
    supervisor: bool = False


class EditorConfig(_Model):
    id: int
    name: str


class PeopleConfig(_Model):
    staff: tuple[StaffConfig, ...] = Field(min_length=1)
    editors: tuple[EditorConfig, ...] = ()
    admins: tuple[int, ...] = ()

    @model_validator(mode="after")
    def _one_supervisor(self) -> PeopleConfig:
        if not any(s.supervisor for s in self.staff):
            raise ValueError("expected at least one staff member with supervisor: true (escalations go there)")
        return self


class SlaTargetConfig(_Model):
    first_response_minutes: int = Field(120, ge=1)
    resolution_minutes: int = Field(960, ge=1)


class ServiceConfig(_Model):
    """限时办结: deadlines are counted in service hours on the Chinese working calendar."""

    hours: tuple[Period, ...] = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 30)))
    calendar: Literal["chinese", "weekdays"] = "chinese"
    default: SlaTargetConfig = SlaTargetConfig()
    topics: dict[str, SlaTargetConfig] = {}
    warn_before_minutes: int = Field(30, ge=0)
    auto_assign_after_minutes: int = Field(15, ge=0)
    auto_close_after_days: int = Field(3, ge=1)
    # the visible human path (MIIT customer-service guideline): shown in /help and under automated answers
    hotline: str = ""
    # a complaint's deadlines (service minutes), handled by the supervisors
    complaint: SlaTargetConfig = SlaTargetConfig(first_response_minutes=60, resolution_minutes=960)
    # the FAQ offer's semantic layer (bot/knowledge/semantic.py; needs the extra: pip install 'servicebot[semantic]')
    faq_semantic: bool = False

    @field_validator("faq_semantic")
    @classmethod
    def _semantic_installed(cls, v: bool) -> bool:
        import importlib.util

        if v and importlib.util.find_spec("wordllama") is None:
            raise ValueError("needs the semantic extra (pip install 'servicebot[semantic]'), or false")
        return v

    @field_validator("hours")
    @classmethod
    def _hours_apart(cls, v: tuple[tuple[time, time], ...]) -> tuple[tuple[time, time], ...]:
        # the rule bot.tickets.sla.ServiceHours enforces when the bot starts, checked here first
        if not v:
            raise ValueError('expected at least one period, e.g. ["09:00-12:00", "13:30-17:30"]')
        ordered = sorted(v)
        for (a_start, a_end), (b_start, b_end) in pairwise(ordered):
            if b_start < a_end:
                raise ValueError(
                    f"expected periods that do not overlap, got {a_start:%H:%M}-{a_end:%H:%M} and "
                    f"{b_start:%H:%M}-{b_end:%H:%M}"
                )
        return v


class SectionConfig(_Model):
    key: str
    title: str | None = None
    sources: tuple[str, ...] = ()
    limit: int = Field(5, ge=1, le=50)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_age_hours: int = Field(72, ge=1)
    days: int = Field(2, ge=1, le=3)  # a weather section: today, tomorrow, the day after


class DigestConfig(_Model):
    time: HHMM
    title: str | None = None
    sections: tuple[SectionConfig, ...] = Field(min_length=1)


class DigestsConfig(_Model):
    service_days: Literal["every_day", "workdays"] = "every_day"
    when_empty: Literal["notice", "skip"] = "notice"
    catch_up_minutes: int = Field(120, ge=0)
    #: a digest's text fits this many phone lines (two screens); feed items beyond it wait. 0: no limit
    max_lines: int = Field(25, ge=0)
    morning: DigestConfig
    tea: DigestConfig


class SourceConfig(_Model):
    name: str
    kind: Literal["feed", "jobs", "json", "html", "weather", "air_quality"]
    url: str
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    max_bytes: int = Field(5_000_000, ge=1024)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    fields: dict[str, str] = {}
    #: what members read next to the source's items ("• 标题（雄安发布 · 12月1日）"); the name if unset
    display_name: str | None = Field(None, min_length=1, max_length=20)

    @model_validator(mode="after")
    def _weather_has_place(self) -> SourceConfig:
        if self.kind in ("weather", "air_quality") and (self.latitude is None or self.longitude is None):
            raise ValueError(f"expected latitude and longitude for a {self.kind} source")
        if self.kind == "json" and not {"title", "link"} <= set(self.fields):
            raise ValueError("expected fields.title and fields.link for a json source")
        if self.kind == "html":
            from digests.sources.htmllist import HtmlListError, check_selectors

            try:
                check_selectors(self.fields)
            except HtmlListError as exc:
                raise ValueError(f"html source: {exc}") from None
        return self


class NetworkConfig(_Model):
    user_agent: str = "servicebot/0.1 (+resident service group bot)"
    allow_hosts: tuple[str, ...] = ()


class EditorialConfig(_Model):
    four_eyes: bool = False


class HealthConfig(_Model):
    alert_after_failures: int = Field(3, ge=1)
    #: a source whose newest item is older than this is flagged stale (board, slot report); 0: never
    stale_after_days: int = Field(7, ge=0)


class MetricsConfig(_Model):
    """Prometheus metrics (bot/chat/metrics.py): off unless ``port`` is set; local by default."""

    listen: str = "127.0.0.1"
    port: int | None = Field(None, ge=1, le=65535)


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class StoreConfig(_Model):
    """Where the bot keeps its data (docs/storage.md): the journal store in ``data_dir`` (the embedded
    default), or PostgreSQL at the DSN held by the environment variable ``dsn_env`` (never in the file)."""

    kind: Literal["journal", "postgres"] = "journal"
    dsn_env: str = "DATABASE_URL"
    #: PostgreSQL only: the active process's lease (hot standby, bot/store/lease.py); a standby takes over
    #: at most this long after the active process died
    lease_seconds: float = Field(10.0, ge=2, le=120)

    @field_validator("dsn_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        if not _ENV_NAME.match(v):
            raise ValueError(f"expected the name of an environment variable (e.g. DATABASE_URL), got {_show(v)}")
        return v


class LlmConfig(_Model):
    """Optional LLM rewrite of drafts (bot/assist/llm.py): off unless ``base_url`` is set."""

    base_url: str | None = None  # an OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1 (Ollama)
    model: str = "qwen2.5:7b-instruct"
    api_key_env: str = "ASSIST_LLM_KEY"  # the key is read from this environment variable (may be unset)
    timeout_seconds: float = Field(8.0, gt=0, le=60)


class AssistConfig(_Model):
    """智能帮办 (bot/chat/assist.py): drafts on cards, 一类事, canned replies, FAQ proposals."""

    drafts: bool = True
    #: answered tickets this recent lend their answers to drafts and show in 一类事
    recent_days: int = Field(7, ge=1, le=90)
    llm: LlmConfig = LlmConfig()


class Config(_Model):
    """The whole of config.yaml, parsed once at start-up."""

    timezone: str = DEFAULT_TIMEZONE
    language: Literal["zh", "en"] = "zh"
    data_dir: Path = Path("var/data")
    store: StoreConfig = StoreConfig()
    content_dir: Path = Path("content")
    telegram: TelegramConfig = TelegramConfig()
    chats: ChatsConfig
    people: PeopleConfig
    service: ServiceConfig = ServiceConfig()
    digests: DigestsConfig
    sources: tuple[SourceConfig, ...] = ()
    network: NetworkConfig = NetworkConfig()
    health: HealthConfig = HealthConfig()
    metrics: MetricsConfig = MetricsConfig()
    editorial: EditorialConfig = EditorialConfig()
    assist: AssistConfig = AssistConfig()
    demo: bool = False

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone such as Asia/Shanghai, got {_show(v)}") from None
        return v

    @model_validator(mode="after")
    def _references(self) -> Config:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"sources: duplicate source name {safe_yaml.clip(repr(dupes[0]))}")
        known = set(names)
        for slot in ("morning", "tea"):
            digest: DigestConfig = getattr(self.digests, slot)
            for i, section in enumerate(digest.sections):
                for source in section.sources:
                    if source not in known:
                        raise ValueError(
                            f"digests.{slot}.sections[{i}].sources: unknown source {safe_yaml.clip(repr(source))} "
                            f"(known: {safe_yaml.clip(', '.join(sorted(known)), 200) or 'none'})"
                        )
        ids = [s.id for s in self.people.staff]
        if len(ids) != len(set(ids)):
            raise ValueError("people.staff: the same id appears twice")
        if self.telegram.mode == "webhook" and not self.telegram.webhook.public_url:
            raise ValueError(
                "telegram.webhook.public_url: expected the HTTPS URL Telegram posts to (telegram.mode is webhook)"
            )
        return self

    # conveniences used all over the bot
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def group(self, chat_id: int) -> GroupConfig | None:
        return next((g for g in self.chats.groups if g.id == chat_id), None)

    def staff_member(self, user_id: int) -> StaffConfig | None:
        return next((s for s in self.people.staff if s.id == user_id), None)

    def is_staff(self, user_id: int) -> bool:
        return self.staff_member(user_id) is not None

    def is_supervisor(self, user_id: int) -> bool:
        member = self.staff_member(user_id)
        return bool(member and member.supervisor) or user_id in self.people.admins

    @property
    def editor_ids(self) -> frozenset[int]:
        """Who may queue, edit and approve: rostered editors and admins (docs/content.md). The one
        source for the editorial rules (EditorialPolicy) and the handlers' filters alike."""
        return frozenset(e.id for e in self.people.editors) | frozenset(self.people.admins)

    def is_editor(self, user_id: int) -> bool:
        return user_id in self.editor_ids

    def source(self, name: str) -> SourceConfig:
        return next(s for s in self.sources if s.name == name)


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not part.startswith("function-") and not part.startswith("tagged-union"):
            out += ("." if out else "") + part
    return out or "(top level)"


def _describe(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    given = err.get("input")
    if kind == "extra_forbidden":
        return "unknown key (a typo?)"
    if kind == "missing":
        return "required key is missing"
    msg = str(err.get("msg", ""))
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if msg.startswith("expected"):
        return msg
    if kind == "literal_error":
        return msg.replace("Input should be", "expected") + f", got {_show(given)}"
    return f"expected {msg[0].lower() + msg[1:]}" + ("" if isinstance(given, dict) else f", got {_show(given)}")


def parse_config(data: Any, source: str = "config.yaml") -> Config:
    """Validate already-loaded YAML data; raise :class:`ConfigError` with one line per problem."""
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: expected a mapping of keys at the top level, got {type(data).__name__}"])
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = _describe(err)
            where = _loc(tuple(err["loc"]))
            # cross-reference errors already name their own key path
            if where == "(top level)" and ": " in msg:
                lines.append(f"{source}: {msg.removeprefix('expected ')}")
            else:
                lines.append(f"{source}: {where}: {msg}")
        raise ConfigError(lines) from None


#: config.yaml is a few KB; anything this large is a mistake (or an attack), refused before parsing
CONFIG_MAX_BYTES = 256 * 1024


def load_config(path: str | Path) -> Config:
    """Read and validate ``path``; every problem becomes a :class:`ConfigError` line.

    YAML aliases are refused with their line (a 443-byte alias bomb would otherwise expand to a
    billion values), and so is a file over :data:`CONFIG_MAX_BYTES`.
    """
    path = Path(path)
    try:
        text = safe_yaml.read_text(path, CONFIG_MAX_BYTES, "config file")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file (copy config.yaml from the repository and edit it)"]) from None
    except safe_yaml.FileTooLarge as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    try:
        data = safe_yaml.load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        kind = "YAML" if isinstance(exc, ComposerError) else "YAML syntax error"  # an alias, too deep
        raise ConfigError([f"{where}: {kind}: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: YAML error: {safe_yaml.clip(str(exc), 200)}"]) from None
    config = parse_config(data, str(path))
    if not config.data_dir.is_absolute():
        base = path.resolve().parent
        config = config.model_copy(update={"data_dir": base / config.data_dir})
    if not config.content_dir.is_absolute():
        base = path.resolve().parent
        config = config.model_copy(update={"content_dir": base / config.content_dir})
    return config


def store_dsn(config: Config, environ: Mapping[str, str] | None = None) -> str:
    """The PostgreSQL DSN of ``store.kind: postgres`` from the environment (never from the file, never logged)."""
    env = os.environ if environ is None else environ
    dsn = env.get(config.store.dsn_env, "").strip()
    if not dsn:
        raise ConfigError([f"environment: {config.store.dsn_env} is not set (store.kind is postgres: the "
                           "database's DSN, e.g. postgresql://servicebot@db.example/servicebot, goes there)"])
    return dsn


def bot_token(config: Config, environ: Mapping[str, str] | None = None) -> str:
    """The bot token from the environment (never from the file, never logged)."""
    env = os.environ if environ is None else environ
    token = env.get(config.telegram.token_env, "").strip()
    if not token:
        raise ConfigError(
            [f"environment: {config.telegram.token_env} is not set (the bot token from @BotFather goes there)"]
        )
    return token
