"""Synthetic household registrations for tests, demos and benchmarks: nobody real is in them.

Names follow the Somali patronymic pattern (own given name, father's, grandfather's), drawn from lists of
common given names, so normalisation and pseudonymisation meet realistic input (apostrophes, spelling
variants, shared surnames) without any real person's data. Deterministic for a seed.

``households`` draws the records; ``write_kobo_json`` writes them as a Kobo API export (submissions with a
``members`` repeat group), ``write_flat_csv`` as one row per member with a ``household`` column, and
``write_distribution_list`` a distribution list for some of them, by pseudonymous ID or by document number.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MALE = (
    "Abdi",
    "Abdullahi",
    "Abdirahman",
    "Abdikarim",
    "Ahmed",
    "Ali",
    "Aden",
    "Bashir",
    "Bile",
    "Dahir",
    "Farah",
    "Hassan",
    "Hussein",
    "Ibrahim",
    "Ismail",
    "Jama",
    "Mohamed",
    "Mohamud",
    "Muse",
    "Nur",
    "Omar",
    "Osman",
    "Said",
    "Salad",
    "Warsame",
    "Yusuf",
    "Ma'alin",
    "Guled",
    "Liban",
    "Mukhtar",
)
FEMALE = (
    "Amina",
    "Asha",
    "Ayaan",
    "Deeqa",
    "Faadumo",
    "Fartun",
    "Habiba",
    "Hodan",
    "Hawa",
    "Ifrah",
    "Khadija",
    "Leyla",
    "Maryan",
    "Muna",
    "Nasra",
    "Nimco",
    "Qamar",
    "Sahra",
    "Safiya",
    "Sagal",
    "Shukri",
    "Ubah",
    "Xaawo",
    "Zamzam",
    "Ikran",
    "Sucaad",
    "Hibaaq",
    "Ruqiya",
    "Filsan",
    "Ladan",
)
SPELLINGS = {"Mohamed": ("Mohammed", "Maxamed"), "Hussein": ("Husein", "Xuseen"), "Faadumo": ("Fadumo", "Fatuma")}


@dataclass
class Person:
    name: str
    sex: str
    birth_year: int
    relationship: str
    document: str | None = None
    disability: bool = False


@dataclass
class Household:
    ref: str
    site_id: str
    place: str
    registered_on: dt.date
    phone: str | None
    address: str
    purposes: tuple[str, ...]
    method: str
    vulnerabilities: tuple[str, ...]
    members: list[Person] = field(default_factory=list)


def _name(given: str, father: str, grandfather: str) -> str:
    return f"{given} {father} {grandfather}"


def households(
    n: int,
    sites: Sequence[tuple[str, str]],
    *,
    seed: int = 7,
    on: dt.date = dt.date(2024, 3, 1),
    documents: float = 0.4,
) -> list[Household]:
    """``n`` households spread over ``sites`` ((site_id, P-code) pairs), registered in the 60 days to ``on``."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    out = []
    for i in range(n):
        site_id, place = sites[i % len(sites)]
        father, grandfather = rng.choice(MALE), rng.choice(MALE)
        female_headed = rng.random() < 0.3
        head_sex = "f" if female_headed else "m"
        head_given = rng.choice(FEMALE if female_headed else MALE)
        head_year = on.year - rng.randint(19, 70)
        head = Person(_name(head_given, father, grandfather), head_sex, head_year, "head")
        members = [head]
        own_father = head_given if head_sex == "m" else rng.choice(MALE)
        if rng.random() < 0.75:
            spouse_sex = "f" if head_sex == "m" else "m"
            pool = FEMALE if spouse_sex == "f" else MALE
            members.append(
                Person(
                    _name(rng.choice(pool), rng.choice(MALE), rng.choice(MALE)),
                    spouse_sex,
                    head_year + rng.randint(-8, 8),
                    "spouse",
                )
            )
        for _ in range(rng.choices(range(8), weights=(8, 10, 14, 16, 16, 14, 12, 10))[0]):
            sex = rng.choice("fm")
            taken = {m.name.split()[0] for m in members}
            given = rng.choice([g for g in (FEMALE if sex == "f" else MALE) if g not in taken])
            year = min(on.year, head_year + rng.randint(17, 40))
            members.append(Person(_name(given, own_father, father), sex, year, "child"))
        for m in members:
            if on.year - m.birth_year >= 18 and rng.random() < documents:
                m.document = f"SO-{rng.randint(10**7, 10**8 - 1)}"
            m.disability = rng.random() < 0.06
        flags = []
        if female_headed:
            flags.append("female_headed")
        if any(m.disability for m in members):
            flags.append("disability")
        if on.year - head_year >= 60:
            flags.append("older_person_headed")
        purposes = ["assistance"] + [p for p in ("referral", "follow_up") if rng.random() < 0.5]
        out.append(
            Household(
                ref=f"sub-{seed}-{i + 1:05d}",
                site_id=site_id,
                place=place,
                registered_on=on - dt.timedelta(days=rng.randint(0, 60)),
                phone=f"+252 6{rng.randint(1, 9)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
                if rng.random() < 0.7
                else None,
                address=f"Block {rng.choice('ABCDEFGH')}{rng.randint(1, 40)}, shelter {rng.randint(1, 400)}",
                purposes=tuple(purposes),
                method=rng.choice(("verbal", "verbal", "signed", "thumbprint")),
                vulnerabilities=tuple(flags),
                members=members,
            )
        )
    return out


