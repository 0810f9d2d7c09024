"""``onthemove registry distribute``: a distribution list (who received which package, where, when, from whom).

Each row names its household by pseudonymous ID (``household_id``), or, for lists made in the field, by an
identifying value looked up through a blind index (never decrypted): an identity-document number
(``id_document``), a phone number (``phone``), or a name with a birth year (``name`` + ``birth_year``).

No household is paid twice: a household gets one ``package`` per ``programme`` per ``cycle`` (the
entitlement period; the month of the date when the file has no cycle column). The entitlement's hash is the
row's primary key, so a second payment is refused by the store itself, on every engine; before that, the file
is checked as a whole and refused with the rows that repeat an entitlement (in the file or already stored),
name an unknown household, or name one whose consent does not cover assistance, was withdrawn, or whose
retention date has passed. A valid list is stored in one transaction with its batch and an audit entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from onthemove.access import audit
from onthemove.access.policy import Principal, require
from onthemove.respond.registry import crypto
from onthemove.respond.registry.guard import check_keys, load_rows, now, save_batch, today
from onthemove.respond.registry.importer import batch_id_for, document_index, file_sha256, name_index
from onthemove.respond.registry.keys import RegistryKeyError, RegistryKeys
from onthemove.respond.registry.model import ACTIVE, ASSISTANCE, Problem, Refused
from onthemove.respond.registry.parse import Cells, Column, read_file, sheet
from onthemove.store.base import Store

COLUMNS = (
    Column("household_id", ("household", "hh_id", "pseudonym")),
    Column("id_document", ("document_number", "id_number", "national_id", "document"), identifying=True),
    Column("phone", ("phone_number", "mobile", "telephone"), identifying=True),
    Column("name", ("full_name", "head_name", "recipient_name"), identifying=True),
    Column("birth_year", ("year_of_birth", "yob")),
    Column("site_id", ("site", "site_code", "camp")),
    Column("place", ("pcode", "place_pcode", "adm_pcode")),
    Column("date", ("distribution_date", "date_distributed", "delivered_on")),
    Column("cycle", ("round", "distribution_cycle", "period")),
    Column("sector", ("cluster",)),
    Column("package", ("item", "modality", "assistance")),
    Column("quantity", ("qty", "amount")),
    Column("unit", ("units",)),
    Column("value", ("value_usd", "transfer_value")),
    Column("currency", ()),
    Column("organisation", ("organization", "org", "partner", "agency")),
    Column("programme", ("program", "project", "project_code")),
)
SPEC = {c.name: c for c in COLUMNS}
SCHEMA = pa.schema(
    [
        ("distribution_id", pa.string()),
        ("household_id", pa.string()),
        ("site_id", pa.string()),
        ("place", pa.string()),
        ("date", pa.date32()),
        ("cycle", pa.string()),
        ("sector", pa.string()),
        ("package", pa.string()),
        ("quantity", pa.float64()),
        ("unit", pa.string()),
        ("value", pa.float64()),
        ("currency", pa.string()),
        ("organisation", pa.string()),
        ("programme", pa.string()),
        ("people", pa.int32()),
        ("batch_id", pa.string()),
        ("row_number", pa.int64()),
    ]
)
LOOKUPS = ("household_id", "id_document", "phone", "name")


@dataclass
class DistributionResult:
    batch_id: str
    file: str
    rows: int = 0
    households: int = 0
    already_loaded: bool = False
    found_by: dict[str, int] = field(default_factory=dict)  # how rows named their household

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "file": self.file,
            "rows": self.rows,
            "households": self.households,
            "already_loaded": self.already_loaded,
            "found_by": self.found_by,
        }


def entitlement_id(household_id: str, programme: str | None, package: str, cycle: str) -> str:
    return "D-" + hashlib.sha256(f"{household_id}|{programme or ''}|{package}|{cycle}".encode()).hexdigest()[:20]


def _word(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def distribute(
    store: Store, principal: Principal, path: str | Path, keys: RegistryKeys | None = None
) -> DistributionResult:
    """Check and store one distribution list, all or nothing (``Refused`` names every problem)."""
    require(principal, "register")
    path = Path(path)
    sha = file_sha256(path)
    batch_id = batch_id_for(sha, "distribution")
    result = DistributionResult(batch_id, path.name)
    existing = store.fetch_one("SELECT status FROM registry_batches WHERE batch_id = $b", {"b": batch_id})
    if existing and existing[0] == "loaded":
        result.already_loaded = True
        row = store.fetch_one(
            "SELECT count(*), count(DISTINCT household_id) FROM distributions WHERE batch_id = $b", {"b": batch_id}
        )
        result.rows, result.households = (int(row[0]), int(row[1])) if row else (0, 0)
        return result
    export = read_file(path)
    data = sheet(export.main, COLUMNS)
    name = path.name
    problems: list[Problem] = []
    if not any(c in data.found for c in LOOKUPS):
        problems.append(
            Problem(name, None, None, "a household_id column (or id_document, phone, or name + birth_year)")
        )
    for required in ("date", "sector", "package", "quantity", "organisation"):
        if required not in data.found:
            accepted = ", ".join((required, *SPEC[required].aliases))
            problems.append(Problem(name, None, None, f"a column {required} ({accepted})"))
    if problems:
        raise Refused(name, problems)
    identifying = [c for c in ("id_document", "phone", "name") if c in data.found]
    if identifying:
        if keys is None:
            raise RegistryKeyError(
                f"{name} finds households by {', '.join(identifying)}: that needs the registry keys "
                "(registry_key_file and registry_pseudonym_key_file)"
            )
        check_keys(store, keys, encryption=False, record=False)
    on = today()
    households = {
        str(r[0]): r
        for r in store.fetch(
            "SELECT h.household_id, h.site_id, h.place, h.size, h.status, h.retention_until, c.purposes, "
            "c.withdrawn_at FROM households h LEFT JOIN consents c ON c.consent_id = h.consent_id"
        )
    }
    site_places = {
        str(r[0]): r[1] for r in store.fetch("SELECT DISTINCT site_id, place FROM sites WHERE place IS NOT NULL")
    }
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for rec in data.records:
        c = Cells(name, rec, data.found, SPEC)
        pid = _find(store, keys, c, result.found_by)
        when = c.date("date", required=True, not_after=on)
        sector = c.text("sector", required=True)
        package = c.text("package", required=True)
        quantity = c.number("quantity", required=True)
        if quantity is not None and quantity <= 0:
            c.fail("quantity", "a quantity above 0", str(quantity))
        value = c.number("value")
        currency = c.text("currency")
        if currency is not None and not re.fullmatch(r"[A-Za-z]{3}", currency):
            c.fail("currency", "a three-letter ISO 4217 code (USD, SOS, KES)", currency)
        if value is not None and currency is None:
            c.fail("currency", "the currency of the value")
        organisation = c.text("organisation", required=True)
        programme = c.text("programme")
        cycle = c.text("cycle") or (when.strftime("%Y-%m") if when else None)
        hh = households.get(pid) if pid else None
        if pid and hh is None:
            c.fail("household_id", "the pseudonymous ID of a registered household", pid)
        elif hh is not None:
            _entitled(c, hh, when, on)
        if c.problems or pid is None or hh is None or when is None or cycle is None:
            problems.extend(c.problems)
            continue
        assert sector and package and quantity is not None and organisation
        did = entitlement_id(pid, programme, _word(package), cycle)
        if did in seen:
            c.fail(None, f"one {package!r} per household, programme and cycle: row {seen[did]} gives it already")
        seen.setdefault(did, rec.row)
        site = c.text("site_id") or str(hh[1])
        rows.append(
            {
                "distribution_id": did,
                "household_id": pid,
                "site_id": site,
                "place": (c.text("place") or "").upper() or site_places.get(site) or hh[2],
                "date": when,
                "cycle": cycle,
                "sector": _word(sector),
                "package": _word(package),
                "quantity": quantity,
                "unit": c.text("unit"),
                "value": value,
                "currency": currency.upper() if currency else None,
                "organisation": organisation,
                "programme": programme,
                "people": int(hh[3]),
                "batch_id": batch_id,
                "row_number": rec.row,
            }
        )
        problems.extend(c.problems)
    if rows:
        paid = store.fetch(
            "SELECT d.distribution_id, d.date, d.batch_id FROM distributions d "
            "WHERE list_contains($ids, d.distribution_id)",
            {"ids": [r["distribution_id"] for r in rows]},
        )
        by_id = {str(p[0]): p for p in paid}
        for r in rows:
            if r["distribution_id"] in by_id:
                _, date, batch = by_id[r["distribution_id"]]
                problems.append(
                    Problem(
                        name,
                        r["row_number"],
                        None,
                        f"a household not paid yet: {r['household_id']} received "
                        f"{r['package']!r} of this programme in cycle {r['cycle']} on {date} (batch {batch})",
                    )
                )
    if not rows and not problems:
        problems.append(Problem(name, None, None, "at least one distribution row"))
    if problems:
        raise Refused(name, sorted(problems, key=lambda p: p.row or 0))
    user = principal.label()
    with store.transaction():
        load_rows(store, "distributions", rows, SCHEMA)
        save_batch(
            store,
            "distribution",
            existing is not None,
            {"b": batch_id, "f": name, "s": sha, "u": user, "t": now(), "r": len(data.records), "l": len(rows)},
        )
        audit.record(
            store,
            user,
            "registry.distribute",
            batch_id,
            {"file": name, "sha256": sha, "rows": len(rows), "found_by": result.found_by},
        )
    result.rows = len(rows)
    result.households = len({r["household_id"] for r in rows})
    return result


def _find(store: Store, keys: RegistryKeys | None, c: Cells, found_by: dict[str, int]) -> str | None:
    """The household a row names: by pseudonymous ID, else through a blind index (no decryption)."""
    pid = c.text("household_id")
    how = "household_id"
    if pid is None and keys is not None:
        document, phone, name = c.text("id_document"), c.text("phone"), c.text("name")
        hits: list[str] = []
        if document is not None:
            how = "id_document"
            hits = _ids(
                store, "SELECT household_id FROM members WHERE document_index = $i", document_index(keys, document)
            )
        elif phone is not None:
            how = "phone"
            index = crypto.blind_index(keys.pseudonym, "phone", crypto.normalise_phone(phone))
            hits = _ids(store, "SELECT household_id FROM households WHERE phone_index = $i", index)
        elif name is not None:
            how = "name"
            year = c.integer("birth_year", 1900, today().year, required=True)
            if year is None:
                return None
            hits = _ids(store, "SELECT household_id FROM members WHERE name_index = $i", name_index(keys, name, year))
        else:
            c.fail("household_id", "a household_id, id_document, phone or name + birth_year on every row")
            return None
        if len(hits) != 1:
            found = "no registered household" if not hits else f"{len(hits)} households (give household_id)"
            c.fail(how, f"the {how.replace('_', ' ')} of one registered household; it matches {found}")
            return None
        pid = hits[0]
    elif pid is None:
        c.fail("household_id", "a value (required)")
        return None
    found_by[how] = found_by.get(how, 0) + 1
    return pid.strip().upper()


def _ids(store: Store, query: str, index: str | None) -> list[str]:
    if index is None:
        return []
    return sorted({str(r[0]) for r in store.fetch(query, {"i": index})})


def _entitled(c: Cells, hh: tuple[Any, ...], when: dt.date | None, on: dt.date) -> None:
    _, _, _, _, status, retention, purposes, withdrawn = hh
    pid = hh[0]
    if status != ACTIVE or withdrawn is not None:
        c.fail(None, f"a household with consent: {pid} withdrew its consent (register it again with a new consent)")
    elif ASSISTANCE not in str(purposes or "").split():
        c.fail(None, f"a household whose consent covers {ASSISTANCE}: {pid} consented to {purposes}")
    elif retention is not None and retention < on:
        c.fail(None, f"a household within its retention period: {pid} was due for deletion on {retention}")
