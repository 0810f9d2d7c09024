"""Totals by place, period and disaggregation: one SQL text for every engine.

Movements are flows and add up over time. Displacement figures are stocks: within a period the
latest report for each area counts, never the sum of several reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from onthemove.store.base import Store

# period: (bucket, computed per record, cheap; label, formatted once per group)
PERIODS = {
    "month": ("date_trunc('month', t.date)", "strftime({b}, '%Y-%m')"),
    "quarter": (
        "date_trunc('quarter', t.date)",
        "CAST(CAST(extract(year FROM {b}) AS INTEGER) AS VARCHAR) || '-Q' || "
        "CAST(CAST(extract(quarter FROM {b}) AS INTEGER) AS VARCHAR)",
    ),
    "year": ("date_trunc('year', t.date)", "CAST(CAST(extract(year FROM {b}) AS INTEGER) AS VARCHAR)"),
    "date": ("t.date", "strftime({b}, '%Y-%m-%d')"),
}
AREA_COLUMNS = ("pcode", "adm0", "adm1", "adm2", "adm3")


def within_sql(param: str, alias: str = "p") -> str:
    """True where place ``alias`` is one of the P-codes in list parameter ``$param`` or lies inside one.

    The one filter for "this area and everything inside it": a place filter, a partner's scope.
    """
    return "(" + " OR ".join(f"list_contains(${param}, {alias}.{c})" for c in AREA_COLUMNS) + ")"


LEVELS = ("adm0", "adm1", "adm2", "adm3")
DIMENSIONS = ("reason", "population_group", "sex", "age_group")
QUERYABLE = ("movements", "displacement")


class QueryError(ValueError):
    pass


@dataclass
class Query:
    kind: str = "movements"
    by: list[str] = field(default_factory=list)
    place: str | None = None  # keep this area and everything inside it
    start: dt.date | None = None
    end: dt.date | None = None
    reason: list[str] | None = None
    population_group: list[str] | None = None
    side: str = "to"  # movements: group by destination (to) or origin (from)
    scope: tuple[str, ...] | None = None  # only these areas and what lies inside them (a partner's scope)

    def check(self) -> None:
        self.by = list(dict.fromkeys(self.by))  # asking twice for the same grouping means once
        if self.kind not in QUERYABLE:
            raise QueryError(f"cannot total {self.kind!r}; expected one of {', '.join(QUERYABLE)}")
        allowed = (*PERIODS, *LEVELS, *DIMENSIONS, "origin")
        for b in self.by:
            if b not in allowed:
                raise QueryError(f"cannot group by {b!r}; expected any of {', '.join(allowed)}")
        if sum(b in PERIODS for b in self.by) > 1:
            raise QueryError("group by one period at most (month, quarter, year or date)")
        if self.side not in ("to", "from"):
            raise QueryError("side is 'to' (destination) or 'from' (origin)")


def _place_column(q: Query) -> str:
    if q.kind == "movements":
        return "t.to_place" if q.side == "to" else "t.from_place"
    return "t.place"


def build_sql(q: Query) -> tuple[str, dict[str, Any]]:
    """The SQL (DuckDB dialect, bound parameters) for one query."""
    q.check()
    params: dict[str, Any] = {}
    where = []
    sex_wanted = "sex" in q.by
    age_wanted = "age_group" in q.by
    where.append("t.sex <> 'total'" if sex_wanted else "t.sex = 'total'")
    where.append("t.age_group <> 'total'" if age_wanted else "t.age_group = 'total'")
    place_filters = []
    if q.place:
        params["place"] = [q.place.upper()]
        place_filters.append(within_sql("place"))
    if q.scope is not None:
        params["scope"] = [c.upper() for c in q.scope]
        place_filters.append(within_sql("scope"))
    place_filter = " AND ".join(place_filters)
    if q.start:
        params["start"] = q.start
        where.append("t.date >= $start")
    if q.end:
        params["end"] = q.end
        where.append("t.date <= $end")
    for name in ("reason", "population_group"):
        values = getattr(q, name)
        if values:
            params[name] = [v.lower() for v in values]
            where.append(f"list_contains(${name}, t.{name})")
    # totals per area first (small), then the gazetteer join for levels and names
    inner, outer, joins = [f"{_place_column(q)} AS area"], [], []
    for b in q.by:
        if b in PERIODS:
            bucket, label = PERIODS[b]
            inner.append(f"{bucket} AS {b}")
            outer.append(f"{label.format(b=f'a.{b}')} AS {b}")
        elif b in LEVELS:
            alias = f"n_{b}"
            joins.append(f"LEFT JOIN places {alias} ON {alias}.pcode = p.{b}")
            outer.append(f"coalesce(p.{b}, '(not assigned)') AS {b}")
            outer.append(f"coalesce({alias}.name, '') AS {b}_name")
        else:
            column = "t.from_place" if (b == "origin" and q.kind == "movements") else f"t.{b}"
            inner.append(f"coalesce({column}, '(not stated)') AS {b}")
            outer.append(f"a.{b}")
    source = q.kind
    if q.kind == "displacement":
        # a stock: per area and period, only the latest report counts
        period = next((PERIODS[b][0] for b in q.by if b in PERIODS), "'all'")
        source = (
            "(SELECT * FROM (SELECT d.*, max(d.date) OVER (PARTITION BY d.place, "
            f"{period.replace('t.date', 'd.date')}) AS latest FROM displacement d) s WHERE s.date = s.latest)"
        )
    inner_group = ", ".join(str(i + 1) for i in range(len(inner)))
    totals_sql = (
        f"SELECT {', '.join(inner)}, sum(t.count) AS count FROM {source} t "
        f"WHERE {' AND '.join(where)} GROUP BY {inner_group}"
    )
    text = (
        f"SELECT {', '.join([*outer, 'sum(a.count) AS count'])} FROM ({totals_sql}) a "
        f"LEFT JOIN places p ON p.pcode = a.area {' '.join(joins)}"
    )
    if place_filter:
        text += f" WHERE {place_filter}"
    if outer:  # ordinals: output names like adm1 would be ambiguous with the joined columns
        ordinals = ", ".join(str(i + 1) for i in range(len(outer)))
        text += f" GROUP BY {ordinals} ORDER BY {ordinals}"
    return text, params


def run(store: Store, q: Query) -> pa.Table:
    text, params = build_sql(q)
    table = store.fetch_arrow(text, params)
    if "count" in table.column_names:
        idx = table.column_names.index("count")
        table = table.set_column(idx, "count", table.column("count").cast(pa.int64()))
    return table


def totals(store: Store, kind: str = "movements", **kwargs: Any) -> list[dict[str, Any]]:
    """Python API: ``totals(store, 'movements', by=['year'])``."""
    return run(store, Query(kind=kind, **kwargs)).to_pylist()
