"""``onthemove registry import``: households and their members from a Kobo/ODK export or a CSV.

Two shapes are read:

* a **Kobo/ODK export** (XLSX, or Kobo API JSON) with one row per household in the main sheet and the members
  in a repeat group (the repeat that has a name and a sex column), linked by ``_parent_index``;
* a **flat CSV/XLSX** with one row per member and a ``household`` column holding the reference that groups
  them; the household's columns are read from its first row and must repeat the same on every row.

Every household needs consent (``consent`` = yes), the purposes consented to (``purposes``, a select_multiple
of ``PURPOSES``) and how it was given (``consent_method``). The whole file is checked first; any problem
refuses it with file, sheet, row, column and what was expected (never the value of an identifying column),
and nothing is stored. A valid file is encrypted, pseudonymised and stored in one transaction with its
batch, its consents and an audit entry: all of it or nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from onthemove.access import audit
from onthemove.access.policy import Principal, require
from onthemove.respond.registry import crypto
from onthemove.respond.registry.guard import check_keys, load_rows, now, save_batch, today
from onthemove.respond.registry.keys import RegistryKeys
from onthemove.respond.registry.model import (
    ACTIVE,
    CONSENT_METHODS,
    PURPOSES,
    RELATIONSHIPS,
    SEXES,
    VULNERABILITIES,
    Problem,
    Refused,
    age_band,
    age_in,
)
from onthemove.respond.registry.parse import Cells, Column, Record, Sheet, parse_date, read_file, sheet
from onthemove.store.base import Store

HOUSEHOLD_COLUMNS = (
    Column("household", ("household_ref", "hh_ref", "household_reference"), help="flat files: groups member rows"),
    Column("site_id", ("site", "site_code", "camp", "camp_code")),
    Column("place", ("pcode", "place_pcode", "adm_pcode", "adm2_pcode", "adm3_pcode", "admin2pcode")),
    Column("registered_on", ("registration_date", "date_registered", "today")),
    Column("consent", ("consent_given", "informed_consent")),
    Column("purposes", ("consent_purposes", "purpose", "consent_purpose")),
    Column("consent_method", ("method",)),
    Column("consent_taken_by", ("enumerator", "registered_by", "submitted_by")),
    Column("phone", ("phone_number", "mobile", "telephone"), identifying=True),
    Column("address", ("location_description", "shelter", "shelter_location", "block"), identifying=True),
    Column("vulnerabilities", ("vulnerability", "specific_needs")),
    Column("household_size", ("hh_size", "size")),
    Column("retention_until", ("retain_until", "retention_date")),
    Column("submission_time", ()),
)
MEMBER_COLUMNS = (
    Column("name", ("full_name", "member_name"), identifying=True),
    Column("sex", ("gender",)),
    Column("birth_year", ("year_of_birth", "yob")),
    Column("birth_date", ("date_of_birth", "dob"), identifying=True),
    Column("age", ("age_years",)),
    Column("relationship", ("relation", "relationship_to_head", "relation_to_head")),
    Column("id_document", ("document_number", "id_number", "national_id", "document"), identifying=True),
    Column("id_document_type", ("document_type", "id_type")),
    Column("mother_name", ("mothers_name", "name_of_mother"), identifying=True, help="only used in the pseudonym"),
    Column("disability", ("has_disability", "disabled")),
)
SPEC = {c.name: c for c in (*HOUSEHOLD_COLUMNS, *MEMBER_COLUMNS)}
HOUSEHOLD_FIELDS = tuple(c.name for c in HOUSEHOLD_COLUMNS if c.name != "household")
SEX_ALIASES = {"female": "f", "woman": "f", "girl": "f", "male": "m", "man": "m", "boy": "m"}
REL_ALIASES = {"head_of_household": "head", "hoh": "head", "husband": "spouse", "wife": "spouse", "son": "child",
               "daughter": "child", "mother": "parent", "father": "parent", "brother": "sibling",
               "sister": "sibling"}  # fmt: skip

HOUSEHOLD_SCHEMA = pa.schema(
    [
        ("household_id", pa.string()),
        ("site_id", pa.string()),
        ("place", pa.string()),
        ("size", pa.int32()),
        ("head_sex", pa.string()),
        ("head_age_band", pa.string()),
        ("vulnerabilities", pa.string()),
        ("registered_at", pa.date32()),
        ("registered_by", pa.string()),
        ("consent_id", pa.string()),
        ("retention_until", pa.date32()),
        ("status", pa.string()),
        ("head_name_enc", pa.string()),
        ("phone_enc", pa.string()),
        ("address_enc", pa.string()),
        ("phone_index", pa.string()),
        ("batch_id", pa.string()),
        ("row_number", pa.int64()),
    ]
)
MEMBER_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("household_id", pa.string()),
        ("relationship", pa.string()),
        ("sex", pa.string()),
        ("birth_year", pa.int32()),
        ("age_band", pa.string()),
        ("disability", pa.bool_()),
        ("name_enc", pa.string()),
        ("birth_date_enc", pa.string()),
        ("document_enc", pa.string()),
        ("name_index", pa.string()),
        ("document_index", pa.string()),
        ("batch_id", pa.string()),
        ("row_number", pa.int64()),
    ]
)
CONSENT_SCHEMA = pa.schema(
    [
        ("consent_id", pa.string()),
        ("household_id", pa.string()),
        ("purposes", pa.string()),
        ("given_at", pa.date32()),
        ("taken_by", pa.string()),
        ("method", pa.string()),
        ("withdrawn_at", pa.timestamp("us")),
        ("withdrawn_by", pa.string()),
        ("batch_id", pa.string()),
    ]
)


@dataclass
class MemberIn:
    row: int
    sheet: str | None
    name: str
    sex: str
    birth_year: int | None
    birth_date: dt.date | None
    age_band: str
    relationship: str | None
    document: str | None
    document_type: str | None
    disability: bool | None
    mother: str | None = None  # only for the pseudonym: never stored
    identity: str = ""
    member_id: str = ""


@dataclass
class HouseholdIn:
    row: int
    sheet: str | None
    site_id: str
    place: str | None
    registered_on: dt.date
    purposes: tuple[str, ...]
    method: str
    taken_by: str
    phone: str | None
    address: str | None
    vulnerabilities: tuple[str, ...]
    size: int | None
    retention_until: dt.date | None
    members: list[MemberIn] = field(default_factory=list)
    household_id: str = ""


@dataclass
class ImportResult:
    batch_id: str
    file: str
    households: int = 0
    members: int = 0
    already_loaded: bool = False
    skipped: list[str] = field(default_factory=list)  # households registered before (--skip-registered)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "file": self.file,
            "households": self.households,
            "members": self.members,
            "already_loaded": self.already_loaded,
            "skipped": self.skipped,
            "notes": self.notes,
        }


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def batch_id_for(sha: str, kind: str) -> str:
    return "R" + hashlib.sha256(f"{sha}|{kind}".encode()).hexdigest()[:15]


# --- reading ---------------------------------------------------------------------------------------------------


def read_households(
    path: str | Path, *, user: str, form: str | Path | None = None, on: dt.date | None = None
) -> tuple[list[HouseholdIn], list[Problem], list[str]]:
    """(households, problems, notes): every check that needs only the file."""
    path = Path(path)
    name = path.name
    on = on or today()
    export = read_file(path, form)
    main = sheet(export.main, HOUSEHOLD_COLUMNS)
    problems: list[Problem] = []
    notes: list[str] = []
    member_sheet: Sheet | None = None
    for repeat_name, table in export.repeats.items():
        candidate = sheet(table, MEMBER_COLUMNS)
        if "name" in candidate.found and "sex" in candidate.found:
            member_sheet = candidate
            notes.append(f"members read from the repeat group {repeat_name!r}")
            break
    if member_sheet is None:
        flat = sheet(export.main, MEMBER_COLUMNS)
        if "name" not in flat.found or "household" not in main.found:
            problems.append(
                Problem(
                    name,
                    None,
                    None,
                    "a repeat group of members (with name and sex columns), or one row per member with a "
                    "'household' column grouping them (and name, sex columns)",
                )
            )
            return [], problems, notes
        groups: dict[str, list[int]] = defaultdict(list)
        for i, rec in enumerate(main.records):
            ref = rec.cells.get("household")
            if ref is None:
                problems.append(Problem(name, rec.row, main.found["household"], "a household reference", None))
                continue
            groups[ref].append(i)
        pairs = []
        for idxs in groups.values():
            first = main.records[idxs[0]]
            for j in idxs[1:]:
                other = main.records[j]
                for f in HOUSEHOLD_FIELDS:
                    if f in main.found and other.cells.get(f) != first.cells.get(f):
                        problems.append(
                            Problem(
                                name, other.row, main.found[f], f"the same value as row {first.row} of its household"
                            )
                        )
            pairs.append((first, [flat.records[j] for j in idxs]))
        member_found = flat.found
        notes.append("one row per member, grouped by the 'household' column")
    else:
        children: dict[str | None, list[Record]] = defaultdict(list)
        for rec in member_sheet.records:
            children[rec.parent].append(rec)
        pairs = [(rec, children.get(rec.key, [])) for rec in main.records]
        member_found = member_sheet.found
        orphans = set(children) - {rec.key for rec in main.records}
        for key in orphans:
            for rec in children[key]:
                problems.append(
                    Problem(name, rec.row, "_parent_index", "the _index of a household row", key, rec.sheet)
                )
    for f, what in (("consent", "consent"), ("purposes", "consent purposes"), ("consent_method", "consent method")):
        if f not in main.found:
            accepted = ", ".join((f, *SPEC[f].aliases))
            problems.append(
                Problem(
                    name,
                    None,
                    None,
                    f"a column with the {what} of every household ({accepted}): "
                    "no household is stored without a consent record naming its purposes",
                )
            )
    if "site_id" not in main.found:
        problems.append(Problem(name, None, None, "a site column (site_id, site, site_code, camp)"))
    if problems:
        return [], problems, notes
    if "relationship" not in member_found:
        notes.append("no relationship column: the first member listed is taken as the head of household")
    households = []
    for rec, members in pairs:
        hh = _household(name, rec, main.found, members, member_found, user, on, problems)
        if hh is not None:
            households.append(hh)
    notes += [f"column {h!r} not read" for h in main.ignored if h not in set(member_found.values())]
    return households, problems, notes


def _household(
    file: str,
    rec: Record,
    found: dict[str, str],
    members: list[Record],
    member_found: dict[str, str],
    user: str,
    on: dt.date,
    problems: list[Problem],
) -> HouseholdIn | None:
    c = Cells(file, rec, found, SPEC)
    c.yes("consent", "yes: no household is stored without its consent")
    purposes = c.choices("purposes", PURPOSES, required=True)
    method = c.choice("consent_method", CONSENT_METHODS, required=True)
    site = c.text("site_id", required=True)
    place = c.text("place")
    submitted = c.raw("submission_time")
    registered = c.date("registered_on", not_after=on)
    if registered is None and "registered_on" not in found and submitted:
        registered = parse_date(submitted)
    registered = registered or on
    phone = c.text("phone")
    if phone is not None and not 6 <= len(crypto.normalise_phone(phone)) <= 15:
        c.fail("phone", "a phone number of 6 to 15 digits")
    size = c.integer("household_size", 1, 100)
    retention = c.date("retention_until")
    if retention is not None and retention <= on:
        c.fail("retention_until", f"a date after today ({on.isoformat()}): this registration is past its retention")
        retention = None
    vulnerabilities = c.choices("vulnerabilities", VULNERABILITIES)
    hh = HouseholdIn(
        row=rec.row,
        sheet=rec.sheet,
        site_id=(site or "").strip(),
        place=place.upper() if place else None,
        registered_on=registered,
        purposes=purposes,
        method=method or "",
        taken_by=c.text("consent_taken_by") or user,
        phone=phone,
        address=c.text("address"),
        vulnerabilities=vulnerabilities,
        size=size,
        retention_until=retention,
    )
    if not members:
        c.fail(None, "at least one member")
    for m in members:
        mc = Cells(file, m, member_found, SPEC)
        member = _member(mc, registered)
        problems.extend(mc.problems)
        if member is not None:
            hh.members.append(member)
    if size is not None and size < len(members):
        c.fail("household_size", f"at least the {len(members)} members listed", str(size))
    if "relationship" in member_found and hh.members:
        heads = sum(1 for m in hh.members if m.relationship == "head")
        if heads != 1:
            c.fail(None, f"exactly one member whose relationship is head (found {heads})")
    problems.extend(c.problems)
    if c.problems or len(hh.members) != len(members):
        return None
    return hh


def _member(c: Cells, registered: dt.date) -> MemberIn | None:
    name = c.text("name", required=True)
    if name is not None and not crypto.normalise_name(name):
        c.fail("name", "a name with at least one letter or digit")
    sex = c.choice("sex", SEXES, SEX_ALIASES, required=True)
    birth_date = c.date("birth_date", not_after=registered)
    birth_year = c.integer("birth_year", 1900, registered.year)
    age = c.integer("age", 0, 120)
    if birth_date is not None:
        if birth_year is not None and birth_year != birth_date.year:
            c.fail("birth_year", "the year of birth_date", str(birth_year))
        birth_year = birth_date.year
    if birth_year is None and age is not None:
        birth_year = registered.year - age
    if birth_year is None and not c.problems:
        c.fail("age", "an age, a birth year or a birth date for every member")
    document = c.text("id_document")
    if document is not None and len(crypto.normalise_document(document)) < 4:
        c.fail("id_document", "a document number of at least 4 letters or digits")
    relationship = c.choice("relationship", RELATIONSHIPS, REL_ALIASES)
    disability = c.flag("disability")
    if c.problems or name is None or sex is None or birth_year is None:
        return None
    if birth_date is not None:
        before = (registered.month, registered.day) < (birth_date.month, birth_date.day)
        years = registered.year - birth_date.year - before
    elif age is not None:
        years = age
    else:
        years = age_in(birth_year, registered)
    return MemberIn(
        row=c.record.row,
        sheet=c.record.sheet,
        name=name,
        sex=sex,
        birth_year=birth_year,
        birth_date=birth_date,
        age_band=age_band(years),
        relationship=relationship,
        document=document,
        document_type=c.text("id_document_type"),
        disability=disability,
        mother=c.text("mother_name"),
    )


# --- storing -----------------------------------------------------------------------------------------------------


def register(
    store: Store,
    keys: RegistryKeys,
    principal: Principal,
    path: str | Path,
    *,
    retention_days: int = 730,
    form: str | Path | None = None,
    skip_registered: bool = False,
) -> ImportResult:
    """Check, encrypt, pseudonymise and store one file of registrations, all or nothing (``Refused``)."""
    require(principal, "register")
    path = Path(path)
    sha = file_sha256(path)
    batch_id = batch_id_for(sha, "registration")
    result = ImportResult(batch_id, path.name)
    existing = store.fetch_one("SELECT status FROM registry_batches WHERE batch_id = $b", {"b": batch_id})
    if existing and existing[0] == "loaded":
        result.already_loaded = True
        row = store.fetch_one(
            "SELECT count(*), (SELECT count(*) FROM members WHERE batch_id = $b) FROM households WHERE batch_id = $b",
            {"b": batch_id},
        )
        result.households, result.members = (int(row[0]), int(row[1])) if row else (0, 0)
        return result
    check_keys(store, keys, record=False)  # a wrong key is refused before anything is read
    user = principal.label()
    households, problems, notes = read_households(path, user=user, form=form)
    if not households and not problems:
        problems.append(Problem(path.name, None, None, "at least one household"))
    result.notes = notes
    _pseudonymise(keys, households)
    problems += _duplicates(store, path.name, households, skip_registered, result)
    problems += _places(store, path.name, households)
    on = today()
    for h in households:
        ends = h.registered_on + dt.timedelta(days=retention_days)
        if h.retention_until is None and ends <= on:
            problems.append(
                Problem(
                    path.name,
                    h.row,
                    "registered_on",
                    f"a registration within its retention period: registered "
                    f"{h.registered_on}, kept {retention_days} days, it was due for deletion on {ends}",
                )
            )
    if problems:
        raise Refused(path.name, problems)
    households = [h for h in households if h.household_id not in set(result.skipped)]
    cipher = crypto.Cipher(keys.encryption)
    at = now()
    hh_rows, member_rows, consent_rows = [], [], []
    for h in households:
        pid = h.household_id
        consent_id = "C-" + hashlib.sha256(f"{batch_id}|{pid}".encode()).hexdigest()[:16]
        head = next((m for m in h.members if m.relationship == "head"), h.members[0])
        retention = h.retention_until or (h.registered_on + dt.timedelta(days=retention_days))
        flags = set(h.vulnerabilities)
        consent_rows.append(
            {
                "consent_id": consent_id,
                "household_id": pid,
                "purposes": " ".join(h.purposes),
                "given_at": h.registered_on,
                "taken_by": h.taken_by,
                "method": h.method,
                "withdrawn_at": None,
                "withdrawn_by": None,
                "batch_id": batch_id,
            }
        )
        phone = crypto.normalise_phone(h.phone) if h.phone else ""
        hh_rows.append(
            {
                "household_id": pid,
                "site_id": h.site_id,
                "place": h.place,
                "size": max(h.size or 0, len(h.members)),
                "head_sex": head.sex,
                "head_age_band": head.age_band,
                "vulnerabilities": " ".join(sorted(flags)) or None,
                "registered_at": h.registered_on,
                "registered_by": user,
                "consent_id": consent_id,
                "retention_until": retention,
                "status": ACTIVE,
                "head_name_enc": cipher.encrypt(head.name, f"households.head_name_enc.{pid}"),
                "phone_enc": cipher.encrypt(h.phone, f"households.phone_enc.{pid}"),
                "address_enc": cipher.encrypt(h.address, f"households.address_enc.{pid}"),
                "phone_index": crypto.blind_index(keys.pseudonym, "phone", phone),
                "batch_id": batch_id,
                "row_number": h.row,
            }
        )
        for m in h.members:
            mid = m.member_id
            doc = f"{m.document_type or ''}:{m.document}" if m.document else None
            member_rows.append(
                {
                    "member_id": mid,
                    "household_id": pid,
                    "relationship": m.relationship or ("head" if m is head else None),
                    "sex": m.sex,
                    "birth_year": m.birth_year,
                    "age_band": m.age_band,
                    "disability": m.disability,
                    "name_enc": cipher.encrypt(m.name, f"members.name_enc.{mid}"),
                    "birth_date_enc": cipher.encrypt(
                        m.birth_date.isoformat() if m.birth_date else None, f"members.birth_date_enc.{mid}"
                    ),
                    "document_enc": cipher.encrypt(doc, f"members.document_enc.{mid}"),
                    "name_index": name_index(keys, m.name, m.birth_year),
                    "document_index": document_index(keys, m.document),
                    "batch_id": batch_id,
                    "row_number": m.row,
                }
            )
    with store.transaction():
        check_keys(store, keys)
        load_rows(store, "consents", consent_rows, CONSENT_SCHEMA)
        load_rows(store, "households", hh_rows, HOUSEHOLD_SCHEMA)
        load_rows(store, "members", member_rows, MEMBER_SCHEMA)
        save_batch(
            store,
            "registration",
            existing is not None,
            {"b": batch_id, "f": path.name, "s": sha, "u": user, "t": at, "r": len(member_rows), "l": len(hh_rows)},
        )
        audit.record(
            store,
            user,
            "registry.import",
            batch_id,
            {"file": path.name, "sha256": sha, "households": len(hh_rows), "members": len(member_rows)},
        )
    result.households, result.members = len(hh_rows), len(member_rows)
    return result


def name_index(keys: RegistryKeys, name: str, birth_year: int | None) -> str | None:
    norm = crypto.normalise_name(name)
    return crypto.blind_index(keys.pseudonym, "name", f"{norm}|{'' if birth_year is None else birth_year}")


def document_index(keys: RegistryKeys, document: str | None) -> str | None:
    return crypto.blind_index(keys.pseudonym, "document", crypto.normalise_document(document)) if document else None


def _pseudonymise(keys: RegistryKeys, households: list[HouseholdIn]) -> None:
    for h in households:
        for m in h.members:
            m.identity = crypto.member_identity(m.name, m.birth_year, m.sex, m.document, m.mother)
            m.member_id = crypto.pseudonym(keys.pseudonym, "member", m.identity)
        head = next((m for m in h.members if m.relationship == "head"), h.members[0])
        h.household_id = crypto.household_pseudonym(keys.pseudonym, head.identity)


def _duplicates(
    store: Store, file: str, households: list[HouseholdIn], skip_registered: bool, result: ImportResult
) -> list[Problem]:
    problems: list[Problem] = []
    seen_hh: dict[str, int] = {}
    seen_m: dict[str, int] = {}
    for h in households:
        if h.household_id in seen_hh:
            problems.append(
                Problem(
                    file, h.row, None, f"one row per household: its head is the head of row {seen_hh[h.household_id]}"
                )
            )
        seen_hh.setdefault(h.household_id, h.row)
        for m in h.members:
            if m.member_id in seen_m:
                problems.append(
                    Problem(
                        file,
                        m.row,
                        None,
                        f"each person once: the same person as another member (row {seen_m[m.member_id]}); "
                        "a document number or the mother's name (mother_name) tells two people of one name apart",
                        sheet=m.sheet,
                    )
                )
            seen_m.setdefault(m.member_id, m.row)
    if not households:
        return problems
    known = {
        str(r[0]): (r[1], r[2])
        for r in store.fetch(
            "SELECT household_id, registered_at, status FROM households WHERE list_contains($ids, household_id)",
            {"ids": list(seen_hh)},
        )
    }
    members = {
        str(r[0]): str(r[1])
        for r in store.fetch(
            "SELECT member_id, household_id FROM members WHERE list_contains($ids, member_id)", {"ids": list(seen_m)}
        )
    }
    for h in households:
        if h.household_id in known:
            when, status = known[h.household_id]
            if skip_registered and status == ACTIVE:
                result.skipped.append(h.household_id)
                continue
            problems.append(
                Problem(
                    file,
                    h.row,
                    None,
                    f"a household not registered yet: it is {h.household_id}, registered on {when} ({status})",
                )
            )
            continue
        for m in h.members:
            other = members.get(m.member_id)
            if other is not None and other != h.household_id:
                problems.append(
                    Problem(
                        file,
                        m.row,
                        None,
                        f"a person not registered yet: already a member of household {other} "
                        "(one person is in one household; correct or withdraw that registration first, or, "
                        "if these are two people of one name and age, tell them apart with a document number "
                        "or mother_name)",
                        sheet=m.sheet,
                    )
                )
    return problems


def _places(store: Store, file: str, households: list[HouseholdIn]) -> list[Problem]:
    """Fill each household's place from its site when the file has none; check P-codes against the gazetteer."""
    problems: list[Problem] = []
    site_places = {
        str(r[0]): r[1]
        for r in store.fetch(
            "SELECT site_id, place FROM (SELECT site_id, place, row_number() OVER (PARTITION BY site_id "
            "ORDER BY date DESC NULLS LAST, batch_id DESC) AS rn FROM sites) s WHERE rn = 1"
        )
    }
    gazetteer = store.fetch_one("SELECT count(*) FROM places")
    codes = {str(r[0]) for r in store.fetch("SELECT pcode FROM places")} if gazetteer and gazetteer[0] else None
    for h in households:
        if h.place is None:
            h.place = site_places.get(h.site_id)
            if h.place is None:
                problems.append(
                    Problem(file, h.row, "place", f"a P-code, since site {h.site_id!r} is not in the sites table", None)
                )
                continue
        if codes is not None and h.place not in codes:
            problems.append(Problem(file, h.row, "place", "a P-code of the gazetteer", h.place))
    return problems
