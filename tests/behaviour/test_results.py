"""Indicators computed and reported, baselines, targets, status, reports and IATI export, on every store engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import MOVEMENTS, PCODES, write

from onthemove.account import framework, report, values
from onthemove.account.imports import ImportRefused, import_values
from onthemove.account.periods import parse_period
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.store import Store

SITES = """Site,District,Individuals,Date
#loc+code,#adm2+code,#population+ind,#date+updated
S1,XT0101,100,2024-01-15
S2,XT0102,200,2024-01-15
S3,XT0201,300,2024-01-15
S4,XT0202,400,2024-01-15
"""

# S4's WASH was 5 in January but 1 at the latest assessment: the latest counts
ASSESSMENTS = """Site,Date,Sector,Indicator,Value
#loc+code,#date+assessed,#sector,#indicator+code,#indicator+value
S4,2024-01-05,wash,severity,5
S1,2024-02-10,wash,severity,5
S2,2024-02-10,wash,severity,4
S3,2024-02-10,wash,severity,4
S4,2024-02-10,wash,severity,1
S1,2024-02-10,shelter,severity,2
"""

# reported: districts report by quarter and sex; region XT02 reports its own total (it wins over its districts)
VALUES = """Indicator,Type,Start,End,Place,Sex,Value
#indicator+code,#indicator+type,#date+start,#date+end,#adm+code,#x_sex,#indicator+value+num
T-OUT-1,actual,2024-01-01,2024-03-31,XT0101,total,10
T-OUT-1,actual,2024-01-01,2024-03-31,XT0101,f,6
T-OUT-1,actual,2024-01-01,2024-03-31,XT0101,m,4
T-OUT-1,actual,2024-01-01,2024-03-31,XT0102,total,20
T-OUT-1,actual,2024-01-01,2024-03-31,XT0102,f,11
T-OUT-1,actual,2024-01-01,2024-03-31,XT0201,total,5
T-OUT-1,actual,2024-04-01,2024-06-30,XT0101,total,15
T-OUT-1,actual,2024-01-01,2024-03-31,XT02,total,50
T-OUT-1,target,2024-01-01,2024-12-31,XT01,total,100
T-OUT-1,target,2024-01-01,2024-12-31,XT02,total,80
T-OUT-1,baseline,2023-01-01,2023-12-31,XT01,total,20
"""

EXTENSION = """
nodes:
  - id: T-PRJ
    kind: project
    parent: O1.1
    title: Test project
    statement: Kits for new arrivals.
    iati: {identifier: XM-TEST-T-PRJ, recipient_country: SO, start: "2024-01-01", end: "2024-12-31",
           sectors: [{code: "72010"}], humanitarian: true}
    children:
      - {id: T-OUT, kind: output, title: Kits distributed}
indicators:
  - {code: T-OUT-1, node: T-OUT, name: People reached with kits, unit: people, disaggregation: [place, sex]}
  - code: T-NEW
    node: O1.4
    name: Arrivals
    unit: people
    direction: decrease
    disaggregation: [place, reason]
    numerator: {table: movements, value: people, where: {population_group: idps}}
    baseline: {period: "2024-01"}
    targets: [{period: "2024-12", value: 100}]
  - code: T-CLIMATE
    node: O2.2
    name: Share by drought or flood
    measure: percentage
    numerator: {table: movements, value: people, where: {reason: [drought, flood]}}
    denominator: {table: movements, value: people}
    factor: 100
  - code: T-WASH
    node: O1.1
    name: Share of sites with severe WASH needs
    measure: percentage
    disaggregation: [place]
    numerator: {table: site_assessments, value: sites, where: {sector: wash, value: {">=": 4}}}
    denominator: {table: site_assessments, value: sites, where: {sector: wash}}
    factor: 100
  - {code: T-SITEPOP, node: O1.2, name: People in sites, numerator: {table: sites, value: individuals}}
  - {code: T-ALL, node: T-PRJ, name: All kits, children: [T-OUT-1], aggregation: sum}
