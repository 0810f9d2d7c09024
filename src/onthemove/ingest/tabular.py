"""CSV and XLSX readers. Large CSVs are staged by DuckDB's own reader, never row by row in Python.

Both return a source that knows its headers, its HXL tags (if any) and how to stage itself as a
table of text cells (``c0..cN`` plus ``_row``) in a DuckDB connection.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from onthemove.ingest.hxl import MAX_HEADER_ROWS, find_hashtag_row
from onthemove.ingest.raw import ROW, RawTable, ReadError

EXCEL = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}


class Source(Protocol):
    source: str
    headers: list[str]
    tags: list[str | None] | None

    def stage(self, con: duckdb.DuckDBPyConnection, name: str) -> int:
        """Create temp table ``name`` with the data rows; return how many rows it holds."""
        ...


def stage_raw(raw: RawTable, con: duckdb.DuckDBPyConnection, name: str) -> int:
    con.register(f"{name}_arrow", raw.table)
    try:
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}_src" AS SELECT * FROM "{name}_arrow"')
    finally:
        con.unregister(f"{name}_arrow")
    con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT * FROM "{name}_src"')
    return raw.table.num_rows


class RawSource:
    """A RawTable (XLSX, Kobo, DTM JSON) seen as a stageable source."""

    def __init__(self, raw: RawTable) -> None:
        self.raw = raw
        self.source = raw.source
        self.headers = raw.headers
        self.tags = raw.tags

    def stage(self, con: duckdb.DuckDBPyConnection, name: str) -> int:
        return stage_raw(self.raw, con, name)


@dataclass
class CsvSource:
    """A CSV file; DuckDB reads the data rows, Python only sniffs the header and hashtag rows."""

    source: str
    headers: list[str]
    tags: list[str | None] | None
    data_line: int  # 1-based line of the first data row
    delimiter: str
    encoding: str
    notes: list[str] = field(default_factory=list)

    def _read(self, con: duckdb.DuckDBPyConnection, name: str, path: str, options: str) -> None:
        # DuckDB keeps insertion order, so rowid is the record's position in the file: the row
        # number a person sees is rowid + the first data line (blank lines keep their numbers).
        # The parallel reader is fast but refuses line breaks inside quoted cells: then read serially,
        # and last leniently (Excel on Windows mixes \r\n between records with \n inside cells).
        # (Callers stage outside any transaction, so a refused attempt aborts nothing.)
        query = f'CREATE OR REPLACE TEMP TABLE "{name}_src" AS SELECT * FROM read_csv($path, {options}, '
        attempts = ["parallel = true)", "parallel = false)", "parallel = false, strict_mode = false)"]
        for attempt in attempts:  # fast first; then serial; then tolerant of mixed line endings
            try:
                con.execute(query + attempt, {"path": path, "delim": self.delimiter})
                return
            except duckdb.Error as exc:
                if attempt == attempts[-1]:
                    raise ReadError(self.source, f"cannot parse as CSV: {exc}") from exc

    @contextmanager
    def _utf8(self) -> Iterator[str]:
        """DuckDB reads UTF-8: other encodings are transcoded to a temporary copy first."""
        if self.encoding == "utf-8":
            yield self.source
            return
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".csv", newline="") as tmp:
            with open(self.source, encoding=self.encoding, errors="replace", newline="") as src:
                while chunk := src.read(1 << 20):
                    tmp.write(chunk)
            tmp.flush()
            yield tmp.name

    def _has_data(self) -> bool:
        return _lines_after(Path(self.source), self.encoding, self.data_line - 1)

    def stage(self, con: duckdb.DuckDBPyConnection, name: str) -> int:
        width = len(self.headers)
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
        options = (
            f"header = false, skip = {self.data_line - 1}, columns = {columns}, delim = $delim, "
            "quote = '\"', escape = '\"', null_padding = true, auto_detect = false"
        )
        filled = " OR ".join(f"c{i} IS NOT NULL" for i in range(width))
        if not self._has_data():  # a header and no rows: DuckDB's reader would refuse the file
            cols = ", ".join(f"c{i} VARCHAR" for i in range(width))
            con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}_src" ({cols})')
        else:
            with self._utf8() as readable:
                self._read(con, name, readable, options)
        # (inside a transaction DuckDB numbers new rows from a large offset: subtract the first rowid)
        first = int(con.execute(f'SELECT coalesce(min(rowid), 0) FROM "{name}_src"').fetchall()[0][0])
        con.execute(
            f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT *, CAST(rowid - {first} + {self.data_line} AS BIGINT) '
            f'AS {ROW} FROM "{name}_src" WHERE {filled}'
        )
        row = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0]
        return int(row[0]) if row else 0


def _lines_after(path: Path, encoding: str, skip: int) -> bool:
    with path.open(encoding="utf-8-sig" if encoding == "utf-8" else encoding, errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if number > skip and line.strip():
                return True
    return False


def open_source(path: str | Path, sheet: str | None = None, header_row: int | None = None) -> Source:
    """Open a CSV/TSV or spreadsheet; find the header row and the HXL hashtag row if there is one."""
    p = Path(path)
    if not p.exists():
        raise ReadError(str(p), "file not found")
    if p.suffix.lower() in EXCEL:
        return RawSource(read_excel(p, sheet=sheet, header_row=header_row))
    return sniff_csv(p, header_row=header_row)


HEAD_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
csv.field_size_limit(64 * 1024 * 1024)  # a long cell is data, not an error


def sniff_csv(path: Path, header_row: int | None = None) -> CsvSource:
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if b"\x00" in head[:4096]:
        raise ReadError(str(path), "this is a binary file, not CSV text")
    text, encoding = _decode(head)
    try:
        delimiter, rows, lines = _best_delimiter(text)
    except csv.Error as exc:
        raise ReadError(str(path), f"cannot read as CSV: {exc}") from exc
    headers, tags, data_index = _locate_header(str(path), rows, header_row)
    # DuckDB skips physical lines: count them, since a header cell may hold a line break
    data_line = (lines[data_index - 1] if data_index > 0 else 0) + 1
    return CsvSource(str(path), headers, tags, data_line, delimiter, encoding)


def _decode(head: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else Windows-1252 as Excel writes it, else Latin-1."""
    try:
        return head.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        cut = len(head) == HEAD_BYTES and exc.reason == "unexpected end of data"
        if cut:  # a multi-byte character split at the end of the sample
            return head[: exc.start].decode("utf-8-sig"), "utf-8"
    try:
        return head.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return head.decode("latin-1"), "latin-1"


