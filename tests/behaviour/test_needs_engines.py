"""The needs query on every store engine: latest assessment per site, sector and indicator, the site registry's
latest record, admin areas, ``as_of`` and ``place``; the same figures on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.helpers import PCODES, write

from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.respond.allocate import allocate
from onthemove.respond.needs import NeedsError, area_names, assess, load_rules, parse_rules
from onthemove.respond.plan_spec import parse_plan
from onthemove.store import Store

# S2 moved from 150 to 200 people between two registry rounds: the latest record counts
SITES = """Site,Name,District,Individuals,Households,Date
#loc+code,#loc+name,#adm2+code,#population+ind,#population+hh,#date+updated
S1,North Camp,XT0101,100,20,2024-01-15
S2,River Camp,XT0102,150,30,2023-10-01
S2,River Camp,XT0102,200,40,2024-01-15
S3,Hill Camp,XT0201,300,60,2024-01-15
S4,Lake Camp,XT0202,400,80,2024-01-15
"""

# S4's WASH was 5 in January but 1 at the latest assessment; S3's food indicator has no rule in the default
ASSESSMENTS = """Site,Date,Sector,Indicator,Value
#loc+code,#date+assessed,#sector,#indicator+code,#indicator+value
S4,2024-01-05,wash,severity,5
S1,2024-02-10,wash,severity,5
S1,2024-02-10,shelter,severity,3
S2,2024-02-10,wash,severity,4
S2,2024-02-10,shelter,severity,4
S3,2024-02-10,wash,severity,2
S3,2024-02-10,shelter,severity,3
S3,2024-02-10,food,fcs,30
S4,2024-02-10,wash,severity,1
S4,2024-02-10,shelter,severity,2
"""


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
    ingest(store, write(tmp_path, "sites.csv", SITES), kind="sites")
    ingest(store, write(tmp_path, "assess.csv", ASSESSMENTS), kind="site_assessments")
    return store


def test_needs_from_the_store(loaded: Store) -> None:
    needs = assess(loaded)
    by = needs.sites.set_index("site_id")
    assert needs.sites["site_id"].tolist() == ["S1", "S2", "S3", "S4"]
    assert by["severity"].to_dict() == {"S1": 5, "S2": 4, "S3": 3, "S4": 2}
    assert by["wash"].to_dict() == {"S1": 5, "S2": 4, "S3": 2, "S4": 1}  # S4's latest WASH, not January's
    assert by["sectors_in_need"].to_dict() == {"S1": 2, "S2": 2, "S3": 1, "S4": 0}
    assert by["people_in_need"].to_dict() == {"S1": 100, "S2": 200, "S3": 300, "S4": 0}  # S2's latest record
    assert by.loc["S2", "adm1"] == "XT01" and by.loc["S2", "adm2"] == "XT0102"
    assert by.loc["S1", "why"] == "severity 5 (WASH 5, shelter 3); 2 sectors in need; 100 people in need"
    adm1 = needs.areas("adm1", area_names(loaded, ["XT01", "XT02"])).set_index("area")
    assert adm1["people_in_need"].to_dict() == {"XT01": 300, "XT02": 300}
    assert adm1["severity"].to_dict() == {"XT01": 5, "XT02": 3}
    assert adm1.loc["XT01", "name"] == "Northern" and adm1.loc["XT01", "pin_shelter"] == 300


def test_as_of_and_place(loaded: Store) -> None:
    january = assess(loaded, as_of=dt.date(2024, 1, 31))
    assert january.sites.set_index("site_id")["wash"].to_dict() == {"S4": 5}
    north = assess(loaded, place="XT01")
    assert sorted(north.sites["site_id"]) == ["S1", "S2"]
    assert set(north.site_sector["site_id"]) == {"S1", "S2"}


def test_rules_with_indicators_the_store_lacks(loaded: Store) -> None:
    rules = parse_rules({"sectors": {"food": {"indicators": {"rcsi": {}}}}}, "r.yaml")
    with pytest.raises(NeedsError, match=r"no site assessments with the indicators the rules read \(rcsi\)"):
        assess(loaded, rules)
    fcs = parse_rules(
        {"sectors": {"food": {"indicators": {"fcs": {"thresholds": {3: 35, 4: 21}, "direction": "lower"}}}}}
    )
    assert assess(loaded, fcs).sites.set_index("site_id")["food"].to_dict() == {"S3": 3}


def test_allocation_over_store_needs(loaded: Store) -> None:
    plan = parse_plan(
        {
            "budget": 50,
            "packages": [{"name": "wash_kit", "sector": "wash", "unit_cost": 1, "people_per_unit": 5}],
            "rules": [{"min_budget": {"per": "adm1", "share": 0.0}}],
        }
    )
    result = allocate(assess(loaded, load_rules()), plan)
    # WASH in need: S1 (5, 100 people) and S2 (4, 200 people); 50 kits of 5: S1 all (20 kits), S2 30 kits
    by = result.plan().set_index("site_id")
    assert by["units"].to_dict() == {"S1": 20, "S2": 30}
    assert result.best.objective == pytest.approx(5 * 100 + 4 * 150)
