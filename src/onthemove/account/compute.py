"""Indicator values computed from the canonical tables: a numerator over a denominator with a factor, as DHIS2
computes its indicators, per place (at an admin level), period and disaggregation. A zero or missing
denominator gives no value, never zero or infinity.

What each table's ``value`` means (``where`` filters rows first; text compares without case):

* ``movements`` / ``people``: arrivals (to the place) summed over the period; ``displacement`` / ``people``: the
  stock, the latest report of each area within the period; both read the totals rows (sex and age ``total``)
  unless the disaggregation asks for sex or age, as the totals do in ``analyse.query``.
* ``sites`` / ``sites``, ``individuals``, ``households``: each site's latest registry row up to the period's end.
* ``site_assessments`` / ``sites``: sites whose latest assessment within the period meets ``where`` (so "share
  of sites with severe WASH needs" is sites with WASH at 4 or 5 over sites with WASH assessed); ``records``
  counts assessments, ``mean`` averages their values. A site's place is its registry row's place.
* ``driver_events`` / ``value``: the sum of the values (rainfall in mm, fatalities); ``records``: events.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from onthemove.account.framework import OPERATORS, Element, Indicator
from onthemove.account.periods import Period
from onthemove.analyse.query import within_sql
from onthemove.store.base import Store

LEVELS = ("adm0", "adm1", "adm2", "adm3")
# the dimensions each table can be broken down by (beyond place)
TABLE_DIMENSIONS = {
    "movements": ("sex", "age_group", "population_group", "reason"),
    "displacement": ("sex", "age_group", "population_group", "reason"),
    "sites": (),
    "site_assessments": ("sector",),
    "driver_events": (),
}


class ComputeError(ValueError):
    pass


def _where(element: Element, alias: str, params: dict[str, Any], prefix: str) -> list[str]:
    out = []
    for i, (column, test) in enumerate(sorted(element.where.items())):
        name = f"{prefix}w{i}"
        if isinstance(test, dict):
            for j, (op, bound) in enumerate(sorted(test.items())):
                params[f"{name}_{j}"] = float(bound)
                out.append(f"{alias}.{column} {OPERATORS[op]} ${name}_{j}")
        else:
            values = test if isinstance(test, list) else [test]
            params[name] = [str(v).lower() for v in values]
            out.append(f"list_contains(${name}, lower(CAST({alias}.{column} AS VARCHAR)))")
    return out


def _month(expr: str) -> str:
    return f"strftime(date_trunc('month', {expr}), '%Y-%m')"


def _source(element: Element, dims: Sequence[str], monthly: bool, params: dict[str, Any], prefix: str) -> str:
    """A SELECT giving ``area``, the dimensions asked for (and ``month``) and ``v``, one row per contribution."""
    e, table = element, element.table
    extra = [f"{d}" for d in dims]
    if table in ("movements", "displacement"):
        conds = [
            "t.sex <> 'total'" if "sex" in dims else "t.sex = 'total'",
            "t.age_group <> 'total'" if "age_group" in dims else "t.age_group = 'total'",
            "t.date BETWEEN $start AND $end",
            *_where(e, "t", params, prefix),
        ]
        place = "t.to_place" if table == "movements" else "t.place"
        cols = [f"{place} AS area", *[f"coalesce(lower(t.{d}), '(not stated)') AS {d}" for d in extra]]
        if monthly:
            cols.append(f"{_month('t.date')} AS month")
        value = "t.count" if e.value == "people" else "1"
        source = table
        if table == "displacement":
            bucket = "date_trunc('month', d.date)" if monthly else "'all'"
            source = (
                "(SELECT * FROM (SELECT d.*, max(d.date) OVER (PARTITION BY d.place, "
                f"{bucket}) AS latest FROM displacement d WHERE d.date BETWEEN $start AND $end) s "
                "WHERE s.date = s.latest)"
            )
        return f"SELECT {', '.join(cols)}, {value} AS v FROM {source} t WHERE {' AND '.join(conds)}"
    if table == "sites":
        conds = ["(s.date IS NULL OR s.date <= $end)", *_where(e, "s", params, prefix)]
        latest = (
            "SELECT s.*, row_number() OVER (PARTITION BY s.site_id ORDER BY s.date DESC NULLS LAST, "
            f"s.row_number DESC) AS rn FROM sites s WHERE {' AND '.join(conds)}"
        )
        value = {"sites": "1", "individuals": "t.individuals", "households": "t.households"}[e.value]
        cols = ["t.place AS area"]
        if monthly:  # a registry is a stock: the latest row counts in the period's last month
            cols.append(f"{_month('CAST($end AS DATE)')} AS month")
        return f"SELECT {', '.join(cols)}, {value} AS v FROM ({latest}) t WHERE t.rn = 1"
    if table == "site_assessments":
        conds = ["a.date BETWEEN $start AND $end"]
        bucket = ", date_trunc('month', a.date)" if monthly else ""
        latest = (
            "SELECT a.*, row_number() OVER (PARTITION BY a.site_id, a.sector, a.indicator"
            f"{bucket} ORDER BY a.date DESC, a.row_number DESC) AS rn FROM site_assessments a "
            f"WHERE {' AND '.join(conds)}"
        )
        registry = (
            "SELECT site_id, place FROM (SELECT s.site_id, s.place, row_number() OVER (PARTITION BY s.site_id "
            "ORDER BY s.date DESC NULLS LAST, s.row_number DESC) AS rn FROM sites s) r WHERE r.rn = 1"
        )
        filters = ["t.rn = 1", *_where(e, "t", params, prefix)]
        cols = ["r.place AS area", *[f"coalesce(lower(t.{d}), '(not stated)') AS {d}" for d in extra]]
        if monthly:
            cols.append(f"{_month('t.date')} AS month")
        value = {"sites": "t.site_id", "records": "1", "mean": "t.value"}[e.value]
        return (
            f"SELECT {', '.join(cols)}, {value} AS v FROM ({latest}) t JOIN ({registry}) r ON r.site_id = t.site_id "
            f"WHERE {' AND '.join(filters)}"
        )
    if table == "driver_events":
        conds = ["t.date BETWEEN $start AND $end", *_where(e, "t", params, prefix)]
        cols = ["t.place AS area"]
        if monthly:
            cols.append(f"{_month('t.date')} AS month")
        value = "t.value" if e.value == "value" else "1"
        return f"SELECT {', '.join(cols)}, {value} AS v FROM driver_events t WHERE {' AND '.join(conds)}"
    raise ComputeError(f"no table {table!r}")  # pragma: no cover - the framework reader checks


def _reducer(element: Element) -> str:
    if element.table == "site_assessments" and element.value == "sites":
        return "count(DISTINCT s.v)"
    if element.table == "site_assessments" and element.value == "mean":
        return "avg(s.v)"
    return "sum(s.v)"


def element_rows(
    store: Store,
    element: Element,
    period: Period,
    level: str,
    dims: Sequence[str] = (),
    monthly: bool = False,
    place: str | None = None,
    scope: Sequence[str] | None = None,
) -> dict[tuple[Any, ...], float]:
    """The element's value per (place at ``level``, *dims, [month]) over ``period``: a dict keyed by tuples."""
    if level not in LEVELS:
        raise ComputeError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    usable = [d for d in dims if d in TABLE_DIMENSIONS[element.table]]
    params: dict[str, Any] = {"start": period.start, "end": period.end}
    source = _source(element, usable, monthly, params, "e")
    filters = [f"p.{level} IS NOT NULL"]
    if place:
        params["place"] = [place.upper()]
        filters.append(within_sql("place"))
    if scope is not None:
        params["scope"] = [c.upper() for c in scope]
        filters.append(within_sql("scope"))
    keys = [f"p.{level}", *[f"s.{d}" for d in usable], *(["s.month"] if monthly else [])]
    text = (
        f"SELECT {', '.join(keys)}, {_reducer(element)} AS value FROM ({source}) s "
        f"JOIN places p ON p.pcode = s.area WHERE {' AND '.join(filters)} "
        f"GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}"
    )
    used = {k: v for k, v in params.items() if re.search(rf"\${k}\b", text)}
    out: dict[tuple[Any, ...], float] = {}
    for row in store.fetch(text, used):
        *key, value = row
        if value is None:
            continue
        # a dimension the table cannot give (e.g. sex for sites) is the total: fill it so keys line up
        full: list[Any] = [key[0]]
        it = iter(key[1 : 1 + len(usable)])
        for d in dims:
            full.append(next(it) if d in usable else None)
        if monthly:
            full.append(key[-1])
        out[tuple(full)] = float(value)
    return out


