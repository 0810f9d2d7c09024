"""Scores as Flee's validation computes them (``flee/postprocessing/extract-validation-results.py``).

**ARD**, the averaged relative difference ("Error (rescaled)" in Flee's output): each day the simulated camp
counts are rescaled so that their sum equals the observed camp total (no rescaling, 0, on days the simulation has
nobody in camps), the absolute differences from the observed counts (rounded to 4 decimals, as Flee's
``abs_diffs`` does) are summed over camps and divided by max(observed camp total, 1); ARD is the mean over days.
Flee's run.py writes the observed camp total as 0 on days when its running total of new refugees is not positive,
which zeroes the rescaled counts on those days: ``raw`` carries that total here.

**MASE** per camp against Flee's six naive models (a flat line from day 7 or 30, a "sloped" line, and the
camp's day-7 or day-30 share of the observed total), on the rescaled counts; the total is the mean over camps
weighted by each camp's summed observations, as Flee's ``get_error`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

ROUND_NDIGITS = 4
NAIVE_EARLY = 7
NAIVE_TRAINING = 30


@dataclass(frozen=True)
class Scores:
    ard: float
    ard_unscaled: float
    ard_by_day: np.ndarray  # [days]
    ard_by_camp: dict[str, float]  # each camp's share of the ARD (they add up to it)
    mase: dict[str, float]  # total, per naive model
    mase_by_camp: dict[str, dict[str, float]]

    def window(self, start: int, end: int | None = None) -> float:
        """The ARD over days [start, end)."""
        part = self.ard_by_day[start:end]
        return float(part.mean()) if len(part) else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "ard": self.ard,
            "ard_unscaled": self.ard_unscaled,
            "ard_by_camp": self.ard_by_camp,
            "mase": self.mase,
            "mase_by_camp": self.mase_by_camp,
        }


def observed_camps(validation: Any, camp_names: list[str], days: int) -> np.ndarray:
    """[days, camps] of Flee's ``d.get_field(camp, t)``: interpolated, truncated, after corrections."""
    return np.stack([validation.camp(n).daily(days) for n in camp_names], axis=1).astype(np.float64)


def untot(observed: np.ndarray, raw: np.ndarray | None) -> np.ndarray:
    tot = observed.sum(axis=1)
    if raw is None:
        return tot
    return np.where(raw > 0, np.trunc(tot), 0.0)


def rescaled(sim: np.ndarray, observed: np.ndarray, raw: np.ndarray | None = None) -> np.ndarray:
    """Flee's ``y1_rescaled`` for every camp: sim x observed total / simulated total (0 if nobody is in camps)."""
    u = untot(observed, raw)
    simtot = sim.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(simtot > 0, u / np.where(simtot > 0, simtot, 1.0), 0.0)
    return sim * factor[:, None]


def abs_diffs(forecast: np.ndarray, correct: np.ndarray) -> np.ndarray:
    return np.round(np.abs(forecast - correct), ROUND_NDIGITS)


def calculate_mase(forecast: np.ndarray, actual: np.ndarray, naive: np.ndarray, start: int) -> float:
    """Flee's ``calculate_MASE``: mean |actual - forecast| over every day, over the naive model's mean error
    after ``start`` + 1 (inf or nan when the naive model makes no error there, as numpy gives)."""
    offset = start + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        naive_err = np.sum(np.abs(actual[offset:] - naive[offset:])) / float(len(actual[offset:]))
        fc_err = np.sum(np.abs(actual - forecast)) / float(len(actual))
        return round(float(fc_err / naive_err), ROUND_NDIGITS)


