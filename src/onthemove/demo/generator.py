"""Write Demoland as files, so the demo goes through the real ingest path.

Every file is HXL-tagged (or COD-AB-style GeoJSON) and loads without a mapping file. The same
seed gives byte-identical files: one ``numpy.random.default_rng(seed)`` drives everything, in a
fixed order, and nothing depends on the clock.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import mapping

from onthemove.demo.geography import ADM0, COUNTRY, ISO3, Area, build, random_points
from onthemove.demo.simulate import REASONS, World, simulate

SECTORS = ("wash", "shelter", "food_security", "health", "protection", "education")
SECTOR_BASE = (0.6, 0.9, 0.8, 0.3, 0.5, 0.0)
SITE_TYPES = ("informal settlement", "planned camp", "collective centre")
SITE_WORDS = (
    "Acacia", "Riverside", "Market", "Water Tower", "Old Airstrip", "School", "Hilltop", "Wells",
    "Baobab", "Crossroads", "Granary", "Mission", "Quarry", "Station", "Orchard", "Bridge",
)  # fmt: skip
ASSESSMENT_ROUNDS = 4  # quarterly, over the last year
SITE_TOTAL = 150


def _write_csv(path: Path, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]) -> Path:
    """A header row, the HXL hashtag row, then the data; ``columns`` are (header, hashtag) pairs."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([c[0] for c in columns])
        w.writerow([c[1] for c in columns])
        w.writerows(rows)
    return path


def _write_geojson(path: Path, areas: list[Area], by_pcode: dict[str, Area]) -> Path:
    features = []
    for a in areas:
        props: dict[str, str] = {}
        chain = [a]
        while chain[-1].parent:
            chain.append(by_pcode[chain[-1].parent])
        for anc in reversed(chain):
            props[f"admin{anc.level}Pcode"] = anc.pcode
            props[f"admin{anc.level}Name_en"] = anc.name
        geom = json.loads(json.dumps(mapping(a.geometry)), parse_float=lambda s: round(float(s), 4))
        features.append({"type": "Feature", "properties": props, "geometry": geom})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")) + "\n")
    return path


def _pcodes(path: Path, areas: list[Area]) -> Path:
    return _write_csv(
        path,
        [
            ("Location", "#country+code"),
            ("Admin Level", "#geo+admin_level"),
            ("P-Code", "#adm+code"),
            ("Name", "#adm+name"),
            ("Parent P-Code", "#adm+code+parent"),
            ("Valid from date", "#date+start"),
        ],
        ([ISO3, a.level, a.pcode, a.name, a.parent or "", "2023-01-01"] for a in areas),
    )


def _sites(rng: np.random.Generator, path: Path, world: World) -> list[tuple[str, int]]:
    """The site registry at the last month; returns (site code, district index) for the assessments."""
    last = world.stock[-1]
    counts = 1 + rng.multinomial(SITE_TOTAL - len(last), last / last.sum())
    rows, sites = [], []
    for d, district in enumerate(world.districts):
        n = int(counts[d])
        people = rng.dirichlet(np.full(n, 2.0)) * last[d] * rng.uniform(0.3, 0.6)
        points = random_points(rng, district.geometry, n)
        types = rng.choice(len(SITE_TYPES), n, p=[0.6, 0.25, 0.15])
        words = rng.choice(len(SITE_WORDS), n, replace=n > len(SITE_WORDS))
        for k in range(n):
            code = f"XDS-{district.pcode}-{k + 1:03d}"
            individuals = max(20, int(people[k]))
            households = max(4, round(individuals / rng.uniform(5.5, 7.0)))
            kind = SITE_TYPES[types[k]]
            name = f"{SITE_WORDS[words[k]]} {'Camp' if kind == 'planned camp' else 'Site'}"
            lon, lat = points[k]
            updated = world.months[-1].isoformat()
            rows.append([code, name, district.parent, district.pcode, kind, households, individuals])
            rows[-1] += [f"{lat:.5f}", f"{lon:.5f}", updated]
            sites.append((code, d))
    _write_csv(
        path,
        [
            ("Site code", "#loc+code"),
            ("Site name", "#loc+name"),
            ("Region", "#adm1+code"),
            ("District", "#adm2+code"),
            ("Site type", "#loc+type"),
            ("Households", "#population+hh"),
            ("Individuals", "#population+ind"),
            ("Latitude", "#geo+lat"),
            ("Longitude", "#geo+lon"),
            ("Last updated", "#date+updated"),
        ],
        rows,
    )
    return sites


