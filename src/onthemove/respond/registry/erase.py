"""Withdrawal of consent and deletion past the retention date.

* **Withdrawal** (``withdraw``): the consent gets its ``withdrawn_at``; every identifying field of the household
  and its members (ciphertexts and blind indexes) is overwritten with NULL; the pseudonymous record (site,
  size, sex and age bands, the pseudonyms) stays, so counts and the no-double-payment check still hold.
  ``erase=True`` deletes the household instead (the right to erasure), like a purge of that one household.
* **Purge** (``purge``): every household whose ``retention_until`` has passed is deleted with its members and
  consents; its distributions stay for the 3W/4W counts, their household ID blanked.

Both are audited (counts, never identifying data) inside their own transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from onthemove.access import audit
from onthemove.access.policy import Principal, require
from onthemove.respond.registry.guard import now, today
from onthemove.respond.registry.model import ACTIVE, HOUSEHOLD_ENCRYPTED, MEMBER_ENCRYPTED, WITHDRAWN, RegistryError
from onthemove.respond.registry.records import in_scope
from onthemove.store.base import Store


def withdraw(
    store: Store, principal: Principal, household_id: str, *, erase: bool = False, reason: str | None = None
) -> dict[str, Any]:
    require(principal, "erase_personal")
    hid = household_id.strip().upper()
    row = store.fetch_one("SELECT status, consent_id, place FROM households WHERE household_id = $id", {"id": hid})
    if row is None or not in_scope(store, principal, row[2]):
        raise RegistryError(f"no household {hid!r} (or not in your scope)")
    if row[0] != ACTIVE and not erase:
        raise RegistryError(f"{hid} withdrew its consent already")
    actor = principal.label()
    with store.transaction():
        store.execute(
            "UPDATE consents SET withdrawn_at = $t, withdrawn_by = $u "
            "WHERE household_id = $id AND withdrawn_at IS NULL",
            {"t": now(), "u": actor, "id": hid},
        )
        if erase:
            counts = _delete(store, [hid])
        else:
            blank_h = ", ".join(f"{c} = NULL" for c in (*HOUSEHOLD_ENCRYPTED, "phone_index"))
            blank_m = ", ".join(f"{c} = NULL" for c in (*MEMBER_ENCRYPTED, "name_index", "document_index"))
            store.execute(
                f"UPDATE households SET status = '{WITHDRAWN}', {blank_h} WHERE household_id = $id", {"id": hid}
            )
            store.execute(f"UPDATE members SET {blank_m} WHERE household_id = $id", {"id": hid})
            members = store.fetch_one("SELECT count(*) FROM members WHERE household_id = $id", {"id": hid})
            counts = {"households": 1, "members": int(members[0]) if members else 0}
        audit.record(
            store, actor, "registry.erase" if erase else "registry.withdraw", hid, {"reason": reason, **counts}
        )
    return {"household_id": hid, "erased": erase, **counts}


def _delete(store: Store, ids: list[str]) -> dict[str, int]:
    """Delete households with their members and consents; blank them on their distributions."""
    counts = {}
    for table in ("members", "consents", "households"):
        row = store.fetch_one(f"SELECT count(*) FROM {table} WHERE list_contains($ids, household_id)", {"ids": ids})
        counts[table] = int(row[0]) if row else 0
        store.execute(f"DELETE FROM {table} WHERE list_contains($ids, household_id)", {"ids": ids})
    row = store.fetch_one("SELECT count(*) FROM distributions WHERE list_contains($ids, household_id)", {"ids": ids})
    counts["distributions_kept"] = int(row[0]) if row else 0
    store.execute("UPDATE distributions SET household_id = NULL WHERE list_contains($ids, household_id)", {"ids": ids})
    return counts


@dataclass
class Purge:
    on: dt.date
    households: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False


def due(store: Store, on: dt.date | None = None) -> list[str]:
    """Households past their retention date on ``on`` (today)."""
    rows = store.fetch(
        "SELECT household_id FROM households WHERE retention_until < $d ORDER BY household_id", {"d": on or today()}
    )
    return [str(r[0]) for r in rows]


def purge(store: Store, principal: Principal, *, on: dt.date | None = None, dry_run: bool = False) -> Purge:
    """Delete every household past its retention date (with members and consents), audited."""
    require(principal, "erase_personal")
    if principal.scope is not None:
        raise RegistryError("a purge covers the whole registry: it needs a user without a place scope")
    on = on or today()
    result = Purge(on, dry_run=dry_run)
    ids = due(store, on)
    result.households = len(ids)
    if dry_run or not ids:
        return result
    with store.transaction():
        result.counts = _delete(store, ids)
        audit.record(store, principal.label(), "registry.purge", None, {"before": on.isoformat(), **result.counts})
    return result
