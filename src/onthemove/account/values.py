"""An indicator's baseline, target and actual for a place and period, wherever each comes from, and its status.

Actuals are computed from the store (``compute``), reported (rows of kind ``indicator_values``), or aggregated
from child indicators down the results chain. Reported values are aggregated by the indicator's rule:

* over time, within the reporting period: ``sum`` adds, ``mean`` averages, ``latest`` keeps the latest period
  reported, ``none`` takes only a value reported for exactly that period;
* over places, up the admin hierarchy: a value reported for the place itself wins; otherwise ``sum`` and
  ``latest`` add the values of the areas inside it (at the first level below that has any), ``mean`` averages
  them, ``none`` gives nothing.

Baselines and targets are looked up in this order: a value imported for the place (``value_type`` baseline or
target), one declared in the framework file for the place, then one declared without a place, which holds for
the programme as a whole (the top of the report) only. A declared baseline without a value is computed from the
store over its period.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from onthemove.account import compute
from onthemove.account.framework import Framework, Indicator, Target
from onthemove.account.periods import Period, from_dates, parse_period
from onthemove.store.base import Store

TOTALS = {"sex": "total", "age_group": "total", "population_group": "all", "disability": "all"}
REPORTED_DIMENSIONS = tuple(TOTALS)
STATUSES = ("on track", "at risk", "off track", "no target", "no data")


@dataclass(frozen=True)
class Figure:
    value: float
    period: str
    source: str  # "computed", "reported", "framework", "children"


@dataclass
class Evaluation:
    indicator: Indicator
    place: str | None
    period: Period
    actual: Figure | None
    baseline: Figure | None
    target: Figure | None
    status: str
    reason: str
    progress: float | None = None  # share of the way from baseline to target achieved
    expected: float | None = None  # share of the time from baseline to target passed
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def fig(f: Figure | None) -> dict[str, Any] | None:
            return None if f is None else {"value": f.value, "period": f.period, "source": f.source}

        return {
            "indicator": self.indicator.code,
            "name": self.indicator.name,
            "node": self.indicator.node,
            "unit": self.indicator.unit,
            "measure": self.indicator.measure,
            "direction": self.indicator.direction,
            "place": self.place,
            "period": self.period.label,
            "actual": fig(self.actual),
            "baseline": fig(self.baseline),
            "target": fig(self.target),
            "status": self.status,
            "reason": self.reason,
            "progress": self.progress,
            "expected": self.expected,
        }


def place_level(store: Store, place: str | None) -> tuple[str | None, str]:
    """The place's P-code and the admin level to compute at (the country, adm0, when no place is given)."""
    if place is None:
        row = store.fetch_one("SELECT count(DISTINCT adm0) FROM places")
        if not row or not row[0]:
            raise compute.ComputeError("the store holds no places: load a gazetteer first")
        return None, "adm0"
    row = store.fetch_one("SELECT admin_level FROM places WHERE pcode = $p", {"p": place.upper()})
    if row is None:
        raise compute.ComputeError(f"no place {place!r} in the gazetteer")
    return place.upper(), f"adm{int(row[0])}"


# --- reported values --------------------------------------------------------------------------------------


def _reported(
    store: Store, code: str, value_type: str, dims: Sequence[str] = (), before: dt.date | None = None
) -> list[dict[str, Any]]:
    """Rows of one indicator and value type: the totals, or broken down by ``dims`` (other dimensions total)."""
    conds = ["v.indicator = $code", "v.value_type = $type"]
    # codes are stored lower-cased (ingest lowers indicator codes); framework codes compare without case
    params: dict[str, Any] = {"code": code.lower(), "type": value_type}
    for d, total in TOTALS.items():
        conds.append(f"v.{d} <> '{total}'" if d in dims else f"v.{d} = '{total}'")
    if before is not None:
        params["before"] = before
        conds.append("v.period_start <= $before")
    cols = ", ".join(f"v.{d}" for d in REPORTED_DIMENSIONS)
    text = (
        f"SELECT v.place, p.admin_level, p.adm0, p.adm1, p.adm2, p.adm3, v.period_start, v.period_end, {cols}, "
        f"v.value FROM indicator_values v LEFT JOIN places p ON p.pcode = v.place WHERE {' AND '.join(conds)}"
    )
    names = ["place", "admin_level", "adm0", "adm1", "adm2", "adm3", "start", "end", *REPORTED_DIMENSIONS, "value"]
    rows = [dict(zip(names, r, strict=True)) for r in store.fetch(text, params)]
    for r in rows:
        r["period"] = from_dates(r["start"], r["end"])
    return rows


