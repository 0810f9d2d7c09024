"""Benchmark: forecasting 10,000 synthetic monthly series six months ahead, in-process and on Spark (local mode).

    .venv/bin/python bench/forecast_scale.py [--series 10000] [--years 10] [--horizon 6] [--seed 7]
                                             [--spark-cores 2] [--no-spark] [--no-lgbm] [--parallel]

The series come from Demoland's generator (``onthemove.demo.simulate``), scaled out: ``synthetic_panel``
draws rainfall with the generator's two rainy seasons (``_rainfall``), its drought pressure (``_pressure``:
six-month deficit against normal), droughts and floods in some regions, conflict events (Poisson, with
flare-ups), and each district's departures by reason with the generator's own equations (conflict
40 + 250 x events, drought 5 + 0.3% of the population x pressure^1.5 a month after the rains fail, flood 1.5%
x excess rain, other 20). A series is one district's monthly departures, all reasons; districts are grouped 20
to a region (regions share the rain). Ten years (120 months) per series. The panel is written to
``bench/out/forecast_scale_<series>x<months>_s<seed>.parquet`` and reused.

Every contender runs in a subprocess of its own, so its peak memory is its own:

  in-process statistical  ``foresight.models.statistical`` (AutoETS, AutoARIMA, AutoTheta on log1p(y), the
                          project's settings, ``n_jobs=1`` as the forecast path runs it), intervals 80%
  in-process LightGBM     ``foresight.models.lightgbm`` (one mlforecast/LightGBM model per horizon step with
                          its split-conformal calibration, as the forecast path runs it; no drivers)
  in-process parallel     (--parallel) the same StatsForecast objects with ``n_jobs=-1`` (every core)
  Spark statistical       the same StatsForecast objects (``models._sf_models``, ``fallback_model=Naive()``)
                          given a Spark DataFrame: statsforecast hands it to fugue, which runs the series'
                          groups as Spark tasks on ``local[N]``; the result is transformed back exactly as
                          ``models.statistical`` does (expm1, clip, cap, naive stand-in) and compared with the
                          in-process forecasts. statsforecast's fugue backend declares its output columns
                          float32, so the two agree to float32 rounding (about 1e-7 on the log scale, a
                          relative 2e-7 to 1e-6 after expm1), not bit for bit: the check's tolerance is 1e-5
  LightGBM on Spark       not run: mlforecast's ``DistributedMLForecast`` trains LightGBM on Spark through
                          SynapseML (``SparkLGBMForecast``), which is not a dependency of the project (and
                          needs its own jars); on Dask or Ray it needs those, also not installed

Peak memory: the worker's own ``ru_maxrss`` (the Python process), and for Spark also the largest sampled sum of
the resident memory of the whole process tree (Python driver, the JVM, Spark's Python workers), sampled from
/proc every 0.2 s. Wall times are the calls themselves (data already in memory; Spark: session started,
data handed over as a Spark DataFrame, the result collected to pandas); process start-up and imports are
printed apart.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_hxl import OUT

HORIZON = 6
INTERVAL = 80
PER_REGION = 20
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


# --- the data ------------------------------------------------------------------------------------------------


def synthetic_panel(series: int = 10_000, years: int = 10, seed: int = 7) -> Any:
    """``series`` districts' monthly departures over ``years`` years from the Demoland generator's equations:
    ``unique_id, ds, y, level`` (``level`` adm2: LightGBM uses the admin depth as a feature)."""
    import pandas as pd

    from onthemove.demo.simulate import END, FLARE, _pressure, _rainfall, month_ends

    rng = np.random.default_rng(seed)
    months = month_ends(END, 12 * years)
    n_t, n_d = len(months), series
    n_r = -(-n_d // PER_REGION)
    region_of = np.arange(n_d) // PER_REGION
    rain, normal = _rainfall(rng, months, n_r)
    # the generator gives one region a three-season drought and another a flood; scaled out, one region in
    # eight gets a drought of 10-20 months and one in twenty a two-month flood, at random times
    for r in rng.choice(n_r, size=max(1, n_r // 8), replace=False):
        start, length = int(rng.integers(0, n_t - 10)), int(rng.integers(10, 21))
        rain[start : start + length, r] *= 0.3
    for r in rng.choice(n_r, size=max(1, n_r // 20), replace=False):
        start = int(rng.integers(0, n_t - 2))
        rain[start : start + 2, r] *= 2.6
    pressure = _pressure(rain, normal)
    population = rng.integers(80_000, 450_000, n_d)
    rate = np.tile(rng.uniform(0.3, 1.5, n_d), (n_t, 1))
    # flare-ups of conflict (the generator's last-three-months multipliers) in one region in ten
    for r in rng.choice(n_r, size=max(1, n_r // 10), replace=False):
        start = int(rng.integers(0, n_t - len(FLARE)))
        for k, factor in enumerate(FLARE):
            rate[start + k, region_of == r] *= factor
    events = rng.poisson(rate)
    lagged = np.vstack((pressure[:1], pressure[:-1]))[:, region_of]
    excess = np.clip(rain - 1.3 * normal - 20, 0, None)[:, region_of] / 100
    departures = (
        rng.poisson(40 + 250 * events)
        + rng.poisson(5 + population * 0.003 * lagged**1.5)
        + rng.poisson(population * 0.015 * excess)
        + rng.poisson(np.full((n_t, n_d), 20))
    )
    ds = pd.DatetimeIndex([pd.Timestamp(m.replace(day=1)) for m in months])
    ids = np.array([f"D{d:05d}" for d in range(n_d)])
    return pd.DataFrame(
        {
            "unique_id": np.repeat(ids, n_t),
            "ds": np.tile(ds.to_numpy(), n_d),
            "y": departures.T.reshape(-1).astype("float64"),
            "level": "adm2",
        }
    )


def panel_path(series: int, years: int, seed: int) -> Path:
    return OUT / f"forecast_scale_{series}x{12 * years}_s{seed}.parquet"


def ensure_panel(series: int, years: int, seed: int) -> tuple[Path, float | None]:
    path = panel_path(series, years, seed)
    if path.exists():
        return path, None
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    synthetic_panel(series, years, seed).to_parquet(path, index=False)
    return path, time.perf_counter() - started


# --- memory --------------------------------------------------------------------------------------------------


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


class TreeSampler:
    """Over this process and all its descendants, sampled every 0.2 s: the largest sum of resident memory
    (``peak``), and the CPU seconds used while sampling (``cpu``: each process's last reading less its first;
    a process that lived less than a sample is missed). The machine may be shared: CPU seconds say how much
    work a run did whatever else was running, the wall time how long it took."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval, self.peak = interval, 0
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def cpu(self) -> float:
        return sum(self._last[p] - self._first.get(p, 0.0) for p in self._last)

    def _sample(self, root: int, first: bool) -> None:
        seen: set[int] = set()
        todo, total = [root], 0
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            total += _rss(pid)
            used = _cpu(pid)
            if first:
                self._first[pid] = used
            self._last[pid] = max(self._last.get(pid, 0.0), used)
            todo += _children(pid)
        self.peak = max(self.peak, total)

    def _run(self) -> None:
        root = os.getpid()
        self._sample(root, first=True)
        while not self._stop.wait(self.interval):
            self._sample(root, first=False)
        self._sample(root, first=False)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- the workers (each in its own process) -------------------------------------------------------------------


