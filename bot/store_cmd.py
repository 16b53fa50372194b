"""`servicebot store migrate --from DIR --to postgres`: copy a journal store into the PostgreSQL database of
``store.dsn_env`` (bot/store/migrate.py: one transaction, verified by counts and a checksum of every
document, refused on a database that holds anything). Stop the bot first: the journal store is opened as
its owner. Afterwards set ``store: {kind: postgres}`` in config.yaml (docs/storage.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError, store_dsn

__all__ = ["add_store_parser", "cmd_store"]


def add_store_parser(sub: Any) -> None:
    """Add ``store migrate --from DIR --to postgres`` to the CLI's subcommands."""
    st = sub.add_parser("store", help="the store: migrate a journal store to PostgreSQL")
    actions = st.add_subparsers(dest="action", required=True, metavar="ACTION")
    common = getattr(sub, "_common", None)
    parents = [common] if common is not None else []
    mig = actions.add_parser("migrate", parents=parents,
                             help="copy a journal store (the bot stopped) into an empty PostgreSQL database")
    mig.add_argument("--from", dest="source", required=True, metavar="DIR", help="the journal store's data_dir")
    mig.add_argument("--to", dest="target", required=True, choices=["postgres"],
                     help="postgres: the database whose DSN is in store.dsn_env (default DATABASE_URL)")


def cmd_store(config: Config, args: argparse.Namespace) -> int:
    from bot.store import StoreError, StoreLockedError
    from bot.store.migrate import migrate_journal
    from bot.store.pg import PgStore

    dsn = store_dsn(config)  # ConfigError: named variable not set
    source = Path(args.source)
    try:
        target = PgStore.connect(dsn)
        try:
            copied = migrate_journal(source, target)
        finally:
            target.close()
    except StoreLockedError as exc:
        raise ConfigError([f"--from {source}: {exc} — stop the bot first"]) from None
    except StoreError as exc:
        print(f"store migrate: {exc}", file=sys.stderr)
        return 2
    print(f"copied {copied.documents} documents in {len(copied.counts)} tables from {source} to {target.where}; "
          f"verified (counts and every document's SHA-256; checksum {copied.checksum})")
    for name, n in sorted(copied.counts.items()):
        print(f"  {name}: {n}")
    if config.store.kind != "postgres":
        print("now set `store: {kind: postgres, dsn_env: " + config.store.dsn_env + "}` in config.yaml")
    return 0