def indicator_rows(
    store: Store,
    ind: Indicator,
    period: Period,
    level: str,
    dims: Sequence[str] = (),
    monthly: bool = False,
    place: str | None = None,
    scope: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Rows ``place, *dims, [month], numerator, denominator, value`` of a computed indicator.

    A denominator broken down by a dimension it cannot give (sex of sites) is its total for that place (and
    month). No denominator row, or zero: ``value`` None.
    """
    if ind.numerator is None:
        raise ComputeError(f"indicator {ind.code} is not computed from the store (it has no numerator)")
    dims = [d for d in dims if d != "place"]
    num = element_rows(store, ind.numerator, period, level, dims, monthly, place, scope)
    den = (
        element_rows(store, ind.denominator, period, level, dims, monthly, place, scope)
        if ind.denominator is not None
        else None
    )
    den_dims = [d for d in dims if ind.denominator is not None and d in TABLE_DIMENSIONS[ind.denominator.table]]
    keys = set(num) | (set(den) if den is not None else set())
    rows = []
    for key in sorted(keys, key=lambda k: tuple("" if x is None else str(x) for x in k)):
        n = num.get(key, 0.0)
        row: dict[str, Any] = {"place": key[0]}
        for i, d in enumerate(dims):
            row[d] = key[1 + i]
        if monthly:
            row["month"] = key[-1]
        row["numerator"] = n
        if den is None:
            row["denominator"] = None
            row["value"] = n * ind.factor
        else:
            dkey = tuple(
                [key[0], *[key[1 + i] if d in den_dims else None for i, d in enumerate(dims)]]
                + ([key[-1]] if monthly else [])
            )
            total = den.get(dkey)
            row["denominator"] = total
            row["value"] = None if not total else n / total * ind.factor
        rows.append(row)
    return rows


def data_span(store: Store, ind: Indicator) -> tuple[dt.date, dt.date] | None:
    """The first and last date of the rows the indicator's numerator reads (None when there are none)."""
    if ind.numerator is None:
        return None
    column = {"sites": "date", "site_assessments": "date"}.get(ind.numerator.table, "date")
    row = store.fetch_one(f"SELECT min({column}), max({column}) FROM {ind.numerator.table}")
    if row is None or row[0] is None:
        return None
    return row[0], row[1]
