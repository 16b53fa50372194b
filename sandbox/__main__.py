"""``python -m sandbox [--port N] [--world FILE] [--no-flood] [--export-world FILE]``."""

from __future__ import annotations

import argparse
import sys

from sandbox.server import serve
from sandbox.world import DEFAULT_WORLD, WorldError, dump_world, load_world


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox",
                                     description="An offline Telegram Bot API server with a control API.")
    parser.add_argument("--port", type=int, default=8081, help="port on 127.0.0.1 (default 8081; 0 = any)")
    parser.add_argument("--world", metavar="FILE", help="world YAML (default: the built-in demo world)")
    parser.add_argument("--no-flood", action="store_true", help="turn Telegram's flood control off")
    parser.add_argument("--export-world", metavar="FILE",
                        help="write the world (default or --world) as YAML to FILE ('-' = stdout) and exit")
    args = parser.parse_args(argv)
    try:
        world = load_world(args.world) if args.world else DEFAULT_WORLD
    except WorldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.export_world:
        text = dump_world(world)
        if args.export_world == "-":
            sys.stdout.write(text)
        else:
            with open(args.export_world, "w", encoding="utf-8") as fh:
                fh.write(text)
        return 0
    serve(args.port, args.world, flood=not args.no_flood)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
