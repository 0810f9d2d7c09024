"""Where and how many newly displaced people enter the simulation each day.

From observed totals (what Flee's validation runs do, ``flee/spawning.py`` ``spawn_daily_displaced``): the new
people on day t are the day's increase of the interpolated total, less any "debt" left by earlier decreases
(a decrease is not taken out of the simulation; it is owed and subtracted from the next increases). Day 0 adds
nobody: the camps start with their observed day-0 populations instead (``insert_day0``). New people appear in
conflict zones in proportion to population x intensity x decay (``conflict_spawn_decay``: a factor per 30 days
since the zone's onset).

From conflict intensity (Flee's ``conflict_driven_spawning``, for scenarios without observed totals): each
conflict zone adds ``displaced_per_conflict_day`` x intensity people a day (``constant``), that many times its
population (``pop_ratio``), or a Poisson draw with that mean (``poisson``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from onthemove.foresight.simulate.flee_io import Validation
from onthemove.foresight.simulate.rules import Rules


@dataclass(frozen=True)
class ObservedSpawns:
    new: np.ndarray  # int64 [days]: people added on each day
    raw: np.ndarray  # int64 [days]: Flee's refugees_raw, the total as summed day by day
    debt: np.ndarray  # int64 [days]


def daily_total(validation: Validation, days: int, spawn_from: str = "total") -> np.ndarray:
    """The interpolated observed total per day: refugees.csv (Flee 3.1) or the sum of the camp series."""
    if spawn_from == "camps":
        out = np.zeros(days, dtype=np.int64)
        for s in validation.camps.values():
            out += s.daily(days)
        return out
    return validation.total.daily(days)


def observed_spawns(total: np.ndarray, insert_day0: bool = True, lead: int = 0) -> ObservedSpawns:
    """Flee's daily difference with its refugee debt, exactly: ints in, ints out. ``lead`` > 0 (not Flee):
    people counted on day t + lead leave on day t; those counted on days 1..lead leave on day 0. The total
    added over the period is the same; the last ``lead`` days add nobody."""
    days = len(total)
    if lead > 0:
        shifted = total[np.minimum(np.arange(days) + lead, days - 1)]
        out = observed_spawns(shifted, insert_day0)
        if insert_day0 and days > 1:
            out.new[0] = max(int(shifted[0]) - int(total[0]), 0)
        return out
    new = np.zeros(days, dtype=np.int64)
    raw = np.zeros(days, dtype=np.int64)
    debts = np.zeros(days, dtype=np.int64)
    debt = 0
    acc = 0
    for t in range(days):
        diff = int(total[0]) if t == 0 else int(total[t]) - int(total[t - 1])
        n = diff - debt
        acc += diff
        if insert_day0 and t == 0:
            n = 0
        if n < 0:
            debt = -n
            n = 0
        elif debt > 0:
            debt = 0
        new[t], raw[t], debts[t] = n, acc, debt
    return ObservedSpawns(new, raw, debts)


def conflict_decay(rules: Rules, since: np.ndarray) -> np.ndarray:
    """Flee's ``get_conflict_decay``: the factor for days since onset (int() truncates towards zero)."""
    decay = rules.conflict_spawn_decay
    if not decay:
        return np.ones(len(since))
    idx = np.minimum(np.trunc(since / 30.0).astype(np.int64), len(decay) - 1)
    idx = np.maximum(idx, 0)  # int(-x/30) is 0 for -30 < -x < 0; earlier days do not occur
    return np.asarray(decay, dtype=np.float64)[idx]


def spawn_weights(rules: Rules, population: np.ndarray, conflict: np.ndarray, onset: np.ndarray, t: int) -> np.ndarray:
    """Flee's ``refresh_spawn_weights``: population x intensity x decay in conflict zones, 0 elsewhere."""
    active = conflict > 0.0
    w = np.zeros(len(population))
    if active.any():
        w[active] = population[active] * conflict[active] * conflict_decay(rules, t - onset[active])
    return w


def conflict_driven(
    rules: Rules, population: np.ndarray, conflict: np.ndarray, rng: np.random.Generator | None
) -> np.ndarray:
    """People added today in each conflict zone by conflict-driven spawning (Flee truncates to int)."""
    active = conflict > 0.0
    out = np.zeros(len(population))
    mode = rules.conflict_spawn_mode.lower()
    rate = rules.displaced_per_conflict_day
    if mode == "constant":
        out[active] = np.trunc(rate * conflict[active])
    elif mode == "pop_ratio":
        out[active] = np.trunc(rate * population[active] * conflict[active])
    else:  # poisson
        lam = rate * conflict[active]
        out[active] = rng.poisson(lam) if rng is not None else lam
    return out


def distribute(n: float, weights: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """``n`` people over locations by weight: expected shares, or a multinomial draw."""
    total = float(weights.sum())
    if n <= 0 or total <= 0:
        return np.zeros(len(weights))
    p = weights / total
    if rng is None:
        return n * p
    return rng.multinomial(int(n), p).astype(np.float64)
