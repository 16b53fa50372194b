"""Reading the YAML and text files people write (config.yaml, content/…) without hanging or blowing up.

Three guards, shared by every loader of config and content (it lives in digests/ because digests/
must not import bot/, and both need it):

- **No aliases.** ``&anchor`` / ``*alias`` (and ``<<: *merge``) let 443 bytes expand to a billion
  values (the "billion laughs"); config and content never need them. :class:`NoAliasLoader` refuses
  the first alias *while composing*, before anything is expanded, as a ``yaml.MarkedYAMLError`` whose
  ``problem_mark`` is the alias's line, so every caller's existing ``file:line`` report applies.
  Nesting deeper than :data:`MAX_DEPTH` is refused the same way (PyYAML composes recursively).
- **A size cap per file.** :func:`read_text` refuses a file larger than its cap with
  :class:`FileTooLarge` (an ``OSError``, so callers that report "cannot read" report it) before
  reading it whole; the caps are in docs/content.md and docs/config.md.
- **Short errors.** :func:`shorten` shows a value in an error message cut to a few dozen characters:
  a message must never repr a huge value.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError

__all__ = [
    "MAX_DEPTH",
    "FileTooLarge",
    "NoAliasLoader",
    "clip",
    "compose",
    "human_size",
    "load",
    "read_text",
    "shorten",
]

MAX_DEPTH = 32  # config and content nest 4-5 levels; PyYAML composes recursively


class NoAliasLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses aliases and deep nesting while composing (nothing expanded)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]  # types-PyYAML leaves it untyped
            raise ComposerError(
                None,
                None,
                f"YAML aliases (*{event.anchor}) are not allowed here: write the value out in full",
                event.start_mark,
            )
        if self._depth >= MAX_DEPTH:
            event = self.peek_event()  # type: ignore[no-untyped-call]  # types-PyYAML leaves it untyped
            raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load(text: str) -> Any:
    """``yaml.safe_load`` without aliases (raises ``yaml.MarkedYAMLError`` naming the line)."""
    return yaml.load(text, Loader=NoAliasLoader)  # a SafeLoader subclass: no arbitrary objects


def compose(text: str) -> yaml.Node | None:
    """``yaml.compose`` (nodes with their lines) without aliases."""
    return yaml.compose(text, Loader=NoAliasLoader)


class FileTooLarge(OSError):
    """A file larger than the cap for its kind; ``str()`` says how large and what the cap is."""


def human_size(n: int) -> str:
    """``1536`` -> ``1.5 KB``; ``22649241`` -> ``21.6 MB`` (binary units, one decimal)."""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}".replace(".0 ", " ")
        size /= 1024
    raise AssertionError("unreachable")


def read_text(path: Path, cap: int, what: str = "file") -> str:
    """The UTF-8 text of ``path``, refusing (``FileTooLarge``) a file over ``cap`` bytes unread."""
    with path.open("rb") as f:
        data = f.read(cap + 1)
        if len(data) > cap:
            f.seek(0, 2)
            raise FileTooLarge(
                f"{human_size(f.tell())} is larger than the {human_size(cap)} a {what} may be"
            )
    return data.decode("utf-8")


def clip(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters, with "…" where it was cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def shorten(value: Any, limit: int = 60) -> str:
    """``value`` for an error message: strings quoted, anything else repr'd, cut to ``limit`` chars."""
    if isinstance(value, str):
        if len(value) <= limit:
            return '"' + value + '"'
        return '"' + value[:limit] + f'…" ({len(value)} characters)'
    # reprlib bounds nesting, items and string lengths, so a huge structure is never rendered whole
    shown = _REPR.repr(value)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def _bounded_repr() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxlevel, r.maxtuple, r.maxlist, r.maxdict, r.maxset = 2, 4, 4, 4, 4
    r.maxstring = r.maxother = 40
    return r


_REPR = _bounded_repr()
