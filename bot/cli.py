"""The `servicebot` commands: parse arguments, load config, call in. A leaf: nothing imports it."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence

from bot.config import Config, ConfigError, bot_token, load_config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicebot", description="The service desk and morning paper of a resident service group."
    )
    parser.add_argument("--config", default="config.yaml", help="path to config.yaml (default: %(default)s)")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("check", help="validate config and content; print chats, people and sources")
    run = sub.add_parser("run", help="run the bot (long polling, or webhook by config or --webhook)")
    run.add_argument("--webhook", action="store_true", help="webhook mode regardless of telegram.mode")
    disc = sub.add_parser("discover", help="print the ids of chats and users that message the bot")
    disc.add_argument("--seconds", type=float, default=120, help="how long to listen (default: %(default)s)")
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


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """Run the bot until SIGINT/SIGTERM (python-telegram-bot stops cleanly on both)."""
    from bot.chat.app import build_application
    from bot.logs import setup_logging
    from bot.store import Store, StoreError

    token = bot_token(config)
    setup_logging(args.log_level, token)
    try:
        store = Store.open(config.data_dir)
    except StoreError as exc:
        print(f"{config.data_dir}: {exc}", file=sys.stderr)
        return 2
    with store:
        for line in store.recovery:
            print(f"store: {line}", file=sys.stderr)
        app = build_application(config, token, store=store)
        if args.webhook or config.telegram.mode == "webhook":
            hook = config.telegram.webhook
            if not hook.public_url:
                print("config.yaml: telegram.webhook.public_url: expected the HTTPS URL Telegram posts to", file=sys.stderr)
                return 2
            secret = os.environ.get(hook.secret_token_env) or None
            app.run_webhook(
                listen=hook.listen,
                port=hook.port,
                url_path=hook.url_path,
                webhook_url=hook.public_url,
                secret_token=secret,
            )
        else:
            app.run_polling()
    return 0


def cmd_discover(config: Config, args: argparse.Namespace) -> int:
    """Print chats and users as they message the bot, to paste into config.yaml."""
    from bot.chat.discover import discover

    token = bot_token(config)
    asyncio.run(discover(token, config.telegram.base_url, args.seconds))
    return 0


COMMANDS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "check": cmd_check,
    "run": cmd_run,
    "discover": cmd_discover,
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
    try:
        return COMMANDS[args.command](config, args)
    except ConfigError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
