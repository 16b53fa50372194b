"""The walk over a content folder (content/faq, content/replies, content/queue): which files are content,
read each within its size cap, and say why one cannot be read — the one place for what each loader did
on its own (bot/tickets/topics.py, bot/assist/replies.py, bot/editorial/content.py, bot/editorial/check.py).

A content file is a ``*.md`` in the folder, in name order; ``README.md`` (any case) describes the folder
and is never content. FAQ topics and canned replies also leave ``_*.md`` out (an editor's scratch file);
queue files do not (their name is the item's key). No folder: no files (the bot runs without content).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from digests import safe_yaml

__all__ = ["content_paths", "read_content_files"]


def content_paths(directory: Path, *, skip_private: bool = True) -> list[Path]:
    """The content files of ``directory`` in name order (``skip_private``: leave ``_*.md`` out too)."""
    if not directory.is_dir():
        return []
    return [
        p
        for p in sorted(directory.glob("*.md"))
        if p.name.lower() != "readme.md" and not (skip_private and p.name.startswith("_"))
    ]


def read_content_files(
    directory: Path, cap: int, what: str, *, skip_private: bool = True
) -> Iterator[tuple[Path, str | None, str]]:
    """(path, text, "") for each content file read, (path, None, why) for one that cannot be: larger than
    ``cap`` bytes (``what`` names it in the message: "1.5 MB is larger than the 512 KB a FAQ file may be"),
    unreadable or not UTF-8 ("cannot read: …"). The caller reports ``why`` at ``path``:1 and goes on."""
    for path in content_paths(directory, skip_private=skip_private):
        try:
            yield path, safe_yaml.read_text(path, cap, what), ""
        except safe_yaml.FileTooLarge as exc:
            yield path, None, str(exc)
        except (OSError, UnicodeDecodeError) as exc:
            yield path, None, f"cannot read: {exc}"
