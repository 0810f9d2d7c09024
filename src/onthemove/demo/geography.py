"""Demoland's map: a wobbly rectangle cut into Voronoi districts, grouped into regions.

Districts are the Voronoi cells of a jittered 6 x 5 grid of seeds; regions are blocks of that
grid (unions of their districts), the country is the union of the regions, so every level nests
exactly. Coordinates are snapped to 1e-4 degrees so shared edges stay identical in the files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon, box

ISO3 = "XDL"
ADM0 = "XD"
COUNTRY = "Demoland"
WEST, SOUTH = 62.0, -8.0  # open ocean: no real border to confuse it with
COLS, ROWS = 6, 5  # districts on a jittered grid of one-degree cells
GRID = 1e-4

REGIONS = ("Avarra", "Belmoor", "Corvana", "Dunmere", "Estavel", "Feloran")
DISTRICTS = (
    ("Avarra Town", "Kessin", "Oldbrook", "Marrow Flats", "Tallis", "Quenby"),
    ("Belmoor", "Dry Ford", "Sarnak", "Hollin", "Ebbridge", "Watchet"),
    ("Corvana City", "Lindqvist", "Port Alder", "Sallow", "Reedmouth", "Caddon"),
    ("Dunmere", "Ashgrove", "Narrowgate", "Ironside"),
    ("Estavel", "Mirren", "Goldhaven", "Strand"),
    ("Feloran", "Highcombe", "Orsk", "Lantry"),
)


@dataclass(frozen=True)
class Area:
    pcode: str
    name: str
    level: int
    parent: str | None
    geometry: shapely.Geometry


def region_of(col: int, row: int) -> int:
    """Regions are 2 x 3 blocks (the southern three) and 2 x 2 blocks (the northern three)."""
    return (0 if row < 3 else 3) + col // 2


def _outline(rng: np.random.Generator) -> Polygon:
    """The country's edge: the grid's rectangle with every 0.25 degree pushed inwards a little."""
    step = 0.25
    east, north = WEST + COLS, SOUTH + ROWS
    pts: list[tuple[float, float]] = []
    for x in np.arange(WEST, east, step):
        pts.append((x, SOUTH + rng.uniform(0, 0.2)))
    for y in np.arange(SOUTH, north, step):
        pts.append((east - rng.uniform(0, 0.2), y))
    for x in np.arange(east, WEST, -step):
        pts.append((x, north - rng.uniform(0, 0.2)))
    for y in np.arange(north, SOUTH, -step):
        pts.append((WEST + rng.uniform(0, 0.2), y))
    return Polygon(pts)


def _snap(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.set_precision(geom, GRID)


def build(rng: np.random.Generator) -> list[Area]:
    """Country, regions and districts, in that order, each with a snapped geometry."""
    outline = _outline(rng)
    cells = [(c, r) for r in range(ROWS) for c in range(COLS)]
    jitter = rng.uniform(-0.25, 0.25, size=(len(cells), 2))
    seeds = [(WEST + c + 0.5 + jx, SOUTH + r + 0.5 + jy) for (c, r), (jx, jy) in zip(cells, jitter, strict=True)]
    frame = box(WEST - 1, SOUTH - 1, WEST + COLS + 1, SOUTH + ROWS + 1)
    voronoi = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=frame, ordered=True)
    polygons = [_snap(shapely.intersection(cell, outline)) for cell in shapely.get_parts(voronoi)]
    members: dict[int, list[int]] = {}
    for i, (c, r) in enumerate(cells):
        members.setdefault(region_of(c, r), []).append(i)
    regions: list[Area] = []
    districts: list[Area] = []
    for reg, idx in sorted(members.items()):
        rcode = f"{ADM0}{reg + 1:02d}"
        regions.append(Area(rcode, REGIONS[reg], 1, ADM0, _snap(shapely.union_all([polygons[i] for i in idx]))))
        for k, i in enumerate(idx):
            districts.append(Area(f"{rcode}{k + 1:02d}", DISTRICTS[reg][k], 2, rcode, polygons[i]))
    country = Area(ADM0, COUNTRY, 0, None, _snap(shapely.union_all([r.geometry for r in regions])))
    return [country, *regions, *districts]


def random_points(rng: np.random.Generator, geom: shapely.Geometry, n: int, digits: int = 5) -> np.ndarray:
    """``n`` points (lon, lat) inside ``geom``, rounded, by rejection sampling in its bounding box."""
    x0, y0, x1, y1 = geom.bounds
    inner = shapely.buffer(geom, -0.02)  # keep clear of the edge so rounding cannot push a point out
    out = np.empty((0, 2))
    while len(out) < n:
        cand = np.round(np.column_stack((rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n))), digits)
        out = np.vstack((out, cand[shapely.contains_xy(inner, cand[:, 0], cand[:, 1])]))
    return out[:n]
