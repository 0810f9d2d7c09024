"""The registry's own batches (registrations and distribution lists): listed, and rolled back exactly.

They are kept apart from the canonical ``batches``: personal data never goes through the ingest pipeline, and
``onthemove rollback`` cannot reach it. A registration batch whose households have since received assistance
(a distribution batch still loaded) is not rolled back: roll the distribution batch back first.
"""

from __future__ import annotations

from typing import Any

from onthemove.access import audit
from onthemove.access.policy import Principal, require
from onthemove.respond.registry.model import RegistryError
from onthemove.store.base import Store


def list_batches(store: Store, principal: Principal, include_all: bool = False) -> list[dict[str, Any]]:
    require(principal, "read_registry")
    where = "" if include_all else "WHERE status = 'loaded'"
    return store.fetch_dicts(
        "SELECT batch_id, kind, source_file, loaded_by, loaded_at, rows_read, rows_loaded, status "
        f"FROM registry_batches {where} ORDER BY loaded_at, batch_id"
    )


def rollback(store: Store, principal: Principal, batch_id: str) -> dict[str, int]:
    require(principal, "register")
    row = store.fetch_one("SELECT kind, status FROM registry_batches WHERE batch_id = $b", {"b": batch_id})
    if row is None:
        raise RegistryError(f"no registry batch {batch_id!r}; `onthemove registry batches` lists them")
    kind, status = row
    if status != "loaded":
        raise RegistryError(f"registry batch {batch_id} is {status}, not loaded; nothing to roll back")
    removed: dict[str, int] = {}
    with store.transaction():
        if kind == "registration":
            used = store.fetch_one(
                "SELECT count(*) FROM distributions WHERE household_id IN "
                "(SELECT household_id FROM households WHERE batch_id = $b)",
                {"b": batch_id},
            )
            if used and used[0]:
                raise RegistryError(
                    f"households of batch {batch_id} received assistance ({used[0]} distribution rows): roll those "
                    "distribution batches back first"
                )
            tables: tuple[str, ...] = ("members", "consents", "households")
        else:
            tables = ("distributions",)
        for table in tables:
            count = store.fetch_one(f"SELECT count(*) FROM {table} WHERE batch_id = $b", {"b": batch_id})
            removed[table] = int(count[0]) if count else 0
            store.execute(f"DELETE FROM {table} WHERE batch_id = $b", {"b": batch_id})
        store.execute("UPDATE registry_batches SET status = 'rolled_back' WHERE batch_id = $b", {"b": batch_id})
        audit.record(store, principal.label(), "registry.rollback", batch_id, removed)
    return removed
