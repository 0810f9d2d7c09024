"""Exports for partners: pseudonymised only, never an identifying field.

Three CSV files: ``households.csv`` (pseudonym, site, place, size, head's sex and age band, vulnerabilities,
registration date), ``members.csv`` (pseudonym, household, sex, age band, disability: no birth year) and
``distributions.csv``. Only households whose consent covers the export's purpose (and is not withdrawn) and
that are within their retention period are exported; distributions of the others keep their row with the
household left blank. With ``recipient`` the pseudonyms are re-keyed for that recipient
(``crypto.recipient_pseudonym``): two partners' files cannot be joined on them, and only the registry can map
them back. The export is audited with its recipient, purpose and counts.

These files are microdata: before they go to anyone outside, ``onthemove disclose check`` tells whether
sex, age band, site and vulnerabilities single anyone out.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onthemove.access import audit
from onthemove.access.policy import Principal, require
from onthemove.respond.registry.crypto import recipient_pseudonym
from onthemove.respond.registry.guard import check_keys, today
from onthemove.respond.registry.keys import RegistryKeys
from onthemove.respond.registry.model import ACTIVE, ASSISTANCE, PURPOSES, RegistryError
from onthemove.respond.registry.records import scope_checker
from onthemove.store.base import Store

HOUSEHOLD_COLUMNS = (
    "household_id",
    "site_id",
    "place",
    "size",
    "head_sex",
    "head_age_band",
    "vulnerabilities",
    "registered_at",
)
MEMBER_COLUMNS = ("member_id", "household_id", "sex", "age_band", "disability")
DISTRIBUTION_COLUMNS = (
    "household_id",
    "site_id",
    "place",
    "date",
    "cycle",
    "sector",
    "package",
    "quantity",
    "unit",
    "value",
    "currency",
    "organisation",
    "programme",
    "people",
)


@dataclass
class Export:
    folder: Path
    recipient: str | None
    purpose: str
    counts: dict[str, int] = field(default_factory=dict)
    left_out: int = 0  # households without consent for the purpose, withdrawn or past retention

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "recipient": self.recipient,
            "purpose": self.purpose,
            **self.counts,
            "households_left_out": self.left_out,
        }


def export_pseudonymised(
    store: Store,
    principal: Principal,
    folder: str | Path,
    *,
    purpose: str = ASSISTANCE,
    recipient: str | None = None,
    keys: RegistryKeys | None = None,
) -> Export:
    require(principal, "read_registry")
    if purpose not in PURPOSES:
        raise RegistryError(f"unknown purpose {purpose!r}; purposes: {', '.join(PURPOSES)}")
    if recipient is not None:
        if keys is None:
            raise RegistryError("re-keying pseudonyms for a recipient needs the pseudonymisation key")
        check_keys(store, keys, encryption=False, record=False)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    households = store.fetch_dicts(
        f"SELECT {', '.join('h.' + c for c in HOUSEHOLD_COLUMNS)}, h.status, h.retention_until, c.purposes, "
        "c.withdrawn_at FROM households h LEFT JOIN consents c ON c.consent_id = h.consent_id ORDER BY h.household_id"
    )
    on = today()
    in_scope = scope_checker(store, principal)
    keep = {
        h["household_id"]
        for h in households
        if h["status"] == ACTIVE
        and h["withdrawn_at"] is None
        and h["retention_until"] >= on
        and purpose in str(h["purposes"] or "").split()
        and in_scope(h["place"])
    }
    visible = [h for h in households if in_scope(h["place"])]
    result = Export(folder, recipient, purpose, left_out=len(visible) - len(keep))

    def pid(value: str | None) -> str | None:
        if value is None or value not in keep:
            return None
        return recipient_pseudonym(keys.pseudonym, recipient, value) if recipient and keys else value

    def member_pid(value: str) -> str:
        return recipient_pseudonym(keys.pseudonym, recipient, value) if recipient and keys else value

    rows_h = [{**{c: h[c] for c in HOUSEHOLD_COLUMNS}, "household_id": pid(h["household_id"])} for h in households
              if h["household_id"] in keep]  # fmt: skip
    members = store.fetch_dicts(f"SELECT {', '.join(MEMBER_COLUMNS)} FROM members ORDER BY household_id, member_id")
    rows_m = [
        {**m, "member_id": member_pid(m["member_id"]), "household_id": pid(m["household_id"])}
        for m in members
        if m["household_id"] in keep
    ]
    distributions = store.fetch_dicts(
        f"SELECT {', '.join(DISTRIBUTION_COLUMNS)} FROM distributions ORDER BY date, site_id, distribution_id"
    )
    rows_d = [{**d, "household_id": pid(d["household_id"])} for d in distributions if in_scope(d["place"])]
    for name, columns, rows in (
        ("households.csv", HOUSEHOLD_COLUMNS, rows_h),
        ("members.csv", MEMBER_COLUMNS, rows_m),
        ("distributions.csv", DISTRIBUTION_COLUMNS, rows_d),
    ):
        with (folder / name).open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(columns), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        result.counts[name.removesuffix(".csv")] = len(rows)
    audit.record(
        store,
        principal.label(),
        "registry.export",
        str(folder.name),
        {"recipient": recipient, "purpose": purpose, **result.counts, "households_left_out": result.left_out},
    )
    return result
