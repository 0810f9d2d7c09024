"""Boundary reading on the OCHA COD-AB Somalia shapefiles (adm0, 18 regions, 74 districts)."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

from onthemove.ingest.boundaries import Boundary, read_boundaries

pytestmark = pytest.mark.acceptance

COD = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "somalia" / "cod-ab"
BBOX = (40.9, -1.7, 51.5, 12.1)  # lon/lat extent of Somalia, with a little margin

if not COD.is_dir():
    pytest.skip(f"real data not available at {COD}", allow_module_level=True)


@pytest.fixture(scope="module")
def levels() -> dict[int, list[Boundary]]:
    return {
        0: read_boundaries(COD / "adm0_country"),
        1: read_boundaries(COD / "adm1_regions"),
        2: read_boundaries(next((COD / "adm2_districts").glob("*.shp"))),
    }


def test_counts_and_levels(levels: dict[int, list[Boundary]]) -> None:
    assert [(b.pcode, b.name, b.admin_level, b.parent_pcode) for b in levels[0]] == [("SO", "Somalia", 0, None)]
    assert len(levels[1]) == 18
    assert len(levels[2]) == 74
    assert all(b.admin_level == 1 and b.parent_pcode == "SO" for b in levels[1])
    assert all(b.admin_level == 2 for b in levels[2])
    assert len({b.pcode for b in levels[2]}) == 74


def test_every_district_has_a_region_parent(levels: dict[int, list[Boundary]]) -> None:
    regions = {b.pcode: b for b in levels[1]}
    assert {b.parent_pcode for b in levels[2]} == set(regions)
    for d in levels[2]:
        inside = shapely.Point(d.centroid_lon, d.centroid_lat)
        assert shapely.from_geojson(regions[str(d.parent_pcode)].geometry).buffer(0.01).contains(inside), d.pcode


def test_simplified_smaller_and_valid(levels: dict[int, list[Boundary]]) -> None:
    for level, items in levels.items():
        full = sum(len(b.geometry) for b in items)
        web = sum(len(b.geometry_web) for b in items)
        print(f"\nadm{level}: {len(items)} boundaries, GeoJSON {full:,} -> {web:,} characters simplified")
        assert web < full
        for b in items:
            geom = shapely.from_geojson(b.geometry)
            assert geom.is_valid and geom.geom_type in {"Polygon", "MultiPolygon"}
            assert not shapely.from_geojson(b.geometry_web).is_empty


def test_points_inside_somalia(levels: dict[int, list[Boundary]]) -> None:
    country = shapely.from_geojson(levels[0][0].geometry).buffer(0.01)
    minx, miny, maxx, maxy = BBOX
    for b in (*levels[1], *levels[2]):
        assert minx <= b.centroid_lon <= maxx and miny <= b.centroid_lat <= maxy, b.pcode
        assert country.contains(shapely.Point(b.centroid_lon, b.centroid_lat)), b.pcode


def test_areas_add_up(levels: dict[int, list[Boundary]]) -> None:
    # The shapefile's own area-km2 says 634,046 km2 for the country; ours is a spherical estimate.
    country = levels[0][0].area_km2
    assert country == pytest.approx(634_046, rel=0.01)
    assert sum(b.area_km2 for b in levels[1]) == pytest.approx(country, rel=0.01)
    assert sum(b.area_km2 for b in levels[2]) == pytest.approx(country, rel=0.01)
