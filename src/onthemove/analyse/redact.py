"""Redacted aggregates: the only kind of table that anonymous users and partners can be given.

Suppression lives in the type: ``RedactedTotals`` can only be made by ``redacted_totals``, which
blanks every count below the threshold and says how many cells it blanked. (Complementary
suppression, so that blanked cells cannot be recovered from totals, is disclosure control's work.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from onthemove.analyse.query import Query, run
from onthemove.store.base import Store

DEFAULT_THRESHOLD = 10


@dataclass(frozen=True)
class RedactedTotals:
    table: pa.Table  # the count column holds null where a cell was suppressed
    threshold: int
    suppressed: int

    def rows(self) -> list[dict[str, Any]]:
        return self.table.to_pylist()


def redacted_totals(store: Store, q: Query, threshold: int = DEFAULT_THRESHOLD) -> RedactedTotals:
    if threshold < 1:
        raise ValueError("the suppression threshold must be at least 1")
    table = run(store, q)
    counts = table.column("count")
    small = pc.fill_null(pc.less(counts, threshold), False)
    kept = pc.if_else(small, pa.scalar(None, counts.type), counts)
    table = table.set_column(table.column_names.index("count"), "count", kept)
    table = table.append_column("suppressed", small)
    return RedactedTotals(table, threshold, int(pc.sum(small).as_py() or 0))