def _displacement(path: Path, world: World) -> Path:
    stock, female = world.stock.tolist(), world.female.tolist()
    rows = (
        [m.isoformat(), d.parent, d.pcode, d.name, stock[t][i], female[t][i], stock[t][i] - female[t][i]]
        for t, m in enumerate(world.months)
        for i, d in enumerate(world.districts)
    )
    return _write_csv(
        path,
        [
            ("Month", "#date+reported"),
            ("Region", "#adm1+code"),
            ("District", "#adm2+code"),
            ("District name", "#adm2+name"),
            ("IDPs", "#affected+idps"),
            ("IDPs female", "#affected+idps+f"),
            ("IDPs male", "#affected+idps+m"),
        ],
        rows,
    )


def _movements(path: Path, world: World) -> Path:
    where = np.nonzero(world.flows)
    dist = world.districts
    rows = (
        [world.months[t].isoformat(), dist[o].parent, dist[o].pcode, dist[d].parent, dist[d].pcode, REASONS[k], n]
        for t, o, d, k, n in zip(*(w.tolist() for w in where), world.flows[where].tolist(), strict=True)
    )
    return _write_csv(
        path,
        [
            ("Month", "#date+reported"),
            ("Origin region", "#adm1+code+origin"),
            ("Origin district", "#adm2+code+origin"),
            ("Arrival region", "#adm1+code+dest"),
            ("Arrival district", "#adm2+code+dest"),
            ("Reason", "#cause+type"),
            ("Arrivals", "#affected+idps"),
        ],
        rows,
    )


def _rainfall(path: Path, world: World) -> Path:
    rows = (
        [m.isoformat(), r.pcode, "rainfall", "rainfall_mm", f"{world.rain[t, j]:.1f}"]
        for t, m in enumerate(world.months)
        for j, r in enumerate(world.regions)
    )
    return _write_csv(
        path,
        [
            ("Month", "#date+occurred"),
            ("Region", "#adm1+code"),
            ("Driver", "#event+type"),
            ("Indicator", "#indicator+code"),
            ("Value", "#indicator+value"),
        ],
        rows,
    )


def _conflict(rng: np.random.Generator, path: Path, world: World) -> Path:
    rows = []
    for n, e in enumerate(world.events, start=1):
        district = world.districts[e.district]
        lon, lat = random_points(rng, district.geometry, 1, digits=4)[0]
        where = [district.parent, district.pcode, f"{lat:.4f}", f"{lon:.4f}"]
        rows.append([f"XDL-E{n:05d}", e.day.isoformat(), *where, "conflict", "events", 1, e.fatalities])
    return _write_csv(
        path,
        [
            ("Event ID", "#event+code"),
            ("Date", "#date+occurred"),
            ("Region", "#adm1+code"),
            ("District", "#adm2+code"),
            ("Latitude", "#geo+lat"),
            ("Longitude", "#geo+lon"),
            ("Driver", "#event+type"),
            ("Indicator", "#indicator+code"),
            ("Value", "#indicator+value"),
            ("Fatalities", "#affected+killed"),
        ],
        rows,
    )


def _assessments(rng: np.random.Generator, path: Path, world: World, sites: list[tuple[str, int]]) -> Path:
    n_t = len(world.months)
    events = np.zeros((n_t, len(world.regions)))
    for e in world.events:
        events[e.month, world.region_of[e.district]] += 1
    tension = np.clip(events / (np.median(events, axis=0) * 3 + 1), 0, 1)
    rows = []
    for t in range(n_t - 1, n_t - 3 * ASSESSMENT_ROUNDS - 1, -3)[::-1]:
        day = world.months[t] - dt.timedelta(days=10)
        for code, d in sites:
            r = world.region_of[d]
            stress = 2.0 + 1.8 * world.pressure[t, r] + 1.5 * tension[t, r]
            for s, sector in enumerate(SECTORS):
                value = int(np.clip(round(stress + SECTOR_BASE[s] + rng.normal(0, 0.7)), 1, 5))
                rows.append([code, day.isoformat(), sector, "severity", value])
    return _write_csv(
        path,
        [
            ("Site code", "#loc+code"),
            ("Assessment date", "#date+assessed"),
            ("Sector", "#sector"),
            ("Indicator", "#indicator+code"),
            ("Value", "#indicator+value"),
        ],
        rows,
    )


