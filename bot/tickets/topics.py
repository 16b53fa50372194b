"""Topics, their 一次性告知 checklists and FAQ entries, loaded from content/faq/<topic>.md.

One file per topic: YAML front matter between ``---`` lines, then a Markdown body of FAQ entries::

    ---
    topic: education             # key used in config (per-topic SLA, staff topics)
    name: 子女入学                # shown to members
    name_en: School enrolment
    keywords: [入学, 上学, 转学]   # topic classification; longer keywords weigh more
    synonyms: {子女: [孩子, 娃]}   # FAQ matching: words folded onto one term
    checklist:                   # 一次性告知: rendered complete, in one message
      materials: [...]
      steps: [...]
      office: ...
      hours: ...
      hotline: ...
      notes: [...]
    ---
    ### 子女入学需要准备哪些材料？
    > 孩子上学要什么材料          (lines starting with ">" right after the question: other phrasings)
    > 办入学手续带什么

    The answer, Markdown, up to the next ### heading.

:func:`load_faq` reads a directory; problems come back as ``file:line: message`` and a broken file is
skipped without stopping the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.content_files import read_content_files
from bot.knowledge import marks
from digests import safe_yaml

__all__ = [
    "FAQ_FILE_MAX_BYTES",
    "GENERAL",
    "Checklist",
    "FaqEntry",
    "FaqLibrary",
    "Topic",
    "load_faq",
    "parse_faq_file",
]

GENERAL = "general"
#: one topic's file (front matter + its FAQ entries): the largest shipped is 4 KB; refused above this
FAQ_FILE_MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class Checklist:
    """一次性告知: everything a member needs for one visit."""

    materials: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    office: str = ""
    hours: str = ""
    hotline: str = ""
    notes: tuple[str, ...] = ()

    def render(self, topic_name: str, lang: str = "zh", *, for_members: bool = True) -> str:
        """Plain text (the chat layer escapes it for HTML), complete in one message; editorial marks
        ("（待本地核实）") are left out unless ``for_members`` is False (bot/knowledge/marks.py)."""
        en = lang.startswith("en")
        labels = (
            ("One-time notice", "Materials", "Steps", "Where", "Hours", "Hotline", "Good to know")
            if en
            else ("一次性告知", "所需材料", "办理步骤", "办理地点", "办理时间", "咨询电话", "温馨提示")
        )
        sep = ": " if en else "："
        lines = [f"【{labels[0]} · {topic_name}】"]
        if self.materials:
            lines.append(labels[1] + sep)
            lines += [f"{i}. {m}" for i, m in enumerate(self.materials, 1)]
        if self.steps:
            lines.append(labels[2] + sep)
            lines += [f"{i}. {s}" for i, s in enumerate(self.steps, 1)]
        for label, value in ((labels[3], self.office), (labels[4], self.hours), (labels[5], self.hotline)):
            if value:
                lines.append(f"{label}{sep}{value}")
        if self.notes:
            lines.append(labels[6] + sep)
            lines += [f"• {n}" for n in self.notes]
        text = "\n".join(lines)
        return marks.for_members(text) if for_members else text


@dataclass(frozen=True)
class FaqEntry:
    """One known question with its other phrasings and the answer; ``id`` is ``topic/n``."""

    id: str
    topic: str
    question: str
    alternatives: tuple[str, ...]
    answer: str
    source: str = ""  # file:line

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.alternatives)

    @property
    def member_answer(self) -> str:
        """The answer as members see it: without editorial marks ("（待本地核实）")."""
        return marks.for_members(self.answer)

    @property
    def mark_count(self) -> int:
        """How many editorial marks the answer carries (shown to staff on the card)."""
        return marks.count(self.answer)


@dataclass(frozen=True)
class Topic:
    key: str
    name: str
    name_en: str = ""
    keywords: tuple[str, ...] = ()
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    checklist: Checklist | None = None
    entries: tuple[FaqEntry, ...] = ()

    def label(self, lang: str = "zh") -> str:
        return self.name_en if lang.startswith("en") and self.name_en else self.name


_GENERAL_TOPIC = Topic(GENERAL, "综合", "General")


@dataclass(frozen=True)
class FaqLibrary:
    """All topics in file order; ``classify`` picks a topic by keywords (unknown -> 综合)."""

    topics: Mapping[str, Topic] = field(default_factory=dict)

    def topic(self, key: str) -> Topic:
        return self.topics.get(key) or (_GENERAL_TOPIC if key == GENERAL else Topic(key, key))

    @property
    def entries(self) -> list[FaqEntry]:
        return [e for t in self.topics.values() for e in t.entries]

    def entry(self, entry_id: str) -> FaqEntry | None:
        for e in self.entries:
            if e.id == entry_id:
                return e
        return None

    def entry_label(self, entry_id: str, lang: str = "zh") -> str:
        """An FAQ entry as staff and editors read it, the one label everywhere (card, draft sources,
        approved proposals): "FAQ 子女入学/1" — the topic's display name in ``lang``, not its file key."""
        topic, _, n = entry_id.partition("/")
        return f"FAQ {self.topic(topic).label(lang)}/{n or '?'}"

    def synonyms(self) -> dict[str, str]:
        """variant -> canonical term, over all topics."""
        out: dict[str, str] = {}
        for t in self.topics.values():
            for canon, variants in t.synonyms.items():
                for v in variants:
                    out.setdefault(v, canon)
        return out

    def classify(self, text: str) -> Topic:
        """The topic whose keywords cover most of the text (by characters); ties go to file order."""
        best: Topic | None = None
        best_score = 0
        for t in self.topics.values():
            score = sum(len(k) for k in t.keywords if k and k in text)
            if score > best_score:
                best, best_score = t, score
        return best if best is not None else self.topic(GENERAL)


