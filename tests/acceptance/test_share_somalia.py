"""Exports of the real Somalia PRMN arrivals, checked with libhxl and Frictionless.

Gazetteer: Somalia from the global P-code list (adm1/adm2); data: UNHCR PRMN arrivals loaded with
``examples/somalia/prmn.yaml``. Run with ``-s`` to see the HXL schema's non-error findings.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onthemove.analyse.query import Query, run
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.share import export_hxl, export_package
from onthemove.store import Store, open_store

pytestmark = pytest.mark.acceptance

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
PCODES = DATA / "global" / "pcodes" / "global_pcodes_adm1_adm2.csv"
PRMN = DATA / "somalia" / "prmn" / "som_unhcr_prmn_displacement_2016_2021.xlsx"
SCHEMA = SHARED / "standards" / "hxl" / "hxl-default-schema.json"
MAPPING = REPO / "examples" / "somalia" / "prmn.yaml"

if not DATA.is_dir():
    pytest.skip(f"real data not available at {DATA}", allow_module_level=True)

hxl = pytest.importorskip("hxl")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = open_store(tmp_path_factory.mktemp("som") / "store")
    load_pcodes(s, PCODES, country="SOM")
    report = ingest(s, PRMN, mapping=MAPPING)
    assert report.records_loaded > 1000, report
    yield s
    s.close()


def test_monthly_movements_by_district_and_reason_pass_hxl_schema(store: Store, tmp_path: Path) -> None:
    table = run(store, Query(kind="movements", by=["month", "adm2", "reason"]))
    assert table.num_rows > 1000
    path = export_hxl(table, tmp_path / "prmn_monthly_adm2_reason.csv", "movements")
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[1] == ["#date", "#adm2+code", "#adm2+name", "#cause+type", "#affected+num"]
    assert {r[3] for r in rows[2:]} <= {"conflict", "drought", "flood", "other", "(not stated)"}

    issues: list[Any] = []
    local = hxl.InputOptions(allow_local=True)
    schema = hxl.schema(hxl.data(str(SCHEMA), local) if SCHEMA.is_file() else None, callback=issues.append)
    schema.validate(hxl.data(str(path), local))
    by_severity = Counter(i.rule.severity for i in issues)
    print(f"\nHXL default schema on {table.num_rows} rows: {dict(by_severity)}")
    for i in issues[:10]:
        print(f"  {i.rule.severity}: {i.message} {i.value!r}")
    # Errors are the schema's hard rules (dates under #date, numbers under #affected). Its info and
    # warning rules are heuristics (numeric outliers, rare spellings) that real counts trip.
    assert [(i.message, i.value) for i in issues if i.rule.severity == "error"] == []


def test_package_passes_frictionless(store: Store, tmp_path: Path) -> None:
    from frictionless import validate

    path = export_package(store, tmp_path / "package")
    report = validate(str(path))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:20]
    with (path.parent / "movements.csv").open(encoding="utf-8") as fh:
        assert sum(1 for _ in fh) > 1000