def _log_frame(panel: Any) -> Any:
    df = panel[["unique_id", "ds", "y"]].copy()
    df["y"] = np.log1p(df["y"].astype("float64"))
    return df


def back_transform(out: Any, panel: Any, horizon: int, interval: float = INTERVAL) -> Any:
    """StatsForecast's output on the log1p scale to the project's long frame, as ``models.statistical`` does."""
    import pandas as pd

    from onthemove.foresight import models as m

    tag = f"{interval:g}"
    parts = []
    for n in m.STATISTICAL:
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": out["unique_id"].astype(str).to_numpy(),
                    "ds": pd.to_datetime(out["ds"]).to_numpy(),
                    "model": n,
                    "mean": np.expm1(out[n].to_numpy(dtype="float64")),
                    "lo": np.expm1(out[f"{n}-lo-{tag}"].to_numpy(dtype="float64")),
                    "hi": np.expm1(out[f"{n}-hi-{tag}"].to_numpy(dtype="float64")),
                }
            )
        )
    result = m.clip(pd.concat(parts, ignore_index=True))
    finite = np.isfinite(result[["mean", "lo", "hi"]].to_numpy()).all(axis=1)
    result = result.loc[finite]
    naive = m.baselines(panel, horizon, interval, names=["naive"])
    stand_in = pd.concat([naive.assign(model=n) for n in m.STATISTICAL], ignore_index=True)
    key = ["unique_id", "ds", "model"]
    found = stand_in[key].merge(result[key], on=key, how="left", indicator=True)["_merge"].to_numpy()
    result = pd.concat([result, stand_in.loc[found == "left_only"]], ignore_index=True)
    result = m.cap(result, panel)
    return result.sort_values(["model", "unique_id", "ds"], ignore_index=True)


