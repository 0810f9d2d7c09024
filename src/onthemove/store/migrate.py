"""Numbered migrations: ``NNN_name.sql`` files applied in order, each in its own transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from onthemove.store.base import Store
from onthemove.store.sql import split_statements

_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    script: str


def available() -> list[Migration]:
    found = []
    for entry in resources.files("onthemove.store.migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda mig: mig.version)


def applied(store: Store) -> set[int]:
    if not store.table_exists("schema_migrations"):
        return set()
    return {int(r[0]) for r in store.fetch("SELECT version FROM schema_migrations")}


def upgrade(store: Store) -> list[Migration]:
    """Bring the schema up to date; return the migrations that were applied now."""
    if not store.table_exists("schema_migrations"):
        with store.transaction():
            store.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
    done = applied(store)
    ran = []
    for mig in available():
        if mig.version in done:
            continue
        with store.transaction():
            for statement in split_statements(mig.script):
                if not store.skip_statement(statement):
                    store.execute(statement)
            store.execute(
                "INSERT INTO schema_migrations VALUES ($v, $n, $t)",
                {"v": mig.version, "n": mig.name, "t": datetime.now(UTC).replace(tzinfo=None)},
            )
        ran.append(mig)
    return ran


def pending(store: Store) -> list[Migration]:
    done = applied(store)
    return [m for m in available() if m.version not in done]
