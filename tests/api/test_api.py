"""The HTTP API on both engines: who gets what, redaction, uploads, rollbacks, audit, errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import PRINCIPALS, Api

BAD_MOVEMENTS = """Date,Region,District,Reason,People
#date+reported,#adm1+code,#adm2+code,#cause+type,#affected+idps
2024-04-30,XT01,XT0101,conflict,40
2024-04-30,XT01,XT0101,conflict,lots
2024-04-30,XT02,XT9999,drought,12
"""

GOOD_MOVEMENTS = """Date,Region,District,Reason,People
#date+reported,#adm1+code,#adm2+code,#cause+type,#affected+idps
2024-05-31,XT01,XT0102,flood,60
"""

READERS = {"analyst", "data_manager", "dpo", "admin"}
WRITERS = {"data_manager", "admin"}


def _everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(PRINCIPALS, status)


def _only(allowed: set[str], status: int, otherwise: int = 403) -> dict[str, int]:
    return {who: status if who in allowed else otherwise for who in PRINCIPALS}


def _error_shape(body: dict[str, Any], code: str) -> None:
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body


def _upload(api: Api, who: str, text: str, name: str = "new.csv", **form: Any) -> Any:
    files = {"file": (name, text.encode(), "text/csv")}
    return api.post("/api/v1/batches", who, files=files, data={"kind": "movements", **form})


def test_every_endpoint_for_every_role(api: Api) -> None:
    b = api.batch_id
    table: list[tuple[str, str, dict[str, int]]] = [
        ("GET", "/api/v1/health", _everyone(200)),
        ("GET", "/api/v1/ready", _everyone(200)),
        ("GET", "/api/v1/places", _everyone(200)),
        ("GET", "/api/v1/totals/movements?by=adm1", _everyone(200)),
        ("GET", "/api/v1/totals/displacement", _everyone(200)),
        ("GET", "/api/v1/alerts", _everyone(200)),
        ("GET", "/api/v1/batches", _only(READERS, 200)),
        ("GET", f"/api/v1/batches/{b}", _only(READERS, 200)),
        ("GET", f"/api/v1/batches/{b}/rejections", _only(READERS, 200)),
        ("GET", "/api/v1/exports/movements.csv", _only(READERS, 200)),
        ("GET", "/api/v1/exports/movements.hxl.csv", _only(READERS, 200)),
        ("GET", "/api/v1/exports/package.zip", _only(READERS, 200)),
        ("POST", "/api/v1/batches", _only(WRITERS, 201)),
        # authorised callers get past the policy and find no such batch
        ("POST", "/api/v1/batches/Bnope/rollback", _only(WRITERS, 404)),
    ]
    wrong = []
    for method, url, expected in table:
        for who, status in expected.items():
            if method == "POST" and url == "/api/v1/batches":
                got = _upload(api, who, GOOD_MOVEMENTS).status_code
            elif method == "POST":
                got = api.post(url, who).status_code
            else:
                got = api.get(url, who).status_code
            if got != status:
                wrong.append(f"{who} {method} {url}: {got}, expected {status}")
    assert not wrong, "\n".join(wrong)


def test_anonymous_gets_redacted_totals(api: Api) -> None:
    body = api.get("/api/v1/totals/movements?by=month&by=adm2").json()
    assert body["redacted"] is True
    assert body["threshold"] == 10
    cells = {(r["month"], r["adm2"]): r["count"] for r in body["rows"]}
    assert cells[("2024-02", "XT0202")] is None  # 7 < 10
    assert cells[("2024-03", "XT0202")] == 11  # 11 >= 10 stays
    assert cells[("2024-01", "XT0101")] == 100
    assert body["suppressed"] == 1
    assert sum(r["count"] is None for r in body["rows"]) == 1


@pytest.mark.parametrize("who", ["viewer", "partner"])
def test_viewers_and_partners_are_redacted_too(api: Api, who: str) -> None:
    body = api.get("/api/v1/totals/movements?by=month&by=adm2", who).json()
    assert body["redacted"] is True
    assert all(r["count"] is None or r["count"] >= 10 for r in body["rows"])


def test_analyst_gets_exact_totals(api: Api) -> None:
    body = api.get("/api/v1/totals/movements?by=month&by=adm2", "analyst").json()
    assert body["redacted"] is False
    assert body["threshold"] is None
    assert body["suppressed"] == 0
    cells = {(r["month"], r["adm2"]): r["count"] for r in body["rows"]}
    assert cells[("2024-02", "XT0202")] == 7


def test_partner_never_sees_outside_its_scope(api: Api) -> None:
    places = api.get("/api/v1/places", "partner").json()
    codes = {f["properties"]["pcode"] for f in places["features"]}
    assert codes == {"XT01", "XT0101", "XT0102"}
    everyone = {f["properties"]["pcode"] for f in api.get("/api/v1/places").json()["features"]}
    assert {"XT02", "XT0201", "XT0202"} <= everyone

    rows = api.get("/api/v1/totals/movements?by=adm2", "partner").json()["rows"]
    assert {r["adm2"] for r in rows} == {"XT0101", "XT0102"}
    assert api.get("/api/v1/totals/movements?by=adm1&place=XT02", "partner").json()["rows"] == []
    total = api.get("/api/v1/totals/movements", "partner").json()["rows"]
    assert total == [{"count": 270, "suppressed": False}]  # 100 + 50 + 120, nothing from XT02


def test_places_filters_and_geojson(api: Api) -> None:
    body = api.get("/api/v1/places?level=2&parent=XT02&geometry=false").json()
    assert body["type"] == "FeatureCollection"
    assert [f["properties"]["pcode"] for f in body["features"]] == ["XT0201", "XT0202"]
    feature = body["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"] is None
    assert feature["properties"] == {
        "pcode": "XT0201",
        "name": "Ceel Barde",
        "admin_level": 2,
        "parent_pcode": "XT02",
    }


def test_bad_token_is_401_with_error_shape(api: Api) -> None:
    res = api.client.get("/api/v1/totals/movements", headers={"Authorization": "Bearer otm_not-a-token"})
    assert res.status_code == 401
    assert res.headers["www-authenticate"] == "Bearer"
    _error_shape(res.json(), "unauthorized")
    res = api.client.get("/api/v1/places", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert res.status_code == 401
    _error_shape(res.json(), "unauthorized")


def test_forbidden_has_error_shape(api: Api) -> None:
    res = _upload(api, "viewer", GOOD_MOVEMENTS)
    assert res.status_code == 403
    _error_shape(res.json(), "forbidden")
    assert "data_manager" in res.json()["error"]["message"]
    assert api.fetch("SELECT count(*) FROM batches WHERE kind = 'movements'")[0][0] == 1


def test_data_manager_uploads_and_sees_rejections(api: Api) -> None:
    res = _upload(api, "data_manager", BAD_MOVEMENTS, name="april.csv")
    assert res.status_code == 201, res.text
    report = res.json()
    assert report["status"] == "loaded"
    assert report["source_file"] == "upload: april.csv"  # the user's name for it, not a temporary path
    assert {r["file"] for r in report["rejections"]} == {"upload: april.csv"}
    assert report["rows_read"] == 3
    assert report["rows_rejected"] == 2
    assert report["rows_loaded"] == 1
    rejected_rows = {r["row"] for r in report["rejections"]}
    assert len(rejected_rows) == 2
    batch = report["batch_id"]
    assert api.audit_actions().count(("data_manager", "upload", batch)) == 1

    # the rejected rows, paged
    page = api.get(f"/api/v1/batches/{batch}/rejections?limit=1", "analyst").json()
    assert page["total_rows"] >= 2
    assert len(page["rows"]) == 1
    rest = api.get(f"/api/v1/batches/{batch}/rejections?limit=100&offset=1", "analyst").json()
    assert len(rest["rows"]) == page["total_rows"] - 1
    assert page["rows"][0] not in rest["rows"]
    assert ("analyst", "batch.read", batch) in api.audit_actions()

    listed = {b["batch_id"]: b for b in api.get("/api/v1/batches", "dpo").json()}
    assert listed[batch]["rows_rejected"] == 2
    detail = api.get(f"/api/v1/batches/{batch}", "dpo").json()
    assert detail["report"]["rows_rejected"] == 2
    assert ("dpo", "batch.read", batch) in api.audit_actions()


def test_strict_upload_is_refused_with_its_report(api: Api) -> None:
    res = _upload(api, "admin", BAD_MOVEMENTS, name="strict.csv", strict="true")
    assert res.status_code == 422
    body = res.json()
    _error_shape(body, "strict_refusal")
    assert body["error"]["details"]["status"] == "refused"
    assert body["error"]["details"]["rows_rejected"] == 2
    assert api.fetch("SELECT count(*) FROM batches WHERE kind = 'movements'")[0][0] == 1
    uploads = [a for a in api.audit_actions() if a[1] == "upload" and a[0] == "admin"]
    assert uploads == [("admin", "upload", body["error"]["details"]["batch_id"])]


def test_unreadable_upload_is_400(api: Api) -> None:
    files = {"file": ("notes.csv", b"a,b\n1,2\n", "text/csv")}
    res = api.post("/api/v1/batches", "data_manager", files=files)  # no HXL row, no mapping
    assert res.status_code == 400
    _error_shape(res.json(), "bad_request")


def test_rollback_for_data_manager_only(api: Api) -> None:
    url = f"/api/v1/batches/{api.batch_id}/rollback"
    for who in ("anonymous", "viewer", "analyst", "dpo", "partner"):
        assert api.post(url, who).status_code == 403, who
    before = api.get("/api/v1/totals/movements", "analyst").json()["rows"]
    assert before == [{"count": 318}]
    res = api.post(url, "data_manager")
    assert res.status_code == 200, res.text
    assert res.json()["removed"] == {"movements": 6}
    assert res.json()["total"] == 6
    after = api.get("/api/v1/totals/movements", "analyst").json()["rows"]
    assert after in ([], [{"count": None}], [{"count": 0}])
    assert api.audit_actions().count(("data_manager", "rollback", api.batch_id)) == 1
    again = api.post(url, "data_manager")
    assert again.status_code == 409
    _error_shape(again.json(), "conflict")


@pytest.mark.parametrize(("suffix", "hxl"), [(".csv", False), (".hxl.csv", True)])
def test_exports_stream_records_and_are_audited(api: Api, suffix: str, hxl: bool) -> None:
    res = api.get(f"/api/v1/exports/movements{suffix}", "analyst")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/csv")
    lines = res.text.strip().splitlines()
    assert lines[0].startswith("batch_id,row_number")
    assert lines[1].startswith("#") == hxl
    assert len(lines) == 6 + 1 + int(hxl)
    assert api.audit_actions().count(("analyst", "export", "movements")) == 1  # once, by the export itself


def test_frictionless_package_is_a_zip_with_a_valid_package(api: Api) -> None:
    import io
    import json
    import zipfile

    res = api.get("/api/v1/exports/package.zip", "analyst")
    assert res.status_code == 200 and res.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(res.content))
    package = json.loads(archive.read("datapackage.json"))
    names = {r["name"] for r in package["resources"]}
    assert {"places", "movements"} <= names
    for resource in package["resources"]:
        assert resource["path"] in archive.namelist()
    assert ("analyst", "export", "frictionless") in api.audit_actions()
    assert api.get("/api/v1/exports/package.zip", "partner").status_code == 403


def test_export_of_unknown_kind_is_404(api: Api) -> None:
    res = api.get("/api/v1/exports/nothing.csv", "analyst")
    assert res.status_code == 404
    _error_shape(res.json(), "not_found")


def test_totals_pagination(api: Api) -> None:
    url = "/api/v1/totals/movements?by=month&by=adm2"
    whole = api.get(url, "analyst").json()
    assert whole["total_rows"] == 6
    page = api.get(url + "&limit=2&offset=3", "analyst").json()
    assert page["total_rows"] == 6
    assert page["limit"] == 2
    assert page["offset"] == 3
    assert page["rows"] == whole["rows"][3:5]
    assert api.get(url + "&offset=10", "analyst").json()["rows"] == []


def test_totals_filters(api: Api) -> None:
    body = api.get("/api/v1/totals/movements?by=reason&from=2024-02-01&reason=conflict&reason=flood", "analyst").json()
    assert {r["reason"]: r["count"] for r in body["rows"]} == {"conflict": 131, "flood": 7}


def test_404_and_422_have_the_error_shape(api: Api) -> None:
    res = api.get("/api/v1/batches/Bnope", "analyst")
    assert res.status_code == 404
    _error_shape(res.json(), "not_found")
    res = api.get("/api/v1/no-such-endpoint")
    assert res.status_code == 404
    _error_shape(res.json(), "not_found")
    res = api.get("/api/v1/totals/movements?limit=0")
    assert res.status_code == 422
    _error_shape(res.json(), "invalid_request")
    assert res.json()["error"]["details"][0]["location"] == ["query", "limit"]
    res = api.get("/api/v1/totals/sites")
    assert res.status_code == 422
    _error_shape(res.json(), "invalid_request")
    res = api.get("/api/v1/totals/movements?by=colour")  # not a grouping the schema lists
    assert res.status_code == 422
    _error_shape(res.json(), "invalid_request")
    res = api.get("/api/v1/totals/movements?by=month&by=year")  # each valid, not together
    assert res.status_code == 400
    _error_shape(res.json(), "bad_request")


def test_ready_and_health(api: Api) -> None:
    ready = api.get("/api/v1/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["schema_version"] >= 2
    assert api.get("/api/v1/health").json()["status"] == "ok"


def test_alerts_are_a_list(api: Api) -> None:
    res = api.get("/api/v1/alerts?kind=movements&level=adm2")
    assert res.status_code == 200
    assert res.json() == []  # three months of history are too few for an alert
    assert api.get("/api/v1/alerts?period=May").status_code == 422
