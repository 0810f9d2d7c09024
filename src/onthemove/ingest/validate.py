"""Vectorised validation: the plan becomes SQL run by DuckDB over the staged text cells.

One pass types and checks every record on its way into the store (``load_query``); nothing wide
is materialised, so memory stays flat for files with millions of rows. Only when records are
missing from the load does a second pass, over the flagged rows alone, spell out ``rejected``:
source row, column, value and what was expected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

from onthemove.ingest.kinds import Field
from onthemove.ingest.plan import FieldSource, Plan, Projection
from onthemove.ingest.raw import ROW

ISO_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f"]
EARLIEST = dt.date(1900, 1, 1)
_LOWERED = ("reason", "driver", "indicator", "sector")


class SqlParams:
    """Collects bound parameters so no value is ever formatted into SQL text."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


@dataclass
class LoadQuery:
    """The SELECT that yields the records to load, with its parameters."""

    sql: str
    params: dict[str, Any]


def _quoted(name: str) -> str:
    return f'"{name}"'


def cell_sql(col: int) -> str:
    """The text of cell column ``col``: trimmed, empty as null."""
    # trim only cells that need it: trimming every cell of a 10-million-row file costs seconds
    c = f"c{col}"
    return f"NULLIF(CASE WHEN {c} LIKE ' %' OR {c} LIKE '% ' THEN trim({c}) ELSE {c} END, '')"


def _text_expr(f: Field, src: FieldSource, params: SqlParams, plan: Plan) -> str:
    """The field's text after value maps and case rules (P-codes for matched names)."""
    if src.name_column is not None:
        parent = cell_sql(src.parent_column) if src.parent_column is not None else "NULL"
        return (
            f"(SELECT m.pcode FROM _placematch m WHERE m.field = {params.bind(f.name)} "
            f"AND m.name = {cell_sql(src.name_column)} AND m.parent IS NOT DISTINCT FROM {parent})"
        )
    if src.column is not None:
        text = _value_map(f, cell_sql(src.column), params, plan)
    elif src.template is not None:
        pieces = [cell_sql(x) if isinstance(x, int) else f"CAST({params.bind(x)} AS VARCHAR)" for x in src.template]
        text = _value_map(f, "(" + " || ".join(pieces) + ")", params, plan)
    elif src.constant is not None:
        text = f"CAST({params.bind(str(src.constant))} AS VARCHAR)"
    elif f.default is not None:
        text = f"CAST({params.bind(f.default)} AS VARCHAR)"
    else:
        return "CAST(NULL AS VARCHAR)"
    if f.choices or f.name in _LOWERED:
        text = f"lower({text})"
    if f.type == "pcode":
        text = f"upper({text})"
    return text


def _value_map(f: Field, text: str, params: SqlParams, plan: Plan) -> str:
    if f.name not in plan.mapping.values:
        return text
    key = params.bind(f.name)
    return (
        f"CASE WHEN {text} IN (SELECT src FROM _valuemap WHERE field = {key}) "
        f"THEN (SELECT dst FROM _valuemap WHERE field = {key} AND src = {text}) ELSE {text} END"
    )


def _typed(f: Field, v: str, params: SqlParams, formats: list[str]) -> str:
    """Typed value; the cheap cast first, the lenient parse only for rows where it failed."""
    if f.type == "int":
        # plain digits cast directly (DuckDB would round "2.5"); anything else goes through DOUBLE and
        # must be whole; commas only as thousands separators ("1,234", not "1,5")
        thousands = "'[+-]?[0-9]{1,3}(,[0-9]{3})+(\\.0*)?'"
        grouped = f"CASE WHEN regexp_full_match({v}, {thousands}) THEN replace({v}, ',', '') ELSE {v} END"
        d = f"TRY_CAST({grouped} AS DOUBLE)"
        return (
            f"coalesce(CASE WHEN NOT contains({v}, '.') THEN TRY_CAST({v} AS BIGINT) END, "
            f"CASE WHEN {d} = floor({d}) THEN TRY_CAST({d} AS BIGINT) END)"
        )
    if f.type == "float":
        return f"TRY_CAST({v} AS DOUBLE)"
    if f.type == "date":
        parsed = f"CAST(try_strptime({v}, {params.bind([*formats, *ISO_FORMATS])}) AS DATE)"
        return parsed if formats else f"coalesce(TRY_CAST({v} AS DATE), {parsed})"
    return v


