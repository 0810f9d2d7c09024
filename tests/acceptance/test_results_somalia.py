"""The results framework on the Somalia case study: indicators computed from PRMN, the CCCM site list and the
REACH DSA with baselines, targets, status and disaggregation; the report; the IATI file against the XSD."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import ROOT, SHARED

from onthemove.account import framework, report
from onthemove.account.iati_export import activities
from onthemove.share.iati import codes, model
from onthemove.share.iati.validate import validate_file
from onthemove.share.iati.write import write_activities
from onthemove.store import Store

pytestmark = [pytest.mark.acceptance, pytest.mark.slow, pytest.mark.duckdb]
EXTENSION = ROOT / "examples" / "somalia" / "results.yaml"


@pytest.fixture(scope="module")
def fw() -> framework.Framework:
    return framework.load([EXTENSION])


@pytest.fixture(scope="module")
def built(somalia_store: Store, fw: framework.Framework) -> report.Report:
    return report.build(somalia_store, fw, "2021")


def test_the_report_shows_the_whole_framework_and_computed_indicators(
    built: report.Report, fw: framework.Framework
) -> None:
    summary = fw.summary()
    assert (summary["objective"], summary["enabler"], summary["cross_cutting"]) == (3, 7, 4)
    lines = {line.evaluation.indicator.code: line for line in built.lines()}
    complete = [
        code
        for code, line in lines.items()
        if line.evaluation.indicator.computed
        and line.evaluation.actual is not None
        and line.evaluation.baseline is not None
        and line.evaluation.target is not None
        and line.breakdowns
    ]
    print("\nSomalia 2021:", {c: (lines[c].evaluation.actual.value, lines[c].evaluation.status) for c in complete})  # type: ignore[union-attr]
    assert len(complete) >= 5


def test_figures_match_the_sources(built: report.Report) -> None:
    lines = {line.evaluation.indicator.code: line for line in built.lines()}
    new = lines["O1.4-DISP-NEW"]
    assert new.evaluation.actual is not None and new.evaluation.actual.value == 874_037  # PRMN arrivals in 2021
    assert new.evaluation.baseline is not None and new.evaluation.baseline.value == 770_117  # and in 2019
    assert new.evaluation.status == "off track"  # more arrivals than in 2019, against a target of fewer
    by_reason = {r["key"]: r["value"] for r in new.breakdowns["reason"]}
    assert sum(by_reason.values()) == 874_037 and set(by_reason) == {"conflict", "drought", "flood", "other"}
    assert len(new.breakdowns["place"]) == 18  # every region
    assert [m for m, _ in new.months] == [f"2021-{m:02d}" for m in range(1, 13)]
    sites = lines["SO-OUT-1-SITES"].evaluation
    assert sites.actual is not None and sites.actual.value == 2_986  # DSA sites with a CCCM registry row
    wash = lines["O1.1-WASH-SEVERE"].evaluation
    assert wash.actual is not None and wash.actual.value == pytest.approx(1979 / 2986 * 100)


def test_html_and_xlsx(built: report.Report, tmp_path: Path) -> None:
    html = report.to_html(built)
    assert html.count("<svg") >= 10 and "Saving lives and protecting people on the move" in html
    from openpyxl import load_workbook

    wb = load_workbook(report.to_xlsx(built, tmp_path / "somalia.xlsx"))
    assert wb["Summary"].max_row >= 5 + len(built.lines())


def test_iati_export_validates_against_the_xsd(somalia_store: Store, fw: framework.Framework, tmp_path: Path) -> None:
    schemas = SHARED / "standards" / "iati"
    if not (schemas / "iati-activities-schema.xsd").exists():
        pytest.skip(f"the IATI schemas are not at {schemas}")
    publisher = model.Organisation(
        "XM-DAC-47066", "International Organization for Migration", codes.OrganisationType.MULTILATERAL
    )
    export = activities(somalia_store, fw, ["2021"], publisher)
    out = tmp_path / "somalia-iati.xml"
    write_activities(export.activities, out)
    verdict = validate_file(out, schemas)
    assert verdict.status == "valid", verdict.errors[:5]
    (activity,) = export.activities
    assert activity.identifier == "XM-DAC-47066-SO-PRJ-DTM"
    assert len(activity.locations) == 17  # the regions with assessed sites
    assert not verdict.code_issues, verdict.code_issues[:5]
