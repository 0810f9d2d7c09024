"""Reported indicator values (rows of kind ``indicator_values``): read per indicator and value type, aggregated
over time within a period and rolled up the admin hierarchy by the indicator's rule.

* over time, within the reporting period: ``sum`` adds, ``mean`` averages, ``latest`` keeps the latest period
  reported, ``none`` takes only a value reported for exactly that period;
* over places, up the admin hierarchy: a value reported for the place itself wins; otherwise ``sum`` and
  ``latest`` add the values of the areas inside it (each found the same way), ``mean`` averages them, ``none``
  gives nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from onthemove.account.framework import Indicator
from onthemove.account.periods import Period, from_dates
from onthemove.store.base import Store

TOTALS = {"sex": "total", "age_group": "total", "population_group": "all", "disability": "all"}
REPORTED_DIMENSIONS = tuple(TOTALS)


def rows_of(
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


def over_time(rows: list[dict[str, Any]], period: Period, rule: str) -> float | None:
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


def tree(store: Store) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Children of every place, and every place's admin level."""
    children: dict[str, list[str]] = defaultdict(list)
    levels: dict[str, int] = {}
    for code, parent, lvl in store.fetch("SELECT pcode, parent_pcode, admin_level FROM places"):
        levels[code] = int(lvl)
        if parent is not None:
            children[parent].append(code)
    return children, levels


def rollup(
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


def places_at(levels: dict[str, int], children: dict[str, list[str]], want: int, place: str | None) -> list[str]:
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
    rows = rows_of(store, ind.code, "actual", dims)
    groups: dict[tuple[Any, ...], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["place"] is not None:
            groups[tuple(r[d] for d in dims)][r["place"]].append(r)
    if not groups:
        return []
    children, levels = tree(store)
    targets = places_at(levels, children, int(level[3:]), place)
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
            if (allowed is None or p in allowed) and (v := over_time(g, period, ind.aggregation)) is not None
        }
        for code, value in rollup(own, targets, children, ind.aggregation).items():
            row: dict[str, Any] = {"place": code}
            for i, d in enumerate(dims):
                row[d] = key[i]
            row["value"] = value
            result.append(row)
    result.sort(key=lambda r: (r["place"], *[str(r[d]) for d in dims]))
    return result


def programme_value(store: Store, ind: Indicator, period: Period, value_type: str) -> float | None:
    rows = [r for r in rows_of(store, ind.code, value_type) if r["place"] is None]
    return over_time(rows, period, ind.aggregation) if rows else None


def references(store: Store, ind: Indicator, value_type: str, place: str | None) -> list[tuple[Period, float]]:
    """Imported baselines or targets for ``place`` (None: the programme) by period: the place's own value, else
    the values of the areas inside it rolled up by the indicator's rule (as actuals are)."""
    rows = rows_of(store, ind.code, value_type)
    by_period: dict[Period, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_period[r["period"]].append(r)
    if not by_period:
        return []
    children, levels = tree(store)
    out = []
    for period, group in by_period.items():
        programme = [r for r in group if r["place"] is None]
        if place is None and programme:
            out.append((period, float(programme[-1]["value"])))
            continue
        own = {r["place"]: float(r["value"]) for r in group if r["place"] is not None}
        if place is not None:
            got = rollup(own, [place], children, ind.aggregation)
            if place in got:
                out.append((period, got[place]))
            continue
        countries = rollup(own, places_at(levels, children, 0, None), children, ind.aggregation)
        if countries:
            values = list(countries.values())
            out.append((period, sum(values) / len(values) if ind.aggregation == "mean" else sum(values)))
    return out
