"""Every source format ends in the same batch pipeline: DTM API records, Kobo exports, HXL XLSX."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from tests.helpers import MOVEMENTS, PCODES, SSD_PCODES, write

from onthemove.analyse.query import totals
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.sources import detect, ingest_file
from onthemove.store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_dtm_api_records_load_with_the_built_in_mapping(store: Store, tmp_path: Path) -> None:
    load_pcodes(store, write(tmp_path, "ssd.csv", SSD_PCODES))
    path = FIXTURES / "dtm/admin2_ssd.json"
    assert detect(path) == "dtm"
    report = ingest_file(store, path)
    assert report.kind == "displacement" and report.rows_rejected == 0, report.rejections
    records = json.loads(path.read_text())["result"]
    # stocks: per district and month only the latest report counts
    last = {}
    for r in records:
        key = (r["admin2Pcode"], r["reportingDate"][:7])
        last[key] = max(last.get(key, ""), r["reportingDate"])
    expected: dict[tuple[str, str], int] = {}
    for r in records:
        key = (r["admin2Pcode"], r["reportingDate"][:7])
        if r["reportingDate"] == last[key]:
            expected[key] = expected.get(key, 0) + int(r["numPresentIdpInd"])
    by_place = {(r["adm2"], r["month"]): r["count"] for r in totals(store, "displacement", by=["adm2", "month"])}
    assert by_place == expected
    females = sum(
        int(r["numberFemales"] or 0)
        for r in records
        if r["reportingDate"] == last[(r["admin2Pcode"], r["reportingDate"][:7])]
    )
    by_sex = totals(store, "displacement", by=["month", "sex"])
    assert sum(r["count"] for r in by_sex if r["sex"] == "f") == females
    assert ingest_file(store, path).status == "unchanged"


def test_kobo_export_with_a_mapping(store: Store, tmp_path: Path) -> None:
    load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
    path = FIXTURES / "kobo/site_visits.csv"
    assert detect(path) == "kobo"
    mapping = write(
        tmp_path,
        "kobo.yaml",
        "kind: site_assessments\n"
        "columns:\n  grp_location/village: site_id\n  end: date\n  reasons: indicator\n  hh_size: value\n"
        "explode: [reasons]\nconstants: {sector: protection}\n",
    )
    report = ingest_file(store, path, mapping=mapping)
    rows = store.fetch_dicts("SELECT site_id, indicator, value, row_number FROM site_assessments ORDER BY 4, 2")
    # the first visit chose two reasons: it becomes two records of the same source row
    assert [(r["site_id"], r["indicator"]) for r in rows[:2]] == [("Abyei town", "conflict"), ("Abyei town", "flood")]
    assert report.rows_read == report.rows_loaded + report.rows_rejected
    assert all(r["expected"] for r in report.rejections)


def test_hxl_spreadsheet(store: Store, tmp_path: Path) -> None:
    load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for line in MOVEMENTS.strip().splitlines():
        cells = line.split(",")
        sheet.append([int(c) if c.isdigit() else c for c in cells])
    path = tmp_path / "arrivals.xlsx"
    book.save(path)
    report = ingest_file(store, path, kind="movements")
    assert (report.rows_read, report.rows_rejected) == (6, 0)
    assert totals(store, "movements")[0]["count"] == 318