def _best_delimiter(text: str) -> tuple[str, list[list[str]], list[int]]:
    """Prefer the delimiter under which a hashtag row appears, then steady column counts; ',' wins ties."""
    best: tuple[tuple[int, int, int, int], str, list[list[str]], list[int]] | None = None
    for rank, delim in enumerate(DELIMITERS):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        rows: list[list[str]] = []
        lines: list[int] = []
        for row in itertools.islice(reader, MAX_HEADER_ROWS + 1):
            rows.append(row)
            lines.append(reader.line_num)
        widths = [len(r) for r in rows if any(c.strip() for c in r)]
        tagged = find_hashtag_row([[c or None for c in r] for r in rows]) is not None
        steady = max((widths.count(w) for w in set(widths)), default=0)
        score = (int(tagged), steady if widths and max(widths) > 1 else 0, -rank, 0)
        if best is None or score > best[0]:
            best = (score, delim, rows, lines)
    assert best is not None
    return best[1], best[2], best[3]


def _locate_header(
    source: str, rows: list[list[Any]], header_row: int | None
) -> tuple[list[str], list[str | None] | None, int]:
    """Return headers, tags and the 0-based index of the first data row."""
    if not rows:
        raise ReadError(source, "the file is empty")
    cells = [[None if c is None or str(c).strip() == "" else str(c).strip() for c in r] for r in rows]
    if header_row is not None:
        h = header_row - 1
        if h >= len(cells):
            raise ReadError(source, f"header_row {header_row} is past the end of the file")
        return [c or "" for c in cells[h]], None, h + 1
    hashtag = find_hashtag_row(cells)
    if hashtag is not None:
        tag_row = cells[hashtag]
        above: list[str | None] = cells[hashtag - 1] if hashtag > 0 else [None] * len(tag_row)
        width = max(len(tag_row), len(above))
        headers = [(above[i] if i < len(above) else None) or "" for i in range(width)]
        tags = [tag_row[i] if i < len(tag_row) else None for i in range(width)]
        return headers, tags, hashtag + 1
    for i, row in enumerate(cells):
        if any(row):
            return [c or "" for c in row], None, i + 1
    raise ReadError(source, "no header row found")


def cell_text(value: Any) -> str | None:
    """Spreadsheet cell to text, the way a person reads it (6.0 -> '6', dates as ISO)."""
    if value is None:
        return None
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None


def read_excel(path: Path, sheet: str | None = None, header_row: int | None = None) -> RawTable:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = wb.sheet_names
        name = sheet or names[0]
        if name not in names:
            raise ReadError(str(path), f"no sheet {name!r}; the sheets are: {', '.join(names)}")
        rows = [[cell_text(v) for v in r] for r in wb.get_sheet_by_name(name).to_python(skip_empty_area=False)]
    except CalamineError as exc:
        raise ReadError(str(path), f"cannot read as a spreadsheet: {exc}") from exc
    headers, tags, first = _locate_header(str(path), rows, header_row)
    data, numbers = [], []
    for i in range(first, len(rows)):
        if any(c is not None for c in rows[i]):
            data.append(rows[i])
            numbers.append(i + 1)
    raw = RawTable.from_rows(str(path), headers, data, numbers, tags=tags, sheet=name)
    return raw


def empty_raw(source: str, headers: list[str]) -> RawTable:
    cols: dict[str, pa.Array] = {f"c{i}": pa.array([], pa.string()) for i in range(len(headers))}
    cols[ROW] = pa.array([], pa.int64())
    return RawTable(source=source, headers=headers, table=pa.table(cols))
