"""Small-cell suppression for tables of counts, with complementary suppression and an audit.

A table is one row per cell: dimension columns and a count. Its *margins* are the totals over every subset of
its dimensions, at every level of the dimensions that have parents (district within region within country;
month within year): whoever gets the table can usually get those totals too (from the same API with fewer
``by``, or printed beside it). A margin is taken as published when it is at least the threshold (a smaller one
is itself a small cell, suppressed wherever it is published).

1. **Primary suppression**: every cell below the threshold.
2. **Complementary (secondary) suppression**, chosen by a mixed-integer program (HiGHS, through
   ``scipy.optimize.milp``) that minimises the total of the counts suppressed (and then their number) subject
   to, for every published margin ``G`` and every suppressed cell ``i`` in it: at least one other suppressed
   cell in ``G`` (no margin has exactly one hidden cell), and, for a primary cell, the other suppressed cells
   of ``G`` add up to at least ``margin - a_i`` (in that margin alone its value could then range over at
   least ``margin``). A cell that is a margin on its own (the only cell in some published total) is known and
   never chosen.
3. **Audit**: the bounds an intruder can compute for each primary cell from everything published (the kept
   cells, the published margins, counts never negative) are found by linear programming (HiGHS, through
   ``scipy.optimize.linprog``): minimise and maximise the cell. Rows and columns with two hidden cells are not
   enough in general (a hidden cell that bridges two cycles of hidden cells is fixed by the others), so when a
   primary cell's interval is narrower than ``margin`` a cut asks for one more suppressed cell among the cells
   that share a margin with it, and the program is solved again.

A primary cell that stays exposed even with every cell of the table hidden (because the published margins
alone pin it down, e.g. a district that is the only one of its region with arrivals that month, whose region
total for the month is published elsewhere) cannot be protected by this table: it is suppressed, reported as
*unprotectable*, and left out of the requirement so that it does not drive the table to suppress everything.
Protecting it needs the linked tables (the margins) to be suppressed together, which this module does not do.

Why written here: sdcTable (R) and tau-argus (C++) are the references; neither is a Python library. The
model is the classic one (Fischetti and Salazar 2001, in its simplest form); the solver is HiGHS.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import connected_components

from onthemove.share.disclose.hierarchy import DisclosureError


@dataclass(frozen=True)
class CellAudit:
    row: int  # position in the table
    value: float
    lower: float
    upper: float  # inf when nothing bounds it
    protected: bool
    exact: bool = True  # False: lower and upper are values the intruder cannot rule out, the interval is wider

    @property
    def width(self) -> float:
        return self.upper - self.lower

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "value": self.value,
            "lower": round(self.lower, 6),
            "upper": None if np.isinf(self.upper) else round(self.upper, 6),
            "protected": self.protected,
            "exact": self.exact,
        }


@dataclass
class TableSuppression:
    table: pd.DataFrame  # the input with the count blank where suppressed and a ``suppressed`` column
    status: np.ndarray = field(repr=False)  # per row: "primary", "secondary" or ""
    threshold: float
    margin: float
    primary: int
    secondary: int
    suppressed_total: float  # sum of the counts suppressed
    kept_total: float
    margins_published: int
    unprotectable: list[int]  # rows of primary cells no suppression inside this table can protect
    audit: list[CellAudit]
    rounds: int
    optimal: bool

    @property
    def suppressed(self) -> int:
        return self.primary + self.secondary

    @property
    def protected(self) -> bool:
        """Every primary cell that can be protected is."""
        return all(a.protected for a in self.audit if a.row not in self.unprotectable)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cells": len(self.status),
            "threshold": self.threshold,
            "margin": self.margin,
            "primary": self.primary,
            "secondary": self.secondary,
            "suppressed_total": self.suppressed_total,
            "kept_total": self.kept_total,
            "margins_published": self.margins_published,
            "protected": self.protected,
            "unprotectable": self.unprotectable,
            "rounds": self.rounds,
            "optimal": self.optimal,
            "audit": [a.to_dict() for a in self.audit],
        }


Dimension = str | Sequence[str]


def _variables(df: pd.DataFrame, dims: Sequence[Dimension], count: str) -> list[list[str]]:
    variables = [[d] if isinstance(d, str) else list(d) for d in dims]
    for var in variables:
        for c in var:
            if c not in df.columns:
                raise DisclosureError(
                    f"dimension column {c!r} is not in the table; it has {', '.join(map(repr, df.columns))}"
                )
    if count not in df.columns:
        raise DisclosureError(f"count column {count!r} is not in the table; it has {', '.join(map(repr, df.columns))}")
    return variables


def margin_groups(df: pd.DataFrame, variables: list[list[str]]) -> list[np.ndarray]:
    """Every margin of the table as the positions of the cells it adds up (duplicates removed)."""
    n = len(df)
    keys = {c: df[c].astype("string").fillna("\x00missing").to_numpy() for var in variables for c in var}
    seen: set[bytes] = set()
    groups: list[np.ndarray] = []
    for choice in itertools.product(*[range(len(v) + 1) for v in variables]):
        if all(c == 0 for c in choice):
            continue  # the cells themselves
        cols = [v[c] for v, c in zip(variables, choice, strict=True) if c < len(v)]
        if cols:
            ids = pd.MultiIndex.from_arrays([keys[c] for c in cols]).factorize()[0] if len(cols) > 1 else None
            if ids is None:
                ids = pd.factorize(keys[cols[0]])[0]
        else:
            ids = np.zeros(n, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        bounds = np.flatnonzero(np.diff(ids[order])) + 1
        for members in np.split(order, bounds):
            members = np.sort(members)
            tag = members.tobytes()
            if tag not in seen:
                seen.add(tag)
                groups.append(members)
    return groups


def suppress_table(
    df: pd.DataFrame,
    dims: Sequence[Dimension],
    count: str = "count",
    threshold: float = 10,
    margin: float | None = None,
    *,
    time_limit: float = 20.0,
    rounds: int = 4,
    extra: int | None = None,
) -> TableSuppression:
    """Primary and complementary suppression of ``df`` (one row per cell) against all of its margins.

    ``dims``: the dimension columns; a list stands for a dimension with parents, finest first
    (``["adm2", "adm1"]``). ``margin``: the narrowest interval an intruder may be left with for a primary
    cell (default: the threshold). Cells whose count is missing are left out. ``rounds``: MIP solves with cuts
    before hiding neighbours one by one, which may add at most ``extra`` cells (default: 2% of the cells, at least
    10); a primary cell still exposed then is reported (``protected`` is false), not chased further.
    """
    if threshold <= 0:
        raise DisclosureError("the threshold must be above 0")
    margin = float(threshold if margin is None else margin)
    variables = _variables(df, dims, count)
    values = pd.to_numeric(df[count], errors="coerce")
    bad = df[count].notna() & values.isna()
    if bad.any():
        raise DisclosureError(f"count column {count!r}: not a number in row {int(np.flatnonzero(bad)[0]) + 1}")
    if (values < 0).any():
        raise DisclosureError(f"count column {count!r}: negative count in row {int(np.flatnonzero(values < 0)[0]) + 1}")
    present = np.flatnonzero(values.notna().to_numpy())
    a = values.to_numpy(dtype=float)[present]
    sub = df.iloc[present].reset_index(drop=True)
    n = len(sub)
    primary = a < threshold
    groups = margin_groups(sub, variables) if n else []
    totals = [float(a[g].sum()) for g in groups]
    published = [g for g, t in zip(groups, totals, strict=True) if t >= threshold]
    known = np.zeros(n, dtype=bool)
    for g in published:
        if len(g) == 1:
            known[g[0]] = True
    multi = [g for g in published if len(g) >= 2]
    s, done, optimal, unprotectable, audit = _solve(
        a, primary, known, multi, published, margin, time_limit, rounds, extra
    )
    status = np.full(len(df), "", dtype=object)
    status[present[s & primary]] = "primary"
    status[present[s & ~primary]] = "secondary"
    out = df.copy()
    hidden = status != ""
    out[count] = values.astype("Int64") if (values.dropna() % 1 == 0).all() else values
    out.loc[hidden, count] = pd.NA
    out["suppressed"] = hidden
    return TableSuppression(
        table=out,
        status=status,
        threshold=threshold,
        margin=margin,
        primary=int((s & primary).sum()),
        secondary=int((s & ~primary).sum()),
        suppressed_total=float(a[s].sum()),
        kept_total=float(a[~s].sum()),
        margins_published=len(published),
        unprotectable=[int(present[i]) for i in unprotectable],
        audit=[CellAudit(int(present[c.row]), c.value, c.lower, c.upper, c.protected, c.exact) for c in audit],
        rounds=done,
        optimal=optimal,
    )


def _solve(
    a: np.ndarray,
    primary: np.ndarray,
    known: np.ndarray,
    multi: list[np.ndarray],
    published: list[np.ndarray],
    margin: float,
    time_limit: float,
    max_rounds: int = 4,
    extra: int | None = None,
) -> tuple[np.ndarray, int, bool, list[int], list[CellAudit]]:
    """The MIP, audited; cuts for a few rounds, then hide neighbours one at a time (hiding more never narrows an
    interval, so this ends) until every primary cell that can be protected is."""
    n = len(a)
    s = primary.copy()
    if not primary.any():
        return s, 0, True, [], []
    neighbours = _neighbours(n, published)
    cuts: list[np.ndarray] = []
    unprotectable: set[int] = set()
    cleared: set[int] = set()  # protected when every cell is hidden
    optimal = True
    rounds = 0

    def triage(cells: list[int]) -> list[int]:
        """Split failing cells into those the margins alone pin down and those that can be protected."""
        unknown = [p for p in cells if p not in cleared and p not in unprotectable]
        if unknown:
            mask = np.zeros(n, dtype=bool)
            mask[unknown] = True
            for c in audit_cells(a, np.ones(n, dtype=bool), mask, published, margin):
                (cleared if c.protected else unprotectable).add(c.row)
        return [p for p in cells if p not in unprotectable]

    def candidates(p: int, hidden: np.ndarray) -> np.ndarray:
        taken = set(np.flatnonzero(hidden | known).tolist())
        near = neighbours[p] - taken
        if not near:  # the neighbours' neighbours
            near = set().union(*(neighbours[j] for j in neighbours[p])) - taken - {p} if neighbours[p] else set()
        return np.array(sorted(near), dtype=np.int64)

    # pinned at sight: a margin whose other cells are all known gives the cell away, and one whose cells that
    # could be hidden add up to less than ``margin`` cannot leave it a wide enough interval
    hideable = primary | ~known
    for g in multi:
        room = float(a[g][hideable[g]].sum())
        for i in g[primary[g]]:
            if room < margin or not (hideable[g].sum() >= 2):
                unprotectable.add(int(i))
    failing: list[int] = []
    budget = extra if extra is not None else max(10, n // 50)
    while rounds < max_rounds:
        rounds += 1
        s, ok = _mip(a, primary, known, multi, margin, cuts, unprotectable, time_limit)
        if not ok and rounds == 1:
            # infeasible: some primary cells are pinned by the margins alone; find them and leave them out
            triage(np.flatnonzero(primary).tolist())
            s, ok = _mip(a, primary, known, multi, margin, cuts, unprotectable, time_limit)
        optimal &= ok
        audit = audit_cells(a, s, primary, published, margin)
        failing = [c.row for c in audit if not c.protected and c.row not in unprotectable]
        if failing and (rounds < max_rounds or budget):  # worth knowing which ones can be protected at all
            failing = triage(failing)
        if not failing:
            return s, rounds, optimal, sorted(unprotectable), audit
        for p in failing:
            cut = candidates(p, s)
            if len(cut):
                cuts.append(cut)
    # still failing after the rounds of cuts: hide the cheapest neighbour of each failing cell, audit, repeat,
    # within a budget of extra cells; past it, the pattern of the last round stays and the cells are reported
    optimal = False
    before = s.copy()
    while failing and int((s & ~before).sum()) < budget:
        for p in failing:
            cut = candidates(p, s)
            if len(cut) == 0:
                unprotectable.add(p)
            else:
                s[cut[np.argmin(a[cut])]] = True
        mask = np.zeros(n, dtype=bool)
        mask[[p for p in failing if p not in unprotectable]] = True
        failing = [c.row for c in audit_cells(a, s, mask, published, margin) if not c.protected]
    if failing:
        s = before
    if budget:
        audit = audit_cells(a, s, primary, published, margin)
    return s, rounds, optimal, sorted(unprotectable), audit


def _neighbours(n: int, published: list[np.ndarray]) -> list[set[int]]:
    out: list[set[int]] = [set() for _ in range(n)]
    for g in published:
        if len(g) < 2:
            continue
        members = g.tolist()
        for i in members:
            out[i].update(members)
    for i in range(n):
        out[i].discard(i)
    return out


def _mip(
    a: np.ndarray,
    primary: np.ndarray,
    known: np.ndarray,
    multi: list[np.ndarray],
    margin: float,
    cuts: list[np.ndarray],
    unprotectable: set[int],
    time_limit: float,
) -> tuple[np.ndarray, bool]:
    """The cheapest suppression pattern meeting the margin rules and the cuts; (pattern, solved to optimality)."""
    n = len(a)
    free = ~(known & ~primary)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lower: list[float] = []
    flags = 0  # one continuous y_G in [0, 1] per margin: y_G >= s_i for i in G, sum(s_G) >= 2 y_G
    r = 0
    for g in multi:
        members = g[free[g] & ~np.isin(g, list(unprotectable))] if unprotectable else g[free[g]]
        if len(members):
            y = n + flags
            flags += 1
            for i in members:  # y_G - s_i >= 0
                rows.append(np.array([r, r]))
                cols.append(np.array([y, i]))
                vals.append(np.array([1.0, -1.0]))
                lower.append(0.0)
                r += 1
            rows.append(np.full(len(g) + 1, r))  # sum(s_G) - 2 y_G >= 0
            cols.append(np.append(g, y))
            vals.append(np.append(np.ones(len(g)), -2.0))
            lower.append(0.0)
            r += 1
        guarded = [i for i in g if primary[i] and i not in unprotectable]
        if guarded and margin > min(a[guarded]):
            # a primary cell's margin: the hidden cells of G (itself included) add up to at least ``margin``
            rows.append(np.full(len(g), r))
            cols.append(g)
            vals.append(a[g])
            lower.append(margin)
            r += 1
    for cut in cuts:
        rows.append(np.full(len(cut), r))
        cols.append(cut)
        vals.append(np.ones(len(cut)))
        lower.append(1.0)
        r += 1
    size = n + flags
    lb = np.concatenate([np.where(primary, 1.0, 0.0), np.zeros(flags)])
    ub = np.concatenate([np.where(free, 1.0, 0.0), np.ones(flags)])
    cost = np.concatenate([a + 1.0 / (n + 1), np.zeros(flags)])  # the total suppressed first, then the cells
    integrality = np.concatenate([np.ones(n), np.zeros(flags)])
    constraints = []
    if r:
        matrix = sparse.csr_array(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, size), dtype=float
        )
        constraints.append(LinearConstraint(matrix, np.array(lower), np.inf))
    res = milp(
        cost,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(lb, ub),
        options={"time_limit": time_limit, "disp": False},
    )
    if res.x is None:  # infeasible or out of time without a solution: fall back to a greedy pattern
        return _greedy(a, primary, known, multi), False
    return res.x[:n] > 0.5, bool(res.status == 0)


def _greedy(a: np.ndarray, primary: np.ndarray, known: np.ndarray, multi: list[np.ndarray]) -> np.ndarray:
    """Hide the smallest free cell of every margin with exactly one hidden cell, until none is left."""
    s = primary.copy()
    changed = True
    while changed:
        changed = False
        for g in multi:
            hidden = s[g].sum()
            if hidden == 1:
                free = g[~s[g] & ~known[g]]
                if len(free):
                    s[free[np.argmin(a[free])]] = True
                    changed = True
    return s


def audit_cells(
    a: np.ndarray, s: np.ndarray, check: np.ndarray, published: list[np.ndarray], margin: float
) -> list[CellAudit]:
    """The interval an intruder can compute for each hidden cell in ``check`` from the kept cells and the
    published margins (counts never negative), by linear programming on each connected set of hidden cells."""
    hidden = np.flatnonzero(s)
    if len(hidden) == 0:
        return []
    pos = {int(c): i for i, c in enumerate(hidden)}
    eq_rows: list[int] = []
    eq_cols: list[int] = []
    rhs: list[float] = []
    for g in published:
        cells = [pos[int(c)] for c in g if s[c]]
        if not cells:
            continue
        r = len(rhs)
        eq_rows.extend([r] * len(cells))
        eq_cols.extend(cells)
        rhs.append(float(a[g][s[g]].sum()))  # the margin less its kept cells
    m = len(hidden)
    out = []
    if not rhs:
        return [CellAudit(int(c), float(a[c]), 0.0, np.inf, True) for c in hidden if check[c]]
    A = sparse.csr_array((np.ones(len(eq_rows)), (eq_rows, eq_cols)), shape=(len(rhs), m))
    b = np.array(rhs)
    # connected sets of hidden cells (through shared margins): each LP only sees its own
    link = sparse.csr_array(A.T @ A)
    n_comp, comp = connected_components(link, directed=False)
    for c in range(n_comp):
        members = np.flatnonzero(comp == c)
        targets = [i for i in members if check[hidden[i]]]
        if not targets:
            continue
        row_mask = np.asarray(A[:, members].sum(axis=1)).ravel() > 0
        sub_a = A[row_mask][:, members]
        sub_b = b[row_mask]
        # every LP solution is a point an intruder cannot rule out: the range of a cell over the points seen so
        # far is inside its interval, so once that range reaches ``margin`` the cell needs no LP of its own
        seen_lo = a[hidden[members]].astype(float)
        seen_hi = seen_lo.copy()
        for i in targets:
            j = int(np.flatnonzero(members == i)[0])
            cell = int(hidden[i])
            if seen_hi[j] - seen_lo[j] >= margin - 1e-9:
                out.append(CellAudit(cell, float(a[cell]), float(seen_lo[j]), float(seen_hi[j]), True, exact=False))
                continue
            cvec = np.zeros(len(members))
            cvec[j] = 1.0
            lo = linprog(cvec, A_eq=sub_a, b_eq=sub_b, bounds=(0, None), method="highs")
            hi = linprog(-cvec, A_eq=sub_a, b_eq=sub_b, bounds=(0, None), method="highs")
            for res in (lo, hi):
                if res.status == 0:
                    seen_lo = np.minimum(seen_lo, res.x)
                    seen_hi = np.maximum(seen_hi, res.x)
            lower = float(lo.fun) if lo.status == 0 else 0.0
            upper = float(-hi.fun) if hi.status == 0 else np.inf
            out.append(CellAudit(cell, float(a[cell]), lower, upper, upper - lower >= margin - 1e-9))
    out.sort(key=lambda x: x.row)
    return out
