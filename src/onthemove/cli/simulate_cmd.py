"""``onthemove simulate``: a displacement simulation on a Flee case directory (scored against its camp data) or on
a country of the store (``--from-store``)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from onthemove.cli.main import app, fail, state, steps
from onthemove.cli.output import console, errors

MODES = ("expected", "stochastic")


def _write_csv(path: Path, run: Any, observed: np.ndarray | None, camps: np.ndarray) -> None:
    names = run.result.camp_names
    header = ["day", "date"]
    for n in names:
        header += [f"{n} sim"] + ([f"{n} data"] if observed is not None else [])
    header += ["in camps sim"] + (["in camps data"] if observed is not None else []) + ["people"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for t, date in enumerate(run.dates()):
            row: list[Any] = [t, date.isoformat()]
            for i in range(len(names)):
                row.append(round(float(camps[t, i]), 3))
                if observed is not None:
                    row.append(int(observed[t, i]))
            row.append(round(float(camps[t].sum()), 3))
            if observed is not None:
                row.append(int(observed[t].sum()))
            row.append(round(float(run.result.total[t]), 3))
            w.writerow(row)


@app.command()
def simulate(
    case_dir: Annotated[
        Path | None, typer.Argument(help="a Flee case: input_csv/ (and source_data/ to score); or --from-store")
    ] = None,
    scenario: Annotated[
        Path | None, typer.Option(help="YAML scenario: closures, new conflict zones, capacity changes")
    ] = None,
    rules: Annotated[
        str, typer.Option(help="rule set (onthemove, flee3, flee-defaults) or a simsetting.yml / rules YAML file")
    ] = "onthemove",
    mode: Annotated[str, typer.Option(help="expected (shares of people) or stochastic (counts drawn)")] = "expected",
    seed: Annotated[int, typer.Option(help="random seed of the stochastic mode (the first, with --runs)")] = 1,
    runs: Annotated[int, typer.Option(help="stochastic runs (seeds seed..seed+runs-1), averaged")] = 1,
    days: Annotated[int | None, typer.Option(help="simulate fewer days than the case's period")] = None,
    calibrate: Annotated[
        bool, typer.Option("--calibrate", help="fit the rule parameters on the first part of the period first")
    ] = False,
    fit_share: Annotated[float, typer.Option(help="share of the period fitted by --calibrate")] = 0.5,
    max_evals: Annotated[int, typer.Option(help="simulations the calibration may run")] = 150,
    save_rules: Annotated[Path | None, typer.Option(help="write the rules used (fitted or not) as YAML here")] = None,
    csv_out: Annotated[
        Path | None,
        typer.Option("--csv", help="per-day camp counts here [default with --json: ./<case>_simulated.csv]"),
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="SVG of simulated against observed people per camp")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print a JSON summary (ard, days, people, seconds...)")
    ] = False,
    from_store: Annotated[
        bool,
        typer.Option(
            "--from-store", help="simulate a country of the store (its admin areas and sites) instead of a Flee case"
        ),
    ] = False,
    country: Annotated[
        str | None, typer.Option(help="--from-store: the country's P-code [default: the store's only country]")
    ] = None,
    admin_level: Annotated[int, typer.Option(help="--from-store: the admin level of the graph's towns")] = 2,
    start: Annotated[
        str | None,
        typer.Option(help="--from-store: the first day, YYYY-MM-DD [default: the day after the latest data]"),
    ] = None,
) -> None:
    """Simulate where people go, day by day, with Flee 3's rules (or onthemove's): camp counts and their ARD.

    Without --json the per-day camp counts are printed as CSV; with it, a JSON summary is printed and the counts
    go to --csv (the summary, with the rules and where they came from, also goes next to it as .json).

    With --from-store the graph is a country of the store (admin areas as towns, sites as camps) and new people
    come from the areas people fled conflict from in the latest month of movement data (or the scenario's
    conflicts); the store has no daily camp counts, so there is no ARD.
    """
    import yaml

    from onthemove.foresight.simulate import scenario as scen
    from onthemove.foresight.simulate.calibrate import fit
    from onthemove.foresight.simulate.flee_io import FleeFormatError
    from onthemove.foresight.simulate.rules import load_rules
    from onthemove.foresight.simulate.run import prepare, run_case
    from onthemove.foresight.simulate.score import score

    if mode not in MODES:
        fail(f"--mode must be one of {', '.join(MODES)}")
    if runs < 1:
        fail("--runs must be at least 1")
    if runs > 1 and mode != "stochastic":
        fail("--runs needs --mode stochastic (expected-value runs are all the same)")
    if from_store:
        if case_dir is not None:
            fail("give a Flee case directory or --from-store, not both")
        if calibrate:
            fail("--calibrate needs observed daily camp counts, which the store does not hold")
        _simulate_store(
            country, admin_level, start, days, scenario, rules, mode, seed, runs, csv_out, plot, save_rules, as_json
        )
        return
    if case_dir is None:
        fail("give a Flee case directory, or --from-store to simulate a country of the store")
        return
    try:
        prepared = prepare(case_dir, days=days)
        if days is not None and not 1 <= days <= prepared.case.period.length:
            fail(f"--days must be between 1 and the case's {prepared.case.period.length} days")
        base = load_rules(rules)
        sc = None
        if scenario is not None:
            sc = scen.load(scenario, prepared.graph, prepared.case.period.start, prepared.days)
            base = sc.apply_rules(base)
        calibration = None
        if calibrate:
            if prepared.observed is None:
                fail("--calibrate needs the camp data: source_data/ with data_layout.csv")
            with steps(f"calibrating on {prepared.case.name}", quiet=False) as step:
                fitted = fit(
                    prepared,
                    fraction=fit_share,
                    base=base,
                    max_evals=max_evals,
                    progress=lambda n, v: step(f"run {n}, ARD {v:.4f}"),
                )
            base = fitted.rules
            calibration = fitted.to_dict()
            calibration.pop("rules", None)
        extra = sc.events if sc is not None else None
        seeds = [seed + i for i in range(runs)] if mode == "stochastic" else [None]
        done = [run_case(prepared, base, mode=mode, seed=s, extra_events=extra) for s in seeds]
    except (FleeFormatError, scen.ScenarioError, ValueError, OSError) as exc:
        fail(str(exc))
        return
    first = done[0]
    camps = np.mean([r.result.camps for r in done], axis=0)
    summary = first.summary()
    summary["seconds"] = round(sum(r.result.seconds for r in done), 4)
    if len(done) > 1:
        n = first.result.days
        mean_scores = (
            score(camps, prepared.observed[:n], first.result.camp_names, prepared.raw[:n])
            if (prepared.observed is not None and prepared.raw is not None)
            else None
        )
        ards = [r.scores.ard for r in done if r.scores is not None]
        summary["runs"] = len(done)
        summary["seeds"] = seeds
        summary["people"] = round(float(np.mean([r.result.total[-1] for r in done])), 3)
        if ards:
            summary["ard_runs"] = {"mean": float(np.mean(ards)), "min": float(np.min(ards)), "max": float(np.max(ards))}
        if mean_scores is not None:
            summary["ard"] = round(mean_scores.ard, 6)
    if first.scores is not None and calibration is not None:
        split = calibration["split"][prepared.case.name]
        ard_days = (
            score(camps, prepared.observed[: first.result.days], first.result.camp_names, prepared.raw).ard_by_day
            if prepared.observed is not None
            else first.scores.ard_by_day
        )
        summary["in_sample_ard"] = round(float(ard_days[:split].mean()), 6)
        summary["out_of_sample_ard"] = round(float(ard_days[split:].mean()), 6) if split < len(ard_days) else None
        summary["calibration"] = calibration
    summary["scenario"] = sc.to_dict() if sc is not None else None
    if as_json and csv_out is None:
        csv_out = Path(f"{prepared.case.name}_simulated.csv")
    if csv_out is not None:
        _write_csv(csv_out, first, prepared.observed, camps)
        summary["csv"] = str(csv_out)
        csv_out.with_suffix(".json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    if plot is not None:
        from onthemove.foresight.simulate.plot import camps_svg

        title = f"{prepared.case.name}: ARD {summary['ard']}" if summary.get("ard") is not None else prepared.case.name
        plot.write_text(
            camps_svg(first.result.camp_names, camps, prepared.observed, prepared.case.period.start, title),
            encoding="utf-8",
        )
        summary["plot"] = str(plot)
    if save_rules is not None:
        save_rules.write_text(
            yaml.safe_dump({"base": "flee-defaults", "rules": base.to_dict()}, sort_keys=False), encoding="utf-8"
        )
        summary["rules_file"] = str(save_rules)
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2, default=str) + "\n")
        return
    if csv_out is None:
        w = csv.writer(sys.stdout, lineterminator="\n")
        names = first.result.camp_names
        w.writerow(["day", "date", *names])
        for t, date in enumerate(first.dates()):
            w.writerow([t, date.isoformat(), *[round(float(v), 3) for v in camps[t]]])
    ard = summary.get("ard")
    line = f"{prepared.case.name}: {first.result.days} days, {summary['people']:,.0f} people, {summary['seconds']}s"
    if ard is not None:
        line += f", ARD {ard:.4f}"
    if "out_of_sample_ard" in summary:
        line += f" (in sample {summary['in_sample_ard']:.4f}, out of sample {summary['out_of_sample_ard']:.4f})"
    (errors if csv_out is None else console).print(line, highlight=False)


def _simulate_store(
    country: str | None,
    admin_level: int,
    start: str | None,
    days: int | None,
    scenario: Path | None,
    rules: str,
    mode: str,
    seed: int,
    runs: int,
    csv_out: Path | None,
    plot: Path | None,
    save_rules: Path | None,
    as_json: bool,
) -> None:
    """``simulate --from-store``: the store's graph of a country, the same outputs as for a case directory."""
    import datetime as dt

    import yaml

    from onthemove.foresight.simulate.rules import load_rules
    from onthemove.foresight.simulate.scenario import ScenarioError
    from onthemove.foresight.simulate.store_run import run_store as run_on_store
    from onthemove.foresight.simulate.store_run import store_graph
    from onthemove.store import StoreError

    n_days = 60 if days is None else days
    if not 1 <= n_days <= 3650:
        fail("--days must be between 1 and 3650")
    first: dt.date | None = None
    if start is not None:
        try:
            first = dt.date.fromisoformat(start)
        except ValueError:
            fail(f"--start {start!r} is not a date (YYYY-MM-DD)")
    data: dict[str, Any] | None = None
    if scenario is not None:
        try:
            loaded = yaml.safe_load(scenario.read_text(encoding="utf-8"))
        except OSError as exc:
            fail(f"{scenario}: cannot read: {exc.strerror}")
        except yaml.YAMLError as exc:
            fail(f"{scenario}: not YAML: {exc}")
        if loaded is not None and not isinstance(loaded, dict):
            fail(f"{scenario}: a mapping is expected at the top")
        data = loaded or {}
    try:
        base = store_graph(state.store(), country, admin_level)
        rule_set = load_rules(rules)
        seeds = [seed + i for i in range(runs)] if mode == "stochastic" else [None]
        done = [
            run_on_store(
                base,
                n_days,
                start=first,
                scenario=data,
                scenario_source=str(scenario) if scenario is not None else "scenario",
                rules=rule_set,
                mode=mode,
                seed=s,
                record="camps",
            )
            for s in seeds
        ]
    except (ScenarioError, StoreError, ValueError, OSError) as exc:
        fail(str(exc))
        return
    first_run = done[0]
    camps = np.mean([r.result.camps for r in done], axis=0)
    summary = first_run.summary()
    summary["seconds"] = round(sum(r.result.seconds for r in done), 4)
    if len(done) > 1:
        summary["runs"] = len(done)
        summary["seeds"] = seeds
        summary["people"] = round(float(np.mean([r.result.total[-1] for r in done])), 3)
        summary["in_camps"] = round(float(camps[-1].sum()), 3)
        for i, camp in enumerate(summary["camps"]):
            camp["simulated"] = round(float(camps[-1, i]), 3)
    summary["scenario"] = first_run.scenario.to_dict() if first_run.scenario is not None else None
    name = f"{base.country}_store"
    if as_json and csv_out is None:
        csv_out = Path(f"{name}_simulated.csv")
    if csv_out is not None:
        _write_csv(csv_out, first_run, None, camps)
        summary["csv"] = str(csv_out)
        csv_out.with_suffix(".json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    if plot is not None:
        from onthemove.foresight.simulate.plot import camps_svg

        plot.write_text(
            camps_svg(first_run.result.camp_names, camps, None, first_run.start, f"{base.country} (store)"),
            encoding="utf-8",
        )
        summary["plot"] = str(plot)
    if save_rules is not None:
        save_rules.write_text(
            yaml.safe_dump({"base": "flee-defaults", "rules": first_run.rules.to_dict()}, sort_keys=False),
            encoding="utf-8",
        )
        summary["rules_file"] = str(save_rules)
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2, default=str) + "\n")
        return
    if csv_out is None:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["day", "date", *first_run.result.camp_names])
        for t, date in enumerate(first_run.dates()):
            w.writerow([t, date.isoformat(), *[round(float(v), 3) for v in camps[t]]])
    line = (
        f"{base.country} (store, admin level {base.admin_level}): {first_run.days} days from {first_run.start}, "
        f"{summary['people']:,.0f} people, {summary['in_camps']:,.0f} in camps, {summary['seconds']}s; no ARD: "
        "the store holds no daily camp counts"
    )
    for warning in summary["warnings"]:
        errors.print(f"warning: {warning}", highlight=False)
    (errors if csv_out is None else console).print(line, highlight=False)