"""


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> tuple[Store, framework.Framework]:
    load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
    ingest(store, write(tmp_path, "movements.csv", MOVEMENTS), kind="movements")
    ingest(store, write(tmp_path, "sites.csv", SITES), kind="sites")
    ingest(store, write(tmp_path, "assess.csv", ASSESSMENTS), kind="site_assessments")
    fw = framework.load([write(tmp_path, "ext.yaml", EXTENSION)])
    import_values(store, fw, write(tmp_path, "values.csv", VALUES))
    return store, fw


Q1 = parse_period("2024-Q1")


def test_computed_indicators(loaded: tuple[Store, framework.Framework]) -> None:
    store, fw = loaded
    new, climate, wash = fw.indicators["T-NEW"], fw.indicators["T-CLIMATE"], fw.indicators["T-WASH"]
    assert values.actual(store, fw, new, Q1, None).value == 318  # type: ignore[union-attr]
    assert values.actual(store, fw, new, Q1, "XT02").value == 48  # type: ignore[union-attr]
    assert values.actual(store, fw, new, parse_period("2024-02"), "XT0101").value == 120  # type: ignore[union-attr]
    assert values.actual(store, fw, climate, Q1, None).value == pytest.approx(87 / 318 * 100)  # type: ignore[union-attr]
    # the latest WASH assessment of each site: S1 5, S2 4, S3 4, S4 1 -> 3 of 4 severe
    assert values.actual(store, fw, wash, Q1, None).value == pytest.approx(75)  # type: ignore[union-attr]
    by_place = {r["key"]: r["value"] for r in values.breakdown(store, wash, Q1, None, "place")}
    assert by_place == {"XT01": pytest.approx(100), "XT02": pytest.approx(50)}
    by_reason = {r["key"]: r["value"] for r in values.breakdown(store, new, Q1, None, "reason")}
    assert by_reason == {"conflict": 231, "drought": 80, "flood": 7}
    assert values.monthly(store, new, Q1, None) == [("2024-01", 180), ("2024-02", 127), ("2024-03", 11)]
    assert values.actual(store, fw, fw.indicators["T-SITEPOP"], Q1, "XT01").value == 300  # type: ignore[union-attr]
    # no assessment in 2023: no denominator, so no value (never 0 or infinity)
    assert values.actual(store, fw, wash, parse_period("2023"), None) is None


def test_reported_values_roll_up_the_hierarchy(loaded: tuple[Store, framework.Framework]) -> None:
    store, fw = loaded
    out = fw.indicators["T-OUT-1"]
    assert values.actual(store, fw, out, Q1, "XT01").value == 30  # type: ignore[union-attr]
    assert values.actual(store, fw, out, Q1, "XT02").value == 50  # type: ignore[union-attr]  # its own value wins
    assert values.actual(store, fw, out, Q1, None).value == 80  # type: ignore[union-attr]
    assert values.actual(store, fw, out, parse_period("2024-H1".replace("H1", "01..2024-06")), "XT01").value == 45  # type: ignore[union-attr]
    by_sex = {r["key"]: r["value"] for r in values.breakdown(store, out, Q1, None, "sex")}
    assert by_sex == {"f": 17, "m": 4}
    assert values.target(store, out, "XT01", Q1).value == 100  # type: ignore[union-attr]
    assert values.target(store, out, None, Q1).value == 180  # type: ignore[union-attr]
    assert values.baseline(store, fw, out, "XT01").value == 20  # type: ignore[union-attr]
    # up the results chain
    assert values.actual(store, fw, fw.indicators["T-ALL"], Q1, None).value == 80  # type: ignore[union-attr]


def test_computed_baseline_and_status(loaded: tuple[Store, framework.Framework]) -> None:
    store, fw = loaded
    ev = values.evaluate(store, fw, fw.indicators["T-NEW"], parse_period("2024-03"))
    assert ev.baseline is not None and ev.baseline.value == 180 and ev.baseline.source == "computed"
    assert ev.actual is not None and ev.actual.value == 11
    assert ev.target is not None and ev.target.value == 100
    # 11 is already below the target: more than all the way there with 2 of 11 months passed
    assert ev.status == "on track" and ev.progress is not None and ev.progress > 1


def test_import_refuses_unknown_indicators_and_keeps_what_was_there(
    loaded: tuple[Store, framework.Framework], tmp_path: Path
) -> None:
    store, fw = loaded
    before = store.fetch_one("SELECT count(*) FROM indicator_values")
    bad = VALUES.replace("T-OUT-1,actual,2024-04-01", "T-NOPE,actual,2024-04-01").replace(",10\n", ",11\n", 1)
    with pytest.raises(ImportRefused) as err:
        import_values(store, fw, write(tmp_path, "bad.csv", bad))
    assert err.value.problems == [
        {
            "file": str(tmp_path / "bad.csv"),
            "row": 9,
            "column": "indicator",
            "value": "t-nope",
            "expected": f"an indicator code of the framework {fw.name}",
        }
    ]
    assert store.fetch_one("SELECT count(*) FROM indicator_values") == before
    computed_actual = "T-NEW,actual,2024-01-01,2024-03-31,XT01,total,5\n"
    with pytest.raises(ImportRefused, match="column value_type: expected baseline or target"):
        import_values(store, fw, write(tmp_path, "bad2.csv", VALUES.split("T-OUT-1")[0] + computed_actual))
    assert store.fetch_one("SELECT count(*) FROM indicator_values") == before


def test_report_and_iati_export(loaded: tuple[Store, framework.Framework], tmp_path: Path) -> None:
    store, fw = loaded
    r = report.build(store, fw, "2024-Q1", part="T-PRJ")
    assert [line.evaluation.indicator.code for line in r.lines()] == ["T-ALL", "T-OUT-1"]
    d = r.as_dict()
    out = d["sections"][1]["indicators"][0]
    assert out["actual"]["value"] == 80 and out["target"]["value"] == 180
    assert {x["key"]: x["value"] for x in out["disaggregation"]["place"]} == {"XT01": 30, "XT02": 50}
    html = report.to_html(r)
    assert "T-OUT-1" in html and "<svg" in html and "by place" in html
    from openpyxl import load_workbook

    wb = load_workbook(report.to_xlsx(r, tmp_path / "r.xlsx"))
    assert wb.sheetnames == ["Summary", "Status", "Disaggregation", "Months", "Framework"]
    codes = [row[2] for row in wb["Summary"].iter_rows(min_row=6, values_only=True)]
    assert codes == ["T-ALL", "T-OUT-1"]

    from onthemove.account.iati_export import activities
    from onthemove.share.iati import codes as iati_codes
    from onthemove.share.iati import model
    from onthemove.share.iati.write import to_bytes

    publisher = model.Organisation("XM-TEST", "Test", iati_codes.OrganisationType.INTERNATIONAL_NGO)
    export = activities(store, fw, ["2024-Q1"], publisher, threshold=10)
    (activity,) = export.activities
    assert activity.identifier == "XM-TEST-T-PRJ"
    assert [loc.ref for loc in activity.locations] == ["XT01", "XT02"]
    # the sex breakdown 17 / 4: 4 is under the threshold and left out, 17 kept
    assert export.suppressed == 1
    xml = to_bytes(export.activities).decode()
    assert '<dimension name="sex" value="female"/>' in xml and 'value="male"' not in xml
    assert '<location ref="XT01"/>' in xml  # the actual for XT01 points at the activity's location


def test_a_partners_scope_limits_reported_values(loaded: tuple[Store, framework.Framework]) -> None:
    store, fw = loaded
    out = fw.indicators["T-OUT-1"]
    assert values.actual(store, fw, out, Q1, None, scope=["XT01"]).value == 30  # type: ignore[union-attr]
    assert values.actual(store, fw, out, Q1, None, scope=["XT0201"]).value == 5  # type: ignore[union-attr]
    by_sex = {r["key"]: r["value"] for r in values.breakdown(store, out, Q1, None, "sex", scope=["XT02"])}
    assert by_sex == {}  # XT02's districts report no sex breakdown
    new = fw.indicators["T-NEW"]
    assert values.actual(store, fw, new, Q1, None, scope=["XT02"]).value == 48  # type: ignore[union-attr]
