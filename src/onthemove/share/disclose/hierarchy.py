"""Generalisation hierarchies: how each quasi-identifier's values become coarser, level by level.

Level 0 is the value as recorded; each level above maps it to a coarser label, and the top level is ``*``
(the value suppressed). Four ways to declare one:

- a CSV file in the ARX / anjana layout, one row per value: ``value;level1;level2;...;*`` (``;`` or ``,``
  between cells, quoted cells allowed: ``17,"[15, 20[","[10, 20[",*``);
- ``intervals``: widths for numbers, each a multiple of the one before (``[5, 10, 20]`` gives
  ``[20, 25[`` then ``[20, 30[`` then ``[20, 40[``, then ``*``), built from the values in the data;
- ``prefix``: lengths of the leading part kept, for codes like P-codes (``[4, 2]``: SO1101, SO11, SO, ``*``);
- nothing: the value is kept or suppressed (one level above it, ``*``).

A hierarchy is held as integer maps (value index -> label index at each level), so that generalising a
column of a million records is one ``take`` per level.

Missing values (empty cells) are a value of their own: kept as empty at every level below the top and
suppressed at the top, unless the CSV hierarchy lists the empty value itself.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

TOP = "*"
MISSING = ""


class DisclosureError(ValueError):
    """Bad input for disclosure control; the message names the file, column or value and what was expected."""


@dataclass(frozen=True)
class Hierarchy:
    """A generalisation hierarchy over ``values`` (level 0); ``labels[l][maps[l][i]]`` is value i at level l."""

    column: str
    values: tuple[str, ...]
    maps: tuple[np.ndarray, ...]  # per level: value index -> label index (level 0 is the identity)
    labels: tuple[np.ndarray, ...]  # per level: label index -> label (object arrays)
    source: str = "declared"
    leaves: tuple[np.ndarray, ...] = field(default=(), repr=False)  # per level: label index -> values under it

    def __post_init__(self) -> None:
        if not self.leaves:
            leaves = tuple(np.bincount(m, minlength=len(lab)) for m, lab in zip(self.maps, self.labels, strict=True))
            object.__setattr__(self, "leaves", leaves)

    @property
    def height(self) -> int:
        """The top level (the number of generalisation steps)."""
        return len(self.maps) - 1

    def index(self, column: pd.Series) -> np.ndarray:
        """Each record's value index; unknown values are an error that names them."""
        lookup = pd.Index(self.values)
        codes = lookup.get_indexer(pd.Index(column.astype(str)))
        if (codes < 0).any():
            unknown = pd.unique(column[codes < 0].astype(str))
            shown = ", ".join(repr(v) for v in unknown[:8]) + (" ..." if len(unknown) > 8 else "")
            raise DisclosureError(
                f"column {self.column!r}: {len(unknown)} value(s) not in its hierarchy ({self.source}): {shown}"
            )
        return codes.astype(np.int32)

    def with_missing(self) -> Hierarchy:
        """The same hierarchy with the empty value added (kept empty below the top, ``*`` at the top)."""
        if MISSING in self.values:
            return self
        maps, labels = [], []
        for level, (m, lab) in enumerate(zip(self.maps, self.labels, strict=True)):
            if level == self.height:
                maps.append(np.append(m, m[0]))
                labels.append(lab)
            else:
                maps.append(np.append(m, len(lab)))
                labels.append(np.append(lab, np.array([MISSING], dtype=object)))
        return Hierarchy(self.column, (*self.values, MISSING), tuple(maps), tuple(labels), self.source)

    def generalise(self, codes: np.ndarray, level: int) -> np.ndarray:
        """The labels of value indexes ``codes`` at ``level``."""
        return self.labels[level][self.maps[level][codes]]


