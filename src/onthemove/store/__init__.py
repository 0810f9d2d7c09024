"""Store: one interface over DuckDB (embedded, default) and PostgreSQL (shared server)."""

from __future__ import annotations

import os
from pathlib import Path

from onthemove.store.base import Store, StoreError
from onthemove.store.migrate import pending, upgrade

DEFAULT_STORE = "./onthemove-data/"
ENV_STORE = "ONTHEMOVE_STORE"

__all__ = ["DEFAULT_STORE", "Store", "StoreError", "open_store", "resolve_location"]


def resolve_location(location: str | os.PathLike[str] | None) -> str:
    """Flag, then environment, then the default directory."""
    return str(location or os.environ.get(ENV_STORE) or DEFAULT_STORE)


def open_store(location: str | os.PathLike[str] | None = None, *, migrate: bool = True) -> Store:
    """Open (and by default create or upgrade) the store at a path or ``postgresql://`` URL."""
    where = resolve_location(location)
    store: Store
    if where.startswith(("postgresql://", "postgres://")):
        from onthemove.store.postgres_engine import PostgresStore

        store = PostgresStore(where)
    else:
        from onthemove.store.duckdb_engine import DuckDBStore

        store = DuckDBStore(Path(where))
    if migrate:
        upgrade(store)
    elif pending(store):
        store.close()
        raise StoreError(f"the store at {where} needs `onthemove init` to upgrade its schema")
    return store
