"""Vectorised validation: the plan becomes SQL run by DuckDB over the staged text cells.

A first pass keeps only the numbers of the rows with any problem (``_flagged``); for those rows
alone a second pass spells out ``rejected``: source row, column, value and what was expected. The
load query then types every record again on its way into the store. Nothing wide is materialised,
which keeps memory flat for files with millions of rows.
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


def build_checked(con: duckdb.DuckDBPyConnection, plan: Plan, has_known: bool) -> LoadQuery:
    """Type and check staged table ``raw`` once into ``checked``; spell out ``rejected``; return the load query.

    ``checked`` is narrow: the typed values of the fields that come from the file and one flag per
    record; constants are typed once, in the load query. Spelling out each problem (raw text,
    expected, candidates) is done for the flagged rows alone.
    """
    params = SqlParams()
    kept = [f.name for f in plan.kind.fields if any(_from_file(p.fields.get(f.name)) for p in plan.projections)]
    typed = "".join(f", {_quoted(n)}" for n in kept)
    selects = []
    for p_index, proj in enumerate(plan.projections):
        conds = [c for c, _, _ in _labelled(plan, proj, has_known, params)]
        bad = " OR ".join(f"coalesce({c}, false)" for c in conds) or "false"
        detail = _detail_sql(plan, p_index, proj, params)
        selects.append(f"SELECT {ROW}, _proj{typed}, ({bad}) AS _bad FROM ({detail})")
    con.execute("CREATE OR REPLACE TEMP TABLE checked AS " + " UNION ALL ".join(selects), params.values)
    missing = _missing_measures(plan)
    flagged = [f"SELECT {ROW} FROM checked WHERE _bad"]
    if missing is not None:
        flagged.append(f"SELECT {ROW} FROM raw WHERE {' AND '.join(f'{cell_sql(m)} IS NULL' for m in _measures(plan))}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _flagged AS SELECT DISTINCT {ROW} FROM ({' UNION ALL '.join(flagged)})")
    any_flagged = con.execute("SELECT count(*) FROM _flagged").fetchall()[0][0] > 0
    _build_rejected(con, plan, has_known, any_flagged, missing)
    con.execute("DROP TABLE IF EXISTS _flagged")
    return _load_query(plan, kept, any_flagged)


def _from_file(src: FieldSource | None) -> bool:
    return src is not None and (src.column is not None or src.name_column is not None or src.template is not None)


def _load_query(plan: Plan, kept: list[str], filter_rows: bool) -> LoadQuery:
    """Records of rows with no problem; fields not in ``checked`` are typed constants (or null)."""
    params = SqlParams()
    cols = []
    for f in plan.kind.fields:
        if f.name in kept:
            cols.append(_quoted(f.name))
            continue
        cases = []
        for i, p in enumerate(plan.projections):
            text = _text_expr(f, p.fields.get(f.name, FieldSource()), params, plan)
            cases.append(f"WHEN {i} THEN {_typed(f, text, params, plan.mapping.date_formats)}")
        cols.append(f"CASE _proj {' '.join(cases)} END AS {_quoted(f.name)}")
    where = f" WHERE {ROW} NOT IN (SELECT {ROW} FROM rejected)" if filter_rows else ""
    sql = f"SELECT CAST($batch AS VARCHAR) AS batch_id, {ROW} AS row_number, {', '.join(cols)} FROM checked{where}"
    return LoadQuery(sql, params.values)


def _measures(plan: Plan) -> list[int]:
    return [p.measure for p in plan.projections if p.measure is not None]


def _missing_measures(plan: Plan) -> str | None:
    """When every record comes from a wide column, a row with all of them empty yields nothing."""
    measures = _measures(plan)
    if not measures or len(measures) != len(plan.projections):
        return None
    return ", ".join(plan.column_label(m) or "" for m in measures)


def _build_rejected(
    con: duckdb.DuckDBPyConnection, plan: Plan, has_known: bool, flagged: bool, missing: str | None
) -> None:
    params = SqlParams()
    parts = [
        "SELECT CAST(NULL AS BIGINT) AS _row, NULL::VARCHAR AS column_name, NULL::VARCHAR AS value, "
        "NULL::VARCHAR AS expected WHERE false"
    ]
    if flagged:
        for p_index, proj in enumerate(plan.projections):
            own = SqlParams()
            detail = (
                f"SELECT * FROM ({_detail_sql(plan, p_index, proj, own)}) WHERE {ROW} IN (SELECT {ROW} FROM _flagged)"
            )
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
