"""Benchmark: the simulation's time per day on a synthetic country of 10,000 locations and 10 million people.

    .venv/bin/python bench/simulate_scale.py [--locations 10000] [--people 10000000] [--days 30]
                                             [--modes expected,stochastic] [--rules flee3]

The graph is ``graph.synthetic``: locations scattered over a 20 x 20 degree square, each joined to its 3 nearest
(roads 1.3 x the great-circle distance, at least 10 km), 2% of them camps on the eastern edge (foreign,
capacities 20,000 to 200,000), 5% conflict zones from day 0. The people start in the conflict zones and towns
(in proportion to their population) on day 0, and 1% more arrive in the conflict zones every day. Every day
is timed (the first is the warm-up, not counted): mean, median and slowest per day, with the CPU time per day
and the number of people on routes and in camps. No peer: Flee keeps a Python object per person (about 0.8 KB
each in its Mali run), some 8 GB for 10 million. Results go to bench/out/simulate_scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


def run(locations: int, people: int, days: int, mode: str, rules_name: str, seed: int) -> dict[str, Any]:
    from onthemove.foresight.simulate.graph import CAMP, synthetic
    from onthemove.foresight.simulate.model import Inputs, Simulation
    from onthemove.foresight.simulate.rules import load_rules

    started = time.perf_counter()
    g = synthetic(locations, seed=seed)
    build = time.perf_counter() - started
    rules = load_rules(rules_name).replace(insert_day0=False)
    weight = np.where(g.kind == CAMP, 0.0, g.population)
    initial = np.floor(people * weight / weight.sum())
    initial[np.argmax(weight)] += people - initial.sum()
    inputs = Inputs(days=days, new_people=np.full(days, people * 0.01))
    rng = np.random.default_rng(seed) if mode == "stochastic" else None
    sim = Simulation(g, rules, inputs, rng)
    sim._add_fresh(np.arange(g.n_nodes), initial)
    per_day: list[float] = []
    cpu_day: list[float] = []
    for t in range(days):
        t0, c0 = time.perf_counter(), time.process_time()
        sim.step(float(inputs.new_people[t]) if inputs.new_people is not None else None, [])
        per_day.append(time.perf_counter() - t0)
        cpu_day.append(time.process_time() - c0)
    counted = per_day[1:] or per_day
    cpu_counted = cpu_day[1:] or cpu_day
    camps = g.camp_index
    total = sim.total()
    return {
        "mode": mode,
        "locations": g.n_nodes,
        "routes": g.n_edges // 2,
        "people_start": people,
        "people_end": total,
        "in_camps": float(sim.node_totals()[camps].sum()),
        "on_routes": sim.in_transit(),
        "graph_seconds": build,
        "day_mean": statistics.mean(counted),
        "day_median": statistics.median(counted),
        "day_max": max(counted),
        "day_cpu_mean": statistics.mean(cpu_counted),
        "days": days,
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--locations", type=int, default=10_000)
    ap.add_argument("--people", type=int, default=10_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--modes", default="expected,stochastic")
    ap.add_argument("--rules", default="onthemove")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rows = []
    print(f"{args.locations:,} locations, {args.people:,} people, {args.days} days, {os.cpu_count()} CPUs")
    head = f"{'mode':<11} {'routes':>7} {'mean s/day':>11} {'median':>8} {'max':>8} {'cpu s/day':>10}"
    print(head + f" {'on routes':>11} {'in camps':>11}")
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        r = run(args.locations, args.people, args.days, mode, args.rules, args.seed)
        rows.append(r)
        print(
            f"{mode:<11} {r['routes']:>7,} {r['day_mean']:>11.3f} {r['day_median']:>8.3f} {r['day_max']:>8.3f} "
            f"{r['day_cpu_mean']:>10.3f} {r['on_routes']:>11,.0f} {r['in_camps']:>11,.0f}"
        )
        assert abs(r["people_end"] - (args.people * (1 + 0.01 * args.days))) < 1e-6 * args.people + 1
    print(f"load average {os.getloadavg()[0]:.1f} (the machine is shared; times include it)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "simulate_scale.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
