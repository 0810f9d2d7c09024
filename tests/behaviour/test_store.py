"""One behaviour suite, run on every engine (pytest -m duckdb / -m postgres)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import MOVEMENTS, PCODES, PLAIN, PLAIN_MAPPING, STOCKS, write

from onthemove.analyse.query import Query, run, totals
from onthemove.ingest.gazetteer import load_aliases, load_pcodes
from onthemove.ingest.pipeline import IngestError, StrictRefusal, ingest
from onthemove.store import Store, open_store
from onthemove.store.batches import BatchError, list_batches, rejections, rollback
from onthemove.store.migrate import applied, available, upgrade


def count(store: Store, table: str) -> int:
    row = store.fetch_one(f"SELECT count(*) FROM {table}")
    return int(row[0]) if row else -1


@pytest.fixture
def gazetteer(store: Store, tmp_path: Path) -> Store:
    load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
    return store


def test_migrations_build_the_schema_once(store: Store) -> None:
    assert applied(store) == {m.version for m in available()}
    assert upgrade(store) == []
    for table in ("batches", "places", "movements", "displacement", "sites", "site_assessments", "driver_events"):
        assert store.table_exists(table), table


def test_pcodes_build_the_hierarchy(gazetteer: Store) -> None:
    rows = gazetteer.fetch_dicts("SELECT pcode, admin_level, adm0, adm1, adm2 FROM places ORDER BY pcode")
    by_code = {r["pcode"]: r for r in rows}
    assert by_code["XTL"]["admin_level"] == 0
    assert by_code["XT0201"]["adm1"] == "XT02"
    assert by_code["XT0201"]["adm0"] == "XTL"
    assert by_code["XT0201"]["adm2"] == "XT0201"


def test_hxl_ingest_counts_and_provenance(gazetteer: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "arrivals.csv", MOVEMENTS)
    report = ingest(gazetteer, path, kind="movements", attribution="test", licence="CC0")
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (6, 6, 0)
    assert count(gazetteer, "movements") == 6
    [batch] = list_batches(gazetteer, kind="movements")
    assert batch["sha256"] == report.sha256 and batch["licence"] == "CC0"
    assert batch["source_file"] == str(path)


def test_same_file_twice_changes_nothing(gazetteer: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "arrivals.csv", MOVEMENTS)
    first = ingest(gazetteer, path, kind="movements")
    again = ingest(gazetteer, path, kind="movements")
    assert again.status == "unchanged" and again.batch_id == first.batch_id
    assert count(gazetteer, "movements") == 6
    assert len(list_batches(gazetteer, kind="movements")) == 1


def test_rejected_rows_name_row_column_value_and_expectation(gazetteer: Store, tmp_path: Path) -> None:
    bad = MOVEMENTS + "2024-13-31,XT01,XT0101,conflict,5\n2024-03-31,XT01,XT9999,conflict,-2\n"
    report = ingest(gazetteer, write(tmp_path, "bad.csv", bad), kind="movements")
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (8, 6, 2)
    found = {(r["row"], r["column"], r["value"]) for r in report.rejections}
    assert (10, "Date", "2024-13-31") in found
    assert (11, "District", "XT9999") in found
    assert (11, "People", "-2") in found
    assert all(r["file"].endswith("bad.csv") and r["expected"] for r in report.rejections)
    stored = rejections(gazetteer, report.batch_id)
    assert {r["row_number"] for r in stored} == {10, 11}


def test_strict_mode_stores_nothing(gazetteer: Store, tmp_path: Path) -> None:
    bad = MOVEMENTS + "2024-03-31,XT01,XT0101,conflict,many\n"
    with pytest.raises(StrictRefusal) as refused:
        ingest(gazetteer, write(tmp_path, "bad.csv", bad), kind="movements", strict=True)
    assert refused.value.report.rows_rejected == 1
    assert refused.value.report.rejections[0]["row"] == 10
    assert count(gazetteer, "movements") == 0
    assert list_batches(gazetteer, kind="movements") == []


def test_rollback_removes_exactly_one_batch(gazetteer: Store, tmp_path: Path) -> None:
    keep = ingest(gazetteer, write(tmp_path, "a.csv", MOVEMENTS), kind="movements")
    other = MOVEMENTS.replace("2024-", "2023-").replace("2023-02-29", "2023-02-28")
    drop = ingest(gazetteer, write(tmp_path, "b.csv", other), kind="movements")
    assert count(gazetteer, "movements") == 12
    done = rollback(gazetteer, drop.batch_id)
    assert done.removed == {"movements": 6}
    assert count(gazetteer, "movements") == 6
    assert {r[0] for r in gazetteer.fetch("SELECT DISTINCT batch_id FROM movements")} == {keep.batch_id}
    with pytest.raises(BatchError):
        rollback(gazetteer, drop.batch_id)
    again = ingest(gazetteer, tmp_path / "b.csv", kind="movements")  # a rolled-back file can come back
    assert again.status == "loaded" and count(gazetteer, "movements") == 12


def test_failure_mid_load_leaves_the_store_as_it_was(
    gazetteer: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onthemove.ingest import pipeline

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "record_batch", boom)
    with pytest.raises(RuntimeError):
        ingest(gazetteer, write(tmp_path, "a.csv", MOVEMENTS), kind="movements")
    assert count(gazetteer, "movements") == 0
    assert count(gazetteer, "rejections") == 0
    assert list_batches(gazetteer, kind="movements") == []


def test_same_file_other_mapping_needs_replace(gazetteer: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", MOVEMENTS)
    first = ingest(gazetteer, path, kind="movements")
    alt = tmp_path / "alt.yaml"
    alt.write_text("kind: movements\ncolumns: {Date: date, District: to_place, People: count}\n")
    with pytest.raises(IngestError, match="already loaded"):
        ingest(gazetteer, path, mapping=alt)
    second = ingest(gazetteer, path, mapping=alt, replace=True)
    assert second.batch_id != first.batch_id
    statuses = {b["batch_id"]: b["status"] for b in list_batches(gazetteer, include_all=True, kind="movements")}
    assert statuses == {first.batch_id: "superseded", second.batch_id: "loaded"}
    assert count(gazetteer, "movements") == 6


def test_rollups_equal_the_sum_of_their_parts(gazetteer: Store, tmp_path: Path) -> None:
    ingest(gazetteer, write(tmp_path, "a.csv", MOVEMENTS), kind="movements")
    total = totals(gazetteer, "movements")[0]["count"]
    by_adm1 = totals(gazetteer, "movements", by=["adm1"])
    by_adm2 = totals(gazetteer, "movements", by=["adm2"])
    by_month_reason = totals(gazetteer, "movements", by=["month", "reason"])
    assert total == 318
    assert sum(r["count"] for r in by_adm1) == sum(r["count"] for r in by_adm2) == total
    assert sum(r["count"] for r in by_month_reason) == total
    assert {r["adm1"]: r["count"] for r in by_adm1} == {"XT01": 270, "XT02": 48}
    north = totals(gazetteer, "movements", by=["month"], place="XT01")
    assert {r["month"]: r["count"] for r in north} == {"2024-01": 150, "2024-02": 120}
    quarters = totals(gazetteer, "movements", by=["quarter", "adm1"])
    assert {(r["quarter"], r["adm1"]): r["count"] for r in quarters}[("2024-Q1", "XT02")] == 48


def test_stocks_take_the_latest_report_in_a_period(gazetteer: Store, tmp_path: Path) -> None:
    report = ingest(gazetteer, write(tmp_path, "stocks.csv", STOCKS), kind="displacement")
    assert report.rows_rejected == 0
    assert report.records_loaded == 10  # totals plus the female/male columns that are filled
    jan = {(r["month"], r["adm2"]): r["count"] for r in totals(gazetteer, "displacement", by=["month", "adm2"])}
    assert jan[("2024-01", "XT0101")] == 1100  # not 1000 + 1100
    assert jan[("2024-02", "XT0101")] == 900
    by_sex = totals(gazetteer, "displacement", by=["month", "sex"], place="XT0101")
    assert {(r["month"], r["sex"]): r["count"] for r in by_sex}[("2024-01", "f")] == 650


def test_mapping_file_with_place_names(gazetteer: Store, tmp_path: Path) -> None:
    load_aliases(gazetteer, write(tmp_path, "aliases.csv", "alias,pcode,source\nBaidoa,XT0202,test\n"))
    mapping = write(tmp_path, "plain.yaml", PLAIN_MAPPING)
    report = ingest(gazetteer, write(tmp_path, "plain.csv", PLAIN), mapping=mapping)
    assert (report.rows_loaded, report.rows_rejected) == (3, 1)
    placed = {r[0]: r[1] for r in gazetteer.fetch("SELECT row_number, to_place FROM movements")}
    assert placed == {2: "XT0101", 3: "XT0102", 4: "XT0202"}
    [unmatched] = report.unmatched_places
    assert unmatched["name"] == "Nowhere Special" and unmatched["candidates"]
    assert "closest" in report.rejections[0]["expected"]
    reasons = {r[0] for r in gazetteer.fetch("SELECT DISTINCT reason FROM movements")}
    assert reasons == {"conflict", "drought", "flood"}


def test_query_sql_is_the_same_text_for_every_engine(store: Store) -> None:
    from onthemove.analyse.query import build_sql

    text, params = build_sql(Query(kind="movements", by=["month", "adm1"], reason=["conflict"]))
    assert "$reason" in text and params["reason"] == ["conflict"]
    assert run(store, Query(kind="movements", by=["month"])).num_rows == 0


def test_reopening_the_store_keeps_the_data(store_location: str, tmp_path: Path) -> None:
    with open_store(store_location) as s:
        load_pcodes(s, write(tmp_path, "pcodes.csv", PCODES))
        ingest(s, write(tmp_path, "a.csv", MOVEMENTS), kind="movements")
    with open_store(store_location) as s:
        assert count(s, "movements") == 6


def test_gazetteer_rollback_refused_while_records_use_its_places(gazetteer: Store, tmp_path: Path) -> None:
    [places] = list_batches(gazetteer, kind="places")
    data = ingest(gazetteer, write(tmp_path, "a.csv", MOVEMENTS), kind="movements")
    with pytest.raises(BatchError, match="refer to"):
        rollback(gazetteer, places["batch_id"])
    assert count(gazetteer, "places") == 7
    rollback(gazetteer, data.batch_id)
    assert rollback(gazetteer, places["batch_id"]).removed == {"places": 7}
