"""Batch registry: list what was loaded, and roll a batch back exactly."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from onthemove.ingest.kinds import KINDS  # declarations only: no import cycle
from onthemove.store.base import Store

CANONICAL_TABLES = tuple(k.table for k in KINDS.values())  # every kind's table: a rollback reaches them all
GAZETTEER_TABLES = ("places", "place_geometries", "place_aliases")


class BatchError(LookupError):
    pass


@dataclass
class Rollback:
    batch_id: str
    removed: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.removed.values())


def list_batches(store: Store, include_all: bool = False, kind: str | None = None) -> list[dict[str, Any]]:
    where, params = [], {}
    if not include_all:
        where.append("status = 'loaded'")
    if kind:
        where.append("kind = $kind")
        params["kind"] = kind
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return store.fetch_dicts(
        "SELECT batch_id, kind, source_file, sha256, attribution, licence, loaded_by, loaded_at, rows_read, "
        f"rows_loaded, rows_rejected, status FROM batches {clause} ORDER BY loaded_at, batch_id",
        params,
    )


def get_batch(store: Store, batch_id: str) -> dict[str, Any]:
    rows = store.fetch_dicts("SELECT * FROM batches WHERE batch_id = $id", {"id": batch_id})
    if not rows:
        raise BatchError(f"no batch {batch_id!r}; `onthemove batches` lists them")
    row = rows[0]
    row["report"] = json.loads(row["report"]) if row.get("report") else None
    return row


def rejections(store: Store, batch_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    text = "SELECT row_number, column_name, value, expected FROM rejections WHERE batch_id = $id ORDER BY row_number"
    if limit is not None:
        text += f" LIMIT {int(limit)}"
    return store.fetch_dicts(text, {"id": batch_id})


def remove_rows(store: Store, batch_id: str) -> dict[str, int]:
    """Delete every row a batch put anywhere; the caller holds the transaction."""
    removed = {}
    for table in (*CANONICAL_TABLES, *GAZETTEER_TABLES, "rejections"):
        row = store.fetch_one(f"SELECT count(*) FROM {table} WHERE batch_id = $id", {"id": batch_id})
        count = int(row[0]) if row else 0
        if count:
            store.execute(f"DELETE FROM {table} WHERE batch_id = $id", {"id": batch_id})
            removed[table] = count
    return removed


def rollback(store: Store, batch_id: str, actor: str | None = None) -> Rollback:
    batch = get_batch(store, batch_id)
    if batch["status"] != "loaded":
        raise BatchError(f"batch {batch_id} is {batch['status']}, not loaded; nothing to roll back")
    if batch["kind"] in ("places", "boundaries"):
        used = _records_using_places_of(store, batch_id)
        if used:
            raise BatchError(
                f"batch {batch_id} added places that {used:,} loaded records refer to; "
                "roll those batches back first, so that no record is left without its place"
            )
    from onthemove.access import audit
    from onthemove.ingest.pipeline import whoami

    with store.transaction():
        removed = remove_rows(store, batch_id)
        audit.record(store, actor or whoami(), "rollback", batch_id, removed)
        store.execute("UPDATE batches SET status = 'rolled_back' WHERE batch_id = $id", {"id": batch_id})
    return Rollback(batch_id, removed)


def _records_using_places_of(store: Store, batch_id: str) -> int:
    columns = {
        "displacement": ("place", "origin"),
        "movements": ("from_place", "to_place"),
        "sites": ("place",),
        "driver_events": ("place",),
        "indicator_values": ("place",),
    }
    total = 0
    for table, cols in columns.items():
        where = " OR ".join(f"{c} IN (SELECT pcode FROM places WHERE batch_id = $id)" for c in cols)
        row = store.fetch_one(f"SELECT count(*) FROM {table} WHERE {where}", {"id": batch_id})
        total += int(row[0]) if row else 0
    return total


def data_version(store: Store) -> tuple[Any, ...]:
    """Changes whenever records are loaded, superseded or rolled back: every such change is a batch, and a
    batch loaded again after a rollback gets a new ``loaded_at``. (Edits made with SQL outside onthemove are
    not seen.)"""
    row = store.fetch_one("SELECT count(*), max(loaded_at), count(*) FILTER (WHERE status = 'loaded') FROM batches")
    return tuple(row) if row else ()
