"""``servicebot check`` for content: every problem in content/ as ``file:line: message``.

Aggregates the queue files' validator (:func:`bot.editorial.content.load_queue_dir`) and, when the desk
provides it, the FAQ validator (``bot.tickets.topics.load_faq``) and the canned replies' one
(``bot.assist.replies.load_replies``). Nothing here raises for a bad file.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import DEFAULT_TZ
from bot.content_files import content_paths
from bot.editorial.content import Problem, load_queue_dir
from bot.knowledge import marks

__all__ = ["check_content", "editorial_marks", "parse_problem"]

_LOCATED = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<message>.*)$", re.DOTALL)


def parse_problem(text: str, default_path: str = "") -> Problem:
    """A ``file:line: message`` string (as other validators return them) -> :class:`Problem`."""
    m = _LOCATED.match(str(text))
    if m is None:
        return Problem(default_path, 0, str(text))
    return Problem(m.group("path"), int(m.group("line")), m.group("message"))


def _faq_problems(faq_dir: Path) -> list[Problem]:
    try:
        topics: Any = importlib.import_module("bot.tickets.topics")
    except ImportError:
        return []
    load_faq = getattr(topics, "load_faq", None)
    if load_faq is None or not faq_dir.is_dir():
        return []
    _library, problems = load_faq(faq_dir)
    return [p if isinstance(p, Problem) else parse_problem(str(p), str(faq_dir)) for p in problems]


def _reply_problems(root: Path) -> list[Problem]:
    """content/replies (canned replies): unknown placeholders and topics, as ``file:line``."""
    if not (root / "replies").is_dir():
        return []  # no canned replies: nothing to check
    from bot.assist.replies import load_replies
    from bot.tickets.topics import load_faq

    library, _ = load_faq(root / "faq")
    known = set(getattr(library, "topics", {})) | {"general"}
    _book, problems = load_replies(root / "replies", known)
    return [parse_problem(p, str(root / "replies")) for p in problems]


def check_content(
    root: Path,
    known_sections: Mapping[str, Collection[str]] | None = None,
    *,
    tz: ZoneInfo | None = None,
    include_faq: bool = True,
) -> list[Problem]:
    """Validate ``root/queue/*.md`` (and ``root/faq/*.md`` if the FAQ loader exists); sorted problems."""
    root = Path(root)
    problems: list[Problem] = []
    _items, queue_problems = load_queue_dir(
        root / "queue", known_sections, tz=tz or DEFAULT_TZ
    )
    problems.extend(queue_problems)
    if include_faq:
        problems.extend(_faq_problems(root / "faq"))
        problems.extend(_reply_problems(root))
    return sorted(problems)


def editorial_marks(root: Path) -> list[tuple[str, int]]:
    """(file, how many editorial marks such as "（待本地核实）" it carries) for each FAQ and queue file that
    has any, in path order: members never see them (bot/knowledge/marks.py), the service team clears them."""
    out: list[tuple[str, int]] = []
    for sub in ("faq", "queue"):
        for path in content_paths(Path(root) / sub, skip_private=sub == "faq"):
            try:
                n = marks.count(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue  # check_content reports the file
            if n:
                out.append((str(path), n))
    return out
