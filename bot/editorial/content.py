"""``content/queue/*.md``: queue items written by hand, reviewed as files.

A file is YAML front matter between ``---`` lines, then a Markdown body::

    ---
    digest: morning          # morning | tea | announcement (also 早知道, 下午茶, 公告)
    section: services        # a section key of that digest (also its Chinese name, e.g. 民生服务)
    date: 2026-12-01         # first day it may run
    until: 2026-12-07        # optional: runs in every digest of its slot up to this day
    status: approved         # draft (default) | approved | withdrawn
    link: https://…          # optional
    time: "09:30"            # announcements only: the exact time on `date`
    ---
    Markdown body …

:func:`load_queue_dir` never raises for a bad file: each problem is a :class:`Problem` printed as
``file:line: message`` (the line of the offending key), the broken file is skipped and the others load.
Items are keyed by their file name (``QueueItem.path``), so a re-read updates instead of duplicating.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bot.config import DEFAULT_TZ
from bot.content_files import content_paths, read_content_files
from bot.editorial.markup import markdown_to_telegram_html
from bot.editorial.model import DIGESTS, HistoryEntry, ItemSlot, ItemStatus, QueueItem
from bot.knowledge import marks
from digests import safe_yaml
from digests.safe_yaml import shorten

__all__ = [
    "DIGEST_ALIASES",
    "FIELDS",
    "QUEUE_FILE_MAX_BYTES",
    "SECTION_ALIASES",
    "ContentWatcher",
    "Problem",
    "load_queue_dir",
    "parse_queue_file",
    "present_keys",
]

FIELDS = ("digest", "section", "date", "until", "status", "link", "time")
FILE_STATUSES: tuple[ItemStatus, ...] = ("draft", "approved", "withdrawn")
DIGEST_ALIASES: dict[str, ItemSlot] = {
    "早知道": "morning",
    "服务早知道": "morning",
    "下午茶": "tea",
    "生活下午茶": "tea",
    "公告": "announcement",
}
#: Chinese names editors may write instead of the section keys of the example config.
SECTION_ALIASES: dict[str, str] = {
    "天气": "weather",
    "政策": "policy",
    "政策速递": "policy",
    "民生服务": "services",
    "招聘": "jobs",
    "招聘信息": "jobs",
    "交通": "traffic",
    "交通出行": "traffic",
    "生活": "life",
    "活动": "events",
}
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
#: a queue item is one Telegram message (4,096 characters at most); a file this large is a mistake
QUEUE_FILE_MAX_BYTES = 64 * 1024


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a content file; ``str()`` gives ``file:line: message``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class _Bad(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _front_matter(text: str) -> tuple[str, int, str, int]:
    """(front matter, its first line number, body, the body's first line number)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise _Bad(1, "expected YAML front matter starting with a '---' line")
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), 2, "\n".join(lines[i + 1 :]), i + 2
    raise _Bad(1, "front matter is not closed: expected a second '---' line")


def _fields(fm: str, first_line: int) -> dict[str, tuple[str | None, int]]:
    """field -> (scalar text or None, line number)."""
    try:
        node = safe_yaml.compose(fm)  # aliases refused with their line, before any expansion
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        problem = getattr(e, "problem", None) or str(e)
        raise _Bad(line, f"YAML syntax error: {problem}") from None
    if node is None:
        raise _Bad(first_line, "front matter is empty: expected digest, section and date")
    if not isinstance(node, yaml.MappingNode):
        raise _Bad(first_line + node.start_mark.line, "front matter must be key: value lines")
    out: dict[str, tuple[str | None, int]] = {}
    for key_node, value_node in node.value:
        line = first_line + key_node.start_mark.line
        key = str(key_node.value)
        if key not in FIELDS:
            raise _Bad(line, f"unknown field {safe_yaml.clip(repr(key))} (known: {', '.join(FIELDS)})")
        if key in out:
            raise _Bad(line, f"duplicate field {safe_yaml.clip(repr(key))}")
        if not isinstance(value_node, yaml.ScalarNode):
            raise _Bad(line, f"{key}: expected a single value")
        empty = value_node.tag == "tag:yaml.org,2002:null" or value_node.value == ""
        out[key] = (None if empty else str(value_node.value).strip(), line)
    return out


def _date(fields: dict[str, tuple[str | None, int]], key: str) -> date | None:
    value, line = fields.get(key, (None, 0))
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Bad(line, f"{key}: expected a date YYYY-MM-DD, got {shorten(value)}") from None


def parse_queue_file(
    path: Path,
    text: str,
    known_sections: Mapping[str, Collection[str]] | None = None,
    *,
    tz: ZoneInfo = DEFAULT_TZ,
    key: str | None = None,
    loaded_at: datetime | None = None,
) -> tuple[QueueItem | None, list[Problem]]:
    """One file -> (item or None, problems). ``key`` (default: the file name) becomes ``item.path``."""
    shown = str(path)
    try:
        item = _parse(path, text, known_sections, tz, key or path.name, loaded_at or datetime.now(tz))
    except _Bad as bad:
        return None, [Problem(shown, bad.line, bad.message)]
    return item, []


