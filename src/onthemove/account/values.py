"""An indicator's baseline, target and actual for a place and period, wherever each comes from, and its status.

Actuals are computed from the store (``compute``), reported (rows of kind ``indicator_values``, aggregated over
time and up the places by the indicator's rule in ``reported``), or aggregated from child indicators down the
results chain.

Baselines and targets are looked up in this order: a value imported for the place (``value_type`` baseline or
target), one declared in the framework file for the place, then one declared without a place, which holds for
the programme as a whole (the top of the report) only. A declared baseline without a value is computed from the
store over its period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from onthemove.account import compute, reported
from onthemove.account.framework import Framework, Indicator, Target
from onthemove.account.periods import Period, parse_period
from onthemove.account.reported import REPORTED_DIMENSIONS
from onthemove.store.base import Store

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
        own = reported.programme_value(store, ind, period, "actual") if scope is None else None
        if own is not None:
            return Figure(own, period.label, "reported")
        rows = reported.reported_actuals(store, ind, period, level, scope=scope)
        return _combine_places(ind, rows, period, "reported")
    rows = reported.reported_actuals(store, ind, period, level, place=code, scope=scope)
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
            rows = reported.reported_actuals(store, ind, period, below, place=code, scope=scope)
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
            own = [
                r for r in reported.rows_of(store, ind.code, "actual", [dim]) if r["place"] is None and scope is None
            ]
            groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
            for r in own:
                groups[r[dim]].append(r)
            found = {k: reported.over_time(g, period, ind.aggregation) for k, g in groups.items()}
            if not any(v is not None for v in found.values()):  # none for the programme itself: its countries'
                found = {}
                for r in reported.reported_actuals(store, ind, period, "adm0", dims=[dim], scope=scope):
                    found[r[dim]] = (found.get(r[dim]) or 0.0) + r["value"]
            return [{"key": k, "value": v} for k, v in sorted(found.items()) if v is not None]
        rows = reported.reported_actuals(store, ind, period, level, place=code, dims=[dim], scope=scope)
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


def _declared(targets: Sequence[Target], place: str | None) -> list[Target]:
    """Targets stated in the framework for this place (None: programme-wide ones)."""
    return [t for t in targets if t.place == place]


def baseline(
    store: Store, fw: Framework, ind: Indicator, place: str | None, scope: Sequence[str] | None = None
) -> Figure | None:
    code, _ = place_level(store, place)
    imported = reported.references(store, ind, "baseline", code)
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
    options += [(p, v, "reported") for p, v in reported.references(store, ind, "target", code)]
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
