"""Fit a few global rule parameters on the first part of a conflict's period, then forecast the rest.

One procedure for every conflict: the parameters in ``PARAMETERS`` (each with its bounds and a log or logit
transform so that the search is unbounded) start from a rule set (Flee 3's by default) and are fitted by
Nelder-Mead (written here, deterministic, no dependency) to minimise the ARD over days [0, split) of an
expected-value run of those days only. The fitted rules then run the whole period; the ARD over days
[split, end) is out of sample: no camp count from those days was used (the daily new arrivals still come from the
observed total, as in Flee's validation runs). ``fit_many`` fits one rule set to several conflicts at once (the
mean of their ARDs), which is how a rule set is tested on a conflict it has not seen (leave one out).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from onthemove.foresight.simulate.rules import FLEE3, Rules
from onthemove.foresight.simulate.run import Prepared, run_case


@dataclass(frozen=True)
class Parameter:
    name: str
    low: float
    high: float
    transform: str  # log, logit (between low and high), or linear


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("camp_weight", 0.5, 20.0, "log"),
    Parameter("conflict_weight", 0.01, 1.0, "log"),
    Parameter("default_movechance", 0.05, 1.0, "logit"),
    Parameter("max_move_speed", 100.0, 500.0, "logit"),
    Parameter("spawn_lead", 0.0, 60.0, "logit"),
)
INTEGER = {"spawn_lead", "awareness_level"}


def _to_x(p: Parameter, v: float) -> float:
    v = min(max(v, p.low), p.high)
    if p.transform == "log":
        return math.log(v)
    if p.transform == "logit":
        u = (v - p.low) / (p.high - p.low)
        u = min(max(u, 1e-6), 1 - 1e-6)
        return math.log(u / (1 - u))
    return v


def _from_x(p: Parameter, x: float) -> float:
    if p.transform == "log":
        return min(max(math.exp(x), p.low), p.high)
    if p.transform == "logit":
        return p.low + (p.high - p.low) / (1 + math.exp(-x))
    return min(max(x, p.low), p.high)


def to_rules(base: Rules, params: Sequence[Parameter], x: np.ndarray, source: str) -> Rules:
    values: dict[str, Any] = {}
    for p, v in zip(params, x, strict=True):
        value = _from_x(p, float(v))
        values[p.name] = round(value) if p.name in INTEGER else value
    return base.replace(**values, source=source)


def nelder_mead(
    f: Callable[[np.ndarray], float],
    x0: np.ndarray,
    step: float = 0.5,
    max_evals: int = 200,
    tol: float = 1e-4,
) -> tuple[np.ndarray, float, int]:
    """Minimise ``f`` from ``x0`` (standard coefficients 1, 2, 0.5, 0.5). Returns (x, f(x), evaluations)."""
    n = len(x0)
    simplex = [np.asarray(x0, dtype=np.float64)]
    for i in range(n):
        x = simplex[0].copy()
        x[i] += step
        simplex.append(x)
    values = [f(x) for x in simplex]
    evals = n + 1
    while evals < max_evals:
        order = np.argsort(values)
        simplex = [simplex[i] for i in order]
        values = [values[i] for i in order]
        if abs(values[-1] - values[0]) < tol:
            break
        centroid = np.mean(simplex[:-1], axis=0)
        xr = centroid + (centroid - simplex[-1])
        fr = f(xr)
        evals += 1
        if values[0] <= fr < values[-2]:
            simplex[-1], values[-1] = xr, fr
            continue
        if fr < values[0]:
            xe = centroid + 2 * (centroid - simplex[-1])
            fe = f(xe)
            evals += 1
            if fe < fr:
                simplex[-1], values[-1] = xe, fe
            else:
                simplex[-1], values[-1] = xr, fr
            continue
        xc = centroid + 0.5 * (simplex[-1] - centroid) if fr >= values[-1] else centroid + 0.5 * (xr - centroid)
        fc = f(xc)
        evals += 1
        if fc < min(fr, values[-1]):
            simplex[-1], values[-1] = xc, fc
            continue
        for i in range(1, n + 1):  # shrink towards the best
            simplex[i] = simplex[0] + 0.5 * (simplex[i] - simplex[0])
            values[i] = f(simplex[i])
            evals += 1
    best = int(np.argmin(values))
    return simplex[best], float(values[best]), evals


@dataclass
class Fit:
    rules: Rules
    cases: list[str]
    split: dict[str, int]  # first out-of-sample day per case
    in_sample: dict[str, float]  # ARD over [0, split) of a run of those days only
    out_of_sample: dict[str, float] = field(default_factory=dict)  # ARD over [split, end) of the full run
    full: dict[str, float] = field(default_factory=dict)  # ARD over the whole period
    start_in_sample: dict[str, float] = field(default_factory=dict)  # the base rules, same window
    evaluations: int = 0
    seconds: float = 0.0
    history: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "split": self.split,
            "in_sample_ard": self.in_sample,
            "out_of_sample_ard": self.out_of_sample,
            "full_period_ard": self.full,
            "base_rules_in_sample_ard": self.start_in_sample,
            "evaluations": self.evaluations,
            "seconds": round(self.seconds, 2),
            "parameters": {p.name: getattr(self.rules, p.name) for p in PARAMETERS},
            "rules": self.rules.to_dict(),
        }


def split_day(days: int, fraction: float) -> int:
    if not 0 < fraction < 1:
        raise ValueError(f"the fitted share of the period must be between 0 and 1, not {fraction}")
    return max(2, min(days - 1, int(days * fraction)))


def fit_many(
    prepared: Sequence[Prepared],
    fraction: float = 0.5,
    base: Rules = FLEE3,
    params: Sequence[Parameter] = PARAMETERS,
    max_evals: int = 150,
    restarts: int = 1,
    progress: Callable[[int, float], None] | None = None,
    full_period: bool = False,
) -> Fit:
    """One rule set for all ``prepared`` cases: minimise the mean ARD over each case's first ``fraction`` of
    days (or over the whole period with ``full_period``, for rule sets tested on other conflicts)."""
    started = time.perf_counter()
    for p in prepared:
        if p.observed is None:
            raise ValueError(f"{p.case.name}: calibration needs the camp data (source_data/)")
    splits = {p.case.name: (p.days if full_period else split_day(p.days, fraction)) for p in prepared}
    names = [p.case.name for p in prepared]
    evals = 0
    history: list[tuple[float, dict[str, float]]] = []

    def objective(x: np.ndarray) -> float:
        nonlocal evals
        rules = to_rules(base, params, x, "calibration")
        total = 0.0
        for p in prepared:
            run = run_case(p, rules, days=splits[p.case.name])
            a = run.scores.ard if run.scores else float("nan")
            total += a if math.isfinite(a) else 10.0
        value = total / len(prepared)
        evals += 1
        history.append((value, {pp.name: _from_x(pp, float(v)) for pp, v in zip(params, x, strict=True)}))
        if progress is not None:
            progress(evals, value)
        return value

    x = np.asarray([_to_x(p, float(getattr(base, p.name))) for p in params])
    start_in = {}
    for p in prepared:
        run = run_case(p, base, days=splits[p.case.name])
        start_in[p.case.name] = run.scores.ard if run.scores else float("nan")
    best_x, best_f = x, math.inf
    for attempt in range(restarts + 1):
        xr, fr, _ = nelder_mead(objective, best_x if attempt else x, step=0.7 / (attempt + 1), max_evals=max_evals)
        if fr < best_f:
            best_x, best_f = xr, fr
    label = (
        "calibrated on "
        + ", ".join(f"{n} days 0-{splits[n] - 1}" for n in names)
        + f" from {base.source}; Nelder-Mead, {evals} runs"
    )
    rules = to_rules(base, params, best_x, label)
    fit = Fit(rules=rules, cases=names, split=splits, in_sample={}, evaluations=evals, history=history)
    fit.start_in_sample = start_in
    for p in prepared:
        name = p.case.name
        in_run = run_case(p, rules, days=splits[name])
        fit.in_sample[name] = in_run.scores.ard if in_run.scores else float("nan")
        full = run_case(p, rules)
        if full.scores is not None:
            fit.full[name] = full.scores.ard
            if splits[name] < p.days:
                fit.out_of_sample[name] = full.scores.window(splits[name])
    fit.seconds = time.perf_counter() - started
    return fit


def fit(
    prepared: Prepared,
    fraction: float = 0.5,
    base: Rules = FLEE3,
    max_evals: int = 150,
    restarts: int = 1,
    progress: Callable[[int, float], None] | None = None,
) -> Fit:
    """Calibrate on one conflict's first ``fraction`` of days; score the rest out of sample."""
    return fit_many([prepared], fraction, base, max_evals=max_evals, restarts=restarts, progress=progress)
