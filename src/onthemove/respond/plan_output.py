"""A distribution plan as a file: CSV (one row per site and package), XLSX (plan, packages, summary, greedy
comparison, budget sensitivity), GeoJSON (one point per site) or a self-contained HTML map (inline SVG over the
store's admin boundaries; nothing is fetched)."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from onthemove.respond.allocate import TOL, Allocation
from onthemove.respond.plan_spec import PlanError
from onthemove.store.base import Store

SUFFIXES = (".csv", ".xlsx", ".geojson", ".html")
# phases 1-5: the usual severity ramp (light yellow to dark red)
COLOURS = {1: "#ffffb2", 2: "#fecc5c", 3: "#fd8d3c", 4: "#f03b20", 5: "#99000d"}


def write_plan(result: Allocation, path: str | Path, store: Store | None = None) -> Path:
    """Write the plan in the format its suffix names; the HTML map draws the store's adm1 boundaries."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise PlanError(f"--out {path.name}: expected a file ending in {', '.join(SUFFIXES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        result.plan().to_csv(path, index=False)
    elif suffix == ".xlsx":
        _xlsx(result, path)
    elif suffix == ".geojson":
        path.write_text(json.dumps(site_features(result), default=_plain), encoding="utf-8")
    else:
        shapes = boundaries(store) if store is not None else []
        path.write_text(map_html(result, shapes), encoding="utf-8")
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    return str(value)


def _xlsx(result: Allocation, path: Path) -> None:
    summary = result.summary()
    head = [{"field": k, "value": v} for k, v in summary.items() if not isinstance(v, list)]
    head += [{"field": "note", "value": n} for n in summary["notes"]]
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        result.plan().to_excel(writer, sheet_name="plan", index=False)
        result.by_package().to_excel(writer, sheet_name="packages", index=False)
        pd.DataFrame(head).to_excel(writer, sheet_name="summary", index=False)
        pd.DataFrame(summary["gains"]).to_excel(writer, sheet_name="vs greedy", index=False)
        if result.sensitivity:
            rows = [
                {**r, "enter": ", ".join(r.get("enter", [])), "leave": ", ".join(r.get("leave", []))}
                for r in result.sensitivity
            ]
            pd.DataFrame(rows).to_excel(writer, sheet_name="sensitivity", index=False)


def site_table(result: Allocation) -> pd.DataFrame:
    """One row per site that receives something: units and people per package, cost."""
    plan = result.plan()
    if plan.empty:
        return pd.DataFrame(columns=["site_id", "name", "latitude", "longitude", "severity", "cost"])
    pairs = result.problem.pairs.drop_duplicates("site_id").set_index("site_id")
    units = plan.pivot_table(index="site_id", columns="package", values="units", aggfunc="sum", fill_value=0)
    people = plan.pivot_table(index="site_id", columns="package", values="people_covered", aggfunc="sum", fill_value=0)
    out = pairs.loc[units.index, ["rank", "name", "adm1", "adm2", "latitude", "longitude", "site_severity"]]
    out = out.rename(columns={"site_severity": "severity"})
    for p in units.columns:
        out[f"units_{p}"] = units[p]
        out[f"people_{p}"] = people[p]
    out["cost"] = plan.groupby("site_id")["cost"].sum()
    return out.reset_index().sort_values("rank")


def site_features(result: Allocation) -> dict[str, Any]:
    """GeoJSON FeatureCollection: one point per site that receives something (sites without coordinates are
    left out and counted in the collection's ``properties``)."""
    table = site_table(result)
    located = table.dropna(subset=["latitude", "longitude"])
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(r["longitude"]), float(r["latitude"])]},
            "properties": {k: v for k, v in r.items() if k not in ("latitude", "longitude") and not _missing(v)},
        }
        for r in located.to_dict("records")
    ]
    return {
        "type": "FeatureCollection",
        "properties": {
            "plan": result.spec.name,
            "currency": result.spec.currency,
            "sites_without_coordinates": len(table) - len(located),
        },
        "features": features,
    }


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def boundaries(store: Store, level: int = 1) -> list[dict[str, Any]]:
    """The store's simplified boundary geometries (GeoJSON) at an admin level, for the map's background."""
    rows = store.fetch(
        "SELECT g.geometry_web FROM place_geometries g JOIN places p ON p.pcode = g.pcode WHERE p.admin_level = $level",
        {"level": level},
    )
    return [json.loads(r[0]) for r in rows if r[0]]


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry.get("type") == "Polygon":
        return list(geometry["coordinates"])
    if geometry.get("type") == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