def naive_models(y2: np.ndarray, total: np.ndarray) -> dict[str, tuple[np.ndarray, int]]:
    """Flee's n1..n6 (its "sloped" lines are i x the observed value, as its code computes them)."""
    days = np.arange(len(y2), dtype=np.float64)
    e, tr = NAIVE_EARLY, NAIVE_TRAINING
    n1 = np.full(len(y2), y2[e])
    n2 = np.full(len(y2), y2[tr])
    n3 = days * y2[e] if y2[e] > 0 else np.zeros(len(y2))
    n4 = days * y2[tr] if y2[e] > 0 else np.zeros(len(y2))
    with np.errstate(divide="ignore", invalid="ignore"):
        n5 = total * (y2[e] / total[e])
        n6 = total * (y2[tr] / total[tr])
    return {
        "MASE7": (n1, e),
        "MASE7-sloped": (n3, e),
        "MASE7-ratio": (n5, e),
        "MASE30": (n2, tr),
        "MASE30-sloped": (n4, tr),
        "MASE30-ratio": (n6, tr),
    }


def score(sim: np.ndarray, observed: np.ndarray, camp_names: list[str], raw: np.ndarray | None = None) -> Scores:
    """ARD (rescaled and not) and MASE, per day, per camp and in total. ``sim`` and ``observed``: [days, camps]."""
    if sim.shape != observed.shape:
        raise ValueError(f"simulated {sim.shape} and observed {observed.shape} counts differ in shape")
    u = untot(observed, raw)
    denom = np.maximum(u, 1.0)
    y1r = rescaled(sim, observed, raw)
    diff_r = abs_diffs(y1r, observed)
    diff = abs_diffs(sim, observed)
    by_day = diff_r.sum(axis=1) / denom
    by_camp = {n: float((diff_r[:, i] / denom).mean()) for i, n in enumerate(camp_names)}
    mase_by_camp: dict[str, dict[str, float]] = {}
    totals: dict[str, float] = {}
    weights: dict[str, float] = {}
    if len(observed) > NAIVE_TRAINING + 1:
        for i, n in enumerate(camp_names):
            y2 = observed[:, i]
            res: dict[str, float] = {}
            for key, (naive, start) in naive_models(y2, u).items():
                res[key] = calculate_mase(y1r[:, i], y2, naive, start)
            mase_by_camp[n] = res
            w = float(y2.sum())
            for key, v in res.items():
                if np.isfinite(v):
                    totals[key] = totals.get(key, 0.0) + v * w
                    weights[key] = weights.get(key, 0.0) + w
    mase = {k: totals[k] / weights[k] for k in totals if weights[k] > 0}
    return Scores(
        ard=float(by_day.mean()),
        ard_unscaled=float((diff.sum(axis=1) / denom).mean()),
        ard_by_day=by_day,
        ard_by_camp=by_camp,
        mase=mase,
        mase_by_camp=mase_by_camp,
    )


def read_flee_out(path: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flee's out.csv: (camps, sim [days, camps], data [days, camps], UNHCR camp total, simulated camp total)."""
    import csv

    with open(path, newline="", encoding="latin-1") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    camps = [h[: -len(" sim")] for h in header if h.endswith(" sim") and "numAgents" not in h]
    sim_cols = [header.index(f"{c} sim") for c in camps]
    data_cols = [header.index(f"{c} data") for c in camps]
    ucol = header.index("refugees in camps (UNHCR)")
    scol = header.index("refugees in camps (simulation)")
    body = rows[1:]
    sim = np.asarray([[float(r[i]) for i in sim_cols] for r in body])
    data = np.asarray([[float(r[i]) for i in data_cols] for r in body])
    un = np.asarray([float(r[ucol]) for r in body])
    st = np.asarray([float(r[scol]) for r in body])
    return camps, sim, data, un, st


def flee_out_ard(path: str) -> float:
    """The ARD of a Flee out.csv, with the columns Flee's script reads (its own camp totals)."""
    _camps, sim, data, un, st = read_flee_out(path)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(st > 0, un / np.where(st > 0, st, 1.0), 0.0)
    diff = abs_diffs(sim * factor[:, None], data)
    return float((diff.sum(axis=1) / np.maximum(un, 1.0)).mean())
