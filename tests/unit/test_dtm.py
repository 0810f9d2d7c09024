"""DTM connector, tested on recorded (synthetic) API responses served by httpx.MockTransport."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from onthemove.ingest.dtm import (
    DTM_MAPPING,
    FIELDS,
    KEY_HEADER,
    DTMClient,
    DTMError,
    dtm_mapping,
    read_dtm_json,
    records_to_raw,
)
from onthemove.ingest.raw import ReadError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dtm"
ROUTES = {
    "/v3/displacement/admin2": "admin2_ssd.json",
    "/v3/displacement/admin1": "admin1_ssd.json",
    "/v3/displacement/country-list": "country_list.json",
    "/v3/displacement/operation-list": "operation_list.json",
}


def recorded(seen: list[httpx.Request], routes: dict[str, str] = ROUTES, status: int = 200) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        name = routes.get(request.url.path)
        if name is None:
            return httpx.Response(404, json={"isSuccess": False, "errorMessages": ["no route"], "statusCode": 404})
        return httpx.Response(status, content=(FIXTURES / name).read_bytes())

    return httpx.MockTransport(handler)


@pytest.fixture
def client_and_requests() -> tuple[DTMClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    return DTMClient(key="test-key", transport=recorded(seen)), seen


def test_fetch_sends_key_and_query(client_and_requests: tuple[DTMClient, list[httpx.Request]]) -> None:
    client, seen = client_and_requests
    records = client.fetch("admin2", Admin0Pcode="SSD", FromReportingDate=dt.date(2023, 1, 1), FromRoundNumber=13)
    assert len(records) == 6
    request = seen[0]
    assert request.headers[KEY_HEADER] == "test-key"
    assert str(request.url).startswith("https://dtmapi.iom.int/v3/displacement/admin2?")
    assert dict(request.url.params) == {
        "Admin0Pcode": "SSD",
        "FromReportingDate": "2023-01-01",
        "FromRoundNumber": "13",
    }


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONTHEMOVE_DTM_KEY", "env-key")
    seen: list[httpx.Request] = []
    DTMClient(transport=recorded(seen)).fetch(CountryName="South Sudan", Admin1Pcode="SS01")
    assert seen[0].headers[KEY_HEADER] == "env-key"
    assert seen[0].url.params["CountryName"] == "South Sudan"


def test_no_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONTHEMOVE_DTM_KEY", raising=False)
    with pytest.raises(ValueError, match="ONTHEMOVE_DTM_KEY"):
        DTMClient()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.fetch("admin2"), "CountryName=... or Admin0Pcode"),
        (lambda c: c.fetch("admin2", Admin1Pcode="SS01"), "CountryName=... or Admin0Pcode"),
        (lambda c: c.fetch("admin3", Admin0Pcode="SSD"), "level must be one of"),
        (lambda c: c.fetch(Admin0Pcode="SSD", Country="x"), "unknown DTM parameter"),
        (lambda c: c.fetch(Admin0Pcode="SSD", FromReportingDate="31/03/2023"), "YYYY-MM-DD"),
    ],
)
def test_bad_parameters_fail_before_any_request(
    client_and_requests: tuple[DTMClient, list[httpx.Request]], call: Callable[[DTMClient], object], message: str
) -> None:
    client, seen = client_and_requests
    with pytest.raises(ValueError, match=message):
        call(client)
    assert seen == []


def test_error_envelope_raises_with_api_messages() -> None:
    seen: list[httpx.Request] = []
    routes = {"/v3/displacement/admin2": "error_no_data.json"}
    client = DTMClient(key="k", transport=recorded(seen, routes))  # HTTP 200, isSuccess false
    with pytest.raises(DTMError, match="No data found for Admin0Pcode 'XXX'") as err:
        client.fetch(Admin0Pcode="XXX")
    assert err.value.status_code == 404
    assert err.value.messages == ["No data found for Admin0Pcode 'XXX'."]


def test_refused_key_and_http_errors() -> None:
    client = DTMClient(key="bad", transport=httpx.MockTransport(lambda r: httpx.Response(401, text="denied")))
    with pytest.raises(DTMError, match="key was refused"):
        client.fetch(Admin0Pcode="SSD")
    client = DTMClient(key="k", transport=httpx.MockTransport(lambda r: httpx.Response(502, text="<html>")))
    with pytest.raises(DTMError, match="HTTP 502, not JSON"):
        client.countries()

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    with pytest.raises(DTMError, match="cannot reach"):
        DTMClient(key="k", transport=httpx.MockTransport(down)).operations()


def test_country_and_operation_lists(client_and_requests: tuple[DTMClient, list[httpx.Request]]) -> None:
    client, seen = client_and_requests
    assert {c["admin0Pcode"] for c in client.countries()} == {"SSD", "SDN", "NGA"}
    assert client.operations()[0]["operation"] == "Mobility Tracking"
    assert [r.url.path for r in seen] == ["/v3/displacement/country-list", "/v3/displacement/operation-list"]


def test_records_to_raw_shape(client_and_requests: tuple[DTMClient, list[httpx.Request]]) -> None:
    client, _ = client_and_requests
    raw = records_to_raw(client.fetch(Admin0Pcode="SSD"), "dtm:admin2:SSD")
    assert raw.headers == FIELDS
    assert raw.tags is not None and raw.tags[FIELDS.index("admin2Pcode")] == "#adm2+code"
    assert raw.tags[FIELDS.index("monthReportingDate")] is None
    rows = raw.table.to_pylist()
    assert [r["_row"] for r in rows] == [1, 2, 3, 4, 5, 6]
    col = {h: f"c{i}" for i, h in enumerate(raw.headers)}
    second = rows[1]
    assert second[col["numPresentIdpInd"]] == "3120"
    assert second[col["numberMales"]] is None
    assert second[col["idpOriginAdmin1Pcode"]] == "Not available"
    assert second[col["reportingDate"]] == "2023-03-31T00:00:00"
    assert {r[col["roundNumber"]] for r in rows} == {"13", "14"}
    assert "non-commercial" in raw.notes[0]


def test_records_to_raw_keeps_missing_and_extra_fields() -> None:
    raw = records_to_raw([{"admin0Pcode": "SSD", "numPresentIdpInd": 5, "newField": True}], "x")
    assert raw.headers == [*FIELDS, "newField"]
    row = raw.table.to_pylist()[0]
    assert row[f"c{FIELDS.index('displacementReason')}"] is None
    assert row[f"c{len(FIELDS)}"] == "true"


def test_read_saved_response_and_plain_list(tmp_path: Path) -> None:
    raw = read_dtm_json(FIXTURES / "admin1_ssd.json")
    assert raw.source == "admin1_ssd.json" and raw.table.num_rows == 4
    records = json.loads((FIXTURES / "admin2_ssd.json").read_text())["result"]
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(records))
    assert read_dtm_json(plain).table.num_rows == 6


def test_read_saved_error_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"error_no_data\.json.*No data found"):
        read_dtm_json(FIXTURES / "error_no_data.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"isSuccess": true, "result": [')
    with pytest.raises(ReadError, match=r"broken\.json"):
        read_dtm_json(broken)


def test_mapping_matches_fields_and_levels() -> None:
    assert set(DTM_MAPPING["columns"]) <= set(FIELDS)
    assert {u["column"] for u in DTM_MAPPING["unpivot"]} <= set(FIELDS)
    assert DTM_MAPPING["columns"]["admin2Pcode"] == "place"
    admin1 = dtm_mapping("admin1")
    assert admin1["columns"]["admin1Pcode"] == "place" and "admin2Pcode" not in admin1["columns"]
    assert dtm_mapping("admin0")["columns"]["admin0Pcode"] == "place"
    assert DTM_MAPPING["columns"]["admin2Pcode"] == "place"  # the module constant is not changed
    with pytest.raises(ValueError):
        dtm_mapping("admin9")
