"""GET /api/v1/places/{pcode}: one place with its ancestors, honouring a partner's place scope like /places."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from onthemove.access.users import add_user, new_token
from onthemove.api import create_app
from onthemove.demo import load_demo
from onthemove.store import open_store
from tests.api.conftest import PRINCIPALS, Api


def _error(res: Any, status: int, code: str) -> dict[str, Any]:
    assert res.status_code == status, res.text
    body: dict[str, Any] = res.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    return body


def test_a_district_with_its_ancestors_country_first(api: Api) -> None:
    res = api.get("/api/v1/places/XT0101", "analyst")
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["type"] == "Feature" and body["id"] == "XT0101"
    assert body["geometry"] is None  # this store holds no boundaries
    assert body["properties"] == {
        "pcode": "XT0101",
        "name": "Kismaayo Town",
        "admin_level": 2,
        "parent_pcode": "XT01",
        "ancestors": [
            {"pcode": "XTL", "name": "XTL", "admin_level": 0},
            {"pcode": "XT01", "name": "Northern", "admin_level": 1},
        ],
    }


def test_regions_country_and_lower_case_codes(api: Api) -> None:
    region = api.get("/api/v1/places/XT02").json()["properties"]
    assert region["admin_level"] == 1 and region["parent_pcode"] == "XTL"
    assert region["ancestors"] == [{"pcode": "XTL", "name": "XTL", "admin_level": 0}]
    country = api.get("/api/v1/places/XTL").json()["properties"]
    assert country["admin_level"] == 0 and country["parent_pcode"] is None and country["ancestors"] == []
    assert api.get("/api/v1/places/xt0201").json()["id"] == "XT0201"  # P-codes are matched as upper case


def test_every_principal_may_read_a_place(api: Api) -> None:
    got = {who: api.get("/api/v1/places/XT0102", who).status_code for who in PRINCIPALS}
    assert got == dict.fromkeys(PRINCIPALS, 200)


def test_same_places_and_properties_as_the_listing(api: Api) -> None:
    for who in ("analyst", "partner", "anonymous"):
        listed = {
            f["properties"]["pcode"]: f["properties"]
            for f in api.get("/api/v1/places?geometry=false", who).json()["features"]
        }
        everything = [f["properties"]["pcode"] for f in api.get("/api/v1/places?geometry=false").json()["features"]]
        for pcode in everything:
            res = api.get(f"/api/v1/places/{pcode}?geometry=false", who)
            if pcode in listed:
                assert res.status_code == 200, (who, pcode, res.text)
                properties = res.json()["properties"]
                ancestors = properties.pop("ancestors")
                assert properties == listed[pcode]
                assert all(a["pcode"] in listed for a in ancestors)  # nothing the listing would not show
            else:
                _error(res, 404, "not_found")


def test_partner_outside_its_scope_gets_the_same_404_as_a_missing_place(api: Api) -> None:
    outside = _error(api.get("/api/v1/places/XT0201", "partner"), 404, "not_found")
    missing = _error(api.get("/api/v1/places/XT0999", "partner"), 404, "not_found")
    assert outside["error"]["message"].replace("XT0201", "X") == missing["error"]["message"].replace("XT0999", "X")
    assert api.get("/api/v1/places/XT0201", "analyst").status_code == 200  # it does exist
    # inside the scope, ancestors above the scope are left out, as /places leaves them out
    assert api.get("/api/v1/places/XT01", "partner").json()["properties"]["ancestors"] == []
    district = api.get("/api/v1/places/XT0101", "partner").json()["properties"]
    assert district["ancestors"] == [{"pcode": "XT01", "name": "Northern", "admin_level": 1}]


def test_unknown_and_malformed_codes(api: Api) -> None:
    _error(api.get("/api/v1/places/XT9999", "analyst"), 404, "not_found")
    _error(api.get("/api/v1/places/no%20such%20place", "analyst"), 422, "invalid_request")
    _error(api.get("/api/v1/places/" + "X" * 41, "analyst"), 422, "invalid_request")


def test_geometry_is_the_listings_web_geometry(store_location: str) -> None:
    with open_store(store_location) as store:
        load_demo(store)
        add_user(store, "partner", "viewer", scope="XD02")
        token = new_token(store, "partner")
    with TestClient(create_app(store_location)) as client:
        listed = {f["id"]: f["geometry"] for f in client.get("/api/v1/places?level=2&parent=XD01").json()["features"]}
        detail = client.get("/api/v1/places/XD0103").json()
        assert detail["geometry"] is not None and detail["geometry"] == listed["XD0103"]
        assert detail["properties"]["name"] == "Oldbrook"
        assert [a["pcode"] for a in detail["properties"]["ancestors"]] == ["XD", "XD01"]
        assert client.get("/api/v1/places/XD0103?geometry=false").json()["geometry"] is None
        partner = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/places/XD0103", headers=partner).status_code == 404
        assert client.get("/api/v1/places/XD0201", headers=partner).json()["geometry"] is not None
