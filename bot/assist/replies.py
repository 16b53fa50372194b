"""Canned replies (常用回复): content/replies/*.md, answers staff send often, with placeholders.

One file per group of replies: YAML front matter naming the topic they belong to (a topic key of
content/faq, or ``all`` for every topic), then ``### title`` headings, each followed by its text::

    ---
    topic: housing-fund          # or: all
    ---
    ### 材料已收到
    {asker} 您好，#{number} 的材料已收到，我们会在 {deadline} 前办结。

Placeholders, filled when the reply is sent as a ticket's answer:

- ``{asker}``    the asker's name
- ``{number}``   the ticket number
- ``{deadline}`` the ticket's resolution deadline (as staff read it: 14:30, 12月4日 10:30)
- ``{topic}``    the ticket's topic, as members read it
- ``{staff}``    the staff member sending it

Any other ``{word}`` is a problem reported as ``file:line`` by ``servicebot check`` and at start-up; the
reply is skipped (the others in the file are kept). A reply's key is ``<file stem>/<n>`` (n counts from 1
in the file), as FAQ entries are numbered.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.content_files import read_content_files
from digests import safe_yaml

__all__ = ["ALL_TOPICS", "PLACEHOLDERS", "CannedReply", "ReplyBook", "load_replies", "parse_replies"]

ALL_TOPICS = "all"
PLACEHOLDERS = ("asker", "number", "deadline", "topic", "staff")
REPLIES_FILE_MAX_BYTES = 256 * 1024
_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)
_PLACEHOLDER = re.compile(r"\{([^{}\n]*)\}")
_KEY = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class CannedReply:
    key: str  # "<file stem>/<n>"
    topic: str  # a topic key, or ALL_TOPICS
    title: str
    text: str
    source: str = ""  # file:line

    def fill(self, values: Mapping[str, str]) -> str:
        """The text with every placeholder replaced (the loader refused unknown ones)."""
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1).strip(), m.group(0)), self.text)


@dataclass(frozen=True)
class ReplyBook:
    replies: tuple[CannedReply, ...] = field(default_factory=tuple)

    def for_topic(self, topic: str) -> list[CannedReply]:
        """The topic's own replies first, then those for every topic."""
        own = [r for r in self.replies if r.topic == topic]
        return own + [r for r in self.replies if r.topic == ALL_TOPICS and r not in own]

    def get(self, key: str) -> CannedReply | None:
        return next((r for r in self.replies if r.key == key), None)


def parse_replies(
    text: str, path: str, stem: str, known_topics: Collection[str] | None = None
) -> tuple[list[CannedReply], list[str]]:
    """One file's replies and its problems (``file:line: message``); a reply with a problem is skipped."""
    text = text.replace("\r\n", "\n")
    m = _FRONT.match(text)
    if not m:
        return [], [f"{path}:1: expected YAML front matter between '---' lines at the top (topic: ...)"]
    try:
        data = safe_yaml.load(m.group(1))
    except yaml.MarkedYAMLError as exc:
        line = (exc.problem_mark.line + 2) if exc.problem_mark else 1
        return [], [f"{path}:{line}: YAML: {exc.problem}"]
    except yaml.YAMLError as exc:
        return [], [f"{path}:1: YAML: {safe_yaml.clip(str(exc), 200)}"]
    if not isinstance(data, dict) or not isinstance(data.get("topic"), str):
        return [], [f"{path}:2: front matter needs 'topic: <topic key or {ALL_TOPICS}>'"]
    topic = data["topic"].strip()
    if topic != ALL_TOPICS and known_topics is not None and topic not in known_topics:
        known = ", ".join(sorted(known_topics))
        return [], [f"{path}:2: unknown topic {topic!r} (known: {ALL_TOPICS}, {known})"]
    unknown_keys = sorted(set(data) - {"topic"})
    problems = [f"{path}:2: unknown key {k!r} in the front matter (known: topic)" for k in unknown_keys]
    first = m.group(1).count("\n") + 4  # "---", the front lines, "---": then the body's first line
    lines = text[m.end() :].split("\n")
    replies: list[CannedReply] = []
    n = 0
    i = 0
    while i < len(lines):
        if not lines[i].startswith("### "):
            if lines[i].strip() and n == 0 and not replies:
                problems.append(f"{path}:{first + i}: text before the first '### title'; ignored")
            i += 1
            continue
        head = first + i
        title = lines[i][4:].strip()
        body: list[tuple[int, str]] = []
        i += 1
        while i < len(lines) and not lines[i].startswith("### "):
            body.append((first + i, lines[i]))
            i += 1
        n += 1
        reply_text = "\n".join(line for _, line in body).strip()
        bad = False
        if not title:
            problems.append(f"{path}:{head}: reply without a title after '###'; skipped")
            bad = True
        if not reply_text:
            problems.append(f"{path}:{head}: reply {title!r} has no text; skipped")
            bad = True
        for lineno, body_line in body:
            for ph in _PLACEHOLDER.finditer(body_line):
                name = ph.group(1).strip()
                if name not in PLACEHOLDERS:
                    problems.append(
                        f"{path}:{lineno}: unknown placeholder {{{safe_yaml.clip(name, 30)}}} in reply {title!r}"
                        f" (known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}); skipped"
                    )
                    bad = True
        if not bad:
            replies.append(CannedReply(f"{stem}/{n}", topic, title, reply_text, f"{path}:{head}"))
    return replies, problems


def load_replies(directory: Path, known_topics: Collection[str] | None = None) -> tuple[ReplyBook, list[str]]:
    """Every ``*.md`` in ``directory`` (sorted; README.md and _*.md are not replies). No directory: none."""
    replies: list[CannedReply] = []
    problems: list[str] = []
    for path, text, why in read_content_files(directory, REPLIES_FILE_MAX_BYTES, "replies file"):
        if not _KEY.match(path.stem):
            problems.append(f"{path}:1: file name must be a lowercase key (a-z, 0-9, - or _); file skipped")
            continue
        if text is None:
            problems.append(f"{path}:1: {why}; file skipped")
            continue
        found, file_problems = parse_replies(text, str(path), path.stem, known_topics)
        replies += found
        problems += file_problems
    return ReplyBook(tuple(replies)), problems
