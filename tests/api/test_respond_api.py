"""The respond endpoints on both engines: the needs ranking over Demoland (order, why, areas, a partner's scope,
small counts blanked for anonymous users and partners), allocations of the Demoland example plan (budget, stock,
the gain over greedy, sensitivity, bad plans, who may run one), and 3W/gap: empty on Demoland, and on a small
registry with distributions (protected cells for viewers, a partner's scope, filters).

One app and store serve the Demoland tests (loading it takes seconds; the app's result cache answers repeats).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onthemove.access.users import add_user, new_token
from onthemove.api import create_app
from onthemove.demo import load_demo
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.respond import registry as reg
from onthemove.respond.needs import assess
from onthemove.respond.registry.keys import RegistryKeys
from onthemove.store import open_store
from tests.behaviour.test_registry import ASSESSMENTS, DM, HOUSEHOLDS, SITES, pid
from tests.conftest import ENGINES, engine_location
from tests.helpers import PCODES, write

pytestmark = pytest.mark.slow

# two of Demoland's 150 sites are smaller than this (21 people at XDS-XD0601-007, 92 at XDS-XD0201-005)
THRESHOLD = 100
SMALL = {"XDS-XD0601-007", "XDS-XD0201-005"}
SECTORS = ["education", "food_security", "health", "protection", "shelter", "wash"]
REGIONS = {"XD01", "XD02", "XD03", "XD04", "XD05", "XD06"}


@dataclass
class Served:
    client: TestClient
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {} if who == "anonymous" else {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, url: str, who: str = "anonymous") -> Any:
        return self.client.get(url, headers=self.headers(who))

    def post(self, url: str, body: Any, who: str = "anonymous") -> Any:
        return self.client.post(url, json=body, headers=self.headers(who))

    def json(self, url: str, who: str = "anonymous") -> dict[str, Any]:
        response = self.get(url, who)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def needs(self) -> Any:
        """``assess`` over the app's own store (DuckDB allows one connection per process)."""
        with self.client.app.state.store_context.store() as store:  # type: ignore[attr-defined]
            return assess(store)