def worker(mode: str, panel_file: Path, out_file: Path, horizon: int, cores: int) -> dict[str, Any]:
    import warnings

    import pandas as pd

    from onthemove.foresight import models as m

    warnings.simplefilter("ignore")
    panel = pd.read_parquet(panel_file)
    info: dict[str, Any] = {"mode": mode, "series": int(panel["unique_id"].nunique()), "rows": len(panel)}
    sampler = TreeSampler()
    with sampler:
        if mode == "local-stats":
            started = time.perf_counter()
            result, _ = m.statistical(panel, horizon, INTERVAL)
            info["seconds"] = time.perf_counter() - started
        elif mode == "local-lgbm":
            started = time.perf_counter()
            result = m.lightgbm(panel, None, horizon, INTERVAL)
            info["seconds"] = time.perf_counter() - started
        elif mode == "local-parallel":
            from statsforecast import StatsForecast
            from statsforecast.models import Naive

            started = time.perf_counter()
            sf = StatsForecast(
                models=m._sf_models(m.STATISTICAL, m.SEASON), freq="MS", n_jobs=-1, fallback_model=Naive()
            )
            with np.errstate(all="ignore"):
                out = sf.forecast(df=_log_frame(panel), h=horizon, level=[INTERVAL])
            result = back_transform(out, panel, horizon)
            info["seconds"] = time.perf_counter() - started
        elif mode == "spark-stats":
            from pyspark.sql import SparkSession
            from statsforecast import StatsForecast
            from statsforecast.models import Naive

            # Spark's Python workers run this interpreter (the virtualenv's), not the first python3 on PATH
            os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
            started = time.perf_counter()
            spark = (
                SparkSession.builder.master(f"local[{cores}]")
                .appName("onthemove-forecast-scale")
                .config("spark.driver.memory", "4g")
                .config("spark.sql.shuffle.partitions", str(max(cores * 4, 8)))
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .config("spark.ui.enabled", "false")
                .getOrCreate()
            )
            spark.sparkContext.setLogLevel("ERROR")
            info["spark_start_seconds"] = time.perf_counter() - started
            started = time.perf_counter()
            frame = _log_frame(panel)
            sdf = spark.createDataFrame(frame).repartition(max(cores * 4, 8), "unique_id")
            sf = StatsForecast(
                models=m._sf_models(m.STATISTICAL, m.SEASON), freq="MS", n_jobs=1, fallback_model=Naive()
            )
            spark_out: Any = sf.forecast(df=sdf, h=horizon, level=[INTERVAL])  # a Spark DataFrame
            out = spark_out.toPandas()
            result = back_transform(out, panel, horizon)
            info["seconds"] = time.perf_counter() - started
            info["spark"] = spark.version
            spark.stop()
        else:
            raise SystemExit(f"unknown worker mode {mode!r}")
    info["peak_rss"] = _maxrss()
    info["peak_tree_rss"] = sampler.peak
    info["cpu_seconds"] = sampler.cpu
    info["forecasts"] = len(result)
    result.to_parquet(out_file, index=False)
    return info


