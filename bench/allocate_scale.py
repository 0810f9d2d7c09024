"""Benchmark: the distribution plan for 3,000 synthetic sites x 4 packages, solved exactly with HiGHS.

    .venv/bin/python bench/allocate_scale.py [--sites 3000] [--budget 5000000] [--seed 7] [--repeat 1]
                                             [--scenarios plain,capacity,rules,tight]

The sites: populations log-normal (median 500 people, the largest tens of thousands), 12 regions of 5 districts;
each site has a stress level and each of the four sectors (food security, shelter, WASH, health) a phase 1-5 drawn
around it (the way Demoland draws them). They pass through ``apply_rules`` with the default rules, so people in
need, the ranking and the allocation are the real code paths, only the store is left out. The packages: cash
(food security, 70 a household of 6), NFI kit (shelter, 50, stock 10,000), shelter kit (shelter, 120, stock
3,000), hygiene kit (WASH, 25, stock 20,000). Scenarios:

* ``plain``: budget and stock only, the textbook case where greedy by value per money is nearly optimal;
* ``capacity``: also at most 400 units per site (one distribution round);
* ``rules``: capacity, every site in phase 5 for WASH gets kits for 5% of its people, every region 2% of
  the budget;
* ``tight``: the rules with at most 100 units per site, where capacity binds for the most valuable pairs.

For each: the LP and the MIP (gap 1e-4, and 1e-3 for the time it saves) with their solve times, both greedy
plans (by value per money, and down the needs ranking) with the optimum's gain over each, and the budget
sensitivity (-20%, -10%, +10%, +20%: four more solves) with its time. Times are the best of --repeat runs, on
one HiGHS thread. Results go to bench/out/allocate_scale.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SECTORS = ("food_security", "shelter", "wash", "health")
SECTOR_BASE = (0.3, 0.5, 0.6, 0.0)


def synthetic_needs(n_sites: int, seed: int) -> Any:
    from onthemove.respond.needs import apply_rules, load_rules

    rng = np.random.default_rng(seed)
    region = rng.integers(1, 13, n_sites)
    district = rng.integers(1, 6, n_sites)
    adm1 = [f"XS{r:02d}" for r in region]
    adm2 = [f"XS{r:02d}{d:02d}" for r, d in zip(region, district, strict=True)]
    people = np.maximum(20, rng.lognormal(np.log(500), 0.9, n_sites)).astype(int)
    stress = rng.normal(0, 1, n_sites) + 0.3 * (region % 3)
    ids = [f"XS-{i:05d}" for i in range(n_sites)]
    sites = pd.DataFrame(
        {
            "site_id": ids,
            "name": [f"Site {i}" for i in range(n_sites)],
            "place": adm2,
            "adm1": adm1,
            "adm2": adm2,
            "site_type": "camp",
            "households": people // 6,
            "individuals": people,
            "latitude": rng.uniform(0, 10, n_sites),
            "longitude": rng.uniform(40, 50, n_sites),
        }
    )
    rows = []
    for sector, base in zip(SECTORS, SECTOR_BASE, strict=True):
        phase = np.clip(np.round(3 + 0.8 * stress + base + rng.normal(0, 0.8, n_sites)), 1, 5)
        rows.append(pd.DataFrame({"site_id": ids, "sector": sector, "indicator": "severity", "value": phase}))
    values = pd.concat(rows, ignore_index=True).assign(date=None)
    return apply_rules(values, sites, load_rules())


def spec_for(scenario: str, budget: float) -> Any:
    from onthemove.respond.plan_spec import parse_plan

    data: dict[str, Any] = {
        "name": f"synthetic-{scenario}",
        "budget": budget,
        "solver": {"integer": True, "mip_gap": 1e-4, "time_limit": 300},
        "packages": [
            {"name": "cash", "sector": "food_security", "unit_cost": 70, "people_per_unit": 6},
            {"name": "nfi_kit", "sector": "shelter", "unit_cost": 50, "people_per_unit": 6, "stock": 10_000},
            {"name": "shelter_kit", "sector": "shelter", "unit_cost": 120, "people_per_unit": 6, "stock": 3_000},
            {"name": "wash_kit", "sector": "wash", "unit_cost": 25, "people_per_unit": 6, "stock": 20_000},
        ],
    }
    if scenario in ("capacity", "rules", "tight"):
        data["site_capacity"] = {"default": 100 if scenario == "tight" else 400}
    if scenario in ("rules", "tight"):
        data["rules"] = [
            {"min_coverage": {"severity": 5, "share": 0.05, "packages": ["wash_kit"]}},
            {"min_budget": {"per": "adm1", "share": 0.02}},
        ]
    return parse_plan(data, f"{scenario}.yaml")


def best_of(repeat: int, fn: Any) -> tuple[Any, float]:
    result, best = None, float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return result, best


def run(needs: Any, scenario: str, budget: float, repeat: int) -> dict[str, Any]:
    from onthemove.respond.allocate import build_problem, gain, greedy, sensitivity, solve

    spec = spec_for(scenario, budget)
    problem, t_build = best_of(repeat, lambda: build_problem(needs, spec))
    lp, t_lp = best_of(repeat, lambda: solve(problem, integer=False))
    mip, t_mip = best_of(repeat, lambda: solve(problem))
    loose = build_problem(needs, replace(spec, mip_gap=1e-3))
    mip3, t_mip3 = best_of(repeat, lambda: solve(loose))
    ratio, t_ratio = best_of(repeat, lambda: greedy(problem, order="ratio"))
    rank, t_rank = best_of(repeat, lambda: greedy(problem, order="rank"))
    sens, t_sens = best_of(1, lambda: sensitivity(problem, mip))
    _, t_sens_lp = best_of(1, lambda: sensitivity(problem, lp, integer=False))
    return {
        "scenario": scenario,
        "sites": len(needs.sites),
        "candidates": len(problem.pairs),
        "budget": budget,
        "build_s": round(t_build, 3),
        "lp": {**lp.summary(), "wall_s": round(t_lp, 3)},
        "mip": {**mip.summary(), "wall_s": round(t_mip, 3)},
        "mip_gap_1e-3": {**mip3.summary(), "wall_s": round(t_mip3, 3)},
        "greedy_ratio": {**ratio.summary(), "wall_s": round(t_ratio, 3), "notes": ratio.notes},
        "greedy_rank": {**rank.summary(), "wall_s": round(t_rank, 3), "notes": rank.notes},
        "gain_mip_vs_greedy_ratio": gain(mip, ratio),
        "gain_mip_vs_greedy_rank": gain(mip, rank),
        "gain_lp_vs_greedy_ratio_lp": gain(lp, greedy(problem, order="ratio", integer=False)),
        "sensitivity_mip_s": round(t_sens, 3),
        "sensitivity_lp_s": round(t_sens_lp, 3),
        "sensitivity": [
            {k: (len(v) if isinstance(v, list) else v) for k, v in r.items() if k != "status"} for r in sens
        ],
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"\n{'scenario':<9} {'pairs':>6} {'LP s':>6} {'MIP s':>6} {'MIP gap':>8} {'MIP3 s':>6} {'MIP3 gap':>8} "
        f"{'greedy s':>8} "
        f"{'MIP objective':>14} {'vs greedy-ratio':>15} {'vs greedy-rank':>14} {'LP vs LP-greedy':>15} {'sens. s':>8}"
    )
    for r in rows:
        g1, g2, g3 = r["gain_mip_vs_greedy_ratio"], r["gain_mip_vs_greedy_rank"], r["gain_lp_vs_greedy_ratio_lp"]
        print(
            f"{r['scenario']:<9} {r['candidates']:>6,} {r['lp']['wall_s']:>6.2f} {r['mip']['wall_s']:>6.2f} "
            f"{r['mip']['gap']:>8.2e} {r['mip_gap_1e-3']['wall_s']:>6.2f} {r['mip_gap_1e-3']['gap']:>8.2e} "
            f"{r['greedy_ratio']['wall_s']:>8.3f} {r['mip']['objective']:>14,.0f} "
            f"{g1['gain']:>+15.3%} {g2['gain']:>+14.2%} {g3['gain']:>+15.3%} {r['sensitivity_mip_s']:>8.1f}"
        )
    print("\nbudget sensitivity (MIP): change, objective, people covered, sites, enter, leave, marginal")
    for r in rows:
        for s in r["sensitivity"]:
            print(
                f"  {r['scenario']:<9} {s['change']:+.0%} {s['objective']:>14,.0f} {s['people_covered']:>10,.0f} "
                f"{s['sites']:>6,} {s['enter']:>5} {s['leave']:>5} {s['marginal']:>8.4f}"
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=3000)
    ap.add_argument("--budget", type=float, default=5_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--scenarios", default="plain,capacity,rules,tight")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    needs = synthetic_needs(args.sites, args.seed)
    t_needs = time.perf_counter() - started
    counts = needs.severity_counts()["overall"].to_dict()
    print(
        f"{args.sites:,} sites x 4 packages, budget {args.budget:,.0f}; needs rules applied in {t_needs:.2f} s; "
        f"overall severity {counts}; people in need {int(needs.sites['people_in_need'].sum()):,}"
    )
    rows = []
    for scenario in args.scenarios.split(","):
        rows.append(run(needs, scenario.strip(), args.budget, args.repeat))
        print(f"  {scenario}: done", flush=True)
    print_table(rows)
    meta = {
        "sites": args.sites,
        "seed": args.seed,
        "budget": args.budget,
        "needs_s": round(t_needs, 3),
        "severity": counts,
        "highspy": version("highspy"),
        "machine": f"{platform.machine()} {platform.processor()} python {platform.python_version()}",
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "allocate_scale.json").write_text(json.dumps({"meta": meta, "runs": rows}, indent=1, default=str))
    print(f"\nwritten to {OUT / 'allocate_scale.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