def map_html(result: Allocation, shapes: list[dict[str, Any]], width: int = 900) -> str:
    """A self-contained HTML page: the plan's sites on an SVG map (circle area = people covered, colour = the
    site's overall severity; grey dots: eligible sites left out; crosses: unreachable sites), with the summary."""
    needs = result.needs
    sites = needs.sites if needs is not None else result.problem.pairs.drop_duplicates("site_id")
    served = site_table(result)
    points = sites.dropna(subset=["latitude", "longitude"])
    lons = [float(x) for x in points["longitude"]] + [c[0] for s in shapes for r in _rings(s) for c in r]
    lats = [float(x) for x in points["latitude"]] + [c[1] for s in shapes for r in _rings(s) for c in r]
    if not lons:
        lons, lats = [0.0, 1.0], [0.0, 1.0]
    x0, x1, y0, y1 = min(lons), max(lons), min(lats), max(lats)
    kx = math.cos(math.radians((y0 + y1) / 2))
    span = max((x1 - x0) * kx, y1 - y0, 1e-9)
    scale = (width - 20) / span
    height = int((y1 - y0) * scale) + 20

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return 10 + (lon - x0) * kx * scale, 10 + (y1 - lat) * scale

    parts: list[str] = []
    for shape in shapes:
        for ring in _rings(shape):
            d = " ".join(f"{a:.1f},{b:.1f}" for a, b in (xy(c[0], c[1]) for c in ring))
            parts.append(f'<polygon points="{d}" fill="#f4f4f4" stroke="#999" stroke-width="0.6"/>')
    out = set(result.problem.unreachable)
    got = set(served["site_id"])
    for r in points.to_dict("records"):
        if r["site_id"] in got:
            continue
        x, y = xy(float(r["longitude"]), float(r["latitude"]))
        if r["site_id"] in out:
            parts.append(f'<path d="M{x - 2:.1f},{y - 2:.1f}l4,4m0,-4l-4,4" stroke="#333" stroke-width="0.8"/>')
        else:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.2" fill="#bbb"/>')
    people_cols = [c for c in served.columns if c.startswith("people_")]
    total = served[people_cols].sum(axis=1) if people_cols else pd.Series(0.0, index=served.index)
    top = float(total.max()) if len(total) else 1.0
    for r, people in sorted(zip(served.to_dict("records"), total, strict=True), key=lambda t: -t[1]):
        if _missing(r["latitude"]) or _missing(r["longitude"]):
            continue
        x, y = xy(float(r["longitude"]), float(r["latitude"]))
        radius = 1.5 + 10 * math.sqrt(max(people, 0) / max(top, TOL))
        colour = COLOURS.get(int(r["severity"]), "#888")
        label = html.escape(f"{r['name']} ({r['site_id']}): {people:,.0f} people covered, {r['cost']:,.0f}")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{colour}" fill-opacity="0.75" '
            f'stroke="#333" stroke-width="0.3"><title>{label}</title></circle>'
        )
    s = result.summary()
    legend = " ".join(
        f'<span style="background:{c};padding:0 8px;border:1px solid #999"></span> {p}' for p, c in COLOURS.items()
    )
    rows = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in s.items()
        if not isinstance(v, list)
    )
    gains = "".join(
        f"<li>{html.escape(g['baseline'])}: {g['baseline_objective']:,.0f} "
        f"(gain {'-' if g['gain'] is None else format(g['gain'], '.2%')})</li>"
        for g in s["gains"]
    )
    title = html.escape(f"{result.spec.name}: {result.spec.currency} {result.spec.budget:,.0f}")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body style='font-family:sans-serif'><h1>{title}</h1>"
        f"<p>Circle area: people covered (all packages); colour: the site's overall severity {legend}. "
        f"Grey dots: eligible sites the plan leaves out; crosses: unreachable sites.</p>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(parts)}</svg>'
        f"<h2>Summary</h2><table>{rows}</table><h2>Against greedy</h2><ul>{gains}</ul></body></html>"
    )