@pytest.fixture(scope="module", params=ENGINES)
def location(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from engine_location(request, tmp_path_factory, "respond")


@pytest.fixture(scope="module")
def served(location: str) -> Iterator[Served]:
    tokens = {}
    with open_store(location) as store:
        load_demo(store)
        for name, role, scope in (
            ("analyst", "analyst", None),
            ("viewer", "viewer", None),
            ("admin", "admin", None),
            ("partner", "viewer", "XD04"),
            ("scoped_analyst", "analyst", "XD04"),
        ):
            add_user(store, name, role, scope=scope)
            tokens[name] = new_token(store, name)
    app = create_app(location, suppression_threshold=THRESHOLD)
    with TestClient(app) as client:
        yield Served(client, tokens)


@pytest.fixture(scope="module")
def example(served: Served) -> dict[str, Any]:
    body = served.json("/api/v1/allocations/example", "analyst")
    assert body["may_run"] is True and body["reason"] is None
    plan: dict[str, Any] = body["plan"]
    return plan


@pytest.fixture(scope="module")
def allocation(served: Served, example: dict[str, Any]) -> dict[str, Any]:
    response = served.post("/api/v1/allocations", {**example, "sensitivity": True}, "analyst")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- needs -----------------------------------------------------------------------------------------------------


def test_sites_are_ranked_with_why(served: Served) -> None:
    body = served.json("/api/v1/needs", "analyst")
    assert not body["redacted"] and body["threshold"] is None and body["suppressed"] == 0
    assert body["rules"] == {"name": "severity-1-5", "in_need": 3, "population": "individuals", "area_severity": "max"}
    assert [s["sector"] for s in body["sectors"]] == SECTORS
    assert {s["sector"]: s["label"] for s in body["sectors"]}["wash"] == "WASH"
    rows = body["rows"]
    assert body["total_rows"] == len(rows) == 150 and [r["rank"] for r in rows] == list(range(1, 151))
    keys = [(-r["severity"], -r["sectors_in_need"], -r["people_in_need"], r["code"]) for r in rows]
    assert keys == sorted(keys)
    expected = served.needs().sites
    assert [r["code"] for r in rows] == expected["site_id"].tolist()
    assert [r["why"] for r in rows] == expected["why"].tolist()
    top = rows[0]
    assert top["level"] == "site" and top["latitude"] is not None and top["longitude"] is not None
    assert top["severity"] == max(v for v in top["sectors"].values() if v is not None)
    assert top["sectors_in_need"] == sum(v >= 3 for v in top["sectors"].values() if v is not None)
    in_need = sorted(((-v, SECTORS.index(s)), s) for s, v in top["sectors"].items() if v is not None and v >= 3)
    assert top["why"].startswith(f"severity {top['severity']:g} (")
    assert top["why"].endswith(f"; {top['sectors_in_need']} sectors in need; {top['people_in_need']:,} people in need")
    labels = {s["sector"]: s["label"] for s in body["sectors"]}
    listed = ", ".join(f"{labels[s]} {top['sectors'][s]:g}" for _, s in in_need)
    assert f"({listed})" in top["why"]
    for r in rows:  # people in need per sector: the population where the sector is in need
        for s, v in r["sectors"].items():
            assert r["people_in_need_by_sector"][s] == (r["population"] if v is not None and v >= 3 else 0)
    assert sum(p["overall"] for p in body["phases"]) == 150
    assert body["totals"] == {
        "sites": 150,
        "population": sum(r["population"] for r in rows),
        "people_in_need": sum(r["people_in_need"] for r in rows),
    }
    assert served.json("/api/v1/needs?limit=5", "analyst")["rows"] == rows[:5]


def test_areas_add_up_their_sites_and_anyone_reads_them(served: Served) -> None:
    sites = served.json("/api/v1/needs", "analyst")["rows"]
    regions = served.json("/api/v1/needs?level=adm1")  # anonymous
    assert {r["code"] for r in regions["rows"]} == REGIONS
    assert regions["suppressed"] == 0 and all(r["name"] for r in regions["rows"])
    for r in regions["rows"]:
        mine = [s for s in sites if s["adm1"] == r["code"]]
        assert r["level"] == "adm1" and r["sites"] == len(mine)
        assert r["people_in_need"] == sum(s["people_in_need"] for s in mine)
        assert r["severity"] == max(s["severity"] for s in mine)
        assert r["why"].endswith(f"{r['people_in_need']:,} people in need")
    districts = served.json("/api/v1/needs?level=adm2&place=XD03", "viewer")
    assert districts["place"] == "XD03" and districts["rows"]
    assert all(r["code"].startswith("XD03") and r["level"] == "adm2" for r in districts["rows"])
    assert [r["rank"] for r in districts["rows"]] == list(range(1, len(districts["rows"]) + 1))


def test_a_partner_sees_their_scope_only(served: Served) -> None:
    body = served.json("/api/v1/needs", "partner")
    assert body["redacted"] and body["rows"]
    assert {r["adm1"] for r in body["rows"]} == {"XD04"}
    assert [r["rank"] for r in body["rows"]] == list(range(1, body["total_rows"] + 1))
    analyst = [r for r in served.json("/api/v1/needs", "analyst")["rows"] if r["adm1"] == "XD04"]
    assert [r["code"] for r in body["rows"]] == [r["code"] for r in analyst]  # the same order, ranked anew
    assert [r["code"] for r in served.json("/api/v1/needs?level=adm1", "partner")["rows"]] == ["XD04"]
    assert served.get("/api/v1/needs?place=XD02", "partner").status_code == 404
    assert served.get("/api/v1/needs?place=NOWHERE", "analyst").status_code == 404
    assert served.json("/api/v1/needs?place=XD0401", "partner")["total_rows"] >= 1


def test_small_site_counts_are_blanked_for_anonymous_users_and_partners(served: Served) -> None:
    full = {r["code"]: r for r in served.json("/api/v1/needs", "analyst")["rows"]}
    body = served.json("/api/v1/needs")
    assert body["redacted"] and body["threshold"] == THRESHOLD
    blanked = {r["code"] for r in body["rows"] if r["suppressed"]}
    assert blanked > SMALL and body["suppressed"] == len(blanked)
    by_district: dict[str, list[bool]] = {}
    for r in body["rows"]:
        by_district.setdefault(r["adm2"], []).append(r["suppressed"])
        if r["suppressed"]:
            assert r["population"] is None and r["people_in_need"] is None
            assert set(r["people_in_need_by_sector"].values()) == {None}
            assert r["why"].endswith("people in need not shown (small counts are suppressed)")
            assert str(full[r["code"]]["people_in_need"]) not in r["why"].replace(",", "")
            assert r["severity"] == full[r["code"]]["severity"] and r["sectors"] == full[r["code"]]["sectors"]
        else:
            assert r["population"] == full[r["code"]]["population"] >= THRESHOLD
            assert r["why"] == full[r["code"]]["why"]
    # no district (nor the whole) has exactly one blanked site: it would be the total minus the others
    assert all(flags.count(True) != 1 for flags in by_district.values())
    assert body["totals"]["people_in_need"] is None and body["totals"]["sites"] == 150
    for who in ("viewer", "partner"):
        assert served.json("/api/v1/needs", who)["redacted"]
    assert not served.json("/api/v1/needs", "admin")["redacted"]


def test_a_store_without_assessments_answers_no_rows(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "store")) as store:
        load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
    with TestClient(create_app(str(tmp_path / "store"))) as client:
        body = client.get("/api/v1/needs?level=adm1").json()
    assert body["rows"] == [] and body["total_rows"] == 0
    assert "no site assessments" in body["notes"][0]


