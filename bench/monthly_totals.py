"""Benchmark: monthly totals by district and reason, onthemove's query on DuckDB vs pandas groupby.

    .venv/bin/python bench/monthly_totals.py --rows 1000000 [--repeat 5] [--pg-rows 1000000]

  onthemove  analyse.query.run(store, Query(kind="movements", by=["month", "adm2", "reason"])) on a
             DuckDB store holding the file (loaded once through ingest and kept in bench/out/);
             the query joins the gazetteer for names and returns an Arrow table
  pandas     the same file read once with read_csv (not timed), dates parsed (not timed), then
             df.groupby([month, district, reason])["count"].sum() in memory (timed)
  postgres   the query on PostgreSQL, only when ONTHEMOVE_TEST_PG holds a postgresql:// URL;
             loads --pg-rows rows through ingest (slow: psycopg COPY row by row), then removes them
Times are the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_hxl import OUT, ensure_data

from onthemove.analyse.query import Query, run
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.store import open_store
from onthemove.store.base import Store

GOAL = 5.0
QUERY = Query(kind="movements", by=["month", "adm2", "reason"])


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best and median seconds over ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times), result


def loaded_store(where: Path | str, csv_path: Path, pcodes: Path, rows: int) -> tuple[Store, float | None]:
    """A store holding exactly the file's rows; loads it unless it is already there."""
    store = open_store(where)
    row = store.fetch_one("SELECT count(*) FROM movements")
    if row and row[0] == rows:
        return store, None
    started = time.perf_counter()
    load_pcodes(store, pcodes)
    report = ingest(store, csv_path, kind="movements", replace=True)
    if report.rows_rejected:
        raise SystemExit(f"{csv_path}: {report.rows_rejected} rows rejected; the benchmark expects none")
    return store, time.perf_counter() - started


def pandas_groupby(csv_path: Path, repeat: int) -> tuple[float, float, int, float]:
    import numpy as np
    import pandas as pd

    started = time.perf_counter()
    df = pd.read_csv(csv_path, skiprows=[1], names=["date", "adm1", "adm2", "reason", "count"], header=0)
    df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d")
    read = time.perf_counter() - started

    def groupby() -> pd.Series:
        month = df["date"].to_numpy().astype("datetime64[M]")
        return df.groupby([month, df["adm2"], df["reason"]])["count"].sum()

    best, median, result = timed(groupby, repeat)
    assert int(np.asarray(result).sum()) == int(df["count"].sum())
    return best, median, len(result), read


def postgres(url: str, rows: int, seed: int, repeat: int) -> dict[str, Any]:
    from onthemove.store.batches import remove_rows

    csv_path, pcodes = ensure_data(rows, seed)
    store = open_store(url)
    before = {r[0] for r in store.fetch("SELECT batch_id FROM batches")}
    try:
        started = time.perf_counter()
        load_pcodes(store, pcodes)
        ingest(store, csv_path, kind="movements", replace=True)
        load = time.perf_counter() - started
        best, median, table = timed(lambda: run(store, QUERY), repeat)
        return {"rows": rows, "load": load, "best": best, "median": median, "groups": table.num_rows}
    finally:
        with store.transaction():
            for (batch_id,) in store.fetch("SELECT batch_id FROM batches"):
                if batch_id not in before:
                    remove_rows(store, batch_id)
                    store.execute("DELETE FROM batches WHERE batch_id = $id", {"id": batch_id})
        store.close()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pg-rows", type=int, default=1_000_000, help="rows loaded into PostgreSQL (if configured)")
    args = ap.parse_args(argv)
    csv_path, pcodes = ensure_data(args.rows, args.seed)

    store, load = loaded_store(OUT / f"store-monthly-{args.rows}", csv_path, pcodes, args.rows)
    run(store, QUERY)  # warm-up: the first query reads the file's pages
    best, median, table = timed(lambda: run(store, QUERY), args.repeat)
    store.close()
    pd_best, pd_median, pd_groups, pd_read = pandas_groupby(csv_path, args.repeat)

    print(f"\nmonthly totals by district and reason over {args.rows:,} movements, {os.cpu_count()} CPUs")
    if load is not None:
        print(f"(the store was loaded first: {load:.1f}s, kept in bench/out/ for the next run)")
    print(f"{'contender':<20} {'rows':>12} {'best s':>9} {'median s':>9} {'groups':>8}  note")
    print(f"{'onthemove (DuckDB)':<20} {args.rows:>12,} {best:>9.3f} {median:>9.3f} {table.num_rows:>8,}  with names")
    note = f"read_csv + date parsing {pd_read:.1f}s not counted"
    print(f"{'pandas groupby':<20} {args.rows:>12,} {pd_best:>9.3f} {pd_median:>9.3f} {pd_groups:>8,}  {note}")
    results: dict[str, Any] = {"duckdb": best, "pandas": pd_best, "groups": table.num_rows}
    url = os.environ.get("ONTHEMOVE_TEST_PG", "")
    if url.startswith(("postgresql://", "postgres://")):
        pg = postgres(url, min(args.pg_rows, args.rows), args.seed, args.repeat)
        note = f"on {pg['rows']:,} rows only (loaded in {pg['load']:.1f}s)"
        line = f"{'onthemove (Postgres)':<20} {pg['rows']:>12,} {pg['best']:>9.3f} {pg['median']:>9.3f}"
        print(f"{line} {pg['groups']:>8,}  {note}")
        results["postgres"] = pg
    else:
        print("(PostgreSQL skipped: set ONTHEMOVE_TEST_PG to a postgresql:// URL to include it)")
    ratio = pd_best / best
    print(f"\nDuckDB / pandas  {ratio:.2f}x faster   (goal >= {GOAL:g}x: {'meets' if ratio >= GOAL else 'MISSES'})")
    return results


if __name__ == "__main__":
    main()
