"""The simulation endpoints over Demoland: the location graph (roles, redaction), simulations (shape, people
conserved, a closure stops the flows on its route from its day, flare-ups and capacity changes, the cache) and
the errors, each in the one error shape.

One app and store serve the module (DuckDB: ``graph.from_store`` reads sites with DuckDB's ``arg_max``). A
Demoland run of 60 days takes about 0.1 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from onthemove.access.users import add_user, new_token
from onthemove.api import create_app
from onthemove.demo import load_demo
from onthemove.store import open_store

pytestmark = pytest.mark.duckdb

THRESHOLD = 1000  # some Demoland sites hold fewer people: their capacities are redacted for anonymous users
ROLES = ("viewer", "analyst", "data_manager", "dpo", "admin")
GRAPH = "/api/v1/simulation/graph"
RUN = "/api/v1/simulations"
CONFLICT_AREAS = {"XD0401", "XD0402", "XD0403", "XD0404"}  # Dunmere's districts, Demoland's conflict flare-up


@dataclass
class Served:
    client: TestClient
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {} if who == "anonymous" else {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, url: str, who: str = "anonymous") -> Any:
        return self.client.get(url, headers=self.headers(who))

    def run(self, body: dict[str, Any], who: str = "analyst", status: int = 200) -> dict[str, Any]:
        response = self.client.post(RUN, json=body, headers=self.headers(who))
        assert response.status_code == status, response.text
        out: dict[str, Any] = response.json()
        return out

    @property
    def cache(self) -> Any:
        return self.client.app.state.store_context.cache  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    location = str(tmp_path_factory.mktemp("simulate") / "store")
    tokens = {}
    with open_store(location) as store:
        load_demo(store)
        for role in ROLES:
            add_user(store, role, role)
            tokens[role] = new_token(store, role)
        add_user(store, "partner", "analyst", scope="XD04")
        tokens["partner"] = new_token(store, "partner")
    app = create_app(location, suppression_threshold=THRESHOLD)
    with TestClient(app) as client:
        yield Served(client, tokens)


@pytest.fixture(scope="module")
def graph(served: Served) -> dict[str, Any]:
    response = served.get(GRAPH, "analyst")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def baseline(served: Served) -> dict[str, Any]:
    return served.run({"days": 60})


def _route_pair(body: dict[str, Any], a: str, b: str) -> list[int]:
    return [i for i, r in enumerate(body["routes"]) if {r["source"], r["target"]} == {a, b}]


# --- the graph --------------------------------------------------------------------------------------------------


def test_the_graph_has_demoland_s_districts_and_sites_joined_both_ways(graph: dict[str, Any]) -> None:
    assert (graph["country"], graph["admin_level"]) == ("XD", 2)
    kinds = [loc["kind"] for loc in graph["locations"]]
    assert kinds.count("town") == 30 and kinds.count("camp") == 150
    ids = {loc["id"] for loc in graph["locations"]}
    assert len(ids) == 180
    for loc in graph["locations"]:
        assert -90 <= loc["lat"] <= 90 and -180 <= loc["lon"] <= 180 and loc["name"]
        if loc["kind"] == "camp":
            assert loc["capacity"] > 0 and loc["area"].startswith("XD") and len(loc["area"]) == 6
        else:
            assert loc["capacity"] is None and loc["area"] == loc["id"]
    pairs = {(r["source"], r["target"]) for r in graph["routes"]}
    assert len(pairs) == len(graph["routes"]) and all((b, a) in pairs for a, b in pairs)
    assert {r["source"] for r in graph["routes"]} == ids  # every location is joined
    assert all(r["distance_km"] > 0 for r in graph["routes"])
    assert not graph["redacted"] and graph["threshold"] is None


def test_the_graph_s_defaults_continue_the_latest_month(graph: dict[str, Any]) -> None:
    defaults = graph["defaults"]
    assert defaults["start"] == "2026-11-01" and "2026-10-31" in defaults["start_source"]
    origins = {o["location"]: o["intensity"] for o in defaults["origins"]}
    assert set(origins) >= CONFLICT_AREAS and max(origins.values()) == 1.0
    assert max(origins, key=lambda k: origins[k]) in CONFLICT_AREAS
    assert "2026-10" in defaults["origins_source"] and defaults["displaced_per_conflict_day"] > 0


def test_anonymous_users_get_small_capacities_blanked(served: Served, graph: dict[str, Any]) -> None:
    response = served.get(GRAPH)
    assert response.status_code == 200
    body = response.json()
    assert body["redacted"] and body["threshold"] == THRESHOLD
    full = {loc["id"]: loc["capacity"] for loc in graph["locations"]}
    shown = {loc["id"]: loc["capacity"] for loc in body["locations"]}
    small = [k for k, v in full.items() if v is not None and v < THRESHOLD]
    assert small and all(shown[k] is None for k in small)
    assert all(shown[k] == v for k, v in full.items() if v is not None and v >= THRESHOLD)
    assert served.get(GRAPH, "viewer").json()["redacted"]


# --- who may run ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 403), ("viewer", 403), ("analyst", 200), ("data_manager", 200), ("dpo", 200), ("admin", 200)],
)
def test_running_needs_an_analyst_or_higher(served: Served, who: str, status: int) -> None:
    body = served.run({"days": 5}, who, status)
    if status == 403:
        assert body["error"]["code"] == "forbidden"
        assert "unredacted site populations" in body["error"]["message"]


def test_partners_may_use_neither_endpoint(served: Served) -> None:
    for response in (served.get(GRAPH, "partner"), served.client.post(RUN, json={}, headers=served.headers("partner"))):
        assert response.status_code == 403
        assert "place scope" in response.json()["error"]["message"]


# --- a run ------------------------------------------------------------------------------------------------------


def test_a_run_answers_every_day_location_and_route(baseline: dict[str, Any], graph: dict[str, Any]) -> None:
    assert baseline["days"] == 60 and baseline["day_numbers"] == list(range(60))
    assert baseline["dates"][0] == "2026-11-01" and baseline["dates"][-1] == "2026-12-30"
    assert baseline["locations"] == graph["locations"] and baseline["routes"] == graph["routes"]
    people = np.asarray(baseline["people"])
    flows = np.asarray(baseline["flows"])
    assert people.shape == (60, 180) and flows.shape == (60, 850)
    assert people.min() >= 0 and flows.min() >= 0 and flows.sum() > 0
    camps = np.asarray([loc["kind"] == "camp" for loc in baseline["locations"]])
    assert np.allclose(people[:, camps].sum(axis=1), baseline["in_camps"], atol=0.5 + 0.05 * camps.sum())
    assert baseline["in_camps"][-1] > 0.5 * baseline["total"][-1]  # most people reach a camp within two months
    params = baseline["parameters"]
    assert params["mode"] == "expected" and params["seed"] is None and params["every"] == 1
    assert params["rules"]["conflict_driven_spawning"] and params["rules"]["source"].startswith("onthemove rule set")
    assert params["displaced_per_conflict_day"] == graph["defaults"]["displaced_per_conflict_day"]
    assert params["origins"] == graph["defaults"]["origins"]
    assert "batches" in baseline["provenance"]["data_version"] and baseline["provenance"]["store_engine"] == "duckdb"
    assert baseline["scenario"] is None and baseline["warnings"] == [] and baseline["seconds"] > 0


def test_people_are_conserved(baseline: dict[str, Any]) -> None:
    people = np.asarray(baseline["people"]).sum(axis=1)
    total = np.asarray(baseline["total"])
    assert np.allclose(total, baseline["displaced"], rtol=1e-9, atol=1e-3)  # nobody appears or vanishes
    assert np.allclose(people + np.asarray(baseline["in_transit"]), total, atol=0.05 * 180 + 1e-3)
    daily = np.diff(np.asarray(baseline["displaced"]))
    assert np.all(daily == daily[0]) and daily[0] > 0  # the same rate every day, as the defaults say


def test_a_closure_stops_the_flows_on_its_route_from_its_day(served: Served, baseline: dict[str, Any]) -> None:
    flows = np.asarray(baseline["flows"])
    busiest = int(np.argmax(flows[:20].sum(axis=0)))
    a, b = baseline["routes"][busiest]["source"], baseline["routes"][busiest]["target"]
    closed = served.run(
        {
            "days": 60,
            "scenario": {"name": "road cut", "closures": [{"type": "link", "name1": a, "name2": b, "start": 10}]},
        }
    )
    both = _route_pair(closed, a, b)
    assert len(both) == 2
    after = np.asarray(closed["flows"])
    assert np.all(after[10:, both] == 0)
    assert after[:10, both].sum() > 0
    assert np.allclose(after[:10], flows[:10])  # nothing changes before the closure
    assert not np.allclose(after[10:], flows[10:])
    assert closed["scenario"]["closures"][0] == {"type": "link", "name1": a, "name2": b, "start": 10}
    assert closed["scenario_events"] == 2
    assert np.allclose(closed["total"], closed["displaced"], atol=1e-3)  # still conserved


def test_a_closure_by_date_is_the_same_as_by_day_number(served: Served, baseline: dict[str, Any]) -> None:
    a, b = baseline["routes"][0]["source"], baseline["routes"][0]["target"]
    by_day = served.run({"days": 30, "scenario": {"closures": [{"type": "link", "name1": a, "name2": b, "start": 5}]}})
    by_date = served.run(
        {"days": 30, "scenario": {"closures": [{"type": "link", "name1": a, "name2": b, "start": "2026-11-06"}]}}
    )
    assert by_day["flows"] == by_date["flows"]


def test_a_flare_up_adds_people_from_its_day(served: Served, baseline: dict[str, Any], graph: dict[str, Any]) -> None:
    town = next(
        loc["id"]
        for loc in graph["locations"]
        if loc["kind"] == "town" and loc["id"] not in {o["location"] for o in graph["defaults"]["origins"]}
    )
    flared = served.run({"days": 60, "scenario": {"conflicts": [{"location": town, "start": 20, "intensity": 2}]}})
    extra = np.asarray(flared["displaced"]) - np.asarray(baseline["displaced"])
    rate = baseline["parameters"]["displaced_per_conflict_day"]
    assert np.all(extra[:20] == 0)
    assert extra[20] == pytest.approx(int(2 * rate), abs=1)
    assert extra[-1] == pytest.approx(40 * int(2 * rate), abs=40)


def test_a_smaller_capacity_fills_the_camp_sooner(served: Served, baseline: dict[str, Any]) -> None:
    ids = [loc["id"] for loc in baseline["locations"]]
    people = np.asarray(baseline["people"])
    fullest = int(np.argmax(np.where([loc["kind"] == "camp" for loc in baseline["locations"]], people[-1], -1)))
    changed = served.run({"days": 60, "scenario": {"capacities": [{"location": ids[fullest], "capacity": 100}]}})
    at_camp = np.asarray(changed["people"])[:, fullest]
    assert people[-1, fullest] > 1000
    # people on their way when it filled still arrive: a little over, never far over
    assert 90 <= at_camp.max() <= 120
    assert changed["in_camps"][-1] > 0.5 * changed["total"][-1]  # the others went elsewhere
    error = served.run({"scenario": {"capacities": [{"location": ids[fullest], "capacity": 0}]}}, status=422)
    assert error["error"]["details"][0]["location"][-1] == "capacity"


def test_named_origins_and_rate_replace_the_defaults(served: Served) -> None:
    body = served.run({"days": 10, "origins": [{"location": "XD0101"}], "displaced_per_conflict_day": 100})
    assert body["parameters"]["origins"] == [{"location": "XD0101", "intensity": 1.0}]
    assert body["parameters"]["origins_source"] == "asked" and body["parameters"]["displaced_source"] == "asked"
    assert body["displaced"] == [100.0 * (d + 1) for d in range(10)]
    nobody = served.run({"days": 5, "origins": []})
    assert nobody["total"] == [0.0] * 5 and "nobody is displaced" in nobody["warnings"][0]


def test_the_stochastic_mode_is_seeded_and_counts_people(served: Served) -> None:
    one = served.run({"days": 20, "mode": "stochastic", "seed": 7})
    again = served.run({"days": 20, "mode": "stochastic", "seed": 7})
    other = served.run({"days": 20, "mode": "stochastic", "seed": 8})
    assert one["people"] == again["people"] and one["people"] != other["people"]
    people = np.asarray(one["people"])
    assert np.all(people == np.round(people)) and one["parameters"]["seed"] == 7


def test_reported_days_are_thinned_or_chosen(served: Served) -> None:
    long = served.run({"days": 365})
    assert long["parameters"]["every"] == 5 and long["day_numbers"][:3] == [0, 5, 10]
    assert long["day_numbers"][-1] == 364 and len(long["people"]) == len(long["day_numbers"]) == len(long["dates"])
    chosen = served.run({"days": 30, "at": [29, 0, 14, 14]})
    assert chosen["day_numbers"] == [0, 14, 29] and chosen["parameters"]["every"] is None
    assert len(chosen["flows"]) == 3 and chosen["dates"] == ["2026-11-01", "2026-11-15", "2026-11-30"]


def test_the_same_request_is_answered_from_the_cache(served: Served) -> None:
    body = {"days": 15, "scenario": {"closures": [{"type": "location", "name1": "XD0401", "start": 3}]}}
    first = served.run(body)
    hits = served.cache.hits
    assert served.run(body) == first
    assert served.cache.hits == hits + 1


# --- errors -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({"country": "ZZ"}, 404, "not_found", "no country 'ZZ' in the store (it holds: XD)"),
        (
            {"scenario": {"closures": [{"type": "link", "name1": "XD0401", "name2": "XD0101", "start": 3}]}},
            422,
            "scenario_error",
            "scenario: closures[0]: no route joins",
        ),
        (
            {"scenario": {"conflicts": [{"location": "XD0101", "start": "2027-12-01"}]}},
            422,
            "scenario_error",
            "conflicts[0].start: day 395 is outside the period (days 0 to 59, from 2026-11-01)",
        ),
        (
            {"scenario": {"conflicts": [{"location": "XD0101", "start": "2026-13-01"}]}},
            422,
            "scenario_error",
            "'2026-13-01' is neither a day number nor a date",
        ),
        (
            {"scenario": {"closures": [{"type": "location", "name1": "XD0101", "start": 10, "end": 5}]}},
            422,
            "scenario_error",
            "end (day 5) must come after start (day 10)",
        ),
        (
            {"scenario": {"capacities": [{"location": "Atlantis", "capacity": 5}]}},
            422,
            "scenario_error",
            "capacities[0]: 'Atlantis' is not a location of the graph",
        ),
        ({"scenario": {"rules": {"camp_wieght": 3}}}, 422, "scenario_error", "unknown rule parameters: camp_wieght"),
        ({"origins": [{"location": "Nowhere"}]}, 422, "simulation_error", "origins[0]: 'Nowhere' is not a location"),
        ({"days": 10, "at": [3, 10]}, 422, "simulation_error", "at: day numbers must be 0 to 9"),
        ({"days": 0}, 422, "invalid_request", "the request is not valid"),
        ({"dayz": 5}, 422, "invalid_request", "the request is not valid"),
        ({"mode": "chaotic"}, 422, "invalid_request", "the request is not valid"),
    ],
)
def test_errors_say_what_is_wrong(served: Served, body: dict[str, Any], status: int, code: str, message: str) -> None:
    error = served.run(body, "analyst", status)["error"]
    assert error["code"] == code and message in error["message"], error


def test_an_unknown_country_s_graph_is_not_found(served: Served) -> None:
    response = served.get(GRAPH + "?country=QQ", "analyst")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert served.get(GRAPH + "?level=7", "analyst").status_code == 422


def test_a_store_without_boundaries_says_so(tmp_path: Path) -> None:
    from onthemove.ingest.gazetteer import load_pcodes
    from tests.helpers import PCODES, write

    location = str(tmp_path / "store")
    with open_store(location) as store:
        load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
    with TestClient(create_app(location)) as client:
        response = client.get(GRAPH)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "simulation_error"
    assert "no admin areas of level 2 with boundaries" in response.json()["error"]["message"]