def kobo_submissions(items: Sequence[Household]) -> list[dict[str, Any]]:
    """Kobo API JSON: one submission per household, members in the ``members`` repeat (group paths as keys)."""
    subs = []
    for k, h in enumerate(items, start=1):
        subs.append(
            {
                "_id": 1000 + k,
                "_uuid": h.ref,
                "_submission_time": f"{h.registered_on.isoformat()}T10:00:00",
                "_submitted_by": "enumerator_1",
                "location/site_id": h.site_id,
                "location/place": h.place,
                "consent/consent": "yes",
                "consent/consent_purposes": " ".join(h.purposes),
                "consent/consent_method": h.method,
                "contact/phone": h.phone,
                "contact/address": h.address,
                "registered_on": h.registered_on.isoformat(),
                "vulnerabilities": " ".join(h.vulnerabilities),
                "members": [
                    {
                        "members/name": m.name,
                        "members/sex": m.sex,
                        "members/birth_year": m.birth_year,
                        "members/relationship": m.relationship,
                        "members/id_document": m.document,
                        "members/disability": "yes" if m.disability else "no",
                    }
                    for m in h.members
                ],
            }
        )
    return subs


def write_kobo_json(path: str | Path, items: Sequence[Household]) -> Path:
    path = Path(path)
    subs = kobo_submissions(items)
    for s in subs:  # Kobo leaves unanswered questions out
        for k in [k for k, v in s.items() if v in (None, "")]:
            del s[k]
        for m in s["members"]:
            for k in [k for k, v in m.items() if v is None]:
                del m[k]
    path.write_text(json.dumps({"results": subs}, indent=1), encoding="utf-8")
    return path


FLAT_COLUMNS = (
    "household",
    "site_id",
    "place",
    "registered_on",
    "consent",
    "consent_purposes",
    "consent_method",
    "phone",
    "address",
    "vulnerabilities",
    "name",
    "sex",
    "birth_year",
    "relationship",
    "id_document",
    "disability",
)


def write_flat_csv(path: str | Path, items: Sequence[Household]) -> Path:
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(FLAT_COLUMNS)
        for h in items:
            for m in h.members:
                w.writerow(
                    [
                        h.ref,
                        h.site_id,
                        h.place,
                        h.registered_on.isoformat(),
                        "yes",
                        " ".join(h.purposes),
                        h.method,
                        h.phone or "",
                        h.address,
                        " ".join(h.vulnerabilities),
                        m.name,
                        m.sex,
                        m.birth_year,
                        m.relationship,
                        m.document or "",
                        "yes" if m.disability else "no",
                    ]
                )
    return path


def write_distribution_list(
    path: str | Path,
    rows: Sequence[dict[str, Any]],
) -> Path:
    """A distribution list: each row a dict with household_id (or id_document), site_id, date, sector,
    package, quantity, unit, value, currency, organisation, programme (missing keys are left empty)."""
    columns = (
        "household_id",
        "id_document",
        "site_id",
        "date",
        "sector",
        "package",
        "quantity",
        "unit",
        "value",
        "currency",
        "organisation",
        "programme",
    )
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(columns), lineterminator="\n", extrasaction="raise")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in columns})
    return path
