"""What every reader produces: a table of text cells with source row numbers, before any mapping.

Readers never interpret values; they keep every cell as text (or null) so that validation can
report the original value, and they keep the row number a person would see in the source
(spreadsheet row, CSV line) in the ``_row`` column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

ROW = "_row"


class ReadError(ValueError):
    """The file cannot be read at all (wrong format, no header, unreadable sheet)."""

    def __init__(self, source: str, message: str, row: int | None = None, column: str | None = None) -> None:
        where = source
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
        self.source = source
        self.row = row
        self.column = column


@dataclass
class RawTable:
    """Columns ``c0..cN`` (strings) plus ``_row`` (int64); ``headers``/``tags`` describe c0..cN."""

    source: str
    headers: list[str]
    table: pa.Table
    tags: list[str | None] | None = None
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [f"c{i}" for i in range(len(self.headers))]

    @classmethod
    def from_rows(
        cls,
        source: str,
        headers: list[str],
        rows: list[list[str | None]],
        row_numbers: list[int],
        tags: list[str | None] | None = None,
        sheet: str | None = None,
    ) -> RawTable:
        width = len(headers)
        cols: dict[str, pa.Array] = {}
        for i in range(width):
            cols[f"c{i}"] = pa.array([r[i] if i < len(r) else None for r in rows], pa.string())
        cols[ROW] = pa.array(row_numbers, pa.int64())
        return cls(source=source, headers=headers, table=pa.table(cols), tags=tags, sheet=sheet)
