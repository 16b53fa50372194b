"""The `servicebot` commands: parse arguments, load config, call in. A leaf: nothing imports it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bot.config import Config, ConfigError, load_config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicebot", description="The service desk and morning paper of a resident service group."
    )
    parser.add_argument("--config", default="config.yaml", help="path to config.yaml (default: %(default)s)")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("check", help="validate config and content; print chats, people and sources")
    return parser


def _print_table(title: str, rows: list[tuple[str, ...]]) -> None:
    print(f"\n{title}")
    if not rows:
        print("  (none)")
        return
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def cmd_check(config: Config, args: argparse.Namespace) -> int:
    """Validate config (already done by loading it) and print what the bot will work with."""
    chats: list[tuple[str, ...]] = [("role", "id", "name")]
    for g in config.chats.groups:
        chats.append(("member group", str(g.id), f"{g.name} {g.title}".strip()))
    chats += [
        ("staff chat", str(config.chats.staff), ""),
        ("editors chat", str(config.chats.editors), ""),
        ("ops chat", str(config.chats.ops), ""),
    ]
    _print_table("Chats", chats)
    people: list[tuple[str, ...]] = [("role", "id", "name", "topics")]
    for s in config.people.staff:
        people.append(("supervisor" if s.supervisor else "staff", str(s.id), s.name, ",".join(s.topics)))
    for e in config.people.editors:
        people.append(("editor", str(e.id), e.name, ""))
    for a in config.people.admins:
        people.append(("admin", str(a), "", ""))
    _print_table("People", people)
    sources: list[tuple[str, ...]] = [("name", "kind", "url")]
    sources += [(s.name, s.kind, s.url) for s in config.sources]
    _print_table("Sources", sources)
    print("\nconfig OK")
    return 0


COMMANDS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "check": cmd_check,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 2
    return COMMANDS[args.command](config, args)
