"""Reading the registry's input files into plain records, and the cell parsers every import shares.

Files are read with the project's Kobo reader (XLSX, CSV, Kobo API JSON; repeat groups kept as their own
tables), headers are matched on their last path component, case-insensitively, against a few accepted
names per field. Cells stay text until a parser below turns them into a value or a ``Problem``; a problem
never quotes a cell of an identifying column.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from onthemove.ingest.kobo import KoboExport, read_kobo, short_names
from onthemove.ingest.raw import ROW, RawTable
from onthemove.respond.registry.model import Problem


@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...]
    identifying: bool = False
    help: str = ""


@dataclass
class Record:
    """One row of a file: canonical field -> text cell, with where it came from."""

    row: int
    cells: dict[str, str | None]
    sheet: str | None = None
    key: str | None = None  # Kobo _index (or the grouping reference of a flat file)
    parent: str | None = None  # Kobo _parent_index of a repeat row


@dataclass
class Sheet:
    records: list[Record]
    found: dict[str, str]  # canonical field -> header it was read from
    ignored: list[str] = field(default_factory=list)


def _norm_header(h: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", h.strip().lower()).strip("_")


def match_columns(headers: list[str], spec: Iterable[Column]) -> tuple[dict[str, int], list[str]]:
    """Canonical field -> position of its column (first accepted name wins); headers not used."""
    shorts = [_norm_header(s) for s in short_names(headers)]
    full = [_norm_header(h) for h in headers]
    found: dict[str, int] = {}
    for col in spec:
        for alias in (col.name, *col.aliases):
            hits = [i for i, (s, f) in enumerate(zip(shorts, full, strict=True)) if alias in (s, f)]
            if hits:
                found[col.name] = hits[0]
                break
    used = set(found.values())
    ignored = [h for i, h in enumerate(headers) if i not in used and not h.startswith("_")]
    return found, ignored


def sheet(table: RawTable, spec: Iterable[Column]) -> Sheet:
    spec = list(spec)
    found, ignored = match_columns(table.headers, spec)
    cols = {c: table.table.column(f"c{i}").to_pylist() for c, i in found.items()}
    rows = table.table.column(ROW).to_pylist()
    index = table.headers.index("_index") if "_index" in table.headers else None
    parent = table.headers.index("_parent_index") if "_parent_index" in table.headers else None
    idx = table.table.column(f"c{index}").to_pylist() if index is not None else [None] * len(rows)
    par = table.table.column(f"c{parent}").to_pylist() if parent is not None else [None] * len(rows)
    records = []
    for i, n in enumerate(rows):
        cells = {c: _clean(v[i]) for c, v in cols.items()}
        records.append(Record(int(n), cells, table.sheet, idx[i], par[i]))
    return Sheet(records, {c: table.headers[i] for c, i in found.items()}, ignored)


def _clean(v: str | None) -> str | None:
    if v is None:
        return None
    v = v.strip()
    return v or None


def read_file(path: str | Path, form: str | Path | None = None) -> KoboExport:
    return read_kobo(path, form)


# --- cell parsers: each returns (value, problem) -------------------------------------------------------------

Parsed = tuple[object, Problem | None]


class Cells:
    """Parses the cells of one record, collecting problems with file, sheet, row and column."""

    def __init__(self, file: str, record: Record, found: Mapping[str, str], spec: Mapping[str, Column]) -> None:
        self.file, self.record, self.found, self.spec = file, record, found, spec
        self.problems: list[Problem] = []

    def _problem(self, name: str, expected: str, value: str | None) -> None:
        col = self.spec.get(name)
        shown = None if col is None or col.identifying else value
        self.problems.append(
            Problem(self.file, self.record.row, self.found.get(name, name), expected, shown, self.record.sheet)
        )

    def raw(self, name: str) -> str | None:
        return self.record.cells.get(name)

    def text(self, name: str, required: bool = False) -> str | None:
        v = self.raw(name)
        if v is None and required:
            self._problem(name, "a value (required)", None)
        return v

    def choice(self, name: str, choices: tuple[str, ...], aliases: Mapping[str, str] | None = None,
               required: bool = False) -> str | None:  # fmt: skip
        v = self.text(name, required)
        if v is None:
            return None
        key = _norm_header(v)
        key = (aliases or {}).get(key, key)
        if key not in choices:
            self._problem(name, f"one of {', '.join(choices)}", v)
            return None
        return key

    def choices(self, name: str, choices: tuple[str, ...], required: bool = False) -> tuple[str, ...]:
        """A select_multiple cell: space- or comma-separated choice names."""
        v = self.text(name, required)
        if v is None:
            return ()
        words = [_norm_header(w) for w in re.split(r"[\s,;]+", v) if w.strip()]
        bad = [w for w in words if w not in choices]
        if bad:
            self._problem(name, f"choices among {', '.join(choices)}", v)
            return ()
        if required and not words:
            self._problem(name, "at least one choice", v)
        return tuple(sorted(set(words)))

    def integer(self, name: str, low: int, high: int, required: bool = False) -> int | None:
        v = self.text(name, required)
        if v is None:
            return None
        try:
            f = float(v)
            if f != int(f):
                raise ValueError
            n = int(f)
        except (ValueError, OverflowError):
            self._problem(name, "a whole number", v)
            return None
        if not low <= n <= high:
            self._problem(name, f"a whole number from {low} to {high}", v)
            return None
        return n

    def number(self, name: str, low: float = 0.0, required: bool = False) -> float | None:
        v = self.text(name, required)
        if v is None:
            return None
        try:
            f = float(v)
        except ValueError:
            self._problem(name, "a number", v)
            return None
        if f != f or f < low:
            self._problem(name, f"a number of at least {low:g}", v)
            return None
        return f

    def date(self, name: str, required: bool = False, not_after: dt.date | None = None) -> dt.date | None:
        v = self.text(name, required)
        if v is None:
            return None
        d = parse_date(v)
        if d is None:
            self._problem(name, "a date (YYYY-MM-DD)", v)
            return None
        if not_after is not None and d > not_after:
            self._problem(name, f"a date not after {not_after.isoformat()}", v)
            return None
        return d

    def yes(self, name: str, expected: str) -> bool:
        v = self.raw(name)
        if v is not None and _norm_header(v) in YES:
            return True
        self._problem(name, expected, v)
        return False

    def flag(self, name: str) -> bool | None:
        v = self.raw(name)
        if v is None:
            return None
        k = _norm_header(v)
        if k in YES:
            return True
        if k in NO:
            return False
        self._problem(name, "yes or no", v)
        return None

    def fail(self, name: str | None, expected: str, value: str | None = None) -> None:
        if name is None:
            self.problems.append(Problem(self.file, self.record.row, None, expected, None, self.record.sheet))
        else:
            self._problem(name, expected, value)


YES = {"yes", "y", "true", "1", "oui", "haa"}
NO = {"no", "n", "false", "0", "non", "maya"}


def parse_date(text: str) -> dt.date | None:
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$", text.strip())
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