def _parse(
    path: Path,
    text: str,
    known_sections: Mapping[str, Collection[str]] | None,
    tz: ZoneInfo,
    key: str,
    loaded_at: datetime,
) -> QueueItem:
    fm, fm_line, body, body_line = _front_matter(text.replace("\r\n", "\n").removeprefix("\ufeff"))
    fields = _fields(fm, fm_line)

    raw_digest, digest_line = fields.get("digest", (None, fm_line))
    if raw_digest is None:
        raise _Bad(digest_line, "digest: required (morning, tea or announcement)")
    digest = DIGEST_ALIASES.get(raw_digest, raw_digest)
    if digest not in DIGESTS:
        raise _Bad(
            digest_line, f"digest: unknown digest {shorten(raw_digest)} (expected morning, tea or announcement)"
        )

    raw_section, section_line = fields.get("section", (None, digest_line))
    section: str | None = None
    if digest != "announcement":
        if raw_section is None:
            raise _Bad(section_line, f"section: required for the {digest} digest")
        section = SECTION_ALIASES.get(raw_section, raw_section)
        if known_sections is not None and section not in known_sections.get(digest, ()):
            known = ", ".join(sorted(known_sections.get(digest, ()))) or "none"
            raise _Bad(
                section_line, f"section: unknown section {shorten(raw_section)} for {digest} (known: {known})"
            )
    elif raw_section is not None:
        raise _Bad(section_line, "section: an announcement has no section")

    first = _date(fields, "date")
    if first is None:
        raise _Bad(
            fields.get("date", (None, fm_line))[1], "date: required (first day it may run, YYYY-MM-DD)"
        )
    until = _date(fields, "until")
    if until is not None and until < first:
        raise _Bad(fields["until"][1], f"until: {until} is before date {first}")

    raw_status, status_line = fields.get("status", ("draft", fm_line))
    status = raw_status or "draft"
    if status not in FILE_STATUSES:
        raise _Bad(status_line, f"status: expected draft, approved or withdrawn, got {shorten(status)}")

    link, link_line = fields.get("link", (None, fm_line))
    if link is not None and not link.startswith(("http://", "https://")):
        raise _Bad(link_line, f"link: expected an http(s) URL, got {shorten(link)}")

    announce_at: datetime | None = None
    raw_time, time_line = fields.get("time", (None, fm_line))
    if digest == "announcement":
        if until is not None:
            raise _Bad(fields["until"][1], "until: an announcement runs once")
        if raw_time is None:
            raise _Bad(digest_line, 'time: an announcement needs a time, e.g. time: "09:30"')
        # YAML 1.1 reads an unquoted 09:30 as the sexagesimal integer 570
        if raw_time.isdigit():
            raw_time = f"{int(raw_time) // 60:02d}:{int(raw_time) % 60:02d}"
        m = _HHMM.match(raw_time)
        if not m:
            raise _Bad(time_line, f"time: expected HH:MM, got {shorten(raw_time)}")
        announce_at = datetime.combine(first, time(int(m.group(1)), int(m.group(2))), tzinfo=tz)
    elif raw_time is not None:
        raise _Bad(time_line, "time: only announcements have an exact time")

    if not body.strip():
        raise _Bad(body_line, "the text after the front matter is empty")
    html = markdown_to_telegram_html(marks.for_members(body))  # editorial marks: `servicebot check` lists them
    return QueueItem(
        number=0,
        digest=digest,  # type: ignore[arg-type]  # checked against DIGESTS above
        section=section,
        html=html,
        first_date=first,
        link=link,
        until=until,
        announce_at=announce_at,
        status=status,  # type: ignore[arg-type]  # checked against FILE_STATUSES above
        origin="file",
        path=key,
        history=(HistoryEntry(None, "read", loaded_at, str(path)),),
    )


def load_queue_dir(
    directory: Path | str,
    known_sections: Mapping[str, Collection[str]] | None = None,
    *,
    tz: ZoneInfo = DEFAULT_TZ,
    loaded_at: datetime | None = None,
) -> tuple[list[QueueItem], list[Problem]]:
    """Every ``*.md`` in ``directory`` (sorted by name) -> (items, problems); bad files are skipped.

    A missing directory is an empty queue, not an error (the bot runs without content files).
    """
    items: list[QueueItem] = []
    problems: list[Problem] = []
    when = loaded_at or datetime.now(tz)
    for path, text, why in read_content_files(Path(directory), QUEUE_FILE_MAX_BYTES, "queue file", skip_private=False):
        if text is None:
            problems.append(Problem(str(path), 1, why))
            continue
        item, found = parse_queue_file(path, text, known_sections, tz=tz, loaded_at=when)
        problems.extend(found)
        if item is not None:
            items.append(item)
    return items, problems


def present_keys(directory: Path | str) -> set[str]:
    """The keys (file names) of every queue file in ``directory``, readable or not — for
    :meth:`bot.editorial.queue.EditorialQueue.sync_files` to tell a deleted file from a broken one."""
    return {p.name for p in content_paths(Path(directory), skip_private=False)}


class ContentWatcher:
    """Tells the bot when files under a directory changed (by name, mtime and size), for reloads."""

    def __init__(self, directory: Path | str, pattern: str = "*.md") -> None:
        self.directory = Path(directory)
        self.pattern = pattern
        self._last = self._snapshot()

    def _snapshot(self) -> dict[str, tuple[int, int]]:
        if not self.directory.is_dir():
            return {}
        snap: dict[str, tuple[int, int]] = {}
        for p in self.directory.rglob(self.pattern):
            try:
                st = p.stat()
            except OSError:
                continue
            snap[str(p)] = (st.st_mtime_ns, st.st_size)
        return snap

    def changed(self) -> bool:
        """True once after any file was added, removed or modified since the last call."""
        now = self._snapshot()
        if now == self._last:
            return False
        self._last = now
        return True
