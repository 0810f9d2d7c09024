"""Read administrative boundaries (COD-AB shapefiles or GeoJSON) into plain records.

Only what the platform needs is kept: P-code, name, level, parent, the full geometry, a
simplified copy small enough to send to a browser or phone, an inside point for labels and
an approximate area. No geopandas: pyogrio hands over WKB and shapely does the rest.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from shapely.geometry import mapping

from onthemove.ingest.raw import ReadError

# Simplification tolerance in degrees (~1.1 km at 0.01): coarser levels are shown zoomed out.
TOLERANCE = {0: 0.01, 1: 0.01, 2: 0.005, 3: 0.002}
DEFAULT_TOLERANCE = 0.001
EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
WGS84 = {"EPSG:4326", "OGC:CRS84"}

# COD-AB field conventions: admin1Pcod (shapefile, 10-char names), admin1Pcode, ADM1_PCODE;
# admin1Name, admin1Name_en, ADM1_EN, ADM1_NAME.
_PCODE = re.compile(r"^(?:admin(\d)pcode?|adm(\d)_pcode)$", re.IGNORECASE)
_NAME = [
    re.compile(p, re.IGNORECASE)
    for p in (r"^admin(\d)name_en$", r"^adm(\d)_en$", r"^admin(\d)name$", r"^adm(\d)_name$")
]


@dataclass(frozen=True)
class Boundary:
    pcode: str
    name: str
    admin_level: int
    parent_pcode: str | None
    geometry: str  # full geometry as GeoJSON text (EPSG:4326)
    geometry_web: str  # simplified, coordinates rounded to 5 decimals (~1 m)
    centroid_lat: float  # representative point: always inside, unlike a centroid
    centroid_lon: float
    area_km2: float  # approximate, see _area_km2


def _level_fields(fields: list[str], patterns: list[re.Pattern[str]]) -> dict[int, str]:
    """Map admin level -> field name; earlier patterns win (English names before others)."""
    out: dict[int, str] = {}
    for pat in patterns:
        for f in fields:
            m = pat.match(f)
            if m:
                out.setdefault(int(next(g for g in m.groups() if g is not None)), f)
    return out


def _source_file(path: Path) -> Path:
    if path.is_dir():
        found = sorted([*path.glob("*.shp"), *path.glob("*.geojson"), *path.glob("*.json")])
        if len(found) != 1:
            raise ReadError(str(path), f"expected one .shp or .geojson in the folder, found {len(found)}")
        return found[0]
    if not path.exists():
        raise ReadError(str(path), "file not found")
    return path


def _area_km2(geom: shapely.Geometry) -> float:
    """Area on a sphere via the sinusoidal projection (x scaled by cos(lat) at each vertex).

    That projection is equal-area, so the only error is the sphere-vs-ellipsoid difference
    (well under 1%) and straight edges between vertices: enough for densities and display.
    """
    k = math.pi / 180 * EARTH_RADIUS_KM

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack((xy[:, 0] * np.cos(np.radians(xy[:, 1])) * k, xy[:, 1] * k))

    return float(shapely.area(shapely.transform(geom, project)))


def _rounded(obj: Any, digits: int = 5) -> Any:
    if isinstance(obj, float):
        return round(obj, digits)
    if isinstance(obj, list | tuple):
        return [_rounded(o, digits) for o in obj]
    if isinstance(obj, dict):
        return {k: _rounded(v, digits) for k, v in obj.items()}
    return obj


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """2-D, valid and polygonal: make_valid may leave stray lines/points from self-touching rings."""
    geom = shapely.force_2d(geom)
    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom)
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(parts)
    return geom


def _boundary(pcode: str, name: str, level: int, parent: str | None, geom: shapely.Geometry) -> Boundary:
    web = shapely.simplify(geom, TOLERANCE.get(level, DEFAULT_TOLERANCE), preserve_topology=True)
    if web.is_empty:
        web = geom
    point = geom.representative_point()
    return Boundary(
        pcode=pcode,
        name=name,
        admin_level=level,
        parent_pcode=parent,
        geometry=shapely.to_geojson(geom),
        geometry_web=json.dumps(_rounded(mapping(web)), separators=(",", ":")),
        centroid_lat=point.y,
        centroid_lon=point.x,
        area_km2=_area_km2(geom),
    )


def read_boundaries(
    path: str | Path,
    level: int | None = None,
    pcode_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
) -> list[Boundary]:
    """Boundaries of one admin level from a shapefile (or its folder) or GeoJSON, in EPSG:4326.

    Fields not given are found by COD-AB conventions. Without ``level`` it is the highest N
    with a P-code field, skipping a level that merely repeats the one above: some adm0 files
    (Somalia's) carry admin1Pcod = admin0Pcod = "SO". Features sharing a P-code are merged.
    """
    src = _source_file(Path(path))
    source = str(src)
    try:
        meta, _, wkb, columns = pyogrio.raw.read(src)
    except Exception as exc:  # pyogrio raises several DataSource/Field error types
        raise ReadError(source, f"cannot read boundaries: {exc}") from exc
    crs = meta.get("crs")
    if crs not in WGS84:
        raise ReadError(source, f"CRS is {crs or 'not declared'}; reproject to EPSG:4326 first")
    fields = [str(f) for f in meta["fields"]]
    data = {f: list(col) for f, col in zip(fields, columns, strict=True)}
    pcodes, names = _level_fields(fields, [_PCODE]), _level_fields(fields, _NAME)

    def text(field: str, i: int) -> str | None:
        v = data[field][i]
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip() or None

    def repeats_parent(n: int) -> bool:
        return n - 1 in pcodes and all(text(pcodes[n], i) == text(pcodes[n - 1], i) for i in range(len(wkb)))

    if level is None and pcode_field is not None:
        m = _PCODE.match(pcode_field)
        level = int(next(g for g in m.groups() if g is not None)) if m else None
    if level is None:
        levels = sorted((n for n in pcodes if not repeats_parent(n)), reverse=True)
        if not levels:
            raise ReadError(source, f"no admin P-code field (e.g. admin1Pcod, ADM1_PCODE); fields: {fields}")
        level = levels[0]
    pcode_field = pcode_field or pcodes.get(level)
    name_field = name_field or names.get(level)
    parent_field = parent_field or (pcodes.get(level - 1) if level > 0 else None)
    for role, f in (("P-code", pcode_field), ("name", name_field), ("parent", parent_field)):
        if (f is None and role != "parent") or (f is not None and f not in data):
            raise ReadError(source, f"no {role} field for admin level {level} ({f or 'not found'}); fields: {fields}")
    assert pcode_field is not None and name_field is not None

    merged: dict[str, tuple[str, str | None, list[shapely.Geometry]]] = {}
    for i, geom in enumerate(shapely.from_wkb(wkb)):
        pcode, name = text(pcode_field, i), text(name_field, i)
        if pcode is None or name is None:
            raise ReadError(source, f"feature {i + 1} has no P-code or name", column=pcode_field)
        if geom is None or geom.is_empty:
            raise ReadError(source, f"feature {i + 1} ({pcode}) has no geometry")
        parent = text(parent_field, i) if parent_field else None
        merged.setdefault(pcode, (name, parent, []))[2].append(_polygonal(geom))
    return [
        _boundary(pc, name, level, parent, geoms[0] if len(geoms) == 1 else _polygonal(shapely.union_all(geoms)))
        for pc, (name, parent, geoms) in merged.items()
    ]
