"""Every content check in one function: ``servicebot check``, the bot's start-up and /reload all call
:func:`content_problems`, so what one reports the others report too.

A problem is a line ``file:line: message`` (or ``config: key.path: message``); a broken file is skipped
by the bot, never fatal.
"""

from __future__ import annotations

from bot.config import Config
from bot.editorial.check import check_content
from bot.tickets.topics import load_faq
from bot.workcal import WorkCalendar
from digests.templates import TemplateError, load_templates

__all__ = ["content_problems"]


def content_problems(config: Config) -> list[str]:
    """Queue items, FAQ and checklists, calendar files, templates, and the topics config refers to."""
    sections = {
        "morning": [s.key for s in config.digests.morning.sections],
        "tea": [s.key for s in config.digests.tea.sections],
    }
    problems = [str(p) for p in check_content(config.content_dir, sections, tz=config.tz)]
    _cal, cal_problems = WorkCalendar.from_dir(config.content_dir / "calendar")
    problems += [str(p) for p in cal_problems]
    for lang in ("zh", "en"):
        try:
            load_templates(lang, config.content_dir / "templates")
        except TemplateError as exc:
            problems.append(str(exc))
    library, _faq_problems = load_faq(config.content_dir / "faq")  # its problems are in check_content's
    known_topics = set(library.topics)
    known = ", ".join(sorted(known_topics))
    for i, member in enumerate(config.people.staff):
        problems += [
            f"config: people.staff[{i}].topics: unknown topic {topic!r} (known: {known})"
            for topic in member.topics
            if topic not in known_topics
        ]
    problems += [
        f"config: service.topics.{topic}: unknown topic (known: {known})"
        for topic in config.service.topics
        if topic not in known_topics
    ]
    return problems
