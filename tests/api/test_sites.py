"""GET /api/v1/sites: the latest record of each site with its latest needs, scoped and redacted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onthemove.access.users import add_user, new_token
from onthemove.api import create_app
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.store import open_store
from tests.helpers import PCODES, write

SITES = """Site,Name,District,Households,People,Lat,Lon,Updated
#loc+code,#loc+name,#adm2+code,#population+hh,#population+ind,#geo+lat,#geo+lon,#date+updated
S1,Alpha camp,XT0101,120,600,2.1,45.1,2024-01-01
S2,Beta site,XT0201,2,9,2.2,45.2,2024-01-01
S1,Alpha camp,XT0101,150,750,2.1,45.1,2024-03-01
"""

NEEDS = """Site,Assessed,Sector,Indicator,Value
#loc+code,#date+assessed,#sector,#indicator+code,#indicator+value
S1,2024-01-15,wash,wash_need,1
S1,2024-03-15,wash,wash_need,2
S1,2024-03-15,health,health_need,0
S2,2024-02-01,wash,wash_need,2
"""


@pytest.fixture
def client(store_location: str, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with open_store(store_location) as store:
        load_pcodes(store, write(tmp_path, "p.csv", PCODES))
        ingest(store, write(tmp_path, "sites.csv", SITES), kind="sites")
        ingest(store, write(tmp_path, "needs.csv", NEEDS), kind="site_assessments")
        add_user(store, "analyst", "analyst")
        add_user(store, "partner", "viewer", scope="XT02")
        tokens = {u: new_token(store, u) for u in ("analyst", "partner")}
    with TestClient(create_app(store_location)) as c:
        yield c, {u: f"Bearer {t}" for u, t in tokens.items()}


def test_latest_site_record_with_latest_needs(client: tuple[TestClient, dict[str, str]]) -> None:
    c, auth = client
    body = c.get("/api/v1/sites", headers={"Authorization": auth["analyst"]}).json()
    assert body["total_rows"] == 2 and body["redacted"] is False
    s1 = {r["site_id"]: r for r in body["rows"]}["S1"]
    assert s1["households"] == 150 and s1["individuals"] == 750  # the March record, not January's
    assert s1["needs"] == {"wash.wash_need": 2.0, "health.health_need": 0.0}  # latest per sector and indicator
    assert s1["assessed"] == "2024-03-15"
    assert s1["adm1"] == "XT01"


def test_partners_see_their_areas_and_anonymous_users_no_small_numbers(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, auth = client
    partner = c.get("/api/v1/sites", headers={"Authorization": auth["partner"]}).json()
    assert [r["site_id"] for r in partner["rows"]] == ["S2"]
    anonymous = c.get("/api/v1/sites").json()
    rows = {r["site_id"]: r for r in anonymous["rows"]}
    assert anonymous["redacted"] is True
    assert rows["S2"]["households"] is None and rows["S2"]["individuals"] is None  # 2 and 9: below 10
    assert rows["S1"]["individuals"] == 750
    paged = c.get("/api/v1/sites?limit=1&offset=1", headers={"Authorization": auth["analyst"]}).json()
    assert [r["site_id"] for r in paged["rows"]] == ["S2"] and paged["total_rows"] == 2
