"""Benchmark: onthemove's simulation against Flee 3.1 (PyPI) on the three shared Flee conflicts, side by side.

    .venv/bin/python bench/simulate_flee.py [--cases mali2012,burundi2015,ssudan2013] [--scenarios 1000]
                                            [--workers 2] [--calibrate] [--rerun-flee] [--flee-seed 1]

  Flee 3.1   installed from PyPI into its own venv, bench/out/flee-venv (made here when missing:
             python3.11 -m venv bench/out/flee-venv && bench/out/flee-venv/bin/pip install flee==3.1).
             The case's input_csv/ is copied to bench/out/flee31/<case>/ with sim_period.csv copied to
             conflict_period.csv, and Flee's run.py (the 3.1 validation driver, written out below, seeded) runs
             it with rulesets/simsetting.yml (the default Flee 3 rule set); its out.csv is scored with Flee's own
             postprocessing/extract-validation-results.py ("Error (rescaled)") and with onthemove's score.py,
             which must agree. Flee runs take minutes to the best part of an hour: out.csv and the wall time are
             kept in bench/out/flee31/<case>/ and reused unless --rerun-flee.
  onthemove  the same inputs, expected-value mode: the port of Flee 3's rules (flee3) and onthemove's rule
             set (onthemove); wall time is the best of --repeat runs of read + simulate + score.
  scenarios  --scenarios random scenarios of Mali 2012 (a border closes, a town flares up, a camp's capacity
             changes, the camp weight moves), each a full 300-day expected-value run with its ARD, on --workers
             processes; fewer than 1,000 are extrapolated to 1,000 (and the table says so).
  calibrate  --calibrate: each conflict fitted on its first half, scored on the second half (out of sample),
             next to Flee 3.1's ARD on the same days; and each conflict run with rules fitted on the other two
             (leave one out). Minutes.
Results go to bench/out/simulate_flee.json. Goals stated in the issue: ARD below Flee 3.1's on every conflict,
at least 50x faster, 1,000 Mali scenarios in under 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
FLEE_VENV = OUT / "flee-venv"
FLEE_DIR = OUT / "flee31"
SHARED = Path(os.environ.get("SHARED_DATA", ROOT.parent / "shared" / "data")) / "flee"
CASES = ("mali2012", "burundi2015", "ssudan2013")
SPEED_GOAL = 50.0
SCENARIO_GOAL_S = 600.0

# Flee 3.1's run.py (the validation driver of the Flee repository for 3.1: conflict_period.csv, YAML settings,
# conflicts.csv read, initial camp populations, spawning from the observed total), with a seed argument added.
FLEE_RUN = """\
import random
import sys
from datetime import datetime, timedelta

import numpy as np
from flee import InputGeography, flee, spawning
from flee.datamanager import handle_refugee_data, read_period
from flee.postprocessing import analysis as a

