"""The store config.yaml asks for (``store: {kind, dsn_env}``, docs/storage.md): the journal store in
``data_dir`` (the default) or the PostgreSQL store at the DSN in the environment variable ``dsn_env``."""

from __future__ import annotations

from collections.abc import Mapping

from bot.config import Config, store_dsn
from bot.store.core import Store


def is_postgres(config: Config) -> bool:
    return config.store.kind == "postgres"


def has_store(config: Config) -> bool:
    """Whether there is something to read: a data directory, or a database (always, once configured)."""
    return is_postgres(config) or config.data_dir.exists()


def where(config: Config, environ: Mapping[str, str] | None = None) -> str:
    """Where the store is, for messages: the data directory or host:port/database (no password)."""
    if not is_postgres(config):
        return str(config.data_dir)
    from bot.store.pg import describe

    return describe(store_dsn(config, environ))


def open_store(config: Config, *, read_only: bool = False, environ: Mapping[str, str] | None = None) -> Store:
    """Open the configured store. Raises ConfigError when the DSN's variable is not set, StoreError (and its
    subclasses) when the store cannot be opened."""
    if is_postgres(config):
        from bot.store.pg import PgStore

        return PgStore.connect(store_dsn(config, environ), read_only=read_only)
    if read_only:
        return Store.open_read_only(config.data_dir)
    return Store.open(config.data_dir)


__all__ = ["has_store", "is_postgres", "open_store", "where"]