def run_worker(mode: str, panel_file: Path, horizon: int, cores: int) -> dict[str, Any]:
    out_file = OUT / f"forecast_scale_{mode}.parquet"
    started = time.perf_counter()
    done = subprocess.run(
        [
            *(sys.executable, __file__, "--worker", mode, "--panel", str(panel_file), "--out", str(out_file)),
            *("--horizon", str(horizon), "--spark-cores", str(cores)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    info = json.loads(done.stdout.strip().splitlines()[-1])
    info["process_seconds"] = time.perf_counter() - started
    info["load_average"] = os.getloadavg()[0]  # anything else running shows here
    info["out"] = str(out_file)
    return info


def compare(a_file: str, b_file: str) -> dict[str, Any]:
    """Largest differences between two forecast frames on the same keys."""
    import pandas as pd

    a, b = pd.read_parquet(a_file), pd.read_parquet(b_file)
    key = ["unique_id", "ds", "model"]
    both = a.merge(b, on=key, how="outer", suffixes=("_a", "_b"), indicator=True)
    unmatched = int((both["_merge"] != "both").sum())
    both = both[both["_merge"] == "both"]
    out: dict[str, Any] = {"rows": len(both), "unmatched": unmatched}
    for c in ("mean", "lo", "hi"):
        x, y = both[f"{c}_a"].to_numpy(dtype="float64"), both[f"{c}_b"].to_numpy(dtype="float64")
        diff = np.abs(x - y)
        out[f"{c}_max_abs"] = float(diff.max()) if diff.size else 0.0
        out[f"{c}_max_rel"] = float((diff / np.maximum(np.abs(x), 1.0)).max()) if diff.size else 0.0
        out[f"{c}_identical"] = float((x == y).mean()) if diff.size else 1.0
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, default=10_000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--horizon", type=int, default=HORIZON)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--spark-cores", type=int, default=os.cpu_count() or 2, help="Spark local[N] (default: every core)")
    ap.add_argument("--no-spark", action="store_true", help="skip the Spark run")
    ap.add_argument("--no-lgbm", action="store_true", help="skip LightGBM")
    ap.add_argument("--parallel", action="store_true", help="also the statistical models in-process on every core")
    ap.add_argument(
        "--rtol", type=float, default=1e-5, help="relative tolerance for 'the same forecasts' (Spark's are float32)"
    )
    ap.add_argument("--table", action="store_true", help="print the table of the last run (bench/out) and stop")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--panel", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        info = worker(args.worker, args.panel, args.out, args.horizon, args.spark_cores)
        print(json.dumps(info), flush=True)
        return info
    if args.table:
        last = json.loads((OUT / "forecast_scale.json").read_text(encoding="utf-8"))
        print_table(last)
        return last

    panel_file, made = ensure_panel(args.series, args.years, args.seed)
    if made is not None:
        print(f"wrote {panel_file.name} ({args.series:,} series x {12 * args.years} months) in {made:.1f}s")
    modes = ["local-stats"]
    if args.parallel:
        modes.append("local-parallel")
    if not args.no_lgbm:
        modes.append("local-lgbm")
    if not args.no_spark:
        modes.append("spark-stats")
    results: dict[str, Any] = {
        "series": args.series,
        "months": 12 * args.years,
        "horizon": args.horizon,
        "cpus": os.cpu_count(),
        "runs": {},
    }
    for mode in modes:
        print(f"running {mode} ...", flush=True)
        results["runs"][mode] = info = run_worker(mode, panel_file, args.horizon, args.spark_cores)
        print(
            f"  {info['seconds']:.1f}s, peak RSS {info['peak_rss'] / 2**20:,.0f} MiB, "
            f"load average {info['load_average']:.2f}",
            flush=True,
        )
    checks = {}
    for other in ("spark-stats", "local-parallel"):
        if other in results["runs"]:
            checks[other] = compare(results["runs"]["local-stats"]["out"], results["runs"][other]["out"])
            worst = max(checks[other][f"{c}_max_rel"] for c in ("mean", "lo", "hi"))
            checks[other]["same"] = checks[other]["unmatched"] == 0 and worst <= args.rtol
    results["checks"], results["rtol"], results["spark_cores"] = checks, args.rtol, args.spark_cores
    path = OUT / "forecast_scale.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print_table(results)
    print(f"\nresults: {path}")
    return results


def print_table(results: dict[str, Any]) -> None:
    series, months, horizon = results["series"], results["months"], results["horizon"]
    print(
        f"\n{series:,} synthetic monthly series x {months} months, {horizon} months ahead, "
        f"{INTERVAL}% intervals, {results['cpus']} CPUs"
    )
    labels = {
        "local-stats": ("in-process", "ETS+ARIMA+Theta", "models.statistical, n_jobs=1"),
        "local-parallel": ("in-process", "ETS+ARIMA+Theta", "same StatsForecast, n_jobs=-1"),
        "local-lgbm": ("in-process", "LightGBM", "models.lightgbm, 1 model per step + calibration"),
        "spark-stats": (
            "Spark local",
            "ETS+ARIMA+Theta",
            f"StatsForecast via fugue, local[{results.get('spark_cores', '?')}]",
        ),
    }
    head = (
        f"{'engine':<12} {'models':<16} {'wall s':>8} {'CPU s':>8} {'series/s':>9} {'peak RSS MiB':>13} "
        f"{'tree RSS MiB':>13} {'load':>5}  note"
    )
    print(head)
    print("-" * len(head))
    for mode, info in results["runs"].items():
        engine, what, note = labels[mode]
        tree = info.get("peak_tree_rss", 0) / 2**20
        rate = info["series"] / info["seconds"] if info["seconds"] else float("nan")
        extra = f"; Spark {info['spark']}, session start {info['spark_start_seconds']:.1f}s" if "spark" in info else ""
        cpu = info.get("cpu_seconds", float("nan"))
        print(
            f"{engine:<12} {what:<16} {info['seconds']:>8.1f} {cpu:>8.1f} {rate:>9.1f} "
            f"{info['peak_rss'] / 2**20:>13,.0f} {tree:>13,.0f} {info.get('load_average', float('nan')):>5.2f}  "
            f"{note}{extra} (process {info['process_seconds']:.1f}s)"
        )
    runs = results["runs"]
    if "local-stats" in runs and "local-lgbm" in runs:
        total = runs["local-stats"]["seconds"] + runs["local-lgbm"]["seconds"]
        print(f"{'in-process':<12} {'both':<16} {total:>8.1f} {'':>8} {series / total:>9.1f}")
    print("LightGBM on Spark: not run (mlforecast's DistributedMLForecast needs SynapseML on Spark; not installed)")
    print("load: the 1-minute load average when the run ended (other work on the machine shows in the wall times)")
    for other, c in results.get("checks", {}).items():
        print(
            f"\nlocal-stats vs {other}: {c['rows']:,} forecasts, {c['unmatched']} unmatched; largest relative "
            f"difference mean {c['mean_max_rel']:.2e}, lo {c['lo_max_rel']:.2e}, hi {c['hi_max_rel']:.2e}; "
            f"bit-identical: mean {c['mean_identical']:.1%}, lo {c['lo_identical']:.1%}, hi {c['hi_identical']:.1%} "
            f"-> {'the same forecasts' if c['same'] else 'DIFFERENT'} (rtol {results.get('rtol', 1e-5):g})"
        )


if __name__ == "__main__":
    main()