if __name__ == "__main__":
    if len(sys.argv) > 5:
        random.seed(int(sys.argv[5]))
        np.random.seed(int(sys.argv[5]))
    start_date, end_time = read_period.read_conflict_period("{}/conflict_period.csv".format(sys.argv[1]))
    input_csv_directory = sys.argv[1]
    validation_data_directory = sys.argv[2]
    if int(sys.argv[3]) > 0:
        end_time = int(sys.argv[3])
    flee.SimulationSettings.ReadFromYML(sys.argv[4])
    flee.SimulationSettings.ConflictInputFile = "%s/conflicts.csv" % input_csv_directory
    e = flee.Ecosystem()
    ig = InputGeography.InputGeography()
    ig.ReadConflictInputCSV(flee.SimulationSettings.ConflictInputFile)
    ig.ReadLocationsFromCSV("%s/locations.csv" % input_csv_directory)
    ig.ReadLinksFromCSV("%s/routes.csv" % input_csv_directory)
    ig.ReadClosuresFromCSV("%s/closures.csv" % input_csv_directory)
    e, lm = ig.StoreInputGeographyInEcosystem(e)
    d = handle_refugee_data.RefugeeTable(
        csvformat="generic", data_directory=validation_data_directory, start_date=start_date,
        data_layout="data_layout.csv"
    )
    d.ReadL1Corrections("%s/registration_corrections.csv" % input_csv_directory)
    output_header_string = "Day,Date,"
    camp_locations = e.get_camp_names()
    for l in camp_locations:
        spawning.add_initial_refugees(e, d, lm[l])
        output_header_string += "%s sim,%s data,%s error," % (lm[l].name, lm[l].name, lm[l].name)
    output_header_string += ("Total error,refugees in camps (UNHCR),total refugees (simulation),"
                             "raw UNHCR refugee count,refugees in camps (simulation),refugee_debt")
    print(output_header_string)
    for t in range(0, end_time):
        ig.AddNewConflictZones(e, t)
        new_refs, refugees_raw, refugee_debt = spawning.spawn_daily_displaced(e, t, d)
        spawning.refresh_spawn_weights(e)
        e.enact_border_closures(t)
        e.evolve()
        errors = []
        abs_errors = []
        loc_data = []
        camps = []
        for i in camp_locations:
            camps += [lm[i]]
            loc_data += [d.get_field(i, t)]
        refugees_in_camps_sim = 0
        for c in camps:
            refugees_in_camps_sim += c.numAgents
        j = 0
        for i in camp_locations:
            errors += [a.rel_error(lm[i].numAgents, loc_data[j])]
            abs_errors += [a.abs_error(lm[i].numAgents, loc_data[j])]
            j += 1
        date = datetime.strptime(start_date, "%Y-%m-%d") + timedelta(days=t)
        output = "%s,%s" % (t, date.strftime("%Y-%m-%d"))
        for i in range(0, len(errors)):
            output += ",%s,%s,%s" % (lm[camp_locations[i]].numAgents, loc_data[i], errors[i])
        if refugees_raw > 0:
            output += ",%s,%s,%s,%s,%s,%s" % (float(np.sum(abs_errors)) / float(refugees_raw), int(sum(loc_data)),
                                              e.numAgents(), refugees_raw, refugees_in_camps_sim, refugee_debt)
        else:
            output += ",0,0,0,0,0,0"
        print(output)
