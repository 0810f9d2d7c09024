"""Printing tables in the formats people ask for: a Rich table, CSV, JSON or HXL-tagged CSV."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

# soft_wrap: long paths and messages stay on one line when output goes to a file or a pipe
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)
FORMATS = ("table", "csv", "json", "hxl")


def emit(
    rows: Sequence[dict[str, Any]], fmt: str = "table", title: str | None = None, tags: list[str] | None = None
) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(list(rows), indent=2, default=str) + "\n")
        return
    columns = list(rows[0].keys()) if rows else []
    if fmt in ("csv", "hxl"):
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        if fmt == "hxl":
            writer.writerow(tags or [""] * len(columns))
        for r in rows:
            writer.writerow(["" if r[c] is None else r[c] for c in columns])
        return
    table = Table(title=title, show_lines=False)
    for c in columns:
        numeric = bool(rows) and isinstance(rows[0][c], int | float)
        table.add_column(c, justify="right" if numeric else "left")
    for r in rows:
        table.add_row(*[_fmt(r[c]) for c in columns])
    console.print(table)
    if not rows:
        console.print("[dim]no rows[/dim]")


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)
