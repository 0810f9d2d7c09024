"""Checks every registry operation starts with: the right keys for this store, and the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

import pyarrow as pa

from onthemove.respond.registry.keys import RegistryKeyError, RegistryKeys, key_id
from onthemove.store.base import Store

_WHAT = {
    "encryption": "the identifying fields in this store are encrypted with key {known}, but the key given is "
    "{given}: point registry_key_file at the key this store was encrypted with",
    "pseudonym": "the pseudonymous IDs in this store were made with key {known}, but the key given is {given}: "
    "with another key every household would get a new ID; point registry_pseudonym_key_file at the original",
}


def now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(tzinfo=None)


def today() -> dt.date:
    return now().date()


def check_keys(
    store: Store, keys: RegistryKeys, *, encryption: bool = True, pseudonym: bool = True, record: bool = True
) -> None:
    """Refuse keys other than the ones this store's data were made with; remember them the first time
    (in the caller's transaction, so a refused import leaves nothing behind)."""
    known = {str(p): str(k) for p, k in store.fetch("SELECT purpose, key_id FROM registry_keys")}
    wanted = []
    if encryption:
        wanted.append(("encryption", key_id(keys.encryption)))
    if pseudonym:
        wanted.append(("pseudonym", key_id(keys.pseudonym)))
    for purpose, given in wanted:
        if purpose in known and known[purpose] != given:
            raise RegistryKeyError(_WHAT[purpose].format(known=known[purpose], given=given))
    new = [(p, k) for p, k in wanted if p not in known]
    if new and record:
        with store.transaction():
            for purpose, kid in new:
                store.execute("INSERT INTO registry_keys VALUES ($p, $k, $t)", {"p": purpose, "k": kid, "t": now()})


def load_rows(store: Store, table: str, rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> int:
    """Append rows (dicts keyed by column) through the engine's bulk path; the caller holds the transaction."""
    if not rows:
        return 0
    data = pa.Table.from_pylist([dict(r) for r in rows], schema=schema)
    return store.load_arrow(table, data)


def save_batch(store: Store, kind: str, again: bool, values: dict[str, object]) -> None:
    """Record a loaded registry batch (``again``: the same file was loaded before and rolled back)."""
    if again:
        store.execute(
            "UPDATE registry_batches SET source_file = $f, sha256 = $s, loaded_by = $u, loaded_at = $t, "
            "rows_read = $r, rows_loaded = $l, status = 'loaded' WHERE batch_id = $b",
            values,
        )
    else:
        store.execute(
            f"INSERT INTO registry_batches VALUES ($b, '{kind}', $f, $s, $u, $t, $r, $l, 'loaded')",
            values,
        )