def _problems(f: Field, v: str, typed: str, params: SqlParams, plan: Plan, has_known: bool) -> list[tuple[str, str]]:
    """(condition, expected) pairs for one field; ``v`` is its text, ``typed`` its typed value."""
    out: list[tuple[str, str]] = []
    if f.required:
        out.append((f"{v} IS NULL", f"a value for the required field {f.name!r}"))
    if f.type in ("int", "float", "date"):
        what = {"int": "a whole number", "float": "a number"}.get(f.type)
        if what is None:
            what = "a date in the format " + ", ".join([*plan.mapping.date_formats, "%Y-%m-%d"])
        out.append((f"{v} IS NOT NULL AND {typed} IS NULL", what))
    if f.type == "date":
        latest = dt.date.today() + dt.timedelta(days=366)
        out.append(
            (
                f"{typed} NOT BETWEEN {params.bind(EARLIEST)} AND {params.bind(latest)}",
                f"a date between {EARLIEST.isoformat()} and {latest.isoformat()}",
            )
        )
    if f.minimum is not None:
        out.append((f"{typed} < {params.bind(f.minimum)}", f"a value of at least {f.minimum:g}"))
    if f.maximum is not None:
        out.append((f"{typed} > {params.bind(f.maximum)}", f"a value of at most {f.maximum:g}"))
    if f.choices:
        out.append((f"NOT list_contains({params.bind(list(f.choices))}, {v})", "one of " + ", ".join(f.choices)))
    if f.type == "pcode" and has_known:
        out.append(
            (
                f"{v} IS NOT NULL AND {v} NOT IN (SELECT pcode FROM _known)",
                "a P-code in the gazetteer (load P-codes first, or fix the code)",
            )
        )
    return out


def _name_problem(f: Field) -> tuple[str, None]:
    """A place name that did not match: the matcher's note (with candidates) is the expectation."""
    return (f'"{f.name}__v" IS NULL AND "{f.name}__raw" IS NOT NULL', None)


def _detail_sql(plan: Plan, p_index: int, proj: Projection, params: SqlParams) -> str:
    """Text, typed value, raw text and matcher note of every field, for one projection."""
    cols = [ROW, f"{p_index} AS _proj"]
    for f in plan.kind.fields:
        src = proj.fields.get(f.name, FieldSource())
        text = _text_expr(f, src, params, plan)
        cols.append(f'{text} AS "{f.name}__v"')
        raw_col = src.column if src.column is not None else src.name_column
        raw = cell_sql(raw_col) if raw_col is not None else "CAST(NULL AS VARCHAR)"
        cols.append(f'{raw} AS "{f.name}__raw"')
        cols.append(f'{_note_expr(f, src, params)} AS "{f.name}__note"')
    where = f" WHERE {cell_sql(proj.measure)} IS NOT NULL" if proj.measure is not None else ""
    inner = f"SELECT {', '.join(cols)} FROM raw{where}"
    typed = ", ".join(
        f'{_typed(f, _quoted(f.name + "__v"), params, plan.mapping.date_formats)} AS "{f.name}"'
        for f in plan.kind.fields
    )
    return f"SELECT *, {typed} FROM ({inner})"


def load_query(plan: Plan, has_known: bool) -> LoadQuery:
    """Typed records of every projection whose row has no problem: type, check and load in one pass.

    Clean files, the common case, are then read once. When fewer records arrive than the file
    offers (``expected_records``), ``find_rejected`` spells out why, and the pipeline removes what
    the flagged rows did load, so a row is loaded whole or not at all.
    """
    params = SqlParams()
    names = ", ".join(_quoted(f.name) for f in plan.kind.fields)
    parts = []
    for p_index, proj in enumerate(plan.projections):
        bad = _bad_sql(plan, proj, params, has_known)
        parts.append(f"SELECT {ROW}, {names} FROM ({_detail_sql(plan, p_index, proj, params)}) WHERE NOT ({bad})")
    union = " UNION ALL ".join(parts)
    sql = f"SELECT CAST($batch AS VARCHAR) AS batch_id, {ROW} AS row_number, {names} FROM ({union})"
    return LoadQuery(sql, params.values)


def _bad_sql(plan: Plan, proj: Projection, params: SqlParams, has_known: bool) -> str:
    conds = [c for c, _, _ in _labelled(plan, proj, has_known, params)]
    return " OR ".join(f"coalesce({c}, false)" for c in conds) or "false"


def expected_records(con: duckdb.DuckDBPyConnection, plan: Plan) -> tuple[int, int]:
    """(records the file offers, rows that offer none because all their count columns are empty)."""
    offered = []
    for proj in plan.projections:
        offered.append(f"count({cell_sql(proj.measure)})" if proj.measure is not None else "count(*)")
    empty = "0"
    if _missing_measures(plan) is not None:
        empty = f"count(*) FILTER (WHERE {' AND '.join(f'{cell_sql(m)} IS NULL' for m in _measures(plan))})"
    row = con.execute(f"SELECT {' + '.join(offered)}, {empty} FROM raw").fetchall()[0]
    return int(row[0] or 0), int(row[1] or 0)