# --- allocations -----------------------------------------------------------------------------------------------


def test_the_example_plan_respects_the_budget_and_beats_greedy(
    allocation: dict[str, Any], example: dict[str, Any]
) -> None:
    a = allocation
    assert a["plan"] == "demoland-illustrative" and a["method"] == "mip" and a["currency"] == "USD"
    assert a["status"] in ("Optimal", "Time limit reached")
    assert 0 < a["cost"] <= example["budget"] == a["budget"]
    greedy = {g["baseline"]: g for g in a["greedy"]}
    assert set(greedy) == {"greedy-ratio", "greedy-rank"}
    assert a["objective"] >= greedy["greedy-ratio"]["objective"] > 0
    assert greedy["greedy-ratio"]["gain"] >= 0 and greedy["greedy-ratio"]["cost"] <= example["budget"]
    assert a["bound"] >= a["objective"] and a["gap"] <= 0.001 + 1e-9
    rows = a["rows"]
    assert sum(r["cost"] for r in rows) == pytest.approx(a["cost"], abs=1)
    assert {r["site_id"] for r in rows} == set(a["served"]) and len(a["served"]) == a["sites_served"]
    stock = {p["name"]: p.get("stock") for p in example["packages"]}
    for p in a["packages"]:
        units = sum(r["units"] for r in rows if r["package"] == p["package"])
        assert p["units"] == pytest.approx(units)
        if stock[p["package"]] is not None:
            assert units <= stock[p["package"]]
    for r in rows:
        assert r["units"] == int(r["units"]) and 0 < r["people_covered"] <= r["people_in_need"]
        assert r["severity"] >= 3
    per_site: dict[str, float] = {}
    for r in rows:
        per_site[r["site_id"]] = per_site.get(r["site_id"], 0) + r["units"]
    assert max(per_site.values()) <= example["site_capacity"]["default"]
    assert {x["area"] for x in a["areas"]} <= REGIONS and all(x["name"] for x in a["areas"])
    assert sum(x["cost"] for x in a["areas"]) == pytest.approx(a["cost"], abs=1)
    for x in a["areas"]:  # every region gets at least 5% of the budget (the plan's min_budget rule)
        assert x["cost"] >= 0.05 * example["budget"] - 1
    changes = [s["change"] for s in a["sensitivity"]]
    assert changes == [-0.2, -0.1, 0.1, 0.2]
    for s in a["sensitivity"]:
        assert s["budget"] == pytest.approx(example["budget"] * (1 + s["change"]))
        assert s["cost"] <= s["budget"] + 1e-6
    assert a["time_limit"] == pytest.approx(4.0)  # 20 s shared by the plan and its four sensitivity solves


