"""Vectorised validation: the plan becomes SQL run by DuckDB over the staged text cells.

Produces two tables in the validation connection:
  ``checked``  typed candidate records (one per projection and source row), with the raw text kept
  ``rejected`` one row per problem: source row, column, value, what was expected
Nothing here writes to the store; the pipeline decides what to load.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from onthemove.ingest.kinds import Field
from onthemove.ingest.plan import FieldSource, Plan, Projection
from onthemove.ingest.raw import ROW

ISO_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f"]
EARLIEST = dt.date(1900, 1, 1)


class SqlParams:
    """Collects bound parameters so no value is ever formatted into SQL text."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def _cell(col: int) -> str:
    return f"NULLIF(trim(c{col}), '')"


def _text_expr(f: Field, src: FieldSource, params: SqlParams) -> str:
    if src.column is not None:
        expr = _cell(src.column)
    elif src.name_column is not None:
        parent = _cell(src.parent_column) if src.parent_column is not None else "NULL"
        expr = (
            f"(SELECT m.pcode FROM _placematch m WHERE m.field = {params.bind(f.name)} "
            f"AND m.name = {_cell(src.name_column)} AND m.parent IS NOT DISTINCT FROM {parent})"
        )
        return expr
    elif src.template is not None:
        pieces = [_cell(x) if isinstance(x, int) else f"CAST({params.bind(x)} AS VARCHAR)" for x in src.template]
        expr = "(" + " || ".join(pieces) + ")"
    elif src.constant is not None:
        expr = f"CAST({params.bind(str(src.constant))} AS VARCHAR)"
    elif f.default is not None:
        expr = f"CAST({params.bind(f.default)} AS VARCHAR)"
    else:
        return "CAST(NULL AS VARCHAR)"
    return expr


def _raw_expr(src: FieldSource) -> str:
    col = src.column if src.column is not None else src.name_column
    return _cell(col) if col is not None else "CAST(NULL AS VARCHAR)"


def _mapped_value(f: Field, text: str, params: SqlParams, plan: Plan) -> str:
    vmap = plan.mapping.values.get(f.name)
    if vmap:
        key = params.bind(f.name)
        text = (
            f"CASE WHEN {text} IN (SELECT src FROM _valuemap WHERE field = {key}) "
            f"THEN (SELECT dst FROM _valuemap WHERE field = {key} AND src = {text}) ELSE {text} END"
        )
    if f.choices or f.name in ("reason", "driver", "indicator", "sector"):
        text = f"lower({text})"
    if f.type == "pcode":
        text = f"upper({text})"
    return text


def _typed(f: Field, v: str, params: SqlParams, formats: list[str]) -> str:
    if f.type == "int":
        return f"TRY_CAST(TRY_CAST(replace({v}, ',', '') AS DOUBLE) AS BIGINT)"
    if f.type == "float":
        return f"TRY_CAST({v} AS DOUBLE)"
    if f.type == "date":
        fmts = params.bind([*formats, *ISO_FORMATS])
        return f"CAST(try_strptime({v}, {fmts}) AS DATE)"
    return v


def _problems(
    f: Field, v: str, typed: str, params: SqlParams, plan: Plan, has_known: bool
) -> list[tuple[str, str | None]]:
    """(condition, expected) pairs for one field."""
    out: list[tuple[str, str | None]] = []
    if f.required:
        out.append((f"{v} IS NULL", f"a value for the required field {f.name!r}"))
    if f.type == "int":
        out.append(
            (
                f"{v} IS NOT NULL AND ({typed} IS NULL OR TRY_CAST(replace({v}, ',', '') AS DOUBLE) <> {typed})",
                "a whole number",
            )
        )
    elif f.type == "float":
        out.append((f"{v} IS NOT NULL AND {typed} IS NULL", "a number"))
    elif f.type == "date":
        fmts = ", ".join([*plan.mapping.date_formats, "%Y-%m-%d"])
        out.append((f"{v} IS NOT NULL AND {typed} IS NULL", f"a date in the format {fmts}"))
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
        out.append(
            (
                f"{v} IS NOT NULL AND {v} NOT IN (SELECT unnest({params.bind(list(f.choices))}))",
                "one of " + ", ".join(f.choices),
            )
        )
    if f.type == "pcode" and has_known:
        out.append(
            (
                f"{v} IS NOT NULL AND {v} NOT IN (SELECT pcode FROM _known)",
                "a P-code in the gazetteer (load P-codes first, or fix the code)",
            )
        )
    return out


