"""The `servicebot` commands: parse arguments, load config, call in. A leaf: nothing imports it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="servicebot", description=__doc__)
    parser.add_argument("--config", default="config.yaml", help="path to config.yaml (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="validate config and content; print chats, people and sources")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "check":
        print("ok")
        return 0
    parser.print_help(sys.stderr)
    return 2
