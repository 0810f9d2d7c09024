"""The distribution plan that covers the most severe needs for the money, solved exactly with HiGHS.

A plan spec (YAML; ``docs/needs.md`` has the long version, ``examples/*/plan.yaml`` two examples)::

    name: somalia-2021-illustrative
    currency: USD
    budget: 2000000
    needs_rules: needs.yaml              # optional: the needs rules (relative to this file); --rules wins
    solver: {integer: true, mip_gap: 0.0001, time_limit: 60}
    weights: {3: 3, 4: 4, 5: 5}          # optional: weight per person by severity phase (default: the phase)
    packages:
      - {name: cash, sector: food_security, unit_cost: 70, people_per_unit: 6, stock: null, max_per_site: null}
    site_capacity: {default: 500, sites: {SITE-1: 100}}   # optional: units of all packages a site can receive
    unreachable: {sites: [SITE-9], places: [SO25]}       # optional: sites, or everything at/inside P-codes
    rules:
      - min_coverage: {severity: 4, share: 0.1, packages: [wash_kit]}   # each such site: >= 10% of its need
      - min_budget: {per: adm1, share: 0.02}    # each region with eligible need: >= 2% of the budget
      - min_budget: {place: SO24, share: 0.1}   # at least 10% of the budget at or inside SO24

The model, for every reachable site i and package p whose sector s(p) is in need at i (people in need
N_is > 0): x_ip units delivered (integer in the MIP, continuous in the LP) and y_ip people covered::

    maximise   sum w(sev_is(p)) * y_ip                       (severity-weighted people covered)
    subject to sum c_p * x_ip <= B                           (budget)
               sum_i x_ip <= stock_p                         (stock of each package)
               sum_p x_ip <= cap_i                           (delivery capacity of each site)
               y_ip <= k_p * x_ip                            (a unit covers k_p people)
               L_ip <= y_ip <= N_is(p),  0 <= x_ip <= min(ceil(N_is(p) / k_p), m_p)
               sum_{i in A} (c_p / k_p) * y_ip >= min(share * B, cost of all need in A)   (budget rules)

with L_ip = share * N_is(p) where a ``min_coverage`` rule applies. The greedy baseline fills (site, package)
pairs in order of severity-weighted people per unit of money (``ratio``) or down the needs ranking (``rank``),
after the rules' minimums, in the same whole units; ``compare`` reports the gain of the optimum over it.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from onthemove.respond.needs import Needs
from onthemove.respond.plan_spec import PlanError, PlanSpec, load_plan, parse_plan

__all__ = ["PlanError", "PlanSpec", "allocate", "greedy", "load_plan", "parse_plan", "sensitivity", "solve"]

TOL = 1e-6


# --------------------------------------------------------------------------------------------------- the problem


@dataclass
class Problem:
    """One row per candidate (site, package) pair; arrays are aligned with ``pairs``."""

    spec: PlanSpec
    pairs: pd.DataFrame  # site_id, site, package, sector, severity, rank, need, adm1, adm2, place
    weight: np.ndarray  # per person covered
    need: np.ndarray  # people in need (upper bound of y)
    lower: np.ndarray  # people that must be covered (rules)
    ppu: np.ndarray
    cost: np.ndarray  # per unit
    max_units: np.ndarray
    package: np.ndarray  # package index per pair
    site: np.ndarray  # site index per pair
    stock: np.ndarray  # per package (inf: none)
    capacity: np.ndarray  # per site (inf: none)
    budget_shares: list[tuple[str, np.ndarray, float]] = field(default_factory=list)  # (label, mask, share)
    unreachable: list[str] = field(default_factory=list)  # site ids left out
    notes: list[str] = field(default_factory=list)

    @property
    def budget(self) -> float:
        return self.spec.budget

    @property
    def budget_rows(self) -> list[tuple[str, np.ndarray, float]]:
        """(label, mask over pairs, the least value of assistance there) for each min_budget rule and area."""
        return [(label, mask, _budget_rhs(self, mask, share)) for label, mask, share in self.budget_shares]

    def with_budget(self, budget: float) -> Problem:
        return replace(self, spec=replace(self.spec, budget=budget))


def _budget_rhs(problem: Problem, mask: np.ndarray, share: float) -> float:
    full = float((problem.cost[mask] / problem.ppu[mask] * problem.need[mask]).sum())
    return min(share * problem.spec.budget, full)


def build_problem(needs: Needs, spec: PlanSpec) -> Problem:
    """The candidate pairs: reachable sites whose package sector is in need there."""
    notes: list[str] = []
    known = set(needs.sectors)
    for i, pkg in enumerate(spec.packages):
        if pkg.sector not in known:
            where = f"{spec.source}: " if spec.source else ""
            raise PlanError(
                f"{where}packages[{i}].sector: {pkg.sector!r} is not a sector of the needs "
                f"(the assessments have {', '.join(needs.sectors) or 'none'})"
            )
    sites = needs.sites.set_index("site_id")
    reach = pd.Series(True, index=sites.index)
    if spec.unreachable_sites:
        unknown = sorted(set(spec.unreachable_sites) - set(sites.index))
        if unknown:
            notes.append(f"unreachable sites not among the assessed sites: {', '.join(unknown[:5])}")
        reach &= ~sites.index.isin(spec.unreachable_sites)
    if spec.unreachable_places:
        codes = list(spec.unreachable_places)
        inside = sites["place"].isin(codes) | sites["adm1"].isin(codes) | sites["adm2"].isin(codes)
        reach &= ~inside
    n_out = int((~reach).sum())
    if n_out:
        pin = int(sites.loc[~reach, "people_in_need"].sum())
        notes.append(f"{n_out:,} sites are unreachable and left out ({pin:,} people in need there)")
    frames = []
    for j, pkg in enumerate(spec.packages):
        ss = needs.site_sector[(needs.site_sector["sector"] == pkg.sector) & (needs.site_sector["people_in_need"] > 0)]
        ss = ss[ss["site_id"].map(reach).fillna(False).astype(bool)]
        frames.append(
            pd.DataFrame(
                {
                    "site_id": ss["site_id"].to_numpy(),
                    "package": pkg.name,
                    "package_index": j,
                    "sector": pkg.sector,
                    "severity": ss["severity"].to_numpy(),
                    "need": ss["people_in_need"].to_numpy(dtype=float),
                }
            )
        )
    pairs = pd.concat(frames, ignore_index=True)
    info = sites.reindex(pairs["site_id"])
    pairs["rank"] = info["rank"].to_numpy()
    for col in ("name", "adm1", "adm2", "place", "latitude", "longitude", "people_in_need"):
        pairs[col] = info[col].to_numpy()
    pairs["site_severity"] = info["severity"].to_numpy()
    pairs = pairs.sort_values(["rank", "package_index"], kind="stable").reset_index(drop=True)
    site_codes, site_index = np.unique(pairs["site_id"].to_numpy(), return_inverse=True)
    pairs["site"] = site_index
    pkg_index = pairs["package_index"].to_numpy()
    ppu = np.array([spec.packages[j].people_per_unit for j in pkg_index], dtype=float)
    cost = np.array([spec.packages[j].unit_cost for j in pkg_index], dtype=float)
    need = pairs["need"].to_numpy(dtype=float)
    max_units = np.ceil(need / ppu - TOL)
    for j, pkg in enumerate(spec.packages):
        if pkg.max_per_site is not None:
            sel = pkg_index == j
            max_units[sel] = np.minimum(max_units[sel], pkg.max_per_site)
    lower = np.zeros(len(pairs))
    for rule in spec.coverage_rules:
        sel = pairs["severity"].to_numpy() >= rule.severity
        if rule.packages:
            sel &= pairs["package"].isin(rule.packages).to_numpy()
        lower[sel] = np.maximum(lower[sel], rule.share * need[sel])
    lower = np.minimum(lower, np.minimum(need, max_units * ppu))
    stock = np.array([np.inf if p.stock is None else p.stock for p in spec.packages], dtype=float)
    capacity = np.full(len(site_codes), np.inf if spec.capacity_default is None else spec.capacity_default)
    for code, units in spec.capacity_sites.items():
        hit = np.searchsorted(site_codes, code)
        if hit < len(site_codes) and site_codes[hit] == code:
            capacity[hit] = units
    problem = Problem(
        spec=spec,
        pairs=pairs,
        weight=spec.weight(pairs["severity"].to_numpy()),
        need=need,
        lower=lower,
        ppu=ppu,
        cost=cost,
        max_units=max_units,
        package=pkg_index,
        site=site_index,
        stock=stock,
        capacity=capacity,
        notes=notes,
        unreachable=sorted(sites.index[~reach]),
    )
    shares = problem.budget_shares
    for brule in spec.budget_rules:
        if brule.place:
            place = brule.place
            mask = (pairs["place"] == place) | (pairs["adm1"] == place) | (pairs["adm2"] == place)
            if not mask.any():
                notes.append(f"{brule.describe()}: no eligible site there, the rule does nothing")
            shares.append((brule.describe(), mask.to_numpy(), brule.share))
        else:
            area = pairs["adm1"] if brule.per == "adm1" else pairs["adm2"].fillna(pairs["adm1"])
            for value in sorted(area.dropna().unique()):
                shares.append((f"min_budget {brule.share:.0%} in {value}", (area == value).to_numpy(), brule.share))
    return problem


# ----------------------------------------------------------------------------------------------------- solutions


@dataclass
class Solution:
    method: str  # mip, lp, greedy-ratio, greedy-rank
    status: str
    units: np.ndarray
    covered: np.ndarray
    objective: float
    cost: float
    seconds: float
    gap: float | None = None
    bound: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def people(self) -> float:
        """People covered, counted once per package they receive."""
        return float(self.covered.sum())

    def served_sites(self, problem: Problem) -> set[str]:
        return set(problem.pairs["site_id"].to_numpy()[self.covered > TOL])

    def summary(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "status": self.status,
            "objective": round(self.objective, 3),
            "people_covered": round(self.people, 3),
            "cost": round(self.cost, 2),
            "gap": self.gap,
            "bound": None if self.bound is None else round(self.bound, 3),
            "seconds": round(self.seconds, 4),
        }


TIE_BREAK = 1e-5


def tie_broken_weights(problem: Problem) -> np.ndarray:
    """The weights the solver maximises: the declared ones times 1 + 1e-5 * (1 - (rank - 1) / n), so that among
    plans of equal value it prefers the sites higher in the needs ranking (equal-value plans abound: every site
    in the same phase weighs the same). Reported objectives always use the declared weights."""
    rank = problem.pairs["rank"].to_numpy(dtype=float)
    top = max(float(rank.max()), 1.0) if len(rank) else 1.0
    return problem.weight * (1 + TIE_BREAK * (1 - (rank - 1) / top))


def _matrix(problem: Problem) -> tuple[Any, np.ndarray, np.ndarray]:
    """Constraint matrix (CSC, columns x then y) with its row bounds."""
    from scipy import sparse

    k = len(problem.pairs)
    inf = np.inf
    rows: list[Any] = []
    lo: list[np.ndarray] = []
    hi: list[np.ndarray] = []
    idx = np.arange(k)

    def block(cols: np.ndarray, row_of: np.ndarray, vals: np.ndarray, n_rows: int) -> Any:
        return sparse.csr_matrix((vals, (row_of, cols)), shape=(n_rows, 2 * k))

    rows.append(block(idx, np.zeros(k, dtype=int), problem.cost, 1))  # budget
    lo.append(np.array([-inf]))
    hi.append(np.array([problem.spec.budget]))
    for limits, owner in ((problem.stock, problem.package), (problem.capacity, problem.site)):
        limited = np.flatnonzero(np.isfinite(limits))  # stock per package, capacity per site
        if len(limited):
            sel = np.isin(owner, limited)
            rows.append(block(idx[sel], np.searchsorted(limited, owner[sel]), np.ones(int(sel.sum())), len(limited)))
            lo.append(np.full(len(limited), -inf))
            hi.append(limits[limited])
    rows.append(sparse.hstack([sparse.diags(-problem.ppu), sparse.identity(k)], format="csr"))  # y - k x <= 0
    lo.append(np.full(k, -inf))
    hi.append(np.zeros(k))
    value = problem.cost / problem.ppu
    for _label, mask, rhs in problem.budget_rows:  # value of assistance in an area >= rhs
        cols = k + np.flatnonzero(mask)
        rows.append(block(cols, np.zeros(len(cols), dtype=int), value[mask], 1))
        lo.append(np.array([rhs]))
        hi.append(np.array([inf]))
    a = sparse.vstack(rows, format="csc")
    a.sort_indices()
    return a, np.concatenate(lo), np.concatenate(hi)


def solve(problem: Problem, *, integer: bool | None = None, time_limit: float | None = None) -> Solution:
    """The optimum with HiGHS: the LP, and for the MIP (whole units, the default) branch and bound from the LP's
    rounded and greedily completed plan; raises PlanError, saying why, when the rules cannot all hold."""
    import highspy

    spec = problem.spec
    integer = spec.integer if integer is None else integer
    method = "mip" if integer else "lp"
    k = len(problem.pairs)
    started = time.perf_counter()
    if k == 0:
        return Solution(method, "Optimal", np.zeros(0), np.zeros(0), 0.0, 0.0, 0.0, 0.0, 0.0)
    limit = float(time_limit or spec.time_limit)
    a, row_lo, row_hi = _matrix(problem)
    inf = highspy.kHighsInf
    h = _highs(highspy)
    h.setOptionValue("output_flag", bool(os.environ.get("ONTHEMOVE_HIGHS_LOG")))
    h.setOptionValue("time_limit", limit)
    h.setOptionValue("mip_rel_gap", float(spec.mip_gap))
    h.setOptionValue("threads", 1)
    status = h.passModel(
        2 * k,
        a.shape[0],
        a.nnz,
        1,  # column-wise matrix
        -1,  # maximise
        0.0,
        np.concatenate([np.zeros(k), tie_broken_weights(problem)]),
        np.concatenate([np.zeros(k), problem.lower]),
        np.concatenate([problem.max_units, problem.need]),
        np.where(np.isinf(row_lo), -inf, row_lo),
        np.where(np.isinf(row_hi), inf, row_hi),
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        a.data.astype(float),
        np.zeros(2 * k, dtype=np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise PlanError("HiGHS refused the model (an internal error: please report it)")
    h.run()
    _check(h, highspy, problem)
    values = np.asarray(h.getSolution().col_value)
    bound = float(h.getInfo().objective_function_value)
    label = h.modelStatusToString(h.getModelStatus())
    if integer:
        # a whole-unit plan to start from: the LP's choices first (most covered first), greedily completed
        y_lp = np.clip(values[k:], 0, problem.need)
        filled = y_lp / np.maximum(problem.need, TOL)
        ratio = problem.weight * problem.ppu / problem.cost
        seq = np.lexsort((np.arange(k), -ratio, -np.round(filled, 6)))
        begin = _fill(problem, seq, y_lp, True, "lp-rounded")
        # or the greedy plan where it is better: then the optimum never falls below greedy, whatever the MIP gap
        alt = greedy(problem, order="ratio", integer=True)
        tied = tie_broken_weights(problem)
        if not alt.notes and (begin.notes or float(tied @ alt.covered) > float(tied @ begin.covered)):
            begin = alt
        h.changeColsIntegrality(k, np.arange(k, dtype=np.int32), np.ones(k, dtype=np.uint8))
        h.setOptionValue("time_limit", max(limit - (time.perf_counter() - started), 1.0))
        start = highspy.HighsSolution()
        start.col_value = list(np.concatenate([begin.units, begin.covered]))
        start.value_valid = True
        h.setSolution(start)
        h.run()
        _check(h, highspy, problem)
        values = np.asarray(h.getSolution().col_value)
        info = h.getInfo()
        bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else bound
        label = h.modelStatusToString(h.getModelStatus())
    covered = np.clip(values[k:], 0, problem.need)
    whole = np.minimum(np.round(values[:k]), np.ceil(covered / problem.ppu - TOL))
    units = np.maximum(whole if integer else covered / problem.ppu, 0)
    covered = np.minimum(covered, units * problem.ppu)
    objective = float(problem.weight @ covered)
    bound = max(bound, objective)
    return Solution(
        method,
        label,
        units,
        covered,
        objective,
        float(problem.cost @ units),
        time.perf_counter() - started,
        gap=(bound - objective) / bound if bound > 0 else 0.0,
        bound=bound,
    )


def _highs(highspy: Any) -> Any:
    """A HiGHS instance. The core class, where there is one: the Python wrapper prints a banner on stdout when it
    is made, which would land in CSV and JSON output."""
    core = getattr(getattr(highspy, "_core", None), "_Highs", None)
    return core() if core is not None else highspy.Highs()


def _check(h: Any, highspy: Any, problem: Problem) -> None:
    status = h.getModelStatus()
    feasible = h.getInfo().primal_solution_status == 2  # kSolutionStatusFeasible
    if (
        status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible)
        or not feasible
    ):
        raise PlanError(f"no feasible plan ({h.modelStatusToString(status)}): {diagnose(problem)}")


def diagnose(problem: Problem) -> str:
    """Why the rules cannot all hold: what the minimums need against the budget, stock and capacity."""
    spec = problem.spec
    units = np.ceil(problem.lower / problem.ppu - TOL)
    reasons: list[str] = []
    need_cost = float(problem.cost @ units)
    if need_cost > spec.budget + TOL:
        reasons.append(
            f"the min_coverage rules alone need {spec.currency} {need_cost:,.0f} but the budget is "
            f"{spec.currency} {spec.budget:,.0f}"
        )
    for j, pkg in enumerate(spec.packages):
        want = float(units[problem.package == j].sum())
        if pkg.stock is not None and want > pkg.stock + TOL:
            reasons.append(
                f"the min_coverage rules need {want:,.0f} {pkg.name} units but the stock is {pkg.stock:,.0f}"
            )
    per_site = np.bincount(problem.site, weights=units, minlength=len(problem.capacity))
    over = np.flatnonzero(per_site > problem.capacity + TOL)
    if len(over):
        reasons.append(f"the min_coverage rules exceed the delivery capacity of {len(over):,} sites")
    floor = float(sum(rhs for _, _, rhs in problem.budget_rows))
    if floor > spec.budget + TOL:
        reasons.append(
            f"the min_budget rules add up to {spec.currency} {floor:,.0f}, more than the budget of "
            f"{spec.currency} {spec.budget:,.0f}"
        )
    if not reasons:
        reasons.append("the min_coverage and min_budget rules conflict with the budget, stock or site capacity")
    return "; ".join(reasons)


def greedy(problem: Problem, *, order: str = "ratio", integer: bool | None = None) -> Solution:
    """The baseline: the rules' minimums first, then fill pairs one after another in ``order``: ``ratio``
    (severity-weighted people per unit of money, best first; ties down the needs ranking) or ``rank`` (down the
    needs ranking, packages in the plan's order), each as far as budget, stock, capacity and need allow."""
    if order not in ("ratio", "rank"):
        raise PlanError(f"greedy order must be ratio or rank, not {order!r}")
    k = len(problem.pairs)
    if order == "ratio":
        ratio = problem.weight * problem.ppu / problem.cost
        seq = np.lexsort((np.arange(k), -ratio))  # ties keep the ranking order of ``pairs``
    else:
        seq = np.arange(k)
    integer = problem.spec.integer if integer is None else integer
    return _fill(problem, seq, problem.need, integer, f"greedy-{order}")


def _fill(problem: Problem, seq: np.ndarray, targets: np.ndarray, integer: bool, method: str) -> Solution:
    """Fill pairs in ``seq`` order: minimums, then each min_budget area, then up to ``targets``, then up to need."""
    started = time.perf_counter()
    k = len(problem.pairs)
    ppu, cost, need, maxu = problem.ppu, problem.cost, problem.need, problem.max_units
    pkg, site = problem.package, problem.site
    x = np.zeros(k)
    y = np.zeros(k)
    money = problem.spec.budget
    stock = problem.stock.copy()
    cap = problem.capacity.copy()
    cheapest = float(cost.min()) if k and integer else TOL  # below this, no more units can be bought

    def give(i: int, target: float) -> float:
        """Cover up to ``target`` people at pair i; returns the people added."""
        nonlocal money
        target = min(target, need[i])
        extra = target - y[i]
        if extra <= TOL:
            return 0.0
        slack = x[i] * ppu[i] - y[i]
        want = max(0.0, (extra - slack) / ppu[i])
        if integer:
            want = math.ceil(want - TOL)
        room = max(min(want, money / cost[i], stock[pkg[i]], cap[site[i]], maxu[i] - x[i]), 0.0)
        if integer:
            room = math.floor(room + TOL)
        x[i] += room
        money -= room * cost[i]
        stock[pkg[i]] -= room
        cap[site[i]] -= room
        before = y[i]
        y[i] = max(y[i], min(need[i], x[i] * ppu[i]))  # every unit given covers its people
        return float(y[i] - before)

    for i in seq:
        if problem.lower[i] > 0:
            give(int(i), float(problem.lower[i]))
    value = cost / ppu
    for _label, mask, rhs in problem.budget_rows:
        got = float(value[mask] @ y[mask])
        for goal in (targets, need):
            for i in seq[mask[seq]]:
                if got >= rhs - TOL:
                    break
                got += value[i] * give(int(i), float(min(goal[i], y[i] + (rhs - got) / value[i])))
    for goal in (targets, need) if targets is not need else (need,):
        for i in seq:
            if money < cheapest - TOL:
                break
            give(int(i), float(goal[i]))
    notes = []
    short = np.flatnonzero(y < problem.lower - TOL)
    if len(short):
        notes.append(f"{method} leaves {len(short):,} (site, package) pairs below their min_coverage")
    for label, mask, rhs in problem.budget_rows:
        if float(value[mask] @ y[mask]) < rhs - 1e-3:
            notes.append(f"{method} misses {label}")
    return Solution(
        method,
        "feasible" if not notes else "rules not met",
        x,
        y,
        float(problem.weight @ y),
        float(cost @ x),
        time.perf_counter() - started,
        notes=notes,
    )


def gain(best: Solution, base: Solution) -> dict[str, Any]:
    """How much more the optimum covers than a baseline (objective ratio and people)."""
    ratio = best.objective / base.objective if base.objective > 0 else None
    return {
        "baseline": base.method,
        "objective": round(best.objective, 3),
        "baseline_objective": round(base.objective, 3),
        "gain": None if ratio is None else round(ratio - 1, 6),
        "extra_weighted_people": round(best.objective - base.objective, 3),
        "extra_people": round(best.people - base.people, 3),
    }


def sensitivity(
    problem: Problem, base: Solution, changes: Sequence[float] = (-0.2, -0.1, 0.1, 0.2), *, integer: bool | None = None
) -> list[dict[str, Any]]:
    """Re-solve with the budget moved by each change (-0.2 = 20% less): objective, people, cost, the sites
    that enter or leave the plan, and the marginal severity-weighted people per unit of money."""
    served = base.served_sites(problem)
    out: list[dict[str, Any]] = []
    for change in changes:
        budget = problem.budget * (1 + change)
        moved = problem.with_budget(budget)
        try:
            sol = solve(moved, integer=integer)
        except PlanError as exc:
            out.append({"change": change, "budget": budget, "status": f"infeasible: {exc}"})
            continue
        now = sol.served_sites(moved)
        delta_b = budget - problem.budget
        out.append(
            {
                "change": change,
                "budget": round(budget, 2),
                "status": sol.status,
                "objective": round(sol.objective, 3),
                "people_covered": round(sol.people, 3),
                "cost": round(sol.cost, 2),
                "sites": len(now),
                "enter": sorted(now - served),
                "leave": sorted(served - now),
                "marginal": round((sol.objective - base.objective) / delta_b, 6) if delta_b else None,
                "greedy_objective": round(greedy(moved, integer=integer).objective, 3),
                "seconds": round(sol.seconds, 4),
            }
        )
    return out


# ------------------------------------------------------------------------------------------------------ the plan


@dataclass
class Allocation:
    spec: PlanSpec
    problem: Problem
    best: Solution
    baselines: list[Solution]
    sensitivity: list[dict[str, Any]] = field(default_factory=list)
    needs: Needs | None = None

    @property
    def notes(self) -> list[str]:
        return [*self.problem.notes, *self.best.notes, *[n for b in self.baselines for n in b.notes]]

    def plan(self) -> pd.DataFrame:
        """One row per (site, package) that receives something, down the needs ranking."""
        p = self.problem.pairs
        keep = self.best.units > TOL
        sel = p[keep]
        units = self.best.units[keep]
        covered = self.best.covered[keep]
        out = pd.DataFrame(
            {
                "rank": sel["rank"].to_numpy(),
                "site_id": sel["site_id"].to_numpy(),
                "name": sel["name"].to_numpy(),
                "adm1": sel["adm1"].to_numpy(),
                "adm2": sel["adm2"].to_numpy(),
                "latitude": sel["latitude"].to_numpy(),
                "longitude": sel["longitude"].to_numpy(),
                "package": sel["package"].to_numpy(),
                "sector": sel["sector"].to_numpy(),
                "severity": sel["severity"].to_numpy(),
                "people_in_need": sel["need"].to_numpy().astype(np.int64),
                "units": units.astype(np.int64) if self.best.method == "mip" else np.round(units, 3),
                "people_covered": np.round(covered, 1),
                "coverage": np.round(covered / sel["need"].to_numpy(), 4),
                "cost": np.round(units * self.problem.cost[keep], 2),
                "currency": self.spec.currency,
            }
        )
        return out.reset_index(drop=True)

    def by_package(self) -> pd.DataFrame:
        p = self.problem.pairs
        rows = []
        for j, pkg in enumerate(self.spec.packages):
            sel = p["package_index"].to_numpy() == j
            units = float(self.best.units[sel].sum())
            rows.append(
                {
                    "package": pkg.name,
                    "sector": pkg.sector,
                    "unit_cost": pkg.unit_cost,
                    "units": round(units, 2),
                    "stock": pkg.stock,
                    "people_covered": round(float(self.best.covered[sel].sum()), 1),
                    "people_in_need": int(self.problem.need[sel].sum()),
                    "sites": int((self.best.units[sel] > TOL).sum()),
                    "cost": round(float(self.problem.cost[sel] @ self.best.units[sel]), 2),
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        best = self.best
        return {
            "plan": self.spec.name,
            "currency": self.spec.currency,
            "budget": self.spec.budget,
            "candidates": len(self.problem.pairs),
            "sites_eligible": int(self.problem.pairs["site_id"].nunique()),
            "sites_served": len(best.served_sites(self.problem)),
            **best.summary(),
            "gains": [gain(best, b) for b in self.baselines],
            "baselines": [b.summary() for b in self.baselines],
            "notes": self.notes,
        }


def allocate(
    needs: Needs, spec: PlanSpec, *, integer: bool | None = None, with_sensitivity: bool = False
) -> Allocation:
    """The optimal plan for ``spec`` over ``needs``, the two greedy baselines and, on request, the budget
    sensitivity (-20%, -10%, +10%, +20%)."""
    problem = build_problem(needs, spec)
    best = solve(problem, integer=integer)
    baselines = [greedy(problem, order="ratio", integer=integer), greedy(problem, order="rank", integer=integer)]
    result = Allocation(spec, problem, best, baselines, needs=needs)
    if with_sensitivity:
        result.sensitivity = sensitivity(problem, best, integer=integer)
    return result
