"""Reported values (baselines, targets, actuals) imported from a file: loaded as a batch of kind
``indicator_values`` through the ingest pipeline (typed and checked row by row, attributed, rolled back by
batch), then checked against the framework. A file naming an indicator the framework does not have is refused
as a whole: its batch is rolled back and every such row is reported with its row number, so nothing half-loaded
stays and nothing loaded before is touched."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onthemove.account.framework import Framework
from onthemove.ingest.report import BatchReport
from onthemove.store.base import Store


class ImportRefused(ValueError):
    """The file named indicators (or put values on indicators) the framework does not allow."""

    def __init__(self, message: str, problems: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass
class Imported:
    report: BatchReport
    by_indicator: dict[str, int] = field(default_factory=dict)


def import_values(
    store: Store,
    fw: Framework,
    path: str | Path,
    mapping: str | Path | None = None,
    user: str | None = None,
    **options: Any,
) -> Imported:
    from onthemove.ingest.sources import ingest_file
    from onthemove.store.batches import rollback

    report = ingest_file(store, path, kind="indicator_values", mapping=mapping, user=user, **options)
    if report.status != "loaded":
        return Imported(report)
    rows = store.fetch(
        "SELECT row_number, indicator, value_type FROM indicator_values WHERE batch_id = $b ORDER BY row_number",
        {"b": report.batch_id},
    )
    problems = []
    counts: dict[str, int] = {}
    by_lower = {c.lower(): i for c, i in fw.indicators.items()}  # the store keeps codes lower-cased
    for row_number, stored, value_type in rows:
        ind = by_lower.get(str(stored).lower())
        code = ind.code if ind is not None else stored
        if ind is None:
            problems.append(
                {
                    "file": str(path),
                    "row": row_number,
                    "column": "indicator",
                    "value": code,
                    "expected": f"an indicator code of the framework {fw.name}",
                }
            )
        elif ind.computed and value_type == "actual":
            problems.append(
                {
                    "file": str(path),
                    "row": row_number,
                    "column": "value_type",
                    "value": value_type,
                    "expected": f"baseline or target: {code} is computed from the store, its actuals are not reported",
                }
            )
        else:
            counts[code] = counts.get(code, 0) + 1
    if problems:
        rollback(store, report.batch_id, actor=user)
        first = problems[0]
        raise ImportRefused(
            f"{path}: {len(problems)} row{'s' if len(problems) != 1 else ''} cannot be used, nothing was kept; "
            f"first: row {first['row']}, column {first['column']}: expected {first['expected']}, "
            f"got {first['value']!r}",
            problems,
        )
    return Imported(report, counts)
