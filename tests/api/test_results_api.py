"""The results-framework endpoints over Demoland with its framework extension (examples/demoland/results.yaml), on
both engines: the framework tree, the indicators' definitions, progress reports (statuses, a partner's place
scope, redaction of small counts for anonymous users and partners, errors) and the XLSX and HTML downloads.

One app and store serve the whole module (loading Demoland takes seconds); the app's result cache answers the
repeats.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onthemove.access.users import add_user, new_token
from onthemove.account import report as report_module
from onthemove.account.framework import FrameworkError
from onthemove.api import create_app
from onthemove.api.results_routes import load_results_framework
from onthemove.demo import load_demo
from onthemove.store import open_store
from tests.conftest import ENGINES, ROOT, engine_location

pytestmark = pytest.mark.slow

RESULTS = ROOT / "examples" / "demoland" / "results.yaml"
# high enough that some of Demoland's regional figures fall under it: the outputs' smallest regions (XD05 reached
# about 5,000 people with NFI kits in 2026) and the 150 sites assessed
THRESHOLD = 6000
REGIONS = ["XD01", "XD02", "XD03", "XD04", "XD05", "XD06"]
DEMOLAND = {"XDL-OUT-1-NFI", "XDL-OUT-2-WASH", "XDL-STO-1-REACHED", "O1.4-DISP-NEW", "O1.1-WASH-SEVERE"}
STATUSES = {"on track", "at risk", "off track", "no target", "no data"}
REPORT = "/api/v1/results/report?period=2026"


@dataclass
class Served:
    client: TestClient
    tokens: dict[str, str]
    location: str

    def get(self, url: str, who: str = "anonymous") -> Any:
        headers = {} if who == "anonymous" else {"Authorization": f"Bearer {self.tokens[who]}"}
        return self.client.get(url, headers=headers)

    def json(self, url: str, who: str = "anonymous") -> dict[str, Any]:
        response = self.get(url, who)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    @property
    def cache(self) -> Any:
        return self.client.app.state.store_context.cache  # type: ignore[attr-defined]


@pytest.fixture(scope="module", params=ENGINES)
def location(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from engine_location(request, tmp_path_factory, "results")


@pytest.fixture(scope="module")
def served(location: str) -> Iterator[Served]:
    tokens = {}
    with open_store(location) as store:
        load_demo(store)
        add_user(store, "analyst", "analyst")
        tokens["analyst"] = new_token(store, "analyst")
        add_user(store, "partner", "viewer", scope="XD04")
        tokens["partner"] = new_token(store, "partner")
        add_user(store, "partner2", "viewer", scope="XD04,XD05")
        tokens["partner2"] = new_token(store, "partner2")
    app = create_app(location, suppression_threshold=THRESHOLD, results_framework=str(RESULTS))
    with TestClient(app) as client:
        yield Served(client, tokens, location)


@pytest.fixture(scope="module")
def analyst_2026(served: Served) -> dict[str, Any]:
    return served.json(REPORT, "analyst")


def _results(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["indicator"]: i for s in body["sections"] for i in s["indicators"]}


def _breakdown(result: dict[str, Any], dim: str) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in result["disaggregation"][dim]}


# --- the framework ---------------------------------------------------------------------------------------------


def test_the_framework_lists_the_strategic_plan_and_demoland_s_chain(served: Served) -> None:
    fw = served.json("/api/v1/results/framework")
    top = [n for n in fw["nodes"] if n["parent"] is None]
    kinds = [n["kind"] for n in top]
    assert (kinds.count("objective"), kinds.count("enabler"), kinds.count("cross_cutting")) == (3, 7, 4)
    assert len(top) == 14 and all(n["depth"] == 0 for n in top)
    assert fw["summary"]["objective"] == 3 and fw["summary"]["enabler"] == 7 and fw["summary"]["cross_cutting"] == 4
    assert fw["sources"] == ["iom_srf_2024_2028.yaml", "results.yaml"]
    nodes = {n["id"]: n for n in fw["nodes"]}
    seen: set[str] = set()
    for n in fw["nodes"]:  # a parent comes before its children, and each names the other
        if n["parent"] is not None:
            assert n["parent"] in seen and n["id"] in nodes[n["parent"]]["children"]
            assert n["depth"] == nodes[n["parent"]]["depth"] + 1
        seen.add(n["id"])
    assert nodes["XDL-PRJ-1"]["kind"] == "project" and nodes["XDL-PRJ-1"]["parent"] == "O1.1"
    assert nodes["XDL-OUT-1"]["indicators"] == ["XDL-OUT-1-NFI"] and nodes["XDL-OUT-1"]["depth"] == 4
    assert nodes["XDL-OUT-1"]["source"] == "results.yaml"
    assert "O1.4-DISP-NEW" in nodes["O1.4"]["indicators"]
    sdg = {g["id"] for g in fw["sdg"]}
    assert "SDG10.7" in sdg and all(set(n["sdg"]) <= sdg for n in fw["nodes"])
    assert any(n["sdg"] for n in top)


def test_indicators_say_how_each_value_is_found(served: Served) -> None:
    body = served.json("/api/v1/results/indicators")
    found = {i["code"]: i for i in body["indicators"]}
    assert set(found) >= DEMOLAND
    assert found["XDL-STO-1-REACHED"]["source"] == "children"
    assert found["XDL-STO-1-REACHED"]["children"] == ["XDL-OUT-1-NFI", "XDL-OUT-2-WASH"]
    nfi = found["XDL-OUT-1-NFI"]
    assert nfi["source"] == "reported" and nfi["disaggregation"] == ["place", "sex"]
    disp = found["O1.4-DISP-NEW"]  # Demoland's version replaces the default's
    assert disp["source"] == "computed" and disp["numerator"]["table"] == "movements"
    assert disp["targets"] == [{"period": "2026", "value": 120000.0, "place": None}]
    assert disp["baseline"] == {"period": "2025", "value": None, "place": None} and disp["file"] == "results.yaml"
    part = served.json("/api/v1/results/indicators?part=XDL-PRJ-1")
    assert {i["code"] for i in part["indicators"]} == {"XDL-OUT-1-NFI", "XDL-OUT-2-WASH", "XDL-STO-1-REACHED"}
    missing = served.get("/api/v1/results/indicators?part=NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.json()["error"]["message"]


# --- reports ---------------------------------------------------------------------------------------------------


def test_the_2026_report_has_demoland_s_indicators_with_statuses(analyst_2026: dict[str, Any]) -> None:
    body = analyst_2026
    assert (body["period"], body["period_start"], body["period_end"]) == ("2026", "2026-01-01", "2026-12-31")
    assert body["place"] is None and body["part"] is None and body["framework"] == "iom-srf-2024-2028"
    assert not body["redacted"] and body["threshold"] is None and body["suppressed"] == 0
    results = _results(body)
    assert set(results) >= DEMOLAND
    assert all(r["status"] in STATUSES and r["reason"] for r in results.values())
    assert sum(body["status_counts"].values()) == len(results)
    for status in STATUSES:
        assert body["status_counts"][status] == sum(r["status"] == status for r in results.values())
    nfi, wash, reached = results["XDL-OUT-1-NFI"], results["XDL-OUT-2-WASH"], results["XDL-STO-1-REACHED"]
    assert reached["actual"]["source"] == "children"
    assert reached["actual"]["value"] == pytest.approx(nfi["actual"]["value"] + wash["actual"]["value"])
    assert reached["target"] == {"value": 220000.0, "period": "2026", "source": "framework", "suppressed": False}
    assert nfi["status"] == "off track" and nfi["actual"]["source"] == "reported"
    assert set(_breakdown(nfi, "place")) == set(REGIONS)
    assert sum(r["value"] for r in nfi["disaggregation"]["place"]) == pytest.approx(nfi["actual"]["value"])
    assert set(_breakdown(nfi, "sex")) == {"f", "m"}
    assert sum(r["value"] for r in nfi["disaggregation"]["sex"]) == pytest.approx(nfi["actual"]["value"])
    assert nfi["months"] == []  # reported per quarter, not computed month by month
    disp = results["O1.4-DISP-NEW"]
    assert disp["target"]["value"] == 120000 and disp["baseline"]["source"] == "computed"
    assert [m["month"] for m in disp["months"]] == [f"2026-{m:02d}" for m in range(1, 11)]  # data end in October
    assert sum(m["value"] for m in disp["months"]) == pytest.approx(disp["actual"]["value"])
    assert set(_breakdown(disp, "reason")) >= {"conflict", "drought"}
    sections = {s["node"]: s for s in body["sections"]}
    assert [n["id"] for n in sections["XDL-OUT-1"]["path"]] == ["O1", "O1.1", "XDL-PRJ-1", "XDL-STO-1", "XDL-OUT-1"]


def test_the_report_is_the_cli_s(served: Served, analyst_2026: dict[str, Any]) -> None:
    fw = load_results_framework(str(RESULTS))
    with served.client.app.state.store_context.store() as store:  # type: ignore[attr-defined]
        built = report_module.build(store, fw, "2026").as_dict()
    ours = _results(analyst_2026)
    for code, theirs in _results(built).items():
        assert ours[code]["status"] == theirs["status"] and ours[code]["reason"] == theirs["reason"]
        for fig in ("actual", "baseline", "target"):
            assert (ours[code][fig] or {}).get("value") == (theirs[fig] or {}).get("value"), (code, fig)


def test_a_part_of_the_framework(served: Served) -> None:
    body = served.json(REPORT + "&part=XDL-PRJ-1", "analyst")
    assert body["part"] == "XDL-PRJ-1"
    assert set(_results(body)) == {"XDL-OUT-1-NFI", "XDL-OUT-2-WASH", "XDL-STO-1-REACHED"}
    quarter = served.json("/api/v1/results/report?period=2026q3&part=O1.4", "analyst")
    assert quarter["period"] == "2026-Q3" and set(_results(quarter)) == {"O1.4-DISP-NEW"}
    assert [m["month"] for m in _results(quarter)["O1.4-DISP-NEW"]["months"]] == ["2026-07", "2026-08", "2026-09"]


def test_a_partner_gets_their_region_only(served: Served, analyst_2026: dict[str, Any]) -> None:
    own = served.json(REPORT, "partner")
    assert own["place"] == "XD04" and own["place_name"] and own["redacted"]
    results = _results(own)
    inside = served.json(REPORT + "&place=XD04", "analyst")
    for code, theirs in _results(inside).items():  # the region's figures, as an analyst sees them for it
        assert results[code]["status"] == theirs["status"]
        if not results[code]["actual"] or results[code]["actual"]["suppressed"]:
            continue
        assert results[code]["actual"]["value"] == theirs["actual"]["value"]
    for result in results.values():
        for row in result["disaggregation"].get("place", []):
            assert row["key"].startswith("XD04"), row  # the districts of Dunmere region
    nfi = results["XDL-OUT-1-NFI"]
    assert nfi["actual"]["value"] == _breakdown(_results(analyst_2026)["XDL-OUT-1-NFI"], "place")["XD04"]["value"]
    # a place outside the scope is the same answer as a place that does not exist
    outside, missing = served.get(REPORT + "&place=XD01", "partner"), served.get(REPORT + "&place=XD99", "partner")
    assert outside.status_code == missing.status_code == 404
    assert outside.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
    assert served.get(REPORT + "&place=XD", "partner").status_code == 404
    for suffix in (".xlsx", ".html"):
        assert served.get(f"/api/v1/results/report{suffix}?period=2026&place=XD01", "partner").status_code == 404
    district = served.json(REPORT + "&place=xd0401", "partner")
    assert district["place"] == "XD0401"
    # a scope of several areas: one at a time
    several = served.get(REPORT, "partner2")
    assert several.status_code == 400 and "XD04" in several.json()["error"]["message"]
    assert served.json(REPORT + "&place=XD05", "partner2")["place"] == "XD05"


def test_anonymous_users_get_small_counts_blanked(served: Served, analyst_2026: dict[str, Any]) -> None:
    anon = served.json(REPORT)
    assert anon["redacted"] and anon["threshold"] == THRESHOLD
    full, shown = _results(analyst_2026), _results(anon)
    assert set(full) == set(shown)
    blanked = 0
    for code, result in shown.items():
        assert result["status"] == full[code]["status"]  # statuses are kept
        for dim, rows in result["disaggregation"].items():
            before = _breakdown(full[code], dim)
            for row in rows:
                assert row["suppressed"] == (row["value"] is None)
                blanked += row["suppressed"]
                if row["suppressed"]:
                    continue
                assert row["value"] == before[row["key"]]["value"]
                if result["measure"] == "unit":
                    assert row["value"] >= THRESHOLD
        blanked += sum(m["suppressed"] for m in result["months"])
        blanked += sum(bool(result[f] and result[f]["suppressed"]) for f in ("actual", "baseline"))
    assert anon["suppressed"] == blanked > 0
    # XD05 reached under 6,000 people with NFI kits: blanked, and the next smallest region too, else the total
    # minus the five others would give it back
    nfi = _breakdown(shown["XDL-OUT-1-NFI"], "place")
    assert _breakdown(full["XDL-OUT-1-NFI"], "place")["XD05"]["value"] < THRESHOLD
    assert nfi["XD05"] == {"key": "XD05", "value": None, "suppressed": True}
    assert sum(r["suppressed"] for r in nfi.values()) == 2
    assert all(r["value"] is not None for r in shown["XDL-OUT-1-NFI"]["disaggregation"]["sex"])
    # 150 sites assessed: a count under the threshold, blanked, and the reason no longer quotes it
    sites = shown["E4-SITES-ASSESSED"]
    assert full["E4-SITES-ASSESSED"]["actual"]["value"] == 150
    assert sites["actual"]["value"] is None and sites["actual"]["suppressed"]
    assert "150" not in sites["reason"] and str(THRESHOLD) in sites["reason"] and sites["progress"] is None
    assert sites["target"]["value"] == 150  # targets are stated, not measured
    # shares are not counts: kept
    wash = shown["O1.1-WASH-SEVERE"]
    assert wash["measure"] == "percentage" and not any(r["suppressed"] for r in wash["disaggregation"]["place"])


def test_bad_requests(served: Served) -> None:
    for url, status, needle in (
        ("/api/v1/results/report?period=20x6", 400, "period"),
        ("/api/v1/results/report?period=2026-13", 400, "month 13"),
        ("/api/v1/results/report?period=2026..2025", 400, "ends before it starts"),
        ("/api/v1/results/report.xlsx?period=soon", 400, "period"),
        (REPORT + "&part=O9", 404, "O9"),
        (REPORT + "&place=NOWHERE", 404, "NOWHERE"),
        ("/api/v1/results/report.html?period=2026&part=O9", 404, "O9"),
    ):
        response = served.get(url, "analyst")
        assert response.status_code == status, (url, response.text)
        error = response.json()["error"]
        assert needle in error["message"] and error["code"] in ("bad_request", "not_found")
    assert served.get("/api/v1/results/report").status_code == 422  # the period is required


def test_repeats_come_from_the_cache(served: Served) -> None:
    served.json(REPORT + "&part=E4", "analyst")
    hits = served.cache.hits
    served.json(REPORT + "&part=E4", "analyst")
    served.json(REPORT + "&part=E4")  # the same report, redacted per answer
    assert served.cache.hits == hits + 2


# --- downloads -------------------------------------------------------------------------------------------------


def test_the_xlsx_download_opens_with_a_summary_sheet(served: Served) -> None:
    from openpyxl import load_workbook

    response = served.get("/api/v1/results/report.xlsx?period=2026", "analyst")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert response.headers["content-disposition"] == 'attachment; filename="results-2026.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[0] == "Summary" and {"Disaggregation", "Months", "Framework"} <= set(book.sheetnames)
    rows = [r for r in book["Summary"].iter_rows(values_only=True) if r and r[2]]
    codes = {r[2] for r in rows[1:]}
    assert codes >= DEMOLAND
    anon = load_workbook(io.BytesIO(served.get("/api/v1/results/report.xlsx?period=2026").content))
    assert f"counts under {THRESHOLD}" in str(anon["Summary"]["A1"].value)
    cells = {(r[0], r[1], r[2]): r[3] for r in anon["Disaggregation"].iter_rows(min_row=2, values_only=True)}
    assert cells[("XDL-OUT-1-NFI", "place", "XD05")] is None and cells[("XDL-OUT-1-NFI", "place", "XD04")] > 0


def test_the_html_download(served: Served) -> None:
    response = served.get("/api/v1/results/report.html?period=2026-Q3&place=XD04&part=O1", "analyst")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["content-disposition"] == 'attachment; filename="results-2026-Q3-XD04-O1.html"'
    assert "Progress report" in response.text and "O1.4-DISP-NEW" in response.text
    anon = served.get("/api/v1/results/report.html?period=2026").text
    assert f"counts under {THRESHOLD} are not shown" in anon


def test_a_wrong_framework_file_stops_the_app(tmp_path: Path) -> None:
    with pytest.raises(FrameworkError, match="no such framework file"):
        create_app(str(tmp_path / "store"), results_framework=str(tmp_path / "missing.yaml"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("nodes:\n  - {id: X1, kind: output, title: an output with no parent}\n", encoding="utf-8")
    with pytest.raises(FrameworkError, match=r"broken\.yaml"):
        create_app(str(tmp_path / "store"), results_framework=f"{RESULTS}, {broken}")