def _over_time(rows: list[dict[str, Any]], period: Period, rule: str) -> float | None:
    inside = [r for r in rows if period.start <= r["period"].start and r["period"].end <= period.end]
    if rule == "none":
        exact = [r["value"] for r in inside if r["period"].start == period.start and r["period"].end == period.end]
        return exact[-1] if exact else None
    if not inside:
        return None
    if rule == "latest":
        last = max(r["period"] for r in inside)
        return sum(r["value"] for r in inside if r["period"] == last)
    values = [r["value"] for r in inside]
    return sum(values) / len(values) if rule == "mean" else sum(values)


def _tree(store: Store) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Children of every place, and every place's admin level."""
    children: dict[str, list[str]] = defaultdict(list)
    levels: dict[str, int] = {}
    for code, parent, lvl in store.fetch("SELECT pcode, parent_pcode, admin_level FROM places"):
        levels[code] = int(lvl)
        if parent is not None:
            children[parent].append(code)
    return children, levels


def _rollup(
    own: dict[str, float], targets: Sequence[str], children: dict[str, list[str]], rule: str
) -> dict[str, float]:
    """The value of each target place: its own if reported, else (unless ``rule`` is none) its children's
    values, each found the same way, added (``mean``: averaged)."""
    memo: dict[str, float | None] = {}

    def value(code: str) -> float | None:
        if code in memo:
            return memo[code]
        got: float | None = own.get(code)
        if got is None and rule != "none":
            found = [v for c in children.get(code, []) if (v := value(c)) is not None]
            if found:
                got = sum(found) / len(found) if rule == "mean" else sum(found)
        memo[code] = got
        return got

    return {t: v for t in targets if (v := value(t)) is not None}


def _targets(levels: dict[str, int], children: dict[str, list[str]], want: int, place: str | None) -> list[str]:
    """The places at level ``want`` inside ``place`` (all of them when None)."""
    if place is None:
        return sorted(c for c, lvl in levels.items() if lvl == want)
    out, todo = [], [place]
    while todo:
        code = todo.pop()
        if levels.get(code) == want:
            out.append(code)
        elif levels.get(code, 99) < want:
            todo.extend(children.get(code, []))
    return sorted(out)


