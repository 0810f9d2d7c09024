"""Redacted aggregates: the only kind of table that anonymous users and partners can be given.

Suppression lives in the type: ``RedactedTotals`` can only be made by ``redacted_totals``, which blanks every
count below the threshold (primary suppression) and then, so that a blanked cell cannot be worked out from the
totals the same user can ask for (the table's margins: every coarser grouping of the same query, the parent
areas of its areas, the years of its months, the grand total), enough other cells to hide it (complementary
suppression, ``onthemove.share.disclose.tables``): the cheapest pattern, checked by linear programming.

What it does not cover: a small cell that the margins alone pin down (the only district of its region with
arrivals that month, whose region total is another query's answer) cannot be hidden by this table; it is
blanked and counted in ``unprotectable``, and so is one that two rounds of the MIP with cuts did not protect
(the search stops there, to answer within seconds). Differences between queries with other filters (date
ranges, a place filter) are not covered either: those are linked tables, which need one suppression pattern for
all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from onthemove.analyse.query import LEVELS, PERIODS, Query, run
from onthemove.store.base import Store

DEFAULT_THRESHOLD = 10
NOT_ASSIGNED = "(not assigned)"


@dataclass(frozen=True)
class RedactedTotals:
    table: pa.Table  # the count column holds null where a cell was suppressed
    threshold: int
    suppressed: int  # cells blanked: primary (below the threshold) and secondary (to protect them)
    secondary: int = 0
    unprotectable: int = 0  # primary cells the margins still give away (whatever this table hides, or at its cost)

    def rows(self) -> list[dict[str, Any]]:
        return self.table.to_pylist()


def redacted_totals(
    store: Store, q: Query, threshold: int = DEFAULT_THRESHOLD, *, complementary: bool = True
) -> RedactedTotals:
    if threshold < 1:
        raise ValueError("the suppression threshold must be at least 1")
    table = run(store, q)
    counts = table.column("count")
    small = pc.fill_null(pc.less(counts, threshold), False)
    secondary = unprotectable = 0
    if complementary and table.num_rows > 1 and pc.any(small).as_py():
        hidden, secondary, unprotectable = _complementary(store, q, table, threshold)
        small = pa.array(hidden, pa.bool_())
    kept = pc.if_else(small, pa.scalar(None, counts.type), counts)
    table = table.set_column(table.column_names.index("count"), "count", kept)
    table = table.append_column("suppressed", small)
    return RedactedTotals(table, threshold, int(pc.sum(small).as_py() or 0), secondary, unprotectable)


def _complementary(store: Store, q: Query, table: pa.Table, threshold: int) -> tuple[list[bool], int, int]:
    """Primary and complementary suppression of one totals table against its margins."""
    from onthemove.share.disclose.tables import suppress_table

    frame = table.to_pandas()
    dims: list[list[str]] = []
    levels = [b for b in q.by if b in LEVELS]
    if levels:  # the finest admin level, with its parent areas (the coarser ones in ``by`` are implied)
        finest = max(levels, key=LEVELS.index)
        parents = list(reversed(LEVELS[: LEVELS.index(finest)]))
        dims.append([finest, *_parents(store, frame, finest, parents)])
    for b in q.by:
        if b in PERIODS:
            dims.append(_period(frame, b))
        elif b not in LEVELS:
            dims.append([b])
    result = suppress_table(frame, dims, "count", threshold, rounds=2, extra=0)
    hidden = [bool(x) for x in (result.status != "")]
    exposed = set(result.unprotectable) | {c.row for c in result.audit if not c.protected}
    return hidden, result.secondary, len(exposed)


def _parents(store: Store, frame: Any, finest: str, parents: list[str]) -> list[str]:
    """Columns ``_parent_adm1``, ... holding each row's parent areas (from the gazetteer)."""
    if not parents:
        return []
    places = store.fetch_arrow(f"SELECT pcode, {', '.join(parents)} FROM places").to_pandas().set_index("pcode")
    out = []
    for level in parents:
        column = f"_parent_{level}"
        frame[column] = frame[finest].map(places[level]).fillna(NOT_ASSIGNED)
        out.append(column)
    return out


def _period(frame: Any, period: str) -> list[str]:
    """A period with the coarser periods it adds up to: date -> month -> year, quarter -> year, month -> year."""
    labels = frame[period].astype("string").fillna("")
    out = [period]
    if period == "date":
        frame["_period_month"] = labels.str[:7]
        out.append("_period_month")
    if period != "year":
        frame["_period_year"] = labels.str[:4]
        out.append("_period_year")
    return out
