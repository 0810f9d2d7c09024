"""Boundary reading on tiny GeoJSON files written per test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely

from onthemove.ingest.boundaries import read_boundaries
from onthemove.ingest.raw import ReadError


def _square(x: float, y: float, size: float, steps: int = 1) -> list[list[list[float]]]:
    """A square ring; ``steps`` > 1 adds collinear points that simplification may drop."""
    pts: list[list[float]] = []
    corners = [(x, y), (x + size, y), (x + size, y + size), (x, y + size)]
    for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1], strict=True):
        pts += [[ax + (bx - ax) * i / steps, ay + (by - ay) * i / steps] for i in range(steps)]
    return [[*pts, pts[0]]]


def _feature(props: dict[str, Any], coords: Any, kind: str = "Polygon") -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": {"type": kind, "coordinates": coords}}


def _write(tmp_path: Path, features: list[dict[str, Any]], name: str = "b.geojson", **extra: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", **extra, "features": features}))
    return path


@pytest.fixture
def two_regions(tmp_path: Path) -> Path:
    return _write(
        tmp_path,
        [
            _feature(
                {"ADM1_PCODE": "XX01", "ADM1_EN": "North", "ADM0_PCODE": "XX", "ADM0_EN": "Xland"},
                _square(45.0, 1.0, 1.0, steps=50),
            ),
            _feature(
                {"ADM1_PCODE": "XX02", "ADM1_EN": "South", "ADM0_PCODE": "XX", "ADM0_EN": "Xland"},
                _square(45.0, 0.0, 1.0),
            ),
        ],
    )


def test_auto_detects_level_and_fields(two_regions: Path) -> None:
    out = read_boundaries(two_regions)
    assert [(b.pcode, b.name, b.admin_level, b.parent_pcode) for b in out] == [
        ("XX01", "North", 1, "XX"),
        ("XX02", "South", 1, "XX"),
    ]


def test_geometry_web_is_simplified_and_rounded(two_regions: Path) -> None:
    north = read_boundaries(two_regions)[0]
    full, web = shapely.from_geojson(north.geometry), shapely.from_geojson(north.geometry_web)
    assert len(north.geometry_web) < len(north.geometry)
    assert shapely.get_num_coordinates(web) == 5 < shapely.get_num_coordinates(full)
    assert web.equals(full)
    for x, y in shapely.get_coordinates(web):
        assert round(x, 5) == x and round(y, 5) == y


def test_point_inside_and_area(two_regions: Path) -> None:
    north, south = read_boundaries(two_regions)
    assert shapely.from_geojson(north.geometry).contains(shapely.Point(north.centroid_lon, north.centroid_lat))
    # A 1x1 degree cell at the equator is about 111.2 km square.
    assert south.area_km2 == pytest.approx(12364, rel=0.01)
    assert north.area_km2 < south.area_km2  # cos(latitude) shrinks the northern one


def test_level_zero_parent_is_none(two_regions: Path) -> None:
    out = read_boundaries(two_regions, level=0)
    assert [(b.pcode, b.name, b.parent_pcode) for b in out] == [("XX", "Xland", None)]  # merged
    assert out[0].area_km2 == pytest.approx(2 * 12364, rel=0.01)


def test_explicit_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, [_feature({"code": "A1", "label": "Alpha", "up": "A"}, _square(0, 0, 1))])
    (b,) = read_boundaries(path, level=3, pcode_field="code", name_field="label", parent_field="up")
    assert (b.pcode, b.name, b.admin_level, b.parent_pcode) == ("A1", "Alpha", 3, "A")


def test_missing_fields_listed(tmp_path: Path) -> None:
    path = _write(tmp_path, [_feature({"code": "A1"}, _square(0, 0, 1))])
    with pytest.raises(ReadError, match=r"fields: \['code'\]"):
        read_boundaries(path)
    with pytest.raises(ReadError, match="no name field"):
        read_boundaries(path, level=1, pcode_field="code")


def test_repeated_level_is_skipped(tmp_path: Path) -> None:
    # OCHA's Somalia adm0 file repeats admin0 in the admin1 fields; that is still adm0.
    props = {"admin0Pcod": "SO", "admin0Name": "Somalia", "admin1Pcod": "SO", "admin1Name": "Somalia"}
    (b,) = read_boundaries(_write(tmp_path, [_feature(props, _square(45, 0, 1))]))
    assert (b.pcode, b.admin_level, b.parent_pcode) == ("SO", 0, None)


def test_invalid_geometry_made_valid(tmp_path: Path) -> None:
    bowtie = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]
    path = _write(tmp_path, [_feature({"admin1Pcode": "B1", "admin1Name_en": "Bow"}, bowtie)])
    (b,) = read_boundaries(path)
    geom = shapely.from_geojson(b.geometry)
    assert geom.is_valid and geom.geom_type in {"Polygon", "MultiPolygon"}
    assert geom.area == pytest.approx(0.5)


def test_folder_with_one_file(tmp_path: Path, two_regions: Path) -> None:
    assert len(read_boundaries(tmp_path)) == 2
    _write(tmp_path, [], name="other.geojson")
    with pytest.raises(ReadError, match="expected one"):
        read_boundaries(tmp_path)


def test_other_crs_rejected(tmp_path: Path) -> None:
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    path = _write(tmp_path, [_feature({"ADM1_PCODE": "A", "ADM1_EN": "A"}, _square(0, 0, 1000))], crs=crs)
    with pytest.raises(ReadError, match="EPSG:3857"):
        read_boundaries(path)


def test_unreadable_and_missing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text("not json")
    with pytest.raises(ReadError):
        read_boundaries(bad)
    with pytest.raises(ReadError, match="not found"):
        read_boundaries(tmp_path / "nope.shp")
