"""Benchmark: loading a large HXL CSV of movements, onthemove vs libhxl vs pandas + DuckDB.

    .venv/bin/python bench/ingest_hxl.py --rows 1000000 [--libhxl-rows 200000] [--profile]

Each contender runs in a subprocess of its own, so its peak memory (ru_maxrss) is its own:
  onthemove  fresh DuckDB store, load_pcodes(synthetic P-codes), ingest(csv, kind="movements"):
             read, map, P-code check, validation of every field, all-or-nothing load
  libhxl     for row in hxl.data(csv): touch every value  (parsing only; no typing, no storing)
  libhxl-schema  hxl.schema(rules).validate(hxl.data(csv)): the same checks as onthemove (required
             fields, date, number >= 0, P-codes and reasons from lists), no storing
  pandas     read_csv(csv, skiprows=[1]) + INSERT INTO a DuckDB table via con.register
             (the same load minus the validation)
The file lives in bench/out/ (git-ignored) and is reused; the same --rows and --seed give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"
CONTENDERS = ["onthemove", "libhxl", "libhxl-schema", "pandas"]
GOALS = {"libhxl": 20.0, "libhxl-schema": 20.0, "pandas": 2.0}
MEMORY_GOAL_MB = 2048


def ensure_data(rows: int, seed: int = 7, fresh: bool = False) -> tuple[Path, Path]:
    """The movements CSV with ``rows`` rows and the P-code list it refers to, written once."""
    from onthemove.demo.scale import write_hxl_csv, write_pcodes

    OUT.mkdir(parents=True, exist_ok=True)
    csv_path = OUT / f"movements_{rows}_s{seed}.csv"
    pcodes = OUT / "xsl_pcodes.csv"
    if fresh or not pcodes.exists():
        write_pcodes(pcodes)
    if fresh or not csv_path.exists():
        started = time.perf_counter()
        partial = csv_path.with_suffix(".partial")
        write_hxl_csv(partial, rows=rows, seed=seed)
        partial.replace(csv_path)
        print(f"wrote {csv_path.name}: {rows:,} rows in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return csv_path, pcodes


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class TimedConnection:
    """Wraps the store's DuckDB connection and times every statement (for --profile)."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self.timings: list[tuple[float, str]] = []

    def _timed(self, name: str, text: str, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = getattr(self._con, name)(text, *args, **kwargs)
        if name == "sql":  # lazy relation: time it when it runs (the pipeline materialises it at once)
            return result
        self.timings.append((time.perf_counter() - started, " ".join(str(text).split())))
        return result

    def execute(self, text: str, *args: Any, **kwargs: Any) -> Any:
        return self._timed("execute", text, *args, **kwargs)

    def executemany(self, text: str, *args: Any, **kwargs: Any) -> Any:
        return self._timed("executemany", text, *args, **kwargs)

    def sql(self, text: str, *args: Any, **kwargs: Any) -> Any:
        return self._timed("sql", text, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def run_onthemove(csv_path: Path, pcodes: Path, profile: bool) -> dict[str, Any]:
    from onthemove.ingest.gazetteer import load_pcodes
    from onthemove.ingest.pipeline import ingest
    from onthemove.store import open_store

    where = OUT / "store-ingest"
    shutil.rmtree(where, ignore_errors=True)
    store = open_store(where)
    started = time.perf_counter()
    load_pcodes(store, pcodes)
    gazetteer = time.perf_counter() - started
    timed = None
    if profile:
        timed = TimedConnection(store.con)  # type: ignore[attr-defined]
        store.con = timed  # type: ignore[attr-defined]
    steps: list[tuple[str, float]] = []

    def step(message: str) -> None:
        steps.append((message, time.perf_counter()))

    started = time.perf_counter()
    report = ingest(store, csv_path, kind="movements", progress=step)
    seconds = time.perf_counter() - started
    steps.append(("(end)", time.perf_counter()))
    store.close()
    out: dict[str, Any] = {
        "rows": report.rows_read,
        "seconds": seconds,
        "gazetteer_seconds": gazetteer,
        "rejected": report.rows_rejected,
        "records": report.records_loaded,
        "steps": [(name, round(steps[i + 1][1] - t, 3)) for i, (name, t) in enumerate(steps[:-1])],
    }
    if timed is not None:
        out["statements"] = [(round(s, 3), text[:400]) for s, text in sorted(timed.timings, reverse=True)[:12]]
    return out


def _import_hxl(notes: list[str]) -> Any:
    try:
        import six  # noqa: F401  # libhxl 5.2 imports six without declaring it
    except ImportError:
        import types

        shim = types.ModuleType("six")
        shim.string_types = (str,)  # type: ignore[attr-defined]  # the only name libhxl uses
        sys.modules["six"] = shim
        notes.append("six is not installed: a one-line shim (six.string_types) stood in")
    import hxl

    return hxl


def _subset(csv_path: Path, rows: int) -> Path:
    """The first ``rows`` data rows (plus header and hashtag rows), for the slow contenders."""
    path = OUT / f"{csv_path.stem}_first{rows}.csv"
    if rows >= int(csv_path.stem.split("_")[1]):
        return csv_path
    if not path.exists():
        with csv_path.open("rb") as src, path.open("wb") as dst:
            for i, line in enumerate(src):
                if i >= rows + 2:
                    break
                dst.write(line)
    return path


def run_libhxl(csv_path: Path, limit: int) -> dict[str, Any]:
    """Plain iteration: libhxl parses each row into a Row; every value is touched."""
    notes: list[str] = []
    hxl = _import_hxl(notes)
    started = time.perf_counter()
    rows = cells = 0
    for row in hxl.data(str(csv_path), hxl.InputOptions(allow_local=True)):
        for value in row.values:
            cells += value is not None
        rows += 1
        if rows >= limit:
            break
    return {"rows": rows, "seconds": time.perf_counter() - started, "cells": cells, "notes": notes}


def run_libhxl_schema(csv_path: Path, limit: int) -> dict[str, Any]:
    """The same checks as onthemove's ingest, as a libhxl schema: required, date, number >= 0, code lists."""
    from onthemove.demo.scale import REASONS, district_codes

    notes: list[str] = []
    hxl = _import_hxl(notes)
    codes = district_codes()
    rules = [
        ["#valid_tag", "#valid_required", "#valid_datatype", "#valid_value+min", "#valid_value+list"],
        ["#date+reported", "true", "date", "", ""],
        ["#adm1+code", "true", "", "", "|".join(sorted({c[:4] for c in codes}))],
        ["#adm2+code", "true", "", "", "|".join(codes)],
        ["#cause+type", "", "", "", "|".join(REASONS)],
        ["#affected+idps", "true", "number", "0", ""],
    ]
    errors: list[Any] = []
    schema = hxl.schema(hxl.data(rules), callback=errors.append)
    subset = _subset(csv_path, limit)
    started = time.perf_counter()
    valid = schema.validate(hxl.data(str(subset), hxl.InputOptions(allow_local=True)))
    seconds = time.perf_counter() - started
    rows = sum(1 for _ in subset.open("rb")) - 2
    return {"rows": rows, "seconds": seconds, "valid": valid, "errors": len(errors), "notes": notes}


def run_pandas(csv_path: Path) -> dict[str, Any]:
    import duckdb
    import pandas as pd

    where = OUT / "pandas-ingest.duckdb"
    where.unlink(missing_ok=True)
    started = time.perf_counter()
    df = pd.read_csv(csv_path, skiprows=[1])
    df.columns = ["date", "adm1", "adm2", "reason", "count"]
    con = duckdb.connect(str(where))
    con.execute("CREATE TABLE movements (date DATE, adm1 VARCHAR, adm2 VARCHAR, reason VARCHAR, count BIGINT)")
    con.register("df", df)
    con.execute("INSERT INTO movements SELECT CAST(date AS DATE), adm1, adm2, reason, count FROM df")
    con.unregister("df")
    con.close()
    return {"rows": len(df), "seconds": time.perf_counter() - started, "engine": "pandas default (C) parser"}


def worker(args: argparse.Namespace) -> None:
    csv_path, pcodes = Path(args.csv), Path(args.pcodes)
    if args.worker == "onthemove":
        result = run_onthemove(csv_path, pcodes, args.profile)
    elif args.worker == "libhxl":
        result = run_libhxl(csv_path, args.libhxl_rows)
    elif args.worker == "libhxl-schema":
        result = run_libhxl_schema(csv_path, args.libhxl_schema_rows)
    else:
        result = run_pandas(csv_path)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def contender(name: str, csv_path: Path, pcodes: Path, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", name, "--csv", str(csv_path), "--pcodes", str(pcodes)]
    cmd += ["--libhxl-rows", str(args.libhxl_rows), "--libhxl-schema-rows", str(args.libhxl_schema_rows)]
    cmd += ["--profile"] if args.profile else []
    print(f"running {name} ...", file=sys.stderr, flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env={**os.environ, "PYTHONHASHSEED": "0"})
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        raise SystemExit(f"{name} failed with exit code {done.returncode}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--libhxl-rows", type=int, default=1_000_000, help="rows libhxl reads; rows/s is extrapolated")
    ap.add_argument("--libhxl-schema-rows", type=int, default=200_000, help="rows libhxl validates (extrapolated)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--only", choices=CONTENDERS, action="append")
    ap.add_argument("--profile", action="store_true", help="time each SQL statement of the onthemove ingest")
    ap.add_argument("--fresh", action="store_true", help="write the data file again")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--csv", help=argparse.SUPPRESS)
    ap.add_argument("--pcodes", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return {}
    csv_path, pcodes = ensure_data(args.rows, args.seed, args.fresh)
    args.libhxl_rows = min(args.libhxl_rows, args.rows)
    args.libhxl_schema_rows = min(args.libhxl_schema_rows, args.rows)
    results = {name: contender(name, csv_path, pcodes, args) for name in args.only or CONTENDERS}
    report(args, csv_path, results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


def report(args: argparse.Namespace, csv_path: Path, results: dict[str, Any]) -> None:
    size = csv_path.stat().st_size / 1e6
    print(f"\ningest of {csv_path.name} ({args.rows:,} rows, {size:,.0f} MB), {os.cpu_count()} CPUs")
    print(f"{'contender':<14} {'rows':>12} {'seconds':>9} {'rows/s':>12} {'peak RSS MB':>12}  note")
    for name in CONTENDERS:
        r = results.get(name)
        if r is None:
            continue
        r["rate"] = r["rows"] / r["seconds"]
        note = ""
        if name.startswith("libhxl") and r["rows"] < args.rows:
            note = f"first {r['rows']:,} rows; rows/s extrapolated to the whole file"
        if name == "onthemove":
            note = f"{r['rejected']} rejected; + {r['gazetteer_seconds']:.2f}s to load the P-codes first"
        note = "; ".join([note, *r.get("notes", [])]).strip("; ")
        line = f"{name:<14} {r['rows']:>12,} {r['seconds']:>9.2f} {r['rate']:>12,.0f} {r['peak_rss_mb']:>12,.0f}"
        print(f"{line}  {note}")
    ours = results.get("onthemove")
    if ours is None:
        return
    print()
    for peer, goal in GOALS.items():
        if peer in results:
            ratio = ours["rate"] / results[peer]["rate"]
            verdict = "meets" if ratio >= goal else "MISSES"
            print(f"onthemove / {peer:<14} {ratio:6.2f}x   (goal >= {goal:g}x: {verdict})")
    peak = ours["peak_rss_mb"]
    verdict = "meets" if peak < MEMORY_GOAL_MB else "MISSES"
    print(f"onthemove peak RSS {peak:,.0f} MB (goal < {MEMORY_GOAL_MB} MB: {verdict})")
    print("onthemove steps: " + ", ".join(f"{name} {s:.2f}s" for name, s in ours["steps"]))
    for seconds, text in ours.get("statements", []):
        print(f"  {seconds:7.3f}s  {text[:160]}")


if __name__ == "__main__":
    main()
