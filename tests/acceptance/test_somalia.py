"""The Somalia case study end to end on real data, on every engine (skipped without ../shared)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from tests.conftest import DATA, ROOT

from onthemove.analyse.query import totals
from onthemove.ingest.pipeline import StrictRefusal, ingest
from onthemove.store import Store, open_store
from onthemove.store.batches import get_batch, list_batches

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

PRMN = DATA / "somalia/prmn/som_unhcr_prmn_displacement_2016_2021.xlsx"
YEARLY = {"2016": 305_405, "2017": 1_129_744, "2018": 883_671, "2019": 770_117, "2020": 1_335_929, "2021": 874_037}


@pytest.fixture
def somalia(store_location: str, shared_data: Path) -> Store:
    env = {**os.environ, "ONTHEMOVE": str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin/onthemove")}
    done = subprocess.run(
        ["bash", str(ROOT / "examples/somalia/load.sh"), store_location],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return open_store(store_location)


def _batch(store: Store, kind: str) -> dict:
    [b] = list_batches(store, kind=kind)
    return get_batch(store, b["batch_id"])


def test_somalia_case_study(somalia: Store, store_location: str) -> None:
    store = somalia
    # PRMN: every row accounted for, yearly totals equal the source exactly
    prmn = _batch(store, "movements")
    assert prmn["rows_read"] == 46_494
    assert prmn["rows_loaded"] + prmn["rows_rejected"] == 46_494
    by_year = {r["year"]: r["count"] for r in totals(store, "movements", by=["year"])}
    assert by_year == YEARLY
    # at least 75 of the 77 district names matched to P-codes; the rest reported with candidates
    report = prmn["report"]
    names = store.fetch(
        "SELECT count(DISTINCT to_place) FROM movements "
        "WHERE to_place IN (SELECT pcode FROM places WHERE admin_level = 2)"
    )[0][0]
    unmatched = report["unmatched_places"]
    assert 77 - len(unmatched) >= 75, unmatched
    assert names >= 70
    for u in unmatched:
        assert u["candidates"], u
        assert u["resolved_to"] == "SO15"  # Badhan and Dhahar are kept at their region, Sanaag
    # the query CLI prints the same yearly totals (the embedded store allows one writer: close it first)
    location = store_location
    store.close()
    cli = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin/onthemove"
    out = subprocess.run(
        [str(cli), "--store", location, "query", "movements", "--by", "year", "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["year,count", *[f"{y},{n}" for y, n in YEARLY.items()]]
    store = open_store(location)
    # sites and site assessments: at least 99.9% of the assessed sites join the registry
    sites = _batch(store, "sites")
    assert sites["rows_read"] == 3_260 and sites["rows_loaded"] == 3_260
    joined, assessed = store.fetch(
        "SELECT count(DISTINCT a.site_id) FILTER (WHERE s.site_id IS NOT NULL), count(DISTINCT a.site_id) "
        "FROM site_assessments a LEFT JOIN sites s ON s.site_id = a.site_id"
    )[0]
    assert assessed >= 2_986
    assert joined / assessed >= 0.999
    sectors = store.fetch("SELECT count(DISTINCT sector) FROM site_assessments")[0][0]
    assert sectors == 8
    # loading the same file twice is a no-op
    before = store.fetch("SELECT count(*) FROM movements")[0][0]
    again = ingest(store, PRMN, mapping=ROOT / "examples/somalia/prmn.yaml")
    assert again.status == "unchanged"
    assert store.fetch("SELECT count(*) FROM movements")[0][0] == before


def test_corrupted_row_is_named_and_strict_stores_nothing(somalia: Store, tmp_path: Path) -> None:
    import openpyxl
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(PRMN)).get_sheet_by_name("OutputsArrivals").to_python()[:200]
    rows[120][4] = "lots"  # spreadsheet row 121
    rows[150][0] = "31/02/2019"  # row 151: no such day
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "OutputsArrivals"
    for r in rows:
        sheet.append(r)
    bad = tmp_path / "prmn_corrupted.xlsx"
    book.save(bad)
    before = somalia.fetch("SELECT count(*) FROM movements")[0][0]
    mapping = ROOT / "examples/somalia/prmn.yaml"
    with pytest.raises(StrictRefusal) as refused:
        ingest(somalia, bad, mapping=mapping, strict=True)
    found = {(r["row"], r["column"], r["value"]) for r in refused.value.report.rejections}
    assert (121, "Number of Individuals", "lots") in found
    assert (151, "Month End", "31/02/2019") in found
    assert somalia.fetch("SELECT count(*) FROM movements")[0][0] == before
    report = ingest(somalia, bad, mapping=mapping)
    assert report.rows_rejected == 2 and report.rows_loaded == 197
