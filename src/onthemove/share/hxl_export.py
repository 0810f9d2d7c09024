"""HXL exports: CSV with a header row and an HXL hashtag row under it, as HDX and libhxl expect.

The tags are the contract with whoever reads the file, and libhxl's default schema is what HDX
checks them against: a value under ``#date`` must parse as a date, and one under ``#population``,
``#affected``, ``#inneed``, ``#targeted``, ``#reached`` or ``#value`` must be a number. So the tags
are chosen here, once, for analysis results (``analyse.query``) and for canonical records, and the
tests run every export through that schema.

Canonical records use each field's ``hxl`` from ``ingest.kinds`` (text fields there use x_ extension
hashtags, never a numeric one).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from onthemove.access import audit
from onthemove.ingest.kinds import GROUPS, Kind, get_kind
from onthemove.ingest.pipeline import whoami
from onthemove.store.base import Store

# Columns of analyse.query results. Periods are all #date: libhxl accepts 2021, 2021-03,
# 2021-03-31 and 2021Q1 as dates (quarters are rewritten from 2021-Q1, which it refuses).
# reason -> #cause+type: #cause ("the cause of an event", core since 1.0) with +type for a category
# is the closest core tag for why people moved; #crisis names a whole emergency and #impact is an
# effect, not a cause. Origins of mixed admin level keep kinds.py's #adm+code+origin.
AGGREGATE_TAGS = {
    "adm0": "#country+code",
    "adm0_name": "#country+name",
    "adm1": "#adm1+code",
    "adm1_name": "#adm1+name",
    "adm2": "#adm2+code",
    "adm2_name": "#adm2+name",
    "adm3": "#adm3+code",
    "adm3_name": "#adm3+name",
    "year": "#date",
    "quarter": "#date",
    "month": "#date",
    "date": "#date",
    "reason": "#cause+type",
    "origin": "#adm+code+origin",
    "count": "#affected+num",
    "population_group": "#x_population+type",
    "sex": "#x_sex",
    "age_group": "#x_age",
}

# Provenance columns of record exports: which batch (source file, checksum, licence) and which
# row of that file each record came from.
RECORD_TAGS = {"batch_id": "#meta+batch", "row_number": "#meta+row"}

# Hashtags that count people: they take +idps, +f, +age18_59 ... when a column holds one group only.
PEOPLE_HASHTAGS = ("#affected", "#population", "#inneed", "#targeted", "#reached")
NUMERIC_HASHTAGS = (*PEOPLE_HASHTAGS, "#value")

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_AGE_BAND = re.compile(r"^(\d+)(?:-(\d+)|\+)$")
_ADM = re.compile(r"^adm[0-3](_name)?$")


def field_tag(kind: Kind, name: str) -> str | None:
    """The export tag of a canonical field, declared once in kinds.py."""
    return kind.field(name).hxl


def hxl_tags_for(
    columns: Sequence[str],
    kind: str | None = None,
    *,
    table: pa.Table | None = None,
    side: str | None = None,
) -> list[str]:
    """One tag per column ("" for a column HXL has no tag for; libhxl skips untagged columns).

    ``kind`` makes canonical field names take their kinds.py tag; ``table`` lets a count column
    carry the population group, sex or age band that every row shares (``#affected+idps+num``);
    ``side`` ("to" or "from") marks admin columns of a movements total as destination or origin.
    """
    k = get_kind(kind) if kind else None
    refine = count_attributes(table) if table is not None else []
    tags = []
    for col in columns:
        tag = _base_tag(col, k, side)
        if refine and tag.startswith(PEOPLE_HASHTAGS):
            head, _, rest = tag.partition("+")
            tag = "+".join([head, *refine, *([rest] if rest else [])])
        tags.append(tag)
    return tags


def _base_tag(col: str, kind: Kind | None, side: str | None) -> str:
    if kind is not None:
        if col in kind.names:
            return field_tag(kind, col) or ""
        base = col.removesuffix("_name")
        if base != col and base in kind.names and kind.field(base).type == "pcode":
            return (field_tag(kind, base) or "").replace("+code", "+name")
    if col in RECORD_TAGS:
        return RECORD_TAGS[col]
    tag = AGGREGATE_TAGS.get(col, "")
    if tag and side and _ADM.match(col):
        tag += {"to": "+dest", "from": "+origin"}.get(side, "")
    return tag


def count_attributes(table: pa.Table) -> list[str]:
    """HXL attributes for what every row of the table shares: group, sex, age band."""
    out = []
    group = _single(table, "population_group")
    if group in GROUPS and group != "other":
        out.append(group)
    sex = _single(table, "sex")
    if sex in ("f", "m"):
        out.append(sex)
    age = _single(table, "age_group")
    if age and (m := _AGE_BAND.match(age)):
        out.append(f"age{m.group(1)}_{m.group(2)}" if m.group(2) else f"age{m.group(1)}plus")
    return out


def _single(table: pa.Table, column: str) -> str | None:
    if column not in table.column_names or table.num_rows == 0:
        return None
    values = set(table.column(column).to_pylist())
    return str(values.pop()) if len(values) == 1 and None not in values else None


def format_cell(value: Any) -> str:
    """ISO dates, plain numbers (never 1e-05 or 1.0E+3), empty for missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        text = repr(value)
        return format(Decimal(text), "f") if "e" in text or "E" in text else text
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def iter_rows(table: pa.Table) -> Iterable[list[Any]]:
    for batch in table.to_batches(max_chunksize=50_000):
        columns = [c.to_pylist() for c in batch.columns]
        yield from (list(r) for r in zip(*columns, strict=True))


def write_csv(table: pa.Table, path: str | Path, tags: Sequence[str] | None = None) -> Path:
    """Write UTF-8 CSV: the header row, the hashtag row when ``tags`` is given, then the data."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    dates = {i for i, t in enumerate(tags or ()) if t.split("+")[0] == "#date"}
    with p.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(table.column_names)
        if tags is not None:
            out.writerow(tags)
        for row in iter_rows(table):
            cells = [format_cell(v) for v in row]
            for i in dates:  # libhxl reads 2021Q1 as a date, but not 2021-Q1
                cells[i] = _QUARTER.sub(r"\1Q\2", cells[i])
            out.writerow(cells)
    return p


def export_hxl(
    table: pa.Table,
    path: str | Path,
    kind: str | None = None,
    *,
    side: str | None = None,
    public: bool = False,
    threshold: int = 10,
) -> Path:
    """Write a table (an ``analyse.query.run`` result or canonical records) as HXL-tagged CSV.

    ``public``: the table is for anyone, so it must be an aggregate with a ``count`` column, and it passes
    disclosure control first: counts below ``threshold`` and the cells that would give them away through the
    table's margins are left empty (``onthemove.share.disclose.publish``).
    """
    if public:
        from onthemove.share.disclose.publish import public_aggregate

        table, _ = public_aggregate(table, threshold)
    return write_csv(table, path, hxl_tags_for(table.column_names, kind, table=table, side=side))


def records_sql(kind: Kind, *, names: bool = True) -> str:
    """Every row of a canonical table; with ``names``, each P-code followed by its place name."""
    select = ['t."batch_id"', 't."row_number"']
    joins = []
    for i, f in enumerate(kind.fields):
        select.append(f't."{f.name}"')
        if names and f.type == "pcode":
            joins.append(f'LEFT JOIN places p{i} ON p{i}.pcode = t."{f.name}"')
            select.append(f'p{i}.name AS "{f.name}_name"')
    order = ", ".join(str(i + 1) for i in range(len(select)))
    return f"SELECT {', '.join(select)} FROM {kind.table} t {' '.join(joins)} ORDER BY {order}"


def records_table(store: Store, kind: str) -> pa.Table:
    return store.fetch_arrow(records_sql(get_kind(kind)))


def export_records(
    store: Store, kind: str, path: str | Path, fmt: str = "hxl", actor: str | None = None, *, public: bool = False
) -> Path:
    """All rows of one canonical table, with place names and the batch each row came from.

    ``fmt`` is "hxl" (hashtag row under the header) or "csv" (plain, for tools that want one
    header row). Row-level records are never public: ``public=True`` is refused (publish an aggregate with
    ``export_hxl(..., public=True)``, or microdata after ``onthemove disclose apply``).
    """
    if public:
        from onthemove.share.disclose.hierarchy import DisclosureError

        raise DisclosureError(
            f"{kind} records are row level and cannot be exported publicly; export totals (they pass small-cell "
            "and complementary suppression) or anonymise microdata with `onthemove disclose apply`"
        )
    if fmt not in ("hxl", "csv"):
        raise ValueError(f"unknown format {fmt!r}; expected 'hxl' or 'csv'")
    table = records_table(store, kind)
    audit.record(store, actor or whoami(), "export", kind, {"format": fmt, "rows": table.num_rows, "file": str(path)})
    if fmt == "csv":
        return write_csv(table, path)
    return export_hxl(table, path, kind)
