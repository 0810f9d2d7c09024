"""Demoland: deterministic files that load cleanly through the real ingest path."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely

from onthemove.analyse.alerts import alerts
from onthemove.analyse.query import Query, run
from onthemove.demo import generate, is_empty, load_demo, summary
from onthemove.demo.simulate import FLARE_REGION
from onthemove.ingest.report import BatchReport
from onthemove.store import open_store
from onthemove.store.base import Store

pytestmark = pytest.mark.duckdb


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, list[BatchReport]]]:
    store = open_store(tmp_path_factory.mktemp("demo-store"))
    assert is_empty(store)
    reports = load_demo(store, directory=tmp_path_factory.mktemp("demo-files"))
    yield store, reports
    store.close()


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", seed=7)
    again = generate(tmp_path / "b", seed=7)
    other = generate(tmp_path / "c", seed=8)
    assert list(first) == list(again) == list(other)
    for key, path in first.items():
        assert path.read_bytes() == again[key].read_bytes(), key
    assert any(path.read_bytes() != other[key].read_bytes() for key, path in first.items())
    assert first["movements"].read_bytes() != other["movements"].read_bytes()


def test_every_batch_loads_without_rejections(loaded: tuple[Store, list[BatchReport]]) -> None:
    store, reports = loaded
    assert len(reports) == 11  # gazetteer (4), sites, stocks, movements, rain, conflict, assessments, values
    for r in reports:
        assert r.status == "loaded", r.source_file
        assert r.rows_rejected == 0, (r.source_file, r.rejection_summary)
        assert r.rows_read > 0
    assert not is_empty(store)
    (rejections,) = store.fetch_one("SELECT count(*) FROM rejections") or (None,)
    assert rejections == 0


def test_places_at_three_levels_with_geometry(loaded: tuple[Store, list[BatchReport]]) -> None:
    store, _ = loaded
    rows = store.fetch(
        "SELECT p.admin_level, count(*), count(g.pcode) FROM places p "
        "LEFT JOIN place_geometries g ON g.pcode = p.pcode GROUP BY 1 ORDER BY 1"
    )
    assert rows == [(0, 1, 1), (1, 6, 6), (2, 30, 30)]
    (orphans,) = store.fetch_one(
        "SELECT count(*) FROM places c LEFT JOIN places p ON p.pcode = c.parent_pcode "
        "WHERE c.admin_level > 0 AND p.admin_level IS DISTINCT FROM c.admin_level - 1"
    ) or (None,)
    assert orphans == 0
    geoms = {pc: shapely.from_geojson(g) for pc, g in store.fetch("SELECT pcode, geometry FROM place_geometries")}
    for region in [pc for pc in geoms if len(pc) == 4]:
        union = shapely.union_all([g for pc, g in geoms.items() if len(pc) == 6 and pc.startswith(region)])
        assert shapely.equals_exact(shapely.normalize(union), shapely.normalize(geoms[region]), 1e-6) or (
            shapely.symmetric_difference(union, geoms[region]).area < 1e-6
        )


def test_sites_sit_inside_their_district(loaded: tuple[Store, list[BatchReport]]) -> None:
    store, _ = loaded
    rows = store.fetch(
        "SELECT s.site_id, s.longitude, s.latitude, p.admin_level, g.geometry FROM sites s "
        "LEFT JOIN places p ON p.pcode = s.place LEFT JOIN place_geometries g ON g.pcode = s.place"
    )
    assert 120 <= len(rows) <= 180
    for site_id, lon, lat, level, geometry in rows:
        assert site_id.startswith("XDS-XD") and level == 2, site_id
        assert shapely.contains_xy(shapely.from_geojson(geometry), lon, lat), site_id


def test_flare_up_region_is_alert_worthy(loaded: tuple[Store, list[BatchReport]]) -> None:
    store, _ = loaded
    region = f"XD{FLARE_REGION + 1:02d}"
    rows = run(store, Query(kind="movements", by=["month"], place=region)).to_pylist()
    assert len(rows) == 36
    counts = [r["count"] for r in rows]
    assert counts[-1] > 2 * statistics.median(counts)
    others = run(store, Query(kind="movements", by=["month", "adm1"])).to_pylist()
    latest = max(r["month"] for r in others)
    calm = [r for r in others if r["adm1"] != region and r["month"] == latest]
    for r in calm:  # the flare-up stands out; the rest of the country is in its usual range
        history = [o["count"] for o in others if o["adm1"] == r["adm1"]]
        assert r["count"] < 2 * statistics.median(history), r
    assert [a.area for a in alerts(store, level="adm1")] == [region]
    flagged = {a.area for a in alerts(store, level="adm2")}
    assert {f"{region}{d:02d}" for d in range(1, 5)} <= flagged


def test_disaggregation_adds_up(loaded: tuple[Store, list[BatchReport]]) -> None:
    store, _ = loaded
    by_sex = run(store, Query(kind="displacement", by=["month", "sex"])).to_pylist()
    totals = {r["month"]: r["count"] for r in run(store, Query(kind="displacement", by=["month"])).to_pylist()}
    for month, total in totals.items():
        assert sum(r["count"] for r in by_sex if r["month"] == month) == total


def test_summary_and_reload(loaded: tuple[Store, list[BatchReport]], tmp_path: Path) -> None:
    store, _ = loaded
    s = summary(store)
    assert set(s) >= {"tables", "batches", "date_range", "latest_month"}
    assert s["batches"] == 11
    assert s["tables"]["movements"] > 0 and s["tables"]["driver_events"] > 0 and s["tables"]["rejections"] == 0
    assert s["date_range"] == {"start": "2023-11-01", "end": "2026-10-31"}
    assert s["latest_month"]["month"] == "2026-10"
    assert s["latest_month"]["idps"] > 0 and s["latest_month"]["arrivals"] > 0
    json.dumps(s)  # printable as JSON by the CLI
    again = load_demo(store, directory=tmp_path)
    assert {r.status for r in again} == {"unchanged"}
    assert summary(store)["tables"] == s["tables"]
