"""Load Demoland into a store through the real loaders, and summarise what a store holds."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from onthemove.analyse.query import Query, run
from onthemove.demo.generator import KIND_OF, generate
from onthemove.ingest.gazetteer import load_boundaries, load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.ingest.report import BatchReport
from onthemove.store.base import Store

ATTRIBUTION = "onthemove demo: synthetic data for the fictional country Demoland"
LICENCE = "CC0-1.0"
TABLES = (
    "places",
    "place_geometries",
    "sites",
    "site_assessments",
    "displacement",
    "movements",
    "driver_events",
    "indicator_values",
    "rejections",
)


def load_demo(
    store: Store,
    directory: str | Path | None = None,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> list[BatchReport]:
    """Generate Demoland (into a temporary folder unless ``directory`` is given) and load every file.

    Loading again is harmless: the same seed writes the same bytes, which are recognised as batches
    already loaded.
    """
    say = progress or (lambda _msg: None)
    where: AbstractContextManager[str | Path] = (
        tempfile.TemporaryDirectory(prefix="onthemove-demo-") if directory is None else nullcontext(directory)
    )
    reports: list[BatchReport] = []
    with where as folder:
        say(f"writing the demo files (seed {seed})")
        files = generate(folder, seed=seed)
        say(f"loading {files['pcodes'].name}")
        reports.append(load_pcodes(store, files["pcodes"]))
        for level in (0, 1, 2):
            path = files[f"adm{level}"]
            say(f"loading {path.name}")
            reports.append(load_boundaries(store, path))
        for key, kind in KIND_OF.items():
            say(f"loading {files[key].name} as {kind}")
            reports.append(ingest(store, files[key], kind=kind, attribution=ATTRIBUTION, licence=LICENCE))
    return reports


def is_empty(store: Store) -> bool:
    """True when no batch is loaded (rolled-back and superseded batches do not count)."""
    row = store.fetch_one("SELECT count(*) FROM batches WHERE status = 'loaded'")
    return not (row and row[0])


def _count(store: Store, table: str) -> int:
    row = store.fetch_one(f"SELECT count(*) FROM {table}")
    return int(row[0]) if row else 0


def summary(store: Store) -> dict[str, Any]:
    """Counts per table, loaded batches by kind, the date range, and the totals of the latest month."""
    batches = {
        str(kind): int(n)
        for kind, n in store.fetch(
            "SELECT kind, count(*) FROM batches WHERE status = 'loaded' GROUP BY kind ORDER BY kind"
        )
    }
    spans = [
        store.fetch_one(f"SELECT min(date), max(date) FROM {t}") for t in ("displacement", "movements", "driver_events")
    ]
    starts = [s[0] for s in spans if s and s[0] is not None]
    ends = [s[1] for s in spans if s and s[1] is not None]
    return {
        "tables": {t: _count(store, t) for t in TABLES},
        "batches": sum(batches.values()),
        "batches_by_kind": batches,
        "date_range": {
            "start": min(starts).isoformat() if starts else None,
            "end": max(ends).isoformat() if ends else None,
        },
        "latest_month": _latest_month(store),
    }


def _latest_month(store: Store) -> dict[str, Any]:
    """IDPs present (latest stock report per area) and arrivals by reason in the latest month of data."""
    idps = run(store, Query(kind="displacement", by=["month"])).to_pylist()
    moves = run(store, Query(kind="movements", by=["month", "reason"])).to_pylist()
    months = [r["month"] for r in (*idps, *moves) if r.get("month")]
    if not months:
        return {"month": None, "idps": None, "arrivals": None, "arrivals_by_reason": {}}
    month = max(months)
    by_reason = {str(r["reason"]): int(r["count"]) for r in moves if r["month"] == month}
    stock = next((int(r["count"]) for r in idps if r["month"] == month), None)
    return {
        "month": month,
        "idps": stock,
        "arrivals": sum(by_reason.values()) if by_reason else None,
        "arrivals_by_reason": by_reason,
    }
