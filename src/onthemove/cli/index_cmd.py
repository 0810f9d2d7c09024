"""``onthemove index``: composite indices (INFORM Risk and others) computed from declarative definitions."""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from onthemove.cli.main import app, fail, state, user_errors
from onthemove.cli.output import emit, errors

if TYPE_CHECKING:
    import pandas as pd

    from onthemove.foresight.index import Comparison, Definition

index_app = typer.Typer(
    help="Composite indices (INFORM Risk and indices built like it) from YAML definitions.", no_args_is_help=True
)
app.add_typer(index_app, name="index")

FORMATS = ("table", "csv", "json")
Format = Annotated[str, typer.Option("--format", help="table (aggregates only), csv or json (every node)")]
Decimals = Annotated[
    int | None, typer.Option(help="decimals in the output [default 2; with --compare: of the published values, 1]")
]


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def _rows(table: pd.DataFrame, definition: Definition, fmt: str, decimals: int) -> list[dict[str, Any]]:
    """Rows for ``emit``: values rounded, missing values as None; the table format shows the aggregates."""
    columns = list(table.columns)
    if fmt == "table":
        columns = [c for c in columns if c not in definition.nodes or not definition.nodes[c].is_input]
    out = []
    for record in table[columns].to_dict(orient="records"):
        row: dict[str, Any] = {}
        for key, value in record.items():
            if isinstance(value, float):
                row[str(key)] = round(value, decimals) + 0.0 if math.isfinite(value) else None
            else:
                row[str(key)] = value
        out.append(row)
    return out


@index_app.command("list")
def index_list(fmt: Format = "table") -> None:
    """The definitions that come with onthemove: use their name as DEFINITION."""
    from onthemove.foresight.index import shipped_definitions

    _check_format(fmt)
    with user_errors():
        rows = [
            {
                "name": d.name,
                "title": d.title,
                "id": d.id_column or "",
                "inputs": len(d.inputs),
                "aggregates": len(d.aggregates),
                "index": ", ".join(d.roots),
            }
            for d in shipped_definitions()
        ]
    emit(rows, fmt, title="shipped index definitions")


@index_app.command("compute")
def index_compute(
    definition: Annotated[str, typer.Argument(help="YAML definition file, or a shipped name (onthemove index list)")],
    input_file: Annotated[Path, typer.Argument(metavar="INPUT.csv", help="one row per place, one column per input")],
    fmt: Format = "table",
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="column that identifies a row [default: the definition's id]")
    ] = None,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help="instead of the values, report where they differ at --decimals from published columns of the "
            "same name, and which differences rounding of the inputs explains; exit code 1 if any it does not",
        ),
    ] = False,
    stepwise: Annotated[
        bool, typer.Option(help="with --compare: each aggregate from its children's published values")
    ] = False,
    exact: Annotated[bool, typer.Option(help="no rounding between levels, whatever the definition says")] = False,
    decimals: Decimals = None,
) -> None:
    """Compute every node of an index for every row of a CSV file (UTF-8 or Latin-1; x or empty = missing)."""
    from onthemove.foresight.index import compare as compare_values
    from onthemove.foresight.index import compute, load_definition, read_table

    _check_format(fmt)
    with user_errors():
        spec = load_definition(definition)
        if exact:
            spec = spec.without_rounding()
        table = read_table(input_file)
        if compare:
            places = 1 if decimals is None else decimals
            _report(compare_values(spec, table, id_column=id_column, stepwise=stepwise, decimals=places), fmt)
            return
        result = compute(spec, table, id_column=id_column)
    emit(_rows(result, spec, fmt, 2 if decimals is None else decimals), fmt, title=spec.title or spec.name)


def _report(comparison: Comparison, fmt: str) -> None:
    done = comparison.to_dict()
    line = (
        f"{comparison.definition}: {done['matched']:,} of {done['compared']:,} values equal the published ones at "
        f"{comparison.decimals} decimal(s) ({done['mode']}); {done['explained']} misses explained by input "
        f"rounding, {done['unexplained']} not"
    )
    if fmt == "json":
        sys.stdout.write(json.dumps(done, indent=2, default=str) + "\n")
    elif fmt == "csv":
        if done["misses"]:
            emit(done["misses"], "csv")
        else:
            sys.stdout.write(",".join(_MISS_COLUMNS) + "\n")
        errors.print(line, highlight=False)
    else:
        emit(done["nodes"], "table", title="computed against published, per node")
        if done["misses"]:
            emit(done["misses"], "table", title="misses")
        errors.print(line, highlight=False)
    if done["unexplained"]:
        fail(f"{done['unexplained']} values differ from the published ones beyond what input rounding explains")


_MISS_COLUMNS = ("id", "node", "computed", "published", "reachable", "explained", "inputs")


def _month(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text if len(text) > 7 else f"{text}-01")
    except ValueError:
        raise ValueError(f"--as-of: {text!r} is not a month like 2021-12") from None


@index_app.command("somalia")
def index_somalia(
    fmt: Format = "table",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="last month of the 12 (YYYY-MM) [default: latest arrivals]")
    ] = None,
    definition: Annotated[
        str, typer.Option(help="definition file or shipped name, reading the columns of --inputs")
    ] = "somalia_displacement_risk",
    inputs: Annotated[bool, typer.Option("--inputs", help="show the input table built from the store instead")] = False,
    country: Annotated[str, typer.Option(help="ISO3 code of the country's places")] = "SOM",
    decimals: Decimals = None,
) -> None:
    """The Somalia district displacement-risk index from the store: arrivals, rainfall, sites and their needs."""
    from onthemove.foresight.index import compute, load_definition, somalia_inputs

    _check_format(fmt)
    with user_errors():
        spec = load_definition(definition)
        table = somalia_inputs(state.store(), as_of=_month(as_of), country=country)
        notes = list(table.attrs.get("notes", []))
        if inputs:
            result = table
        else:
            result = compute(spec, table)
            root = spec.roots[-1]
            result = result.sort_values(root, ascending=False, na_position="last", kind="stable")
    for note in notes:
        errors.print(f"note: {note}", highlight=False, style="dim")
    title = f"{spec.title or spec.name}, {table.attrs.get('start', '')[:7]} to {table.attrs.get('end', '')[:7]}"
    emit(_rows(result, spec, fmt, 2 if decimals is None else decimals), fmt, title=title)