def _from_table(column: str, rows: Sequence[Sequence[str]], source: str) -> Hierarchy:
    """A hierarchy from rows ``value, level1, ..., top`` (every row the same length)."""
    if not rows:
        raise DisclosureError(f"{source}: the hierarchy for {column!r} has no rows")
    width = len(rows[0])
    for i, r in enumerate(rows, start=1):
        if len(r) != width:
            raise DisclosureError(
                f"{source}, row {i}: {len(r)} cells where the first row has {width}; every value needs every level"
            )
    values = [r[0] for r in rows]
    seen: set[str] = set()
    for i, v in enumerate(values, start=1):
        if v in seen:
            raise DisclosureError(f"{source}, row {i}: value {v!r} is listed twice")
        seen.add(v)
    table = np.array(rows, dtype=object).reshape(len(rows), width)
    if len(set(table[:, -1])) > 1:  # the top must suppress everything: add a level of '*'
        table = np.column_stack([table, np.full(len(rows), TOP, dtype=object)])
    maps, labels = [], []
    for level in range(table.shape[1]):
        codes, uniques = pd.factorize(pd.Series(table[:, level]), sort=False)
        maps.append(codes.astype(np.int32))
        labels.append(np.asarray(uniques, dtype=object))
    return Hierarchy(column, tuple(values), tuple(maps), tuple(labels), source)


def read_csv_hierarchy(path: str | Path, column: str) -> Hierarchy:
    """An ARX / anjana hierarchy file: ``value;level1;...`` per row, ``;`` or ``,`` between cells, no header."""
    p = Path(path)
    if not p.is_file():
        raise DisclosureError(f"hierarchy file for {column!r} not found: {p}")
    text = p.read_text(encoding="utf-8-sig")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if ";" in first else ("\t" if "\t" in first else ",")
    rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(r)]
    return _from_table(column, rows, str(p))


def _interval_label(lo: float, width: float) -> str:
    def num(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else repr(float(x))

    return f"[{num(lo)}, {num(lo + width)}["


def interval_hierarchy(column: str, values: pd.Series, widths: Sequence[float], start: float = 0) -> Hierarchy:
    """Intervals of the given widths (each a multiple of the one before) over the numbers in ``values``."""
    if not widths:
        raise DisclosureError(f"intervals for {column!r}: give at least one width")
    for a, b in itertools.pairwise(widths):
        if b <= a or not math.isclose(b / a, round(b / a)):
            raise DisclosureError(
                f"intervals for {column!r}: each width must be a multiple of the one before, got {list(widths)}"
            )
    text = pd.Series(pd.unique(values.astype(str)))
    text = text[text != MISSING]
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.isna().any():
        bad = ", ".join(repr(v) for v in text[numbers.isna()].head(5))
        raise DisclosureError(f"column {column!r}: intervals need numbers, found {bad}")
    rows = []
    for value, x in zip(text, numbers, strict=True):
        row = [value]
        for w in widths:
            lo = start + math.floor((x - start) / w) * w
            row.append(_interval_label(lo, w))
        row.append(TOP)
        rows.append(row)
    return _from_table(column, rows, f"intervals {list(widths)} from {start:g}")


def prefix_hierarchy(column: str, values: pd.Series, lengths: Sequence[int]) -> Hierarchy:
    """Keep the first ``lengths[l-1]`` characters at level l (decreasing lengths), then ``*``."""
    if list(lengths) != sorted(lengths, reverse=True) or any(n < 1 for n in lengths):
        raise DisclosureError(f"prefix for {column!r}: lengths must be positive and decreasing, got {list(lengths)}")
    text = [v for v in pd.unique(values.astype(str)) if v != MISSING]
    rows = [[v, *(v[:n] for n in lengths), TOP] for v in text]
    return _from_table(column, rows, f"prefix {list(lengths)}")


def suppression_hierarchy(column: str, values: pd.Series) -> Hierarchy:
    """Kept as it is, or suppressed: one level above the value, ``*``."""
    text = [v for v in pd.unique(values.astype(str)) if v != MISSING]
    return _from_table(column, [[v, TOP] for v in text] or [[TOP, TOP]], "suppression only")