def build_checked(con: duckdb.DuckDBPyConnection, plan: Plan, has_known: bool) -> None:
    """Create temp tables ``checked`` and ``rejected`` from staged table ``raw``."""
    kind = plan.kind
    selects: list[str] = []
    problems: list[str] = []
    params = SqlParams()
    for p_index, proj in enumerate(plan.projections):
        cols = [f"{ROW}", f"{p_index} AS _proj"]
        for f in kind.fields:
            src = proj.fields.get(f.name, FieldSource())
            text = _text_expr(f, src, params)
            value = _mapped_value(f, text, params, plan) if src.name_column is None else text
            cols.append(f'{value} AS "{f.name}__v"')
            cols.append(f'{_raw_expr(src)} AS "{f.name}__raw"')
            cols.append(f'{_note_expr(f, src, params)} AS "{f.name}__note"')
        where = f"WHERE {_cell(proj.measure)} IS NOT NULL" if proj.measure is not None else ""
        selects.append(f"SELECT {', '.join(cols)} FROM raw {where}")
    typed_cols = [f"{ROW}", "_proj"]
    for f in kind.fields:
        quoted = f'"{f.name}__v"'
        typed_cols.append(f'{_typed(f, quoted, params, plan.mapping.date_formats)} AS "{f.name}"')
        typed_cols.extend([quoted, f'"{f.name}__raw"', f'"{f.name}__note"'])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE checked AS SELECT {', '.join(typed_cols)} FROM ("
        + " UNION ALL ".join(selects)
        + ")",
        params.values,
    )
    params = SqlParams()
    for p_index, proj in enumerate(plan.projections):
        for f in kind.fields:
            src = proj.fields.get(f.name, FieldSource())
            label = _label(plan, proj, src)
            found = _problems(f, f'"{f.name}__v"', f'"{f.name}"', params, plan, has_known)
            if src.name_column is not None:  # unmatched names: the matcher's note lists candidates
                found = [(f'"{f.name}__v" IS NULL AND "{f.name}__raw" IS NOT NULL', None)]
            for cond, expected in found:
                value = f'coalesce("{f.name}__raw", "{f.name}__v")'
                why = f'"{f.name}__note"' if expected is None else params.bind(expected)
                problems.append(
                    f"SELECT {ROW}, {params.bind(label)} AS column_name, {value} AS value, "
                    f"{why} AS expected FROM checked WHERE _proj = {p_index} AND ({cond})"
                )
        if kind.one_of:
            present = " OR ".join(f'"{n}__v" IS NOT NULL OR "{n}__raw" IS NOT NULL' for n in kind.one_of)
            problems.append(
                f"SELECT {ROW}, NULL, NULL, {params.bind('one of the fields ' + ', '.join(kind.one_of))} "
                f"FROM checked WHERE _proj = {p_index} AND NOT ({present})"
            )
    measures = [p.measure for p in plan.projections if p.measure is not None]
    if measures and len(measures) == len(plan.projections):
        labels = ", ".join(plan.column_label(m) or "" for m in measures)
        problems.append(
            f"SELECT {ROW}, NULL, NULL, {params.bind('a count in at least one of: ' + labels)} FROM raw "
            f"WHERE {ROW} NOT IN (SELECT {ROW} FROM checked)"
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE rejected AS SELECT * FROM (" + " UNION ALL ".join(problems) + f") ORDER BY {ROW}",
        params.values,
    )


def _label(plan: Plan, proj: Projection, src: FieldSource) -> str | None:
    col = src.column if src.column is not None else src.name_column
    return plan.column_label(col)


def _note_expr(f: Field, src: FieldSource, params: SqlParams) -> str:
    if src.name_column is None:
        return "CAST(NULL AS VARCHAR)"
    parent = _cell(src.parent_column) if src.parent_column is not None else "NULL"
    return (
        f"(SELECT m.note FROM _placematch m WHERE m.field = {params.bind(f.name)} "
        f"AND m.name = {_cell(src.name_column)} AND m.parent IS NOT DISTINCT FROM {parent})"
    )
