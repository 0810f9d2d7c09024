"""The foresight endpoints over Demoland, on both engines: forecasts per area (shape, coherence, scope, redaction,
cache) and the trigger status of examples/demoland/triggers.yaml.

Forecasts take seconds (statsforecast compiles on first use), so one app and store serve the whole module and
every test asks for the same forecast (adm1, horizon 3, 80 %: the one the forecast trigger asks for too), plus
one at adm0 for coherence; the app's result cache answers the repeats.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onthemove.access.users import add_user, new_token
from onthemove.api import create_app
from onthemove.api.foresight_models import ForecastChange, ForecastPoint, Forecasts, HistoryPoint, PlaceForecast
from onthemove.api.foresight_routes import redact_evidence, redact_forecasts
from onthemove.demo import load_demo
from onthemove.foresight.triggers import TriggerError
from onthemove.store import open_store
from tests.conftest import ENGINES, ROOT, engine_location

pytestmark = pytest.mark.slow

TRIGGERS = ROOT / "examples" / "demoland" / "triggers.yaml"
THRESHOLD = 1500  # high enough that some regions' months fall under it, to see redaction on real forecasts
ADM1 = "/api/v1/forecasts/movements?level=adm1&horizon=3"
REGIONS = ["XD01", "XD02", "XD03", "XD04", "XD05", "XD06"]


@dataclass
class Served:
    client: TestClient
    tokens: dict[str, str]

    def get(self, url: str, who: str = "anonymous") -> Any:
        headers = {} if who == "anonymous" else {"Authorization": f"Bearer {self.tokens[who]}"}
        return self.client.get(url, headers=headers)

    @property
    def cache(self) -> Any:
        return self.client.app.state.store_context.cache  # type: ignore[attr-defined]

    @contextmanager
    def triggers_file(self, path: str) -> Iterator[None]:
        """The server's triggers file replaced for a while (monkeypatch would delete starlette's state on undo)."""
        state = self.client.app.state  # type: ignore[attr-defined]
        before = state.triggers_file
        state.triggers_file = path
        try:
            yield
        finally:
            state.triggers_file = before


@pytest.fixture(scope="module", params=ENGINES)
def location(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from engine_location(request, tmp_path_factory, "foresight")


@pytest.fixture(scope="module")
def served(location: str) -> Iterator[Served]:
    tokens = {}
    with open_store(location) as store:
        load_demo(store)
        add_user(store, "analyst", "analyst")
        tokens["analyst"] = new_token(store, "analyst")
        add_user(store, "partner", "viewer", scope="XD04")
        tokens["partner"] = new_token(store, "partner")
    app = create_app(location, suppression_threshold=THRESHOLD, triggers_file=str(TRIGGERS))
    with TestClient(app) as client:
        yield Served(client, tokens)


@pytest.fixture(scope="module")
def adm1(served: Served) -> dict[str, Any]:
    response = served.get(ADM1, "analyst")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_forecasts_have_every_region_with_its_fan_and_history(adm1: dict[str, Any]) -> None:
    assert (adm1["kind"], adm1["level"], adm1["horizon"], adm1["interval"]) == ("movements", "adm1", 3, 80)
    assert adm1["origin"] == "2026-10"  # Demoland's last month
    assert adm1["periods"] == ["2026-11", "2026-12", "2027-01"]
    assert adm1["model"] == "ensemble" and not adm1["redacted"] and adm1["suppressed"] == 0
    assert [p["place"] for p in adm1["places"]] == REGIONS
    for place in adm1["places"]:
        assert place["name"] and place["admin_level"] == 1 and place["parent_pcode"] == "XD"
        assert [f["period"] for f in place["forecast"]] == adm1["periods"]
        for point in place["forecast"]:
            assert point["lo"] <= point["mean"] <= point["hi"]
        months = [h["period"] for h in place["history"]]
        assert len(months) == 24 and months[-1] == "2026-10" and months == sorted(months)
        assert all(h["value"] is not None and h["value"] >= 0 for h in place["history"])
        change = place["change"]
        assert change["observed_period"] == "2026-10" and change["period"] == "2027-01"
        assert change["observed"] == place["history"][-1]["value"]
        assert change["mean"] == place["forecast"][-1]["mean"]
        assert change["absolute"] == pytest.approx(change["mean"] - change["observed"])
        assert change["percent"] == pytest.approx(100 * change["absolute"] / change["observed"])
    dunmere = next(p for p in adm1["places"] if p["place"] == "XD04")
    assert dunmere["history"][-1]["value"] > 10_000  # the conflict flare-up of the last three months


def test_history_is_the_totals_endpoint_s(served: Served, adm1: dict[str, Any]) -> None:
    rows = served.get("/api/v1/totals/movements?by=month&by=adm1&from=2024-11-01&to=2026-10-31", "analyst").json()
    totals = {(r["adm1"], r["month"]): r["count"] for r in rows["rows"]}
    for place in adm1["places"]:
        for h in place["history"]:
            assert h["value"] == totals.get((place["place"], h["period"]), 0)


def test_regions_add_up_to_the_country(served: Served, adm1: dict[str, Any]) -> None:
    country = served.get("/api/v1/forecasts/movements?level=adm0&horizon=3", "analyst").json()
    assert [p["place"] for p in country["places"]] == ["XD"]
    for i, period in enumerate(country["periods"]):
        total = country["places"][0]["forecast"][i]["mean"]
        regions = sum(p["forecast"][i]["mean"] for p in adm1["places"])
        assert regions == pytest.approx(total, rel=1e-6), period


def test_a_repeat_is_answered_from_the_cache(served: Served, adm1: dict[str, Any]) -> None:
    hits = served.cache.hits
    started = time.perf_counter()
    again = served.get(ADM1, "analyst")
    assert time.perf_counter() - started < 2
    assert again.json() == adm1
    assert served.cache.hits > hits


def test_a_partner_sees_only_the_areas_in_scope(served: Served, adm1: dict[str, Any]) -> None:
    body = served.get(ADM1, "partner").json()
    assert [p["place"] for p in body["places"]] == ["XD04"]
    assert body["redacted"] and body["threshold"] == THRESHOLD
    assert served.get("/api/v1/forecasts/movements?level=adm0&horizon=3", "partner").json()["places"] == []
    assert served.get(ADM1 + "&place=XD01", "partner").status_code == 404  # outside the scope: as if unknown
    statuses = served.get("/api/v1/triggers", "partner").json()
    assert all({a["area"] for a in t["areas"]} == {"XD04"} for t in statuses["triggers"])


def test_place_narrows_to_that_area_and_what_lies_inside(served: Served, adm1: dict[str, Any]) -> None:
    assert [p["place"] for p in served.get(ADM1 + "&place=XD04", "analyst").json()["places"]] == ["XD04"]
    assert [p["place"] for p in served.get(ADM1 + "&place=xd", "analyst").json()["places"]] == REGIONS
    missing = served.get(ADM1 + "&place=XD99", "analyst")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_anonymous_users_get_small_values_blanked(served: Served, adm1: dict[str, Any]) -> None:
    body = served.get(ADM1).json()
    assert body["redacted"] and body["threshold"] == THRESHOLD and body["suppressed"] > 0
    full = {p["place"]: p for p in adm1["places"]}
    blanked = 0
    for place in body["places"]:
        original = full[place["place"]]
        for mine, theirs in zip(place["forecast"], original["forecast"], strict=True):
            for key in ("mean", "lo", "hi"):
                expected = None if theirs[key] < THRESHOLD else theirs[key]
                assert mine[key] == expected
                blanked += expected is None
        for mine, theirs in zip(place["history"], original["history"], strict=True):
            assert mine["value"] == (None if theirs["value"] < THRESHOLD else theirs["value"])
            blanked += mine["value"] is None
        change = place["change"]
        if change["observed"] is None or change["mean"] is None:
            assert change["absolute"] is None and change["percent"] is None
    assert blanked > 0


def test_redaction_blanks_small_values_and_the_changes_made_from_them() -> None:
    def place(code: str, observed: float, mean: float, lo: float, hi: float) -> PlaceForecast:
        return PlaceForecast(
            place=code,
            name=code,
            admin_level=1,
            parent_pcode="XD",
            forecast=[ForecastPoint(period="2026-11", mean=mean, lo=lo, hi=hi)],
            history=[HistoryPoint(period="2026-09", value=None), HistoryPoint(period="2026-10", value=observed)],
            change=ForecastChange(
                observed_period="2026-10",
                observed=observed,
                period="2026-11",
                mean=mean,
                absolute=mean - observed,
                percent=100 * (mean - observed) / observed,
            ),
        )

    body = Forecasts(
        kind="movements",
        level="adm1",
        origin="2026-10",
        horizon=1,
        interval=80,
        model="ensemble",
        periods=["2026-11"],
        places=[place("A", 4, 30, 8, 50), place("B", 40, 12, 6, 25), place("C", 100, 120, 90, 150)],
        redacted=False,
        threshold=None,
        suppressed=0,
    )
    out = redact_forecasts(body, 10)
    a, b, c = out.places
    assert a.history[-1].value is None and a.forecast[0].lo is None and a.forecast[0].mean == 30
    assert a.change.observed is None and a.change.absolute is None and a.change.percent is None
    assert (b.forecast[0].mean, b.forecast[0].lo, b.forecast[0].hi) == (12, None, 25)
    assert b.change.absolute == -28 and b.change.percent == pytest.approx(-70)
    assert c == body.places[2]
    assert out.redacted and out.threshold == 10
    assert out.suppressed == 6  # A: observed in history and change, lo, absolute, percent; B: lo
    assert body.places[0].history[-1].value == 4  # the cached original is untouched


def test_a_bad_origin_is_refused(served: Served) -> None:
    late = served.get("/api/v1/forecasts/movements?origin=2031-01", "analyst")
    assert late.status_code == 422
    assert late.json()["error"]["code"] == "forecast_error" and "2031-01" in late.json()["error"]["message"]
    early = served.get("/api/v1/forecasts/movements?origin=2023-12", "analyst")  # two months of history
    assert early.status_code == 422 and "history" in early.json()["error"]["message"]
    for bad in ("2026-13", "2026-1", "october"):
        response = served.get(f"/api/v1/forecasts/movements?origin={bad}", "analyst")
        assert response.status_code == 422, bad
        assert set(response.json()["error"]) == {"code", "message", "details"}
    assert served.get("/api/v1/forecasts/movements?horizon=13").status_code == 422
    assert served.get("/api/v1/forecasts/movements?interval=40").status_code == 422
    assert served.get("/api/v1/forecasts/refugees").status_code == 422


def test_triggers_of_the_demoland_file(served: Served) -> None:
    body = served.get("/api/v1/triggers", "analyst").json()
    assert body["configured"] and body["file"] == "triggers.yaml" and not body["redacted"]
    by_name = {t["name"]: t for t in body["triggers"]}
    assert list(by_name) == ["drought-rainfall-deficit", "conflict-flare-up", "forecast-arrivals-high"]
    for trig in body["triggers"]:
        assert trig["error"] is None and trig["as_of"] == "2026-10"
        assert [a["area"] for a in trig["areas"]] == REGIONS
        assert trig["description"] and trig["condition"] and trig["event"]
    # the drought ended in early 2026; conflict flares up in Dunmere over the last three months
    assert by_name["drought-rainfall-deficit"]["firing"] is False
    conflict = by_name["conflict-flare-up"]
    assert conflict["firing"] is True and [a["area"] for a in conflict["areas"] if a["fires"]] == ["XD04"]
    dunmere = next(a for a in conflict["areas"] if a["area"] == "XD04")
    assert dunmere["evidence"]["values"]["2026-10"] > 15 and dunmere["explanation"].endswith("-> yes")
    forecast = by_name["forecast-arrivals-high"]
    assert forecast["uses_forecasts"]
    assert all(0 <= a["evidence"]["probability"] <= 1 for a in forecast["areas"])
    assert forecast["firing"] is any(a["fires"] for a in forecast["areas"])


def test_trigger_evidence_is_redacted_for_anonymous_users(served: Served) -> None:
    body = served.get("/api/v1/triggers").json()
    assert body["redacted"] and body["threshold"] == THRESHOLD
    forecast = next(t for t in body["triggers"] if t["name"] == "forecast-arrivals-high")
    for area in forecast["areas"]:
        for key in ("mean", "lo", "hi", "threshold"):
            assert area["evidence"][key] is None or area["evidence"][key] >= THRESHOLD
    assert any(a["evidence"]["lo"] is None for a in forecast["areas"])
    rain = next(t for t in body["triggers"] if t["name"] == "drought-rainfall-deficit")
    assert all(a["evidence"]["values"] for a in rain["areas"])  # rainfall is not a count of people
    assert redact_evidence({"parts": [{"mean": 5.0, "lo": 1.0, "hi": 12.0}]}, 10) == {
        "parts": [{"mean": None, "lo": None, "hi": 12.0}]
    }


def test_an_as_of_month_is_tested_instead_of_the_latest(served: Served) -> None:
    body = served.get("/api/v1/triggers?as_of=2025-02", "analyst").json()
    drought = next(t for t in body["triggers"] if t["name"] == "drought-rainfall-deficit")
    assert drought["as_of"] == "2025-02" and drought["firing"] is True
    assert [a["area"] for a in drought["areas"] if a["fires"]] == ["XD02"]  # Belmoor, in its drought
    assert served.get("/api/v1/triggers?as_of=02-2025").status_code == 422


def test_without_a_triggers_file_the_list_is_empty(served: Served) -> None:
    with served.triggers_file(""):
        response = served.get("/api/v1/triggers")
    assert response.status_code == 200
    assert response.json() == {
        "configured": False,
        "file": None,
        "triggers": [],
        "redacted": True,
        "threshold": THRESHOLD,
    }


def test_a_wrong_triggers_file_stops_the_app_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "triggers.yaml"
    bad.write_text("triggers:\n  - name: dry\n    areas: XD01\n    when: {driver: {driver: rainfall}}\n")
    with pytest.raises(TriggerError, match="dry"):
        create_app(str(tmp_path / "never-opened"), triggers_file=str(bad))
    with pytest.raises(TriggerError, match="cannot read"):
        create_app(str(tmp_path / "never-opened"), triggers_file=str(tmp_path / "missing.yaml"))
    assert not (tmp_path / "never-opened").exists()


def test_other_requests_are_answered_while_a_forecast_is_computed(served: Served) -> None:
    """The store is taken per query, not for the whole computation; the same forecast asked twice at once is
    computed once."""
    url = "/api/v1/forecasts/movements?level=adm2&horizon=1"
    answers: list[Any] = []
    misses = served.cache.misses
    threads = [threading.Thread(target=lambda: answers.append(served.get(url, "analyst"))) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    started = time.perf_counter()
    places = served.get("/api/v1/places?level=1&geometry=false")
    waited = time.perf_counter() - started
    still_computing = any(thread.is_alive() for thread in threads)
    for thread in threads:
        thread.join()
    assert places.status_code == 200 and len(places.json()["features"]) == 6
    assert still_computing and waited < 1.0
    assert [a.status_code for a in answers] == [200, 200] and answers[0].json() == answers[1].json()
    assert len(answers[0].json()["places"]) == 30
    assert served.cache.misses == misses + 2  # the forecast table and the answer built on it, once each


def test_a_trigger_that_cannot_be_evaluated_says_why(served: Served, tmp_path: Path) -> None:
    path = tmp_path / "some.yaml"
    path.write_text(
        "triggers:\n"
        "  - name: unknown-indicator\n"
        "    areas: {level: adm1}\n"
        "    when: {driver: {driver: rainfall, indicator: spi, above: 1}}\n"
        "    event: {kind: movements, above: 100, lead: 3}\n"
        "  - name: wet\n"
        "    areas: [XD01, XD02]\n"
        "    when: {driver: {driver: rainfall, indicator: rainfall_mm, above: 0}}\n"
        "    event: {kind: movements, above: 100, lead: 3}\n"
    )
    with served.triggers_file(str(path)):
        body = served.get("/api/v1/triggers", "analyst").json()
        path.write_text("triggers: []\n")  # changed under the running server: refused with the standard error body
        broken_file = served.get("/api/v1/triggers", "analyst")
    assert body["file"] == "some.yaml"
    broken, wet = body["triggers"]
    assert broken["firing"] is None and broken["areas"] == [] and "rainfall/spi" in broken["error"]
    assert wet["error"] is None and wet["firing"] is True and [a["area"] for a in wet["areas"]] == ["XD01", "XD02"]
    assert broken_file.status_code == 500 and broken_file.json()["error"]["code"] == "triggers_file"