# the demo programme's output indicators (people reached with NFI kits, with WASH kits), declared in
# examples/demoland/results.yaml
REPORTED_INDICATORS = ("XDL-OUT-1-NFI", "XDL-OUT-2-WASH")


def _indicator_values(rng: np.random.Generator, path: Path, world: World) -> Path:
    """Reported values of the demo programme's output indicators (people reached with NFI kits, WASH kits):
    actuals per region, quarter and sex for the last two years, the previous year as baseline and a target for
    the last year, as a programme's M&E officer would import them (``onthemove results import``)."""
    months = world.months
    arrivals = world.flows.sum(axis=(1, 3))  # (month, destination district)
    per_region = np.zeros((len(months), len(world.regions)))
    for d in range(len(world.districts)):
        per_region[:, world.region_of[d]] += arrivals[:, d]
    last_year = months[-1].year
    rows: list[list[Any]] = []
    for code in REPORTED_INDICATORS:
        yearly: dict[tuple[int, int], float] = {}
        for r, region in enumerate(world.regions):
            coverage = rng.uniform(0.35, 0.65)
            for year in (last_year - 1, last_year):
                for q in range(1, 5):
                    idx = [t for t, m in enumerate(months) if m.year == year and (m.month - 1) // 3 + 1 == q]
                    if not idx:
                        continue
                    start = dt.date(year, 3 * q - 2, 1)
                    end = (dt.date(year + (q == 4), (3 * q) % 12 + 1, 1)) - dt.timedelta(days=1)
                    reached = int(per_region[idx, r].sum() * coverage * rng.uniform(0.8, 1.2))
                    women = int(reached * rng.uniform(0.5, 0.58))
                    yearly[(r, year)] = yearly.get((r, year), 0.0) + reached
                    for sex, value in (("total", reached), ("f", women), ("m", reached - women)):
                        rows.append([code, "actual", start.isoformat(), end.isoformat(), region.pcode, sex, value])
            base = int(yearly.get((r, last_year - 1), 0.0))
            rows.append(
                [code, "baseline", f"{last_year - 1}-01-01", f"{last_year - 1}-12-31", region.pcode, "total", base]
            )
            target = int(round(base * rng.uniform(1.1, 1.5), -2))
            rows.append([code, "target", f"{last_year}-01-01", f"{last_year}-12-31", region.pcode, "total", target])
    return _write_csv(
        path,
        [
            ("Indicator", "#indicator+code"),
            ("Value type", "#indicator+type"),
            ("Period start", "#date+start"),
            ("Period end", "#date+end"),
            ("Region", "#adm1+code"),
            ("Sex", "#x_sex"),
            ("Value", "#indicator+value+num"),
        ],
        rows,
    )


def generate(directory: str | Path, seed: int = 7) -> dict[str, Path]:
    """Write every Demoland file into ``directory``; keys are in loading order."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    areas = build(rng)
    by_pcode = {a.pcode: a for a in areas}
    world = simulate(rng, areas)
    files: dict[str, Path] = {"pcodes": _pcodes(out / "xdl_pcodes.csv", areas)}
    for level in (0, 1, 2):
        level_areas = [a for a in areas if a.level == level]
        files[f"adm{level}"] = _write_geojson(out / f"xdl_adm{level}.geojson", level_areas, by_pcode)
    site_list = _sites(rng, out / "xdl_sites.csv", world)
    files["sites"] = out / "xdl_sites.csv"
    files["displacement"] = _displacement(out / "xdl_idp_stocks.csv", world)
    files["movements"] = _movements(out / "xdl_movements.csv", world)
    files["rainfall"] = _rainfall(out / "xdl_rainfall.csv", world)
    files["conflict"] = _conflict(rng, out / "xdl_conflict_events.csv", world)
    files["site_assessments"] = _assessments(rng, out / "xdl_site_assessments.csv", world, site_list)
    files["indicator_values"] = _indicator_values(rng, out / "xdl_indicator_values.csv", world)
    return files


# the canonical kind each tabular file loads as (the gazetteer files have loaders of their own)
KIND_OF = {
    "sites": "sites",
    "displacement": "displacement",
    "movements": "movements",
    "rainfall": "driver_events",
    "conflict": "driver_events",
    "site_assessments": "site_assessments",
    "indicator_values": "indicator_values",
}
__all__ = ["ADM0", "COUNTRY", "ISO3", "KIND_OF", "generate"]