_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)
_KEY = re.compile(r"^[a-z][a-z0-9_-]*$")
_TOPIC_KEYS = {"topic", "name", "name_en", "keywords", "synonyms", "checklist"}
_CHECKLIST_KEYS = {"materials", "steps", "office", "hours", "hotline", "notes"}


class _Problem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _key_lines(front: str) -> dict[str, int]:
    """Top-level key -> line (1-based, within the front matter)."""
    lines: dict[str, int] = {}
    for i, raw in enumerate(front.splitlines(), 1):
        m = re.match(r"^([A-Za-z_][\w-]*)\s*:", raw)
        if m:
            lines.setdefault(m.group(1), i)
    return lines


def _strs(value: Any, where: str, line: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v).strip() for v in value if str(v).strip())
    raise _Problem(line, f"{where}: expected a list of strings")


def _parse_front(data: Any, front: str) -> Topic:
    kl = _key_lines(front)
    if not isinstance(data, dict):
        raise _Problem(1, "front matter: expected a mapping (topic, name, keywords, checklist)")
    unknown = sorted(set(map(str, data)) - _TOPIC_KEYS)
    if unknown:
        raise _Problem(
            kl.get(unknown[0], 1),
            f"unknown key {safe_yaml.clip(repr(unknown[0]))} (expected one of {', '.join(sorted(_TOPIC_KEYS))})",
        )
    key = data.get("topic")
    if not isinstance(key, str) or not _KEY.match(key):
        raise _Problem(
            kl.get("topic", 1),
            f"topic: expected a lowercase key like 'education', got {safe_yaml.shorten(key)}",
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _Problem(kl.get("name", 1), "name: expected the topic's Chinese name")
    keywords = _strs(data.get("keywords"), "keywords", kl.get("keywords", 1))
    syn_raw = data.get("synonyms") or {}
    if not isinstance(syn_raw, dict):
        raise _Problem(kl.get("synonyms", 1), "synonyms: expected a mapping term -> [variants]")
    synonyms = {
        str(k): _strs(v, f"synonyms.{safe_yaml.clip(str(k))}", kl.get("synonyms", 1))
        for k, v in syn_raw.items()
    }
    checklist = None
    cl = data.get("checklist")
    if cl is not None:
        line = kl.get("checklist", 1)
        if not isinstance(cl, dict):
            raise _Problem(
                line, "checklist: expected a mapping (materials, steps, office, hours, hotline, notes)"
            )
        bad = sorted(set(map(str, cl)) - _CHECKLIST_KEYS)
        if bad:
            raise _Problem(
                line,
                f"checklist.{safe_yaml.clip(bad[0])}: unknown key (expected {', '.join(sorted(_CHECKLIST_KEYS))})",
            )
        for k in ("office", "hours", "hotline"):
            if cl.get(k) is not None and not isinstance(cl.get(k), str | int):
                raise _Problem(line, f"checklist.{k}: expected text")
        checklist = Checklist(
            materials=_strs(cl.get("materials"), "checklist.materials", line),
            steps=_strs(cl.get("steps"), "checklist.steps", line),
            office=str(cl.get("office") or ""),
            hours=str(cl.get("hours") or ""),
            hotline=str(cl.get("hotline") or ""),
            notes=_strs(cl.get("notes"), "checklist.notes", line),
        )
    return Topic(key, name.strip(), str(data.get("name_en") or ""), keywords, synonyms, checklist)


def _parse_body(
    body: str, first_line: int, topic: str, path: str, problems: list[str]
) -> tuple[FaqEntry, ...]:
    entries: list[FaqEntry] = []
    lines = body.splitlines()
    i = 0
    n = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("### "):
            i += 1
            continue
        head_line = first_line + i
        question = line[4:].strip()
        i += 1
        alternatives: list[str] = []
        while i < len(lines) and lines[i].startswith(">"):
            alt = lines[i].lstrip(">").strip()
            if alt:
                alternatives.append(alt)
            i += 1
        answer_lines: list[str] = []
        while i < len(lines) and not lines[i].startswith("### "):
            if not _COMMENT.match(lines[i]):  # <!-- an editor's note -->: in the file, not in the answer
                answer_lines.append(lines[i])
            i += 1
        answer = join_soft_breaks("\n".join(answer_lines).strip())
        if not question:
            problems.append(f"{path}:{head_line}: FAQ entry without a question after '###'; skipped")
            continue
        if not answer:
            problems.append(
                f"{path}:{head_line}: FAQ entry {safe_yaml.clip(repr(question))} has no answer; skipped"
            )
            continue
        n += 1
        entries.append(
            FaqEntry(f"{topic}/{n}", topic, question, tuple(alternatives), answer, f"{path}:{head_line}")
        )
    return tuple(entries)


_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")
_BLOCK_START = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|>|#|```|\|)")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


def join_soft_breaks(text: str) -> str:
    """A single line break inside a paragraph is no break, as Markdown renders it (a soft line break).

    Answers wrapped by hand in the source read as one paragraph: lines are joined, with nothing between
    Chinese characters and a space between other words. Blank lines (paragraphs), list items, quotes,
    headings and a hard break (a line ending in two spaces or a backslash) are kept.
    """
    out: list[str] = []
    for line in text.split("\n"):
        prev = out[-1] if out else ""
        joinable = (
            out
            and prev.strip()
            and line.strip()
            and not _BLOCK_START.match(line)
            and not prev.endswith(("  ", "\\"))
        )
        if not joinable:
            out.append(line)
            continue
        left, right = prev.rstrip(), line.lstrip()  # the right side keeps a hard break's trailing spaces
        glue = "" if _CJK.match(left[-1]) or _CJK.match(right[0]) else " "
        out[-1] = left + glue + right
    return "\n".join(x.removesuffix("\\").rstrip() for x in out)


def parse_faq_file(text: str, path: str) -> tuple[Topic, list[str]]:
    """Parse one topic file; raises ValueError('file:line: message') when the file cannot be used.

    Returns the topic and non-fatal problems (e.g. an entry without an answer, which is skipped).
    """
    m = _FRONT.match(text.replace("\r\n", "\n"))
    if not m:
        raise ValueError(f"{path}:1: expected YAML front matter between '---' lines at the top")
    front = m.group(1)
    try:
        data = safe_yaml.load(front)  # aliases refused with their line, before any expansion
    except yaml.MarkedYAMLError as exc:
        line = (exc.problem_mark.line + 2) if exc.problem_mark else 1
        raise ValueError(f"{path}:{line}: YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:  # e.g. a control character (ReaderError): no line of its own
        raise ValueError(f"{path}:1: YAML: {safe_yaml.clip(str(exc), 200)}") from None
    try:
        topic = _parse_front(data, front)
    except _Problem as p:
        raise ValueError(f"{path}:{p.line + 1}: {p.message}") from None
    problems: list[str] = []
    body_first_line = front.count("\n") + 4  # '---', front lines, '---', then the body's first line
    entries = _parse_body(text.replace("\r\n", "\n")[m.end() :], body_first_line, topic.key, path, problems)
    return Topic(
        topic.key, topic.name, topic.name_en, topic.keywords, topic.synonyms, topic.checklist, entries
    ), problems


def load_faq(directory: Path) -> tuple[FaqLibrary, list[str]]:
    """Load every ``*.md`` topic file in ``directory`` (sorted; README.md and _*.md are not topics)."""
    topics: dict[str, Topic] = {}
    problems: list[str] = []
    if not directory.is_dir():
        problems.append(f"{directory}:0: FAQ directory not found")
    for path, text, why in read_content_files(directory, FAQ_FILE_MAX_BYTES, "FAQ file"):
        if text is None:
            problems.append(f"{path}:1: {why}; file skipped")
            continue
        try:
            topic, file_problems = parse_faq_file(text, str(path))
        except ValueError as exc:
            problems.append(f"{exc}; file skipped")
            continue
        problems += file_problems
        if topic.key in topics:
            problems.append(f"{path}:2: topic {topic.key!r} already defined by another file; file skipped")
            continue
        topics[topic.key] = topic
    return FaqLibrary(topics), problems
