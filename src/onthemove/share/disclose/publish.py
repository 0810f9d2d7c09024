"""The gate for public exports: aggregates pass through small-cell and complementary suppression; row-level
records do not pass at all (they go through ``onthemove disclose apply`` first, as microdata)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from onthemove.share.disclose.hierarchy import DisclosureError
from onthemove.share.disclose.tables import TableSuppression, suppress_table

PERIOD_PARENTS = {"date": ["month", "year"], "month": ["year"], "quarter": ["year"]}
ADMIN = ("adm0", "adm1", "adm2", "adm3")
NOT_DIMENSIONS = {"count", "suppressed", "batch_id", "row_number"}


def public_aggregate(table: pa.Table, threshold: int, count: str = "count") -> tuple[pa.Table, TableSuppression]:
    """``table`` (one row per cell: dimension columns, ``*_name`` labels, a count) with small cells and their
    complements blanked, against every margin of its dimensions (admin columns nested, periods within years)."""
    if count not in table.column_names:
        raise DisclosureError(
            f"a public export must be an aggregate with a {count!r} column; this table has "
            f"{', '.join(table.column_names)}"
        )
    frame = table.to_pandas()
    columns = [c for c in table.column_names if c not in NOT_DIMENSIONS and c != count and not c.endswith("_name")]
    admin = [c for c in ADMIN if c in columns]
    dims: list[list[str]] = []
    if admin:  # nested areas: the finest first, then the coarser columns of the same table
        dims.append(list(reversed(admin)))
    for c in columns:
        if c in admin:
            continue
        if c in PERIOD_PARENTS:
            labels = frame[c].astype("string").fillna("")
            chain = [c]
            for parent in PERIOD_PARENTS[c]:
                name = f"_period_{parent}"
                frame[name] = labels.str[: {"month": 7, "year": 4}[parent]]
                chain.append(name)
            dims.append(chain)
        else:
            dims.append([c])
    if not dims:
        raise DisclosureError("a public export needs at least one dimension column beside the count")
    result = suppress_table(frame, dims, count, threshold)
    hidden = pa.array([s != "" for s in result.status], pa.bool_())
    values = table.column(count)
    blanked = pc.if_else(hidden, pa.scalar(None, values.type), values)
    return table.set_column(table.column_names.index(count), count, blanked), result
