"""The registry of households on every engine: consent, encryption, roles, audit, withdrawal, retention,
distributions without double payment, and 3W/4W and gap figures on a hand-made fixture."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import PCODES, write

from onthemove.access import audit
from onthemove.access.policy import Forbidden, Principal
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.respond import registry as reg
from onthemove.respond.registry import crypto
from onthemove.respond.registry.batches import rollback
from onthemove.respond.registry.keys import RegistryKeyError, RegistryKeys, encode_key, key_id
from onthemove.store import Store

SITES = """Site,District,Individuals,Date
#loc+code,#adm2+code,#population+ind,#date+updated
S1,XT0101,100,2024-01-15
S2,XT0201,60,2024-01-15
"""
# latest: S1 wash 4 (in need), shelter 2; S2 wash 3 (in need), food 1
ASSESSMENTS = """Site,Date,Sector,Indicator,Value
#loc+code,#date+assessed,#sector,#indicator+code,#indicator+value
S1,2024-01-10,wash,severity,2
S1,2024-02-10,wash,severity,4
S1,2024-02-10,shelter,severity,2
S2,2024-02-10,wash,severity,3
S2,2024-02-10,food,severity,1
"""
RETAIN = "2099-12-31"


def member(name: str, sex: str, year: int, rel: str, doc: str | None = None) -> dict[str, Any]:
    m = {"members/name": name, "members/sex": sex, "members/birth_year": year, "members/relationship": rel}
    if doc:
        m["members/id_document"] = doc
    return m


def submission(n: int, site: str, purposes: str, members: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "_id": n,
        "_uuid": f"uuid-{n}",
        "_submitted_by": "enum_7",
        "location/site_id": site,
        "consent/consent": "yes",
        "consent/consent_purposes": purposes,
        "consent/consent_method": "signed" if n % 2 else "verbal",
        "registered_on": "2024-02-01",
        "retention_until": RETAIN,
        "members": members,
        **extra,
    }


# H1 at S1 (2 people), H2 at S1 (4), H3 at S2 (1), H4 at S2 (3, consented to protection only)
HOUSEHOLDS = [
    submission(
        1,
        "S1",
        "assistance referral",
        [
            member("Faadumo Cali Xasan", "female", 1985, "head", "SO-1234-5678"),
            member("Maxamed Ahmed Cali", "m", 2015, "son"),
        ],
        **{"contact/phone": "+252 61 555 0101", "vulnerabilities": "female_headed"},
    ),
    submission(
        2,
        "S1",
        "assistance",
        [
            member("Abdi Nur Warsame", "m", 1970, "head", "SO-2222-3333"),
            member("Hodan Ali Jama", "f", 1975, "wife"),
            member("Ayaan Abdi Nur", "f", 2010, "daughter"),
            member("Guled Abdi Nur", "m", 2012, "son"),
        ],
        **{"contact/address": "Block C7, shelter 12"},
    ),
    submission(3, "S2", "assistance follow_up", [member("Ma'alin Osman Said", "m", 1950, "head")]),
    submission(
        4,
        "S2",
        "protection",
        [
            member("Sahra Yusuf Bile", "f", 1990, "head"),
            member("Nasra Ismail Yusuf", "f", 2016, "child"),
            member("Liban Ismail Yusuf", "m", 2018, "child"),
        ],
    ),
]
NAMES = [m["members/name"] for h in HOUSEHOLDS for m in h["members"]]

DM = Principal("amina", "data_manager")
DPO = Principal("dpo", "dpo")
ANALYST = Principal("ana", "analyst")
VIEWER = Principal("vic", "viewer")
ADMIN = Principal("root", "admin")
PARTNER = Principal("ngo", "viewer", ("XT02",))


@dataclass
class Fixture:
    store: Store
    keys: RegistryKeys
    tmp: Path
    ids: dict[int, str]  # submission number -> pseudonymous household ID

    def kobo(self, name: str, subs: list[dict[str, Any]]) -> Path:
        return write(self.tmp, name, json.dumps({"results": subs}))


def pid(keys: RegistryKeys, name: str, year: int, sex: str, doc: str | None = None) -> str:
    return crypto.household_pseudonym(keys.pseudonym, crypto.member_identity(name, year, sex, doc))


@pytest.fixture
def fx(store: Store, tmp_path: Path) -> Fixture:
    load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
    ingest(store, write(tmp_path, "sites.csv", SITES), kind="sites")
    ingest(store, write(tmp_path, "assess.csv", ASSESSMENTS), kind="site_assessments")
    keys = RegistryKeys(b"\x11" * 32, b"\x22" * 32)
    f = Fixture(store, keys, tmp_path, {})
    result = reg.register(store, keys, DM, f.kobo("registration.json", HOUSEHOLDS))
    assert (result.households, result.members) == (4, 10)
    f.ids = {
        1: pid(keys, "Faadumo Cali Xasan", 1985, "f", "SO-1234-5678"),
        2: pid(keys, "Abdi Nur Warsame", 1970, "m", "SO-2222-3333"),
        3: pid(keys, "Ma'alin Osman Said", 1950, "m"),
        4: pid(keys, "Sahra Yusuf Bile", 1990, "f"),
    }
    return f


def count(store: Store, table: str) -> int:
    row = store.fetch_one(f"SELECT count(*) FROM {table}")
    return int(row[0]) if row else 0


def actions(store: Store) -> list[str]:
    return [e["action"] for e in reversed(audit.entries(store, limit=1000))]


def test_import_with_consent_pseudonyms_and_no_plaintext(fx: Fixture) -> None:
    s = fx.store
    rows = {r["household_id"]: r for r in s.fetch_dicts("SELECT * FROM households")}
    assert set(rows) == set(fx.ids.values())  # stable: the ID is computed from the head's identity
    h1 = rows[fx.ids[1]]
    assert (h1["site_id"], h1["place"], h1["size"], h1["head_sex"], h1["head_age_band"]) == (
        "S1",
        "XT0101",
        2,
        "f",
        "18-59",
    )
    assert h1["vulnerabilities"] == "female_headed" and str(h1["retention_until"]) == RETAIN
    assert rows[fx.ids[3]]["head_age_band"] == "60+" and rows[fx.ids[3]]["place"] == "XT0201"  # place from the site
    consents = {r["household_id"]: r for r in s.fetch_dicts("SELECT * FROM consents")}
    assert consents[fx.ids[1]]["purposes"] == "assistance referral"
    assert consents[fx.ids[1]]["method"] == "signed" and consents[fx.ids[1]]["taken_by"] == "enum_7"
    assert consents[fx.ids[4]]["purposes"] == "protection"
    # nothing identifying in clear, anywhere in the registry's tables or the audit log
    dump = json.dumps(
        [s.fetch(f"SELECT * FROM {t}") for t in ("households", "members", "consents", "audit_log")], default=str
    )
    for name in [*NAMES, "555 0101", "5550101", "1234-5678", "12345678", "Block C7"]:
        assert name not in dump
    assert encode_key(fx.keys.encryption) not in dump and key_id(fx.keys.encryption) in dump  # fingerprint only
    assert actions(s)[-1] == "registry.import"
    # the same file again is recognised; a file with the same households is refused
    again = reg.register(s, fx.keys, DM, fx.tmp / "registration.json")
    assert again.already_loaded and again.households == 4
    with pytest.raises(reg.Refused, match="a household not registered yet"):
        reg.register(s, fx.keys, DM, fx.kobo("again.json", HOUSEHOLDS[:1]))
    skipped = reg.register(s, fx.keys, DM, fx.kobo("again2.json", HOUSEHOLDS[:2]), skip_registered=True)
    assert sorted(skipped.skipped) == sorted([fx.ids[1], fx.ids[2]]) and skipped.households == 0


def test_duckdb_file_holds_no_plaintext_and_no_key(fx: Fixture) -> None:
    s = fx.store
    if s.engine != "duckdb":
        pytest.skip("the file check is about the embedded engine's database file")
    location = Path(s.location)
    with s.transaction():  # a canary: proves that plaintext stored like this would be found by the check
        s.execute("CREATE TABLE canary AS SELECT 'Canary Name ' || i AS name FROM range(10) t(i)")
    s.execute("CHECKPOINT")
    data = location.read_bytes()
    wal = location.with_name(location.name + ".wal")
    data += wal.read_bytes() if wal.exists() else b""
    assert b"Canary Name 7" in data and b"HH-" in data  # the check sees text
    for name in NAMES:
        assert name.encode() not in data, name
    assert b"555 0101" not in data and b"SO-1234-5678" not in data
    assert fx.keys.encryption not in data and encode_key(fx.keys.encryption).encode() not in data
    assert fx.keys.pseudonym not in data and encode_key(fx.keys.pseudonym).encode() not in data


def test_refused_without_consent_nothing_stored(store: Store, tmp_path: Path) -> None:
    load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
    ingest(store, write(tmp_path, "sites.csv", SITES), kind="sites")
    keys = RegistryKeys(b"\x11" * 32, b"\x22" * 32)
    no = [HOUSEHOLDS[0], {**HOUSEHOLDS[1], "consent/consent": "no"}, {**HOUSEHOLDS[2], "consent/consent_purposes": ""}]
    bad = write(tmp_path, "no-consent.json", json.dumps({"results": no}))
    with pytest.raises(reg.Refused) as info:
        reg.register(store, keys, DM, bad)
    text = str(info.value)
    assert "no-consent.json refused, nothing stored: 2 problem(s)" in text
    assert "row 2, column 'consent/consent': expected yes: no household is stored without its consent" in text
    assert "row 3, column 'consent/consent_purposes': expected a value (required)" in text
    for table in ("households", "members", "consents", "registry_batches", "registry_keys"):
        assert count(store, table) == 0, table
    assert not [a for a in actions(store) if a.startswith("registry.")]
    # a file without a purposes column at all; a bad member row names its sheet, row and column, not the value
    no_column = [{k: v for k, v in h.items() if k != "consent/consent_purposes"} for h in HOUSEHOLDS[:1]]
    with pytest.raises(reg.Refused, match="consent purposes of every household"):
        reg.register(store, keys, DM, write(tmp_path, "nocol.json", json.dumps({"results": no_column})))
    odd = [{**HOUSEHOLDS[2], "members": [member("Ma'alin Osman Said", "x", 1950, "head")]}]
    with pytest.raises(reg.Refused) as info:
        reg.register(store, keys, DM, write(tmp_path, "odd.json", json.dumps({"results": odd})))
    assert "column 'members/sex': expected one of f, m, other (found 'x')" in str(info.value)
    nameless = [{**HOUSEHOLDS[2], "members": [{"members/name": "--", "members/sex": "m", "members/age": 30}]}]
    with pytest.raises(reg.Refused) as info:
        reg.register(store, keys, DM, write(tmp_path, "nameless.json", json.dumps({"results": nameless})))
    assert "expected a name with at least one letter or digit" in str(info.value) and "--" not in str(info.value)
    assert count(store, "households") == 0
    with pytest.raises(Forbidden, match="may not register"):
        reg.register(store, keys, VIEWER, bad)


def test_flat_csv_and_default_retention(store: Store, tmp_path: Path) -> None:
    load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
    keys = RegistryKeys(b"\x11" * 32, b"\x22" * 32)
    day = (dt.date.today() - dt.timedelta(days=10)).isoformat()
    flat = (
        "household,site,pcode,registered_on,consent,purposes,consent_method,name,sex,age,relationship\n"
        f"a,S9,XT0102,{day},yes,assistance,verbal,Qamar Jama Nur,f,34,head\n"
        f"a,S9,XT0102,{day},yes,assistance,verbal,Bile Omar Aden,m,40,husband\n"
        f"b,S9,XT0102,{day},yes,assistance referral,thumbprint,Warsame Hassan Ali,m,70,head\n"
    )
    result = reg.register(store, keys, DM, write(tmp_path, "flat.csv", flat), retention_days=30)
    assert (result.households, result.members) == (2, 3)
    rows = store.fetch_dicts("SELECT size, head_age_band, retention_until FROM households ORDER BY size")
    assert [(r["size"], r["head_age_band"]) for r in rows] == [(1, "60+"), (2, "18-59")]
    assert rows[0]["retention_until"] == dt.date.today() + dt.timedelta(days=20)
    old = flat.replace(day, "2020-01-01").replace("S9", "S8")
    with pytest.raises(reg.Refused, match="due for deletion on 2020-01-31"):
        reg.register(store, keys, DM, write(tmp_path, "old.csv", old), retention_days=30)
    twice = flat.replace("b,S9", "a,S8")  # household a's rows disagree on the site
    with pytest.raises(reg.Refused, match="the same value as row 2 of its household"):
        reg.register(store, keys, DM, write(tmp_path, "twice.csv", twice))


def test_a_person_is_in_one_household(fx: Fixture) -> None:
    moved = submission(
        9,
        "S2",
        "assistance",
        [member("Zamzam Ali Nur", "f", 1992, "head"), member("Ayaan Abdi Nur", "f", 2010, "child")],
    )
    with pytest.raises(reg.Refused, match=f"already a member of household {fx.ids[2]}"):
        reg.register(fx.store, fx.keys, DM, fx.kobo("moved.json", [moved]))
    one_file = [moved, {**moved, "_id": 10}]
    with pytest.raises(reg.Refused, match="one row per household"):
        reg.register(fx.store, fx.keys, DM, fx.kobo("dup.json", one_file))
    # two people of one name, age and sex: the mother's name tells them apart (and is not stored)
    namesake = {**member("Ayaan Abdi Nur", "f", 2010, "child"), "members/mother_name": "Hawa Ali Guled"}
    ok = submission(11, "S2", "assistance", [member("Zamzam Ali Nur", "f", 1992, "head"), namesake])
    assert reg.register(fx.store, fx.keys, DM, fx.kobo("namesake.json", [ok])).members == 2
    assert "Hawa" not in json.dumps(fx.store.fetch("SELECT * FROM members"), default=str)


def test_wrong_keys_are_refused(fx: Fixture) -> None:
    other = RegistryKeys(b"\x33" * 32, b"\x22" * 32)
    with pytest.raises(RegistryKeyError, match=f"encrypted with key {key_id(fx.keys.encryption)}"):
        reg.identify(fx.store, other, DM, fx.ids[1], "assistance")
    other = RegistryKeys(b"\x11" * 32, b"\x44" * 32)
    with pytest.raises(RegistryKeyError, match="pseudonymous IDs in this store were made with key"):
        reg.register(fx.store, other, DM, fx.kobo("x.json", HOUSEHOLDS[:1]))


def test_reads_need_role_and_purpose_and_are_audited(fx: Fixture) -> None:
    s, h1, h2 = fx.store, fx.ids[1], fx.ids[2]
    view = reg.household(s, ANALYST, h1)
    assert "head_name" not in view and all("name" not in m for m in view["members"])
    assert [m["age_band"] for m in view["members"]] == ["18-59", "5-17"]
    with pytest.raises(Forbidden):
        reg.household(s, VIEWER, h1)
    seen = reg.identify(s, fx.keys, DM, h1, "referral", reason="referral to protection partner")
    assert seen["head_name"] == "Faadumo Cali Xasan" and seen["phone"] == "+252 61 555 0101"
    assert [(m["name"], m["id_document"]) for m in seen["members"]] == [
        ("Faadumo Cali Xasan", "SO-1234-5678"),
        ("Maxamed Ahmed Cali", None),
    ]
    assert reg.identify(s, fx.keys, DPO, h2, "assistance")["address"] == "Block C7, shelter 12"
    for who in (ANALYST, VIEWER, ADMIN):
        with pytest.raises(Forbidden, match="may not read personal"):
            reg.identify(s, fx.keys, who, h1, "assistance")
    with pytest.raises(Forbidden, match=f"the consent of {h2} covers assistance, not referral"):
        reg.identify(s, fx.keys, DM, h2, "referral")
    with pytest.raises(reg.RegistryError, match="unknown purpose"):
        reg.identify(s, fx.keys, DM, h2, "marketing")
    log = [e for e in reversed(audit.entries(s, limit=100)) if e["action"].startswith("registry.")]
    assert [(e["action"], e["actor"], e["target"]) for e in log[1:]] == [
        ("registry.view", "ana", h1),
        ("registry.read", "amina", h1),
        ("registry.read", "dpo", h2),
        ("registry.read_refused", "ana", h1),
        ("registry.read_refused", "vic", h1),
        ("registry.read_refused", "root", h1),
        ("registry.read_refused", "amina", h2),
    ]
    assert json.loads(log[2]["detail"])["purpose"] == "referral"
    assert audit.verify(s).ok
    # a partner sees only its scope
    with pytest.raises(reg.RegistryError, match="not in your scope"):
        reg.household(s, Principal("p", "analyst", ("XT02",)), h1)


def distribution_list(fx: Fixture, name: str, rows: list[str]) -> Path:
    head = "household_id,id_document,site_id,date,sector,package,quantity,unit,value,currency,organisation,programme\n"
    return write(fx.tmp, name, head + "\n".join(rows) + "\n")


def distribute_base(fx: Fixture) -> reg.DistributionResult:
    h1, h3 = fx.ids[1], fx.ids[3]
    path = distribution_list(
        fx,
        "march.csv",
        [
            f"{h1},,S1,2024-03-05,WASH,Hygiene kit,1,kit,20,USD,NGO A,WASH-24",
            ",SO 2222 3333,S1,2024-03-05,wash,hygiene_kit,1,kit,20,usd,NGO A,WASH-24",
            f"{h3},,S2,2024-03-06,wash,hygiene_kit,1,kit,20,USD,NGO A,WASH-24",
            f"{h1},,S1,2024-03-07,food,food_basket,1,basket,50,USD,NGO B,FOOD-24",
        ],
    )
    return reg.distribute(fx.store, DM, path, fx.keys)


def test_distributions_and_no_double_payment(fx: Fixture) -> None:
    s = fx.store
    result = distribute_base(fx)
    assert (result.rows, result.households) == (4, 3)
    assert result.found_by == {"household_id": 3, "id_document": 1}
    people = dict(s.fetch("SELECT household_id, sum(people) FROM distributions GROUP BY household_id"))
    assert people == {fx.ids[1]: 4, fx.ids[2]: 4, fx.ids[3]: 1}
    h1, h4 = fx.ids[1], fx.ids[4]
    second = distribution_list(
        fx,
        "again.csv",
        [
            f"{h1},,S1,2024-03-20,wash,hygiene_kit,1,kit,20,USD,NGO C,WASH-24",  # same cycle (month): paid already
            f"{h4},,S2,2024-03-20,wash,hygiene_kit,1,kit,20,USD,NGO A,WASH-24",  # consent: protection only
            "HH-AAAAAAAAAAAAAAAA,,S2,2024-03-20,wash,hygiene_kit,1,kit,20,USD,NGO A,WASH-24",
            ",SO-9999-0000,S2,2024-03-20,wash,hygiene_kit,1,kit,20,USD,NGO A,WASH-24",
            f"{fx.ids[3]},,S2,2024-04-02,wash,hygiene_kit,1,kit,20,USD,NGO A,WASH-24",  # next cycle: fine
            f"{fx.ids[3]},,S2,2024-04-03,wash,hygiene_kit,2,kit,40,USD,NGO A,WASH-24",  # twice in the file
        ],
    )
    with pytest.raises(reg.Refused) as info:
        reg.distribute(s, DM, second, fx.keys)
    text = str(info.value)
    assert "again.csv refused, nothing stored: 5 problem(s)" in text
    assert f"row 2: expected a household not paid yet: {h1} received 'hygiene_kit'" in text
    assert f"row 3: expected a household whose consent covers assistance: {h4} consented to protection" in text
    assert "row 4, column 'household_id': expected the pseudonymous ID of a registered household" in text
    assert "row 5, column 'id_document': expected the id document of one registered household" in text
    assert "SO-9999-0000" not in text  # an identifying value is never echoed
    assert "row 7: expected one 'hygiene_kit' per household, programme and cycle: row 6 gives it already" in text
    assert count(s, "distributions") == 4
    with pytest.raises(Forbidden):
        reg.distribute(s, ANALYST, second, fx.keys)
    with pytest.raises(RegistryKeyError, match="needs the registry keys"):
        reg.distribute(s, DM, second, None)


def test_who_what_where_and_gap(fx: Fixture) -> None:
    s = fx.store
    distribute_base(fx)
    w = reg.who_what_where(s, ANALYST)
    assert not w.redacted
    cols = (
        "organisation",
        "sector",
        "package",
        "site_id",
        "place",
        "month",
        "households",
        "people",
        "quantity",
        "value",
    )
    got = [tuple(r[c] for c in cols) for r in w.rows]
    assert got == [
        ("NGO A", "wash", "hygiene_kit", "S1", "XT0101", "2024-03", 2, 6, 2.0, 40.0),
        ("NGO A", "wash", "hygiene_kit", "S2", "XT0201", "2024-03", 1, 1, 1.0, 20.0),
        ("NGO B", "food", "food_basket", "S1", "XT0101", "2024-03", 1, 2, 1.0, 50.0),
    ]
    by_region = reg.who_what_where(s, ANALYST, where="adm1")
    assert [(r["area"], r["sector"], r["households"]) for r in by_region.rows] == [
        ("XT01", "wash", 2),
        ("XT02", "wash", 1),
        ("XT01", "food", 1),
    ]
    assert reg.who_what_where(s, ANALYST, start=dt.date(2024, 3, 6)).rows[0]["households"] == 1
    g = reg.gap(s, ANALYST)
    cols = ("people_in_need", "households", "people_reached", "gap", "coverage")
    got_gap = {(r["site_id"], r["sector"]): tuple(r[c] for c in cols) for r in g.rows}
    assert got_gap == {
        ("S1", "wash"): (100, 2, 6, 94, 0.06),
        ("S2", "wash"): (60, 1, 1, 59, 0.017),
        ("S1", "shelter"): (0, 0, 0, 0, None),
        ("S2", "food"): (0, 0, 0, 0, None),
        ("S1", "food"): (None, 1, 2, None, None),  # assistance where no need was assessed
    }
    assert [r["site_id"] + "/" + r["sector"] for r in g.rows][:2] == ["S1/wash", "S2/wash"]  # largest gap first


def test_small_cells_are_protected_for_viewers_and_partners(fx: Fixture) -> None:
    s = fx.store
    distribute_base(fx)
    w = reg.who_what_where(s, VIEWER, threshold=2)
    assert w.redacted and w.suppressed >= 2
    for r in w.rows:
        if r["suppressed"]:
            assert r["households"] is None and r["people"] is None and r["quantity"] is None and r["value"] is None
        else:
            assert r["households"] >= 2
    partner = reg.who_what_where(s, PARTNER, threshold=1)
    assert [(r["site_id"], r["households"]) for r in partner.rows] == [("S2", 1)]  # only its scope
    g = reg.gap(s, PARTNER, threshold=10)
    assert {r["site_id"] for r in g.rows} == {"S2"}
    wash = next(r for r in g.rows if r["sector"] == "wash")
    assert wash["people_in_need"] == 60 and wash["people_reached"] is None and wash["gap"] is None
    assert next(r for r in g.rows if r["sector"] == "food")["households"] == 0  # nobody reached is not a small cell


def test_withdrawal_erases_identifying_fields_and_keeps_counts(fx: Fixture) -> None:
    s, h1 = fx.store, fx.ids[1]
    distribute_base(fx)
    with pytest.raises(Forbidden):
        reg.withdraw(s, ANALYST, h1)
    reg.withdraw(s, DPO, h1, reason="asked at the help desk")
    row = s.fetch_dicts("SELECT * FROM households WHERE household_id = $h", {"h": h1})[0]
    assert row["status"] == "withdrawn" and row["size"] == 2 and row["site_id"] == "S1"
    assert row["head_name_enc"] is None and row["phone_enc"] is None and row["phone_index"] is None
    members = s.fetch_dicts("SELECT * FROM members WHERE household_id = $h", {"h": h1})
    assert len(members) == 2 and all(m["name_enc"] is None and m["document_index"] is None for m in members)
    consent = s.fetch_dicts("SELECT withdrawn_at, withdrawn_by FROM consents WHERE household_id = $h", {"h": h1})[0]
    assert consent["withdrawn_at"] is not None and consent["withdrawn_by"] == "dpo"
    with pytest.raises(reg.RegistryError, match="withdrew its consent"):
        reg.identify(s, fx.keys, DM, h1, "assistance")
    assert reg.who_what_where(s, ANALYST).rows[0]["households"] == 2  # still counted
    april = distribution_list(fx, "april.csv", [f"{h1},,S1,2024-04-05,wash,hygiene_kit,1,kit,20,USD,NGO A,WASH-24"])
    with pytest.raises(reg.Refused, match="withdrew its consent"):
        reg.distribute(s, DM, april, fx.keys)
    reg.withdraw(s, DPO, fx.ids[4], erase=True)
    assert count(s, "households") == 3 and count(s, "members") == 7
    assert actions(s)[-3:] == ["registry.withdraw", "registry.read_refused", "registry.erase"]


def test_retention_enforced_then_purged(fx: Fixture) -> None:
    s, h3 = fx.store, fx.ids[3]
    distribute_base(fx)
    yesterday = dt.date.today() - dt.timedelta(days=1)
    with s.transaction():  # as if the retention period ran out
        s.execute("UPDATE households SET retention_until = $d WHERE household_id = $h", {"d": yesterday, "h": h3})
    with pytest.raises(reg.RegistryError, match="past its retention date"):
        reg.identify(s, fx.keys, DM, h3, "assistance")
    may = distribution_list(fx, "may.csv", [f"{h3},,S2,2024-05-05,wash,hygiene_kit,1,kit,20,USD,NGO A,WASH-24"])
    with pytest.raises(reg.Refused, match="due for deletion"):
        reg.distribute(s, DM, may, fx.keys)
    assert reg.purge(s, DM, dry_run=True).households == 1 and count(s, "households") == 4
    with pytest.raises(Forbidden):
        reg.purge(s, ANALYST)
    done = reg.purge(s, DPO)
    assert done.households == 1 and done.counts == {
        "members": 1,
        "consents": 1,
        "households": 1,
        "distributions_kept": 1,
    }
    assert s.fetch_one("SELECT count(*) FROM households WHERE household_id = $h", {"h": h3}) == (0,)
    assert s.fetch_one("SELECT count(*) FROM distributions WHERE household_id IS NULL") == (1,)
    assert [r["households"] for r in reg.who_what_where(s, ANALYST).rows] == [2, 1, 1]  # counts survive
    entry = audit.entries(s, limit=1)[0]
    assert entry["action"] == "registry.purge" and h3 not in str(entry["detail"])
    assert reg.purge(s, DPO).households == 0


def test_export_is_pseudonymised(fx: Fixture) -> None:
    s = fx.store
    distribute_base(fx)
    out = reg.export_pseudonymised(s, ANALYST, fx.tmp / "out")
    assert out.counts == {"households": 3, "members": 7, "distributions": 4} and out.left_out == 1  # H4: protection
    text = "".join((fx.tmp / "out" / f).read_text() for f in ("households.csv", "members.csv", "distributions.csv"))
    for name in [*NAMES, "1985", "SO-", "555"]:
        assert name not in text
    assert fx.ids[1] in text
    keyed = reg.export_pseudonymised(s, ANALYST, fx.tmp / "ngo", recipient="NGO A", keys=fx.keys)
    keyed_text = (fx.tmp / "ngo" / "households.csv").read_text()
    assert fx.ids[1] not in keyed_text and "HH-X" in keyed_text and keyed.counts["households"] == 3
    assert actions(s)[-2:] == ["registry.export", "registry.export"]
    with pytest.raises(Forbidden):
        reg.export_pseudonymised(s, VIEWER, fx.tmp / "v")


def test_rotation_and_rollback(fx: Fixture) -> None:
    s = fx.store
    new = b"\x55" * 32
    with pytest.raises(Forbidden):
        reg.rotate_key(s, fx.keys, new, DM)
    counts = reg.rotate_key(s, fx.keys, new, DPO)
    assert counts == {"households": 6, "members": 12}  # 4 names, 1 phone, 1 address; 10 names, 2 documents
    rotated = RegistryKeys(new, fx.keys.pseudonym)
    assert reg.identify(s, rotated, DM, fx.ids[1], "assistance")["head_name"] == "Faadumo Cali Xasan"
    with pytest.raises(RegistryKeyError):
        reg.identify(s, fx.keys, DM, fx.ids[1], "assistance")
    result = distribute_base(fx)
    from onthemove.respond.registry.batches import list_batches

    registration = next(b for b in list_batches(s, DM) if b["kind"] == "registration")["batch_id"]
    with pytest.raises(reg.RegistryError, match="roll those distribution batches back first"):
        rollback(s, DM, registration)
    assert rollback(s, DM, result.batch_id) == {"distributions": 4}
    assert rollback(s, DM, registration) == {"members": 10, "consents": 4, "households": 4}
    for table in ("households", "members", "consents", "distributions"):
        assert count(s, table) == 0
    again = reg.register(s, rotated, DM, fx.tmp / "registration.json")  # the same file loads again after a rollback
    assert again.households == 4 and not again.already_loaded
