"""`servicebot sources export|import`: the feed sources as OPML, and OPML as proposed config.

Export writes the config's feed-shaped sources (feed, jobs) as OPML 2.0. Import never edits
config.yaml: it prints the entries it proposes as YAML to paste under ``sources:``, leaves out
feeds already configured, and refuses (on stderr, exit 1) every URL the fetcher's SSRF guard would
refuse — not http(s), loopback, private, link-local, CGNAT, reserved — unless its host is in
``network.allow_hosts``. A host that does not resolve from here is proposed with a note: the guard
checks it again on every fetch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from bot.config import Config
from digests.opml import OpmlError, export_opml, parse_opml, source_name
from digests.sources.http import UnsafeURLError, check_url

__all__ = ["add_sources_parser", "cmd_sources"]


def add_sources_parser(sub: Any) -> None:
    """Add ``sources export`` / ``sources import FILE`` to the CLI's subcommands."""
    src = sub.add_parser("sources", help="feed sources as OPML: export, or import FILE as proposed config")
    actions = src.add_subparsers(dest="action", required=True, metavar="ACTION")
    common = getattr(sub, "_common", None)  # the global options (--config …) after the action too
    parents = [common] if common is not None else []
    out = actions.add_parser("export", help="write the feed sources as OPML 2.0", parents=parents)
    out.add_argument("--out", default="-", help="file to write (default: standard output)")
    into = actions.add_parser("import", help="print config entries for the feeds of an OPML file", parents=parents)
    into.add_argument("file", help="an OPML file (from a feed reader or RSSHub Radar)")


def _export(config: Config, args: argparse.Namespace) -> int:
    title = f"servicebot sources ({config.chats.groups[0].title})" if config.chats.groups else "servicebot sources"
    text = export_opml(((s.name, s.kind, s.url) for s in config.sources), title=title)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


def _import(config: Config, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        entries = parse_opml(data, str(path))
    except OpmlError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    known = {s.url: s.name for s in config.sources}
    names = {s.name for s in config.sources}
    proposed: list[tuple[str, dict[str, str], str | None]] = []
    refused: list[str] = []
    skipped: list[str] = []
    for entry in entries:
        if entry.xml_url in known:
            skipped.append(f"already a source ({known[entry.xml_url]}): {entry.title} <{entry.xml_url}>")
            continue
        note: str | None = None
        try:
            check_url(entry.xml_url, config.network.allow_hosts)
        except UnsafeURLError as exc:
            reason = str(exc)
            if not reason.startswith("cannot resolve"):
                refused.append(f"refused: {entry.title} <{entry.xml_url}>: {reason}")
                continue
            note = f"{reason} from here; the fetcher checks it again on every fetch"
        name = source_name(entry.title, entry.xml_url, names)
        names.add(name)
        known[entry.xml_url] = name
        proposed.append((entry.title, {"name": name, "kind": "feed", "url": entry.xml_url}, note))
    print(f"# proposed by `servicebot sources import {path.name}`: review, then add under sources: in config.yaml")
    print("# and name each in a section's sources: to use it")
    print("sources:" if proposed else "sources: []  # nothing new to add")
    for title, fields, note in proposed:
        print(f"  # {title}" + (f"  ({note})" if note else ""))
        print("  - " + yaml.safe_dump(fields, allow_unicode=True, default_flow_style=True, width=1000, sort_keys=False).strip())
    for line in skipped + refused:
        print(line, file=sys.stderr)
    return 1 if refused else 0


def cmd_sources(config: Config, args: argparse.Namespace) -> int:
    return _export(config, args) if args.action == "export" else _import(config, args)