def test_the_lp_is_an_upper_bound_and_the_answer_is_cached(served: Served, example: dict[str, Any]) -> None:
    mip = served.post("/api/v1/allocations", example, "analyst").json()
    lp = served.post("/api/v1/allocations", {**example, "method": "lp"}, "analyst").json()
    assert lp["method"] == "lp" and lp["objective"] >= mip["objective"] - 1e-6
    assert mip["sensitivity"] == []
    cache = served.client.app.state.store_context.cache  # type: ignore[attr-defined]
    hits = cache.hits
    assert served.post("/api/v1/allocations", example, "analyst").json() == mip
    assert cache.hits > hits


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"budget": -5}, "budget: expected a number of at least 0, got -5"),
        ({"packages": []}, None),  # the body's schema: at least one package
        (
            {"rules": [{"min_coverage": {"severity": 4, "share": 0.1, "packages": ["soap"]}}]},
            "rules[0].min_coverage.packages: no package named 'soap'",
        ),
        ({"rules": [{"min_budget": {"share": 1.5, "per": "adm1"}}]}, "rules[0].min_budget.share: expected a share"),
        ({"rules": [{}]}, "rules[0]: expected one of min_coverage"),
        ({"gap": 1.5}, "gap: expected a relative gap of at least 0 and below 1"),
        (
            {"packages": [{"name": "x", "sector": "nutrition", "unit_cost": 1}], "rules": []},
            "packages[0].sector: 'nutrition' is not a sector of the needs",
        ),
        (
            {"rules": [{"min_coverage": {"severity": 3, "share": 1.0}}]},
            "no feasible plan",
        ),
    ],
)
def test_a_bad_plan_is_a_422_that_says_why(
    served: Served, example: dict[str, Any], change: dict[str, Any], message: str | None
) -> None:
    response = served.post("/api/v1/allocations", {**example, **change}, "analyst")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    if message is None:
        assert error["code"] == "invalid_request" and error["details"]
    else:
        assert message in error["message"], error["message"]


def test_a_request_cannot_name_a_file_on_the_server(served: Served, example: dict[str, Any]) -> None:
    response = served.post("/api/v1/allocations", {**example, "needs_rules": "/etc/passwd"}, "analyst")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["location"] == ["body", "needs_rules"]


@pytest.mark.parametrize("who", ["anonymous", "viewer", "partner", "scoped_analyst"])
def test_only_analysts_and_up_without_a_scope_run_allocations(
    served: Served, example: dict[str, Any], who: str
) -> None:
    response = served.post("/api/v1/allocations", example, who)
    assert response.status_code == 403, response.text
    body = served.json("/api/v1/allocations/example", who)
    assert body["may_run"] is False and body["reason"]
    assert body["plan"]["budget"] == example["budget"]


# --- assistance ------------------------------------------------------------------------------------------------


def test_demoland_has_no_distributions(served: Served) -> None:
    three = served.json("/api/v1/assistance/who-what-where")
    assert three["rows"] == [] and three["distributions"] is False and three["threshold"] == THRESHOLD
    gap = served.json("/api/v1/assistance/gap?sector=wash", "analyst")
    assert gap["distributions"] is False and gap["sector"] == "wash" and gap["rows"]
    assert all(r["households"] == 0 and r["sector"] == "wash" for r in gap["rows"])
    assert served.get("/api/v1/assistance/gap?period=last-year").status_code == 400