"""


def ensure_flee() -> Path:
    python = FLEE_VENV / "bin" / "python"
    if python.exists():
        return python
    print("installing Flee 3.1 from PyPI into bench/out/flee-venv ...", flush=True)
    subprocess.run(["python3.11", "-m", "venv", str(FLEE_VENV)], check=True)
    subprocess.run([str(FLEE_VENV / "bin" / "pip"), "install", "--quiet", "flee==3.1"], check=True)
    return python


def run_flee(case: str, seed: int, rerun: bool) -> dict[str, Any]:
    """Flee 3.1 on one case (cached): wall time, ARD by Flee's script and by onthemove's scoring."""
    from onthemove.foresight.simulate.score import flee_out_ard

    work = FLEE_DIR / case
    out_csv = work / "out.csv"
    timing = work / "timing.json"
    if rerun or not (out_csv.exists() and timing.exists()):
        python = ensure_flee()
        work.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(work / "input_csv", ignore_errors=True)
        shutil.copytree(SHARED / case / "input_csv", work / "input_csv")
        shutil.copy(work / "input_csv" / "sim_period.csv", work / "input_csv" / "conflict_period.csv")
        runner = FLEE_DIR / "run_flee31.py"
        runner.write_text(FLEE_RUN, encoding="utf-8")
        args = [str(python), str(runner), "input_csv", str(SHARED / case / "source_data"), "0"]
        args += [str(SHARED / "rulesets" / "simsetting.yml"), str(seed)]
        print(f"running Flee 3.1 on {case} (minutes) ...", flush=True)
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with out_csv.open("w") as fh, (work / "err.log").open("w") as err:
            subprocess.run(args, cwd=work, stdout=fh, stderr=err, check=True)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        info = {"seconds": seconds, "cpu_seconds": cpu, "seed": seed, "load": os.getloadavg(), "cpus": os.cpu_count()}
        timing.write_text(json.dumps(info), encoding="utf-8")
    info = json.loads(timing.read_text(encoding="utf-8"))
    result: dict[str, Any] = {
        "seconds": float(info["seconds"]),
        "cpu_seconds": info.get("cpu_seconds"),
        "seed": info.get("seed"),
        "load": info.get("load"),
    }
    result["ard"] = flee_out_ard(str(out_csv))
    script = FLEE_VENV / "lib" / "python3.11" / "site-packages" / "flee" / "postprocessing"
    script = script / "extract-validation-results.py"
    if script.exists():
        scored = work / "validation"
        scored.mkdir(exist_ok=True)
        shutil.copy(out_csv, scored / "out.csv")
        text = subprocess.run(
            [str(FLEE_VENV / "bin" / "python"), str(script), str(scored)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "MPLBACKEND": "Agg"},
        ).stdout
        m = re.search(r"Error \(rescaled\): ([0-9.eE+-]+)", text)
        result["ard_flee_script"] = float(m.group(1)) if m else None
    return result


def best_of(fn: Any, repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return min(times), out


def ours(case: str, repeat: int) -> dict[str, Any]:
    from onthemove.foresight.simulate.rules import FLEE3, ONTHEMOVE
    from onthemove.foresight.simulate.run import prepare, run_case

    out: dict[str, Any] = {}
    for label, rules in (("flee3", FLEE3), ("onthemove", ONTHEMOVE)):

        def once(rules: Any = rules) -> Any:
            return run_case(prepare(SHARED / case), rules)

        cpu = time.process_time()
        seconds, run = best_of(once, repeat)
        cpu = (time.process_time() - cpu) / repeat
        out[label] = {
            "seconds": seconds,
            "cpu_seconds": cpu,
            "ard": run.scores.ard,
            "ard_by_day": run.scores.ard_by_day.tolist(),
        }
    return out


# -- the scenario batch ---------------------------------------------------------------------------------------
_PREPARED: Any = None


def _scenario(i: int) -> dict[str, Any]:
    from onthemove.foresight.simulate.rules import ONTHEMOVE
    from onthemove.foresight.simulate.run import run_case
    from onthemove.foresight.simulate.scenario import parse

    global _PREPARED
    cpu = time.process_time()
    if _PREPARED is None:
        from onthemove.foresight.simulate.run import prepare

        _PREPARED = prepare(SHARED / "mali2012")
    p = _PREPARED
    rng = np.random.default_rng(1000 + i)
    days = p.days
    towns = [n for n, k in zip(p.graph.names, p.graph.kind.tolist(), strict=True) if k == 0]
    start = int(rng.integers(0, days - 60))
    spec: dict[str, Any] = {
        "name": f"scenario {i}",
        "closures": [
            {
                "type": "country",
                "name1": "Mali",
                "name2": str(rng.choice(["Niger", "Burkina_Faso", "Mauritania"])),
                "start": start,
                "end": int(start + rng.integers(10, 60)),
            }
        ],
        "conflicts": [{"location": str(rng.choice(towns)), "start": int(rng.integers(0, days - 1))}],
        "capacities": [
            {
                "location": str(rng.choice(p.graph.camp_names)),
                "capacity": float(rng.uniform(2000, 60000)),
                "start": int(rng.integers(0, days - 1)),
            }
        ],
        "rules": {"camp_weight": float(rng.uniform(1.0, 4.0))},
    }
    sc = parse(spec, p.graph, p.case.period.start, days, spec["name"])
    run = run_case(p, sc.apply_rules(ONTHEMOVE), extra_events=sc.events)
    return {"ard": run.scores.ard, "in_camps": float(run.result.in_camps[-1]), "cpu": time.process_time() - cpu}


def scenario_batch(n: int, workers: int) -> dict[str, Any]:
    started = time.perf_counter()
    if workers > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            rows = pool.map(_scenario, range(n), chunksize=max(1, n // (workers * 8)))
    else:
        rows = [_scenario(i) for i in range(n)]
    seconds = time.perf_counter() - started
    ards = np.asarray([r["ard"] for r in rows])
    cpu = float(sum(r["cpu"] for r in rows))
    return {
        "cpu_seconds": cpu,
        "cpu_per_run": cpu / n,
        "idle_cores_seconds_for_1000": cpu / n * 1000 / max(workers, 1),
        "load_after": os.getloadavg()[0],
        "runs": n,
        "workers": workers,
        "seconds": seconds,
        "per_run": seconds / n,
        "seconds_for_1000": seconds / n * 1000,
        "extrapolated": n < 1000,
        "ard_p10_p50_p90": np.percentile(ards, [10, 50, 90]).tolist(),
    }


def calibration(cases: list[str], flee: dict[str, dict[str, Any]], evals: int) -> dict[str, Any]:
    from onthemove.foresight.simulate.calibrate import fit, fit_many
    from onthemove.foresight.simulate.rules import ONTHEMOVE
    from onthemove.foresight.simulate.run import prepare, run_case
    from onthemove.foresight.simulate.score import read_flee_out, score

    prepared = {c: prepare(SHARED / c) for c in cases}
    out: dict[str, Any] = {}
    for c in cases:
        f = fit(prepared[c], base=ONTHEMOVE, max_evals=evals)
        split = f.split[c]
        row: dict[str, Any] = {
            "split": split,
            "in_sample": f.in_sample[c],
            "out_of_sample": f.out_of_sample.get(c),
            "parameters": f.to_dict()["parameters"],
            "seconds": f.seconds,
        }
        base_run = run_case(prepared[c], ONTHEMOVE)
        row["onthemove_rules_out_of_sample"] = base_run.scores.window(split)
        if c in flee:
            camps, sim, _data, _un, _st = read_flee_out(str(FLEE_DIR / c / "out.csv"))
            p = prepared[c]
            s = score(sim, p.observed[: len(sim)], camps, p.raw[: len(sim)])
            row["flee_out_of_sample"] = s.window(split)
            row["flee_in_sample"] = s.window(0, split)
        out[c] = row
    if len(cases) > 1:
        loo: dict[str, Any] = {}
        for c in cases:
            others = [prepared[o] for o in cases if o != c]
            f = fit_many(others, base=ONTHEMOVE, full_period=True, max_evals=evals)
            held = run_case(prepared[c], f.rules)
            loo[c] = {"trained_on": [o.case.name for o in others], "ard": held.scores.ard, **f.to_dict()["parameters"]}
        out["leave_one_out"] = loo
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scenarios", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--flee-seed", type=int, default=1)
    ap.add_argument("--rerun-flee", action="store_true")
    ap.add_argument("--no-flee", action="store_true", help="onthemove only")
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--evals", type=int, default=150, help="simulations per calibration")
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        raise SystemExit(f"the Flee cases are not at {SHARED} (set SHARED_DATA)")
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    results: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": os.getloadavg(), "cases": {}}
    flee: dict[str, dict[str, Any]] = {}
    for c in cases:
        row: dict[str, Any] = {"ours": ours(c, args.repeat)}
        if not args.no_flee:
            flee[c] = run_flee(c, args.flee_seed, args.rerun_flee)
            row["flee"] = flee[c]
        results["cases"][c] = row

    print(f"\nonthemove vs Flee 3.1 on the shared Flee conflicts, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    head = f"{'conflict':<12} {'Flee ARD':>9} {'flee3 port':>11} {'onthemove':>10} {'Flee s':>9} {'ours s':>8} {'x':>6}"
    print(head + f" {'Flee cpu':>9} {'ours cpu':>9} {'x cpu':>6}")
    for c in cases:
        row = results["cases"][c]
        f = row.get("flee", {})
        o = row["ours"]
        ratio = f["seconds"] / o["onthemove"]["seconds"] if f else float("nan")
        cpu_f = f.get("cpu_seconds") if f else None
        cpu_ratio = cpu_f / o["onthemove"]["cpu_seconds"] if cpu_f else float("nan")
        row["speedup"] = ratio
        row["speedup_cpu"] = cpu_ratio
        fa = f"{f['ard']:.4f}" if f else "-"
        fs = f"{f['seconds']:.1f}" if f else "-"
        fc = f"{cpu_f:.1f}" if cpu_f else "-"
        print(
            f"{c:<12} {fa:>9} {o['flee3']['ard']:>11.4f} {o['onthemove']['ard']:>10.4f} {fs:>9} "
            f"{o['onthemove']['seconds']:>8.3f} {ratio:>6.0f} {fc:>9} {o['onthemove']['cpu_seconds']:>9.3f} "
            f"{cpu_ratio:>6.0f}"
        )
        if f and f.get("ard_flee_script") is not None:
            print(f"{'':<12} (Flee's own script: {f['ard_flee_script']:.4f})")
    if flee:
        lower = all(results["cases"][c]["ours"]["onthemove"]["ard"] < flee[c]["ard"] for c in flee)
        fast = min(results["cases"][c]["speedup"] for c in flee)
        print(f"ARD below Flee 3.1 on every conflict: {'meets' if lower else 'MISSES'}")
        print(f"slowest speed-up {fast:.0f}x (goal >= {SPEED_GOAL:g}x: {'meets' if fast >= SPEED_GOAL else 'MISSES'})")

    if args.scenarios > 0:
        batch = scenario_batch(args.scenarios, args.workers)
        results["scenarios"] = batch
        note = f"extrapolated from {batch['runs']}" if batch["extrapolated"] else "measured"
        ok = batch["seconds_for_1000"] < SCENARIO_GOAL_S
        print(
            f"\n{batch['runs']} Mali scenarios on {batch['workers']} workers: {batch['seconds']:.1f}s "
            f"({batch['per_run'] * 1000:.0f} ms a run); 1,000 runs: {batch['seconds_for_1000']:.0f}s ({note}; "
            f"goal < {SCENARIO_GOAL_S:.0f}s: {'meets' if ok else 'MISSES'}); ARD p10/p50/p90 "
            + "/".join(f"{x:.3f}" for x in batch["ard_p10_p50_p90"])
        )
        print(
            f"CPU time {batch['cpu_per_run'] * 1000:.0f} ms a run: 1,000 runs on {batch['workers']} idle cores "
            f"{batch['idle_cores_seconds_for_1000']:.0f}s (load average now {batch['load_after']:.1f})"
        )
    if args.calibrate:
        cal = calibration(cases, flee, args.evals)
        results["calibration"] = cal
        print("\ncalibrated on the first half, scored on the second half (out of sample)")
        print(f"{'conflict':<12} {'in sample':>10} {'out':>8} {'rules only':>11} {'Flee 2nd half':>14}")
        for c in cases:
            r = cal[c]
            fl = r.get("flee_out_of_sample")
            print(
                f"{c:<12} {r['in_sample']:>10.4f} {r['out_of_sample']:>8.4f} "
                f"{r['onthemove_rules_out_of_sample']:>11.4f} {(f'{fl:.4f}' if fl is not None else '-'):>14}"
            )
        if "leave_one_out" in cal:
            print("leave one out (rules fitted on the other conflicts' whole periods):")
            for c, r in cal["leave_one_out"].items():
                fl = flee.get(c, {}).get("ard")
                print(f"  {c:<12} ARD {r['ard']:.4f}" + (f"   Flee 3.1 {fl:.4f}" if fl is not None else ""))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "simulate_flee.json").write_text(json.dumps(results, indent=1, default=float), encoding="utf-8")
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
