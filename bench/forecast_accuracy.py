"""Benchmark: forecast accuracy on the Somalia case study, the table anyone can rerun.

    .venv/bin/python bench/forecast_accuracy.py [--from 2020-01] [--to 2021-09] [--horizon 3] [--every 1]
                                                [--levels adm0,adm1,adm2] [--store bench/out/store-somalia]

PRMN arrivals 2016-2021 (monthly, by destination), the store built once by examples/somalia/load.sh from
../shared/data (or $SHARED_DATA) and kept in bench/out/store-somalia (the helper of overview_draw.py; skipped,
with a message, when the data is absent). ``onthemove.foresight.backtest.run`` forecasts from every origin
(the last month of data used) from --from to --to, --every months apart, one to --horizon months ahead,
with every model (naive, seasonal naive, climatology, expanding mean, ETS, ARIMA, Theta, LightGBM with the
national rainfall as driver, their median ensemble, reconciled over the admin hierarchy) and scores them on
what PRMN recorded: MASE (mean and median over areas), sMAPE, MAE, coverage of the 80% intervals and their
width, and each model's skill (MASE over the best baseline's MASE at the same level and horizon; below 1 beats
every baseline). It prints the table per level and horizon, the ensemble against the best baseline, and says
where the ensemble does NOT beat it. The HTML report goes to bench/out/backtest_somalia.html and the figures to
bench/out/backtest_somalia.json.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_hxl import OUT
from overview_draw import somalia_store

from onthemove.foresight import backtest as bt
from onthemove.store import open_store


def _f(value: Any, fmt: str = ".3f") -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "-"
    return format(x, fmt) if math.isfinite(x) else "-"


def print_tables(result: bt.Backtest) -> None:
    s = result.summary
    for level in result.meta["levels"]:
        for h in sorted(s["h"].unique()):
            part = s[(s["level"] == level) & (s["h"] == h)]
            if part.empty:
                continue
            n = int(part["n_series"].max())
            count = int(part["n_forecasts"].max())
            print(f"\n{level}, {h} month{'s' if h > 1 else ''} ahead ({n} series, {count} forecasts)")
            print(
                f"  {'model':<19} {'MASE':>7} {'median':>7} {'sMAPE':>7} {'MAE':>10} {'cover':>6} "
                f"{'width':>11} {'skill':>6}"
            )
            best = part["mase"].min()
            for r in part.itertuples():
                mark = " <- best MASE" if r.mase == best else ""
                tag = " (b)" if r.model in bt.BASELINES else ""
                print(
                    f"  {r.model + tag:<19} {_f(r.mase):>7} {_f(r.mase_median):>7} {_f(r.smape, '.1f'):>7} "
                    f"{_f(r.mae, ',.0f'):>10} {_f(r.coverage, '.0%'):>6} {_f(r.width, ',.0f'):>11} "
                    f"{_f(r.skill, '.2f'):>6}{mark}"
                )


def print_headline(result: bt.Backtest) -> None:
    s = result.summary
    ens = s[s["model"] == "ensemble"]
    if ens.empty:
        return
    interval = result.meta["interval"]
    print(f"\nthe ensemble against the best baseline (skill < 1: the ensemble is better; {interval}% coverage)")
    print(
        f"  {'level':<5} {'h':>2} {'ensemble':>9} {'best baseline':<15} {'MASE':>7} {'skill':>6} {'cover':>6} "
        f"{'best model':<15}"
    )
    for r in ens.itertuples():
        part = s[(s["level"] == r.level) & (s["h"] == r.h)]
        base = part[part["model"] == r.best_baseline]["mase"].iloc[0]
        top = str(part["model"].iloc[int(part["mase"].to_numpy().argmin())])
        print(
            f"  {r.level:<5} {r.h:>2} {_f(r.mase):>9} {r.best_baseline:<15} {_f(base):>7} {_f(r.skill, '.2f'):>6} "
            f"{_f(r.coverage, '.0%'):>6} {top:<15}"
        )
    short = result.shortfalls()
    if not short:
        print("\nthe ensemble beats the best baseline at every level and horizon")
        return
    print(f"\nwhere the ensemble does NOT beat the best baseline ({len(short)} of {len(ens)} level-horizon pairs):")
    for x in short:
        print(
            f"  {x['level']}, {x['h']} month{'s' if x['h'] > 1 else ''} ahead: ensemble MASE {_f(x['mase'])} "
            f"against {x['best_baseline']} {_f(x['baseline_mase'])} (skill {_f(x['skill'], '.2f')})"
        )


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=OUT / "store-somalia")
    ap.add_argument("--from", dest="start", default="2020-01", help="first origin, YYYY-MM")
    ap.add_argument("--to", dest="end", default="2021-09", help="last origin, YYYY-MM")
    ap.add_argument("--horizon", type=int, default=3)
    ap.add_argument("--every", type=int, default=1, help="months between origins")
    ap.add_argument("--levels", default="adm0,adm1,adm2")
    ap.add_argument("--interval", type=int, default=80)
    ap.add_argument("--html", type=Path, default=OUT / "backtest_somalia.html")
    ap.add_argument("--json", type=Path, default=OUT / "backtest_somalia.json")
    args = ap.parse_args(argv)

    built = somalia_store(args.store)
    if built is None:
        print("skipped: the Somalia data is not in ../shared/data (set SHARED_DATA to where it is)")
        return None
    rows, load = built
    if load is not None:
        print(f"(the Somalia store was built first: {load:.0f}s, kept in {args.store} for the next run)")
    started = time.perf_counter()

    def progress(done: int, total: int, message: str) -> None:
        if ":" not in message:  # one line per origin, not per step
            print(f"  [{time.perf_counter() - started:6.0f}s] {done}/{total} {message}", flush=True)

    store = open_store(args.store)
    try:
        result = bt.run(
            store,
            "movements",
            args.start,
            args.end,
            args.horizon,
            every=args.every,
            interval=args.interval,
            levels=[x.strip() for x in args.levels.split(",") if x.strip()],
            progress=progress,
        )
    finally:
        store.close()
    seconds = time.perf_counter() - started
    origins = result.meta["origins"]
    print(
        f"\nPRMN arrivals ({rows:,} movement records), {len(origins)} origins {origins[0]} to {origins[-1]}, "
        f"1-{args.horizon} months ahead, {args.interval}% intervals; {seconds:.0f}s on {os.cpu_count()} CPUs"
    )
    print("MASE: mean over areas of the per-area MASE (scale: in-sample seasonal naive error up to the origin);")
    print("median: the median over areas; sMAPE 0-200; MAE and width in people; (b): a baseline")
    print_tables(result)
    print_headline(result)
    methods: dict[str, int] = {}
    for per_origin in result.meta["reconciliation"].values():
        for method in per_origin.values():
            methods[method] = methods.get(method, 0) + 1
    print(f"\nreconciliation of the ensemble: {', '.join(f'{k} at {v} origins' for k, v in methods.items())}")
    html = bt.report_html(result, args.html, title="Backtest of PRMN arrivals forecasts, Somalia")
    data = result.to_json(args.json)
    print(f"report: {html}\nfigures: {data}")
    return result.to_dict()


if __name__ == "__main__":
    main()
