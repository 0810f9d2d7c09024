"""A case run end to end: read the case, build the graph and inputs, simulate, score against the camp data."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from onthemove.foresight.simulate.flee_io import FleeCase, read_case
from onthemove.foresight.simulate.graph import Event, Graph, from_flee_case
from onthemove.foresight.simulate.model import Inputs, Result, simulate
from onthemove.foresight.simulate.rules import Rules
from onthemove.foresight.simulate.score import Scores, observed_camps, score
from onthemove.foresight.simulate.spawn import daily_total, observed_spawns


@dataclass
class Prepared:
    """Everything a run of one case needs, built once and reused by calibration and scenario batches."""

    case: FleeCase
    graph: Graph
    days: int
    observed: np.ndarray | None  # [days, camps]
    raw: np.ndarray | None  # Flee's running total of new refugees, per day
    totals: dict[str, np.ndarray] = field(default_factory=dict)  # spawn_from -> daily observed total

    def inputs(self, rules: Rules, days: int | None = None) -> Inputs:
        days = self.days if days is None else days
        v = self.case.validation
        if v is None or rules.conflict_driven_spawning:
            return Inputs(days=days)
        total = self.totals.get(rules.spawn_from)
        if total is None:
            total = daily_total(v, self.days, rules.spawn_from)
            self.totals[rules.spawn_from] = total
        spawns = observed_spawns(total, insert_day0=rules.insert_day0, lead=rules.spawn_lead)
        initial: dict[str, float] = {}
        if rules.insert_day0:
            initial = {name: float(v.camp(name).at(0)) for name in self.graph.camp_names}
        return Inputs(days=days, new_people=spawns.new[:days].astype(np.float64), initial=initial)


def prepare(case_or_dir: FleeCase | Path | str, days: int | None = None) -> Prepared:
    case = case_or_dir if isinstance(case_or_dir, FleeCase) else read_case(case_or_dir)
    graph = from_flee_case(case)
    n = case.period.length if days is None else int(days)
    observed = raw = None
    if case.validation is not None:
        observed = observed_camps(case.validation, graph.camp_names, n)
        raw = observed_spawns(case.validation.total.daily(n)).raw
    return Prepared(case=case, graph=graph, days=n, observed=observed, raw=raw)


@dataclass
class CaseRun:
    prepared: Prepared
    rules: Rules
    result: Result
    scores: Scores | None

    def dates(self) -> list[dt.date]:
        start = self.prepared.case.period.start
        return [start + dt.timedelta(days=t) for t in range(self.result.days)]

    def summary(self) -> dict[str, Any]:
        res = self.result
        out: dict[str, Any] = {
            "case": self.prepared.case.name,
            "start": self.prepared.case.period.start.isoformat(),
            "days": res.days,
            "people": round(float(res.total[-1]), 3) if res.days else 0.0,
            "in_camps": round(float(res.in_camps[-1]), 3) if res.days else 0.0,
            "seconds": round(res.seconds, 4),
            "mode": res.mode,
            "seed": res.seed,
            "ard": _num(self.scores.ard) if self.scores else None,
            "ard_unscaled": _num(self.scores.ard_unscaled) if self.scores else None,
            "mase": {k: _num(v) for k, v in self.scores.mase.items()} if self.scores else None,
            "camps": [
                {
                    "name": name,
                    "simulated": round(float(res.camps[-1, i]), 3) if res.days else 0.0,
                    "observed": float(self.prepared.observed[res.days - 1, i])
                    if self.prepared.observed is not None and res.days
                    else None,
                    "ard_share": _num(self.scores.ard_by_camp[name]) if self.scores else None,
                }
                for i, name in enumerate(res.camp_names)
            ],
            "rules": self.rules.to_dict(),
            "warnings": list(self.prepared.graph.warnings),
        }
        return out


def _num(x: float) -> float | None:
    return round(float(x), 6) if math.isfinite(x) else None


def run_case(
    prepared: Prepared,
    rules: Rules,
    mode: str = "expected",
    seed: int | None = None,
    extra_events: list[Event] | None = None,
    record: str = "camps",
    days: int | None = None,
) -> CaseRun:
    inputs = prepared.inputs(rules, days)
    result = simulate(prepared.graph, rules, inputs, mode=mode, seed=seed, extra_events=extra_events, record=record)
    scores = None
    if prepared.observed is not None:
        n = result.days
        scores = score(
            result.camps, prepared.observed[:n], result.camp_names, None if prepared.raw is None else prepared.raw[:n]
        )
    return CaseRun(prepared, rules, result, scores)