def reported_actuals(
    store: Store,
    ind: Indicator,
    period: Period,
    level: str,
    place: str | None = None,
    dims: Sequence[str] = (),
    scope: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Reported actuals per place at ``level`` (inside ``place``), by ``dims``: rows ``place, *dims, value``.

    Over time first, per reported place; then up the hierarchy by the indicator's rule. ``scope``: only values
    reported for places inside these areas count (a partner's scope), so a country's figure is theirs only."""
    dims = [d for d in dims if d in REPORTED_DIMENSIONS]
    rows = _reported(store, ind.code, "actual", dims)
    groups: dict[tuple[Any, ...], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["place"] is not None:
            groups[tuple(r[d] for d in dims)][r["place"]].append(r)
    if not groups:
        return []
    children, levels = _tree(store)
    targets = _targets(levels, children, int(level[3:]), place)
    allowed: set[str] | None = None
    if scope is not None:
        allowed, todo = set(), [c.upper() for c in scope]
        while todo:
            code = todo.pop()
            if code not in allowed:
                allowed.add(code)
                todo.extend(children.get(code, []))
    result = []
    for key, by_place in sorted(groups.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        own = {
            p: v
            for p, g in by_place.items()
            if (allowed is None or p in allowed) and (v := _over_time(g, period, ind.aggregation)) is not None
        }
        for code, value in _rollup(own, targets, children, ind.aggregation).items():
            row: dict[str, Any] = {"place": code}
            for i, d in enumerate(dims):
                row[d] = key[i]
            row["value"] = value
            result.append(row)
    result.sort(key=lambda r: (r["place"], *[str(r[d]) for d in dims]))
    return result


def _programme_reported(store: Store, ind: Indicator, period: Period, value_type: str) -> float | None:
    rows = [r for r in _reported(store, ind.code, value_type) if r["place"] is None]
    return _over_time(rows, period, ind.aggregation) if rows else None


# --- actuals ----------------------------------------------------------------------------------------------


def actual(
    store: Store, fw: Framework, ind: Indicator, period: Period, place: str | None, scope: Sequence[str] | None = None
) -> Figure | None:
    """The indicator's actual for ``place`` (None: the whole programme, i.e. the country) over ``period``."""
    code, level = place_level(store, place)
    if ind.computed:
        rows = compute.indicator_rows(store, ind, period, level, place=code, scope=scope)
        if code is None:
            return _combine_places(ind, rows, period, "computed")
        value = next((r["value"] for r in rows if r["place"] == code), None)
        return None if value is None else Figure(value, period.label, "computed")
    if ind.children:
        values = [actual(store, fw, fw.indicators[c], period, place, scope) for c in ind.children]
        found = [v.value for v in values if v is not None]
        if not found:
            return None
        value = sum(found) / len(found) if ind.aggregation == "mean" else sum(found)
        return Figure(value, period.label, "children")
    if code is None:
        own = _programme_reported(store, ind, period, "actual") if scope is None else None
        if own is not None:
            return Figure(own, period.label, "reported")
        rows = reported_actuals(store, ind, period, level, scope=scope)
        return _combine_places(ind, rows, period, "reported")
    rows = reported_actuals(store, ind, period, level, place=code, scope=scope)
    value = next((r["value"] for r in rows if r["place"] == code), None)
    return None if value is None else Figure(value, period.label, "reported")


def _combine_places(ind: Indicator, rows: list[dict[str, Any]], period: Period, source: str) -> Figure | None:
    """The programme's figure from the countries' (several adm0 in one store): ratios from their sums."""
    if not rows:
        return None
    if ind.denominator is not None:
        num = sum(r["numerator"] for r in rows)
        den = sum(r["denominator"] or 0 for r in rows)
        return None if not den else Figure(num / den * ind.factor, period.label, source)
    values = [r["value"] for r in rows if r["value"] is not None]
    if not values:
        return None
    value = sum(values) / len(values) if ind.aggregation == "mean" else sum(values)
    return Figure(value, period.label, source)


def breakdown(
    store: Store,
    ind: Indicator,
    period: Period,
    place: str | None,
    dim: str,
    scope: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The actual broken down by one dimension: rows ``key, value`` (``place``: the areas one level down)."""
    code, level = place_level(store, place)
    if dim == "place":
        below = f"adm{min(int(level[3:]) + 1, 3)}"
        if ind.computed:
            rows = compute.indicator_rows(store, ind, period, below, place=code, scope=scope)
        elif ind.reported:
            rows = reported_actuals(store, ind, period, below, place=code, scope=scope)
        else:
            return []
        return [{"key": r["place"], "value": r["value"]} for r in rows if r["value"] is not None]
    if ind.computed:
        rows = compute.indicator_rows(store, ind, period, level, dims=[dim], place=code, scope=scope)
        if code is not None:
            rows = [r for r in rows if r["place"] == code]
        merged: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            if r.get(dim) is not None:
                merged[r[dim]].append(r)
        out = []
        for key, group in sorted(merged.items(), key=lambda kv: str(kv[0])):
            fig = _combine_places(ind, group, period, "computed")
            if fig is not None:
                out.append({"key": key, "value": fig.value})
        return out
    if ind.reported and dim in REPORTED_DIMENSIONS:
        if code is None:
            own = [r for r in _reported(store, ind.code, "actual", [dim]) if r["place"] is None and scope is None]
            groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
            for r in own:
                groups[r[dim]].append(r)
            found = {k: _over_time(g, period, ind.aggregation) for k, g in groups.items()}
            if not any(v is not None for v in found.values()):  # none for the programme itself: its countries'
                found = {}
                for r in reported_actuals(store, ind, period, "adm0", dims=[dim], scope=scope):
                    found[r[dim]] = (found.get(r[dim]) or 0.0) + r["value"]
            return [{"key": k, "value": v} for k, v in sorted(found.items()) if v is not None]
        rows = reported_actuals(store, ind, period, level, place=code, dims=[dim], scope=scope)
        return [{"key": r[dim], "value": r["value"]} for r in rows if r["place"] == code]
    return []


def monthly(
    store: Store, ind: Indicator, period: Period, place: str | None, scope: Sequence[str] | None = None
) -> list[tuple[str, float]]:
    """The computed indicator month by month over ``period`` (empty for reported ones)."""
    if not ind.computed:
        return []
    code, level = place_level(store, place)
    rows = compute.indicator_rows(store, ind, period, level, monthly=True, place=code, scope=scope)
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if code is None or r["place"] == code:
            per[r["month"]].append(r)
    out = []
    for month, group in sorted(per.items()):
        fig = _combine_places(ind, group, period, "computed")
        if fig is not None:
            out.append((month, fig.value))
    return out


# --- baselines and targets --------------------------------------------------------------------------------


def _reported_refs(store: Store, ind: Indicator, value_type: str, place: str | None) -> list[tuple[Period, float]]:
    """Imported baselines or targets for ``place`` (None: the programme) by period: the place's own value, else
    the values of the areas inside it rolled up by the indicator's rule (as actuals are)."""
    rows = _reported(store, ind.code, value_type)
    by_period: dict[Period, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_period[r["period"]].append(r)
    if not by_period:
        return []
    children, levels = _tree(store)
    out = []
    for period, group in by_period.items():
        programme = [r for r in group if r["place"] is None]
        if place is None and programme:
            out.append((period, float(programme[-1]["value"])))
            continue
        own = {r["place"]: float(r["value"]) for r in group if r["place"] is not None}
        if place is not None:
            got = _rollup(own, [place], children, ind.aggregation)
            if place in got:
                out.append((period, got[place]))
            continue
        countries = _rollup(own, _targets(levels, children, 0, None), children, ind.aggregation)
        if countries:
            values = list(countries.values())
            out.append((period, sum(values) / len(values) if ind.aggregation == "mean" else sum(values)))
    return out


def _declared(targets: Sequence[Target], place: str | None) -> list[Target]:
    """Targets stated in the framework for this place (None: programme-wide ones)."""
    return [t for t in targets if t.place == place]


def baseline(
    store: Store, fw: Framework, ind: Indicator, place: str | None, scope: Sequence[str] | None = None
) -> Figure | None:
    code, _ = place_level(store, place)
    imported = _reported_refs(store, ind, "baseline", code)
    if imported:
        period, value = max(imported)
        return Figure(value, period.label, "reported")
    b = ind.baseline
    if b is None or (b.place is not None and b.place != code):
        return None
    if b.value is None:  # computed from the store over its period, for whichever place is asked
        got = actual(store, fw, ind, parse_period(b.period), place, scope)
        return None if got is None else Figure(got.value, b.period, "computed")
    if b.place is None and code is not None:
        return None  # a stated programme-wide baseline does not hold for one area
    return Figure(b.value, b.period, "framework")


def target(store: Store, ind: Indicator, place: str | None, period: Period) -> Figure | None:
    """The target the period is measured against: the first whose period ends on or after the report's end
    (else the last one)."""
    code, _ = place_level(store, place)
    options = [(parse_period(t.period), t.value, "framework") for t in _declared(ind.targets, code)]
    options += [(p, v, "reported") for p, v in _reported_refs(store, ind, "target", code)]
    options = [o for o in options if o[1] is not None]
    if not options:
        return None
    options.sort(key=lambda o: o[0].end)
    ahead = [o for o in options if o[0].end >= period.end]
    p, value, source = ahead[0] if ahead else options[-1]
    return Figure(float(value), p.label, source)  # type: ignore[arg-type]


# --- status -----------------------------------------------------------------------------------------------


def _fmt(x: float, ind: Indicator) -> str:
    if ind.measure == "percentage":
        return f"{x:.1f}%"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}".rstrip("0").rstrip(".")


def status(
    ind: Indicator, period: Period, actual_: Figure | None, baseline_: Figure | None, target_: Figure | None
) -> tuple[str, str, float | None, float | None]:
    """(status, reason, progress, expected) by the indicator's status rules."""
    if actual_ is None:
        return "no data", f"no {ind.code} value for {period.label}", None, None
    if target_ is None:
        return "no target", f"{_fmt(actual_.value, ind)} in {period.label}; no target is set", None, None
    a, t = actual_.value, target_.value
    if ind.direction == "maintain" or baseline_ is None:
        tol = ind.status.tolerance
        if ind.direction == "increase":
            ok = a >= t
        elif ind.direction == "decrease":
            ok = a <= t
        else:
            ok = abs(a - t) <= tol * max(abs(t), 1e-9)
        if ok:
            return "on track", f"{_fmt(a, ind)} against the target of {_fmt(t, ind)} ({target_.period})", None, None
        near = abs(a - t) <= 2 * tol * max(abs(t), 1e-9) if ind.direction == "maintain" else False
        why = "" if baseline_ is not None or ind.direction == "maintain" else " (no baseline: target compared directly)"
        return (
            "at risk" if near else "off track",
            f"{_fmt(a, ind)} against the target of {_fmt(t, ind)} ({target_.period}){why}",
            None,
            None,
        )
    b = baseline_.value
    if t == b:
        return "no target", f"the target {_fmt(t, ind)} equals the baseline", None, None
    if (ind.direction == "decrease" and t > b) or (ind.direction == "increase" and t < b):
        side = "above" if t > b else "below"
        return (
            "no target",
            f"the target {_fmt(t, ind)} ({target_.period}) is {side} the baseline {_fmt(b, ind)} "
            f"({baseline_.period}) but the indicator should {ind.direction}: correct one of them",
            None,
            None,
        )
    progress = (a - b) / (t - b)
    b_end = parse_period(baseline_.period).end
    t_end = parse_period(target_.period).end
    span = (t_end - b_end).days
    expected = 1.0 if span <= 0 else min(max((period.end - b_end).days / span, 0.0), 1.0)
    ratio = progress / expected if expected > 0 else (1.0 if progress >= 0 else 0.0)
    rules = ind.status
    if ratio >= rules.on_track:
        verdict = "on track"
    elif ratio >= rules.at_risk:
        verdict = "at risk"
    else:
        verdict = "off track"
    reason = (
        f"{_fmt(a, ind)} in {period.label}: {progress + 0.0:.0%} of the way from the baseline {_fmt(b, ind)} "
        f"({baseline_.period}) to the target {_fmt(t, ind)} ({target_.period}) with {expected:.0%} of the time "
        f"passed; {verdict} (on track from {rules.on_track:.0%} of the expected progress, at risk from "
        f"{rules.at_risk:.0%})"
    )
    return verdict, reason, progress, expected


def evaluate(
    store: Store,
    fw: Framework,
    ind: Indicator,
    period: Period,
    place: str | None = None,
    scope: Sequence[str] | None = None,
) -> Evaluation:
    a = actual(store, fw, ind, period, place, scope)
    b = baseline(store, fw, ind, place, scope)
    t = target(store, ind, place, period)
    verdict, reason, progress, expected = status(ind, period, a, b, t)
    return Evaluation(ind, place, period, a, b, t, verdict, reason, progress, expected)