def find_rejected(con: duckdb.DuckDBPyConnection, plan: Plan, has_known: bool) -> None:
    """Create ``rejected``: one row per problem (row, column, value, expected), flagged rows only."""
    params = SqlParams()
    flagged = [
        f"SELECT {ROW} FROM ({_detail_sql(plan, i, proj, params)}) WHERE {_bad_sql(plan, proj, params, has_known)}"
        for i, proj in enumerate(plan.projections)
    ]
    missing = _missing_measures(plan)
    if missing is not None:
        flagged.append(f"SELECT {ROW} FROM raw WHERE {' AND '.join(f'{cell_sql(m)} IS NULL' for m in _measures(plan))}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _flagged AS SELECT DISTINCT {ROW} FROM ({' UNION ALL '.join(flagged)})",
        params.values,
    )
    _build_rejected(con, plan, has_known, missing)
    con.execute("DROP TABLE IF EXISTS _flagged")


def no_rejections(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE rejected (_row BIGINT, column_name VARCHAR, value VARCHAR, expected VARCHAR)"
    )


def _measures(plan: Plan) -> list[int]:
    return [p.measure for p in plan.projections if p.measure is not None]


def _missing_measures(plan: Plan) -> str | None:
    """When every record comes from a wide column, a row with all of them empty yields nothing."""
    measures = _measures(plan)
    if not measures or len(measures) != len(plan.projections):
        return None
    return ", ".join(plan.column_label(m) or "" for m in measures)


def _build_rejected(con: duckdb.DuckDBPyConnection, plan: Plan, has_known: bool, missing: str | None) -> None:
    params = SqlParams()
    parts = [
        "SELECT CAST(NULL AS BIGINT) AS _row, NULL::VARCHAR AS column_name, NULL::VARCHAR AS value, "
        "NULL::VARCHAR AS expected WHERE false"
    ]
    for p_index, proj in enumerate(plan.projections):
        own = SqlParams()
        detail = f"SELECT * FROM ({_detail_sql(plan, p_index, proj, own)}) WHERE {ROW} IN (SELECT {ROW} FROM _flagged)"
        con.execute(f"CREATE OR REPLACE TEMP TABLE _detail{p_index} AS {detail}", own.values)
        for cond, expected, field in _labelled(plan, proj, has_known, params):
            label = plan.column_label(_source_column(proj.fields.get(field, FieldSource()))) if field else None
            value = f'coalesce("{field}__raw", "{field}__v")' if field else "NULL"
            why = f'"{field}__note"' if expected is None else params.bind(expected)
            parts.append(
                f"SELECT {ROW}, {params.bind(label)}, {value}, {why} FROM _detail{p_index} "
                f"WHERE coalesce({cond}, false)"
            )
    if missing is not None:
        parts.append(
            f"SELECT {ROW}, NULL, NULL, {params.bind('a count in at least one of: ' + missing)} FROM raw "
            f"WHERE {' AND '.join(f'{cell_sql(m)} IS NULL' for m in _measures(plan))}"
        )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE rejected AS SELECT * FROM ({' UNION ALL '.join(parts)}) ORDER BY {ROW}",
        params.values,
    )
    for p_index in range(len(plan.projections)):
        con.execute(f"DROP TABLE IF EXISTS _detail{p_index}")


def _labelled(
    plan: Plan, proj: Projection, has_known: bool, params: SqlParams
) -> list[tuple[str, str | None, str | None]]:
    """Problems with the field they belong to (None for row-level ones)."""
    out: list[tuple[str, str | None, str | None]] = []
    for f in plan.kind.fields:
        src = proj.fields.get(f.name, FieldSource())
        if src.name_column is not None:
            cond, expected = _name_problem(f)
            out.append((cond, expected, f.name))
        else:
            out.extend(
                (c, e, f.name) for c, e in _problems(f, f'"{f.name}__v"', f'"{f.name}"', params, plan, has_known)
            )
    if plan.kind.one_of:
        present = " OR ".join(f'"{n}__v" IS NOT NULL OR "{n}__raw" IS NOT NULL' for n in plan.kind.one_of)
        out.append((f"NOT ({present})", "one of the fields " + ", ".join(plan.kind.one_of), None))
    return out


def _source_column(src: FieldSource) -> int | None:
    return src.column if src.column is not None else src.name_column


def _note_expr(f: Field, src: FieldSource, params: SqlParams) -> str:
    if src.name_column is None:
        return "CAST(NULL AS VARCHAR)"
    parent = cell_sql(src.parent_column) if src.parent_column is not None else "NULL"
    return (
        f"(SELECT m.note FROM _placematch m WHERE m.field = {params.bind(f.name)} "
        f"AND m.name = {cell_sql(src.name_column)} AND m.parent IS NOT DISTINCT FROM {parent})"
    )