@pytest.fixture
def registry(store_location: str, tmp_path: Path) -> Iterator[Served]:
    """The registry fixture of tests/behaviour/test_registry.py: two sites, four households, four distributions
    (three households at two sites, two organisations) in March 2024."""
    keys = RegistryKeys(b"\x11" * 32, b"\x22" * 32)
    tokens = {}
    with open_store(store_location) as store:
        load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
        ingest(store, write(tmp_path, "sites.csv", SITES), kind="sites")
        ingest(store, write(tmp_path, "assess.csv", ASSESSMENTS), kind="site_assessments")
        kobo = write(tmp_path, "registration.json", json.dumps({"results": HOUSEHOLDS}))
        reg.register(store, keys, DM, kobo)
        h1 = pid(keys, "Faadumo Cali Xasan", 1985, "f", "SO-1234-5678")
        h2 = pid(keys, "Abdi Nur Warsame", 1970, "m", "SO-2222-3333")
        h3 = pid(keys, "Ma'alin Osman Said", 1950, "m")
        head = "household_id,site_id,date,sector,package,quantity,unit,value,currency,organisation,programme\n"
        rows = [
            f"{h1},S1,2024-03-05,wash,hygiene_kit,1,kit,20,USD,NGO A,WASH-24",
            f"{h2},S1,2024-03-05,wash,hygiene_kit,1,kit,20,USD,NGO A,WASH-24",
            f"{h3},S2,2024-03-06,wash,hygiene_kit,1,kit,20,USD,NGO A,WASH-24",
            f"{h1},S1,2024-03-07,food,food_basket,1,basket,50,USD,NGO B,FOOD-24",
        ]
        reg.distribute(store, DM, write(tmp_path, "march.csv", head + "\n".join(rows) + "\n"), keys)
        for name, role, scope in (("analyst", "analyst", None), ("viewer", "viewer", None), ("ngo", "viewer", "XT02")):
            add_user(store, name, role, scope=scope)
            tokens[name] = new_token(store, name)
    with TestClient(create_app(store_location, suppression_threshold=2)) as client:
        yield Served(client, tokens)


def test_who_what_where_and_gap_from_the_registry(registry: Served) -> None:
    three = registry.json("/api/v1/assistance/who-what-where", "analyst")
    assert three["distributions"] and not three["redacted"] and three["threshold"] is None
    cols = ("organisation", "sector", "site_id", "month", "households", "people")
    got = [tuple(r[c] for c in cols) for r in three["rows"]]
    assert got == [
        ("NGO A", "wash", "S1", "2024-03", 2, 6),
        ("NGO A", "wash", "S2", "2024-03", 1, 1),
        ("NGO B", "food", "S1", "2024-03", 1, 2),
    ]
    assert all("name" not in r and "household_id" not in r for r in three["rows"])  # aggregates only
    regions = registry.json("/api/v1/assistance/who-what-where?where=adm1", "analyst")
    assert [(r["area"], r["sector"], r["households"]) for r in regions["rows"]] == [
        ("XT01", "wash", 2),
        ("XT02", "wash", 1),
        ("XT01", "food", 1),
    ]
    north = registry.json("/api/v1/assistance/who-what-where?place=XT01", "analyst")
    assert {r["site_id"] for r in north["rows"]} == {"S1"} and north["place"] == "XT01"
    april = registry.json("/api/v1/assistance/who-what-where?period=2024-04", "analyst")
    assert april["rows"] == [] and not april["distributions"] and april["period"]["start"] == "2024-04-01"
    gap = registry.json("/api/v1/assistance/gap", "analyst")
    cells = {(r["site_id"], r["sector"]): (r["people_in_need"], r["people_reached"], r["gap"]) for r in gap["rows"]}
    assert cells[("S1", "wash")] == (100, 6, 94) and cells[("S2", "wash")] == (60, 1, 59)
    assert cells[("S1", "food")] == (None, 2, None)  # assistance where no need was assessed
    wash = registry.json("/api/v1/assistance/gap?sector=WASH&place=XT02", "analyst")
    assert [(r["site_id"], r["sector"]) for r in wash["rows"]] == [("S2", "wash")]


def test_small_cells_are_protected_for_viewers_and_partners(registry: Served) -> None:
    viewer = registry.json("/api/v1/assistance/who-what-where", "viewer")
    assert viewer["redacted"] and viewer["threshold"] == 2 and viewer["suppressed"] >= 2
    for r in viewer["rows"]:
        if r["suppressed"]:
            assert r["households"] is None and r["people"] is None and r["value"] is None
        else:
            assert r["households"] >= 2
    partner = registry.json("/api/v1/assistance/who-what-where", "ngo")
    assert {r["site_id"] for r in partner["rows"]} == {"S2"}
    assert registry.get("/api/v1/assistance/who-what-where?place=XT01", "ngo").status_code == 404
    gap = registry.json("/api/v1/assistance/gap", "ngo")
    assert {r["site_id"] for r in gap["rows"]} == {"S2"}
    assert registry.json("/api/v1/assistance/gap", "anonymous")["redacted"]
