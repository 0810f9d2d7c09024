"""``onthemove disclose``: disclosure control before export (docs/disclosure.md).

``check`` measures a microdata file against its spec (k, l, risk) and exits 1 when it fails; ``apply``
anonymises it and says what that cost; ``table`` applies small-cell and complementary suppression to a table
of counts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from onthemove.cli.main import app, emit, fail, state, user_errors
from onthemove.cli.output import console, errors

if TYPE_CHECKING:
    from onthemove.share.disclose import ApplyResult, CheckReport, Spec

disclose_app = typer.Typer(
    help="Disclosure control: k-anonymity, l-diversity, re-identification risk, small-cell suppression.",
    no_args_is_help=True,
)
app.add_typer(disclose_app, name="disclose")

FORMATS = ("table", "json")
DataFile = Annotated[Path, typer.Argument(help="CSV (or Parquet) file of microdata, one record a row")]
SpecFile = Annotated[Path, typer.Option("--spec", help="YAML spec: quasi-identifiers, hierarchies, k, l, ...")]
Format = Annotated[str, typer.Option("--format", help="table or json")]


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def _spec(path: Path) -> Spec:
    from onthemove.share.disclose.spec import load_spec, settings_defaults

    return load_spec(path, settings_defaults(state.settings))


def _check_rows(report: CheckReport, spec: Spec) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"measure": "records", "value": f"{report.records:,}", "target": ""},
        {"measure": "quasi-identifiers", "value": ", ".join(report.quasi_identifiers), "target": ""},
        {"measure": "k achieved", "value": str(report.k), "target": f">= {spec.k}"},
        {"measure": "classes", "value": f"{report.classes:,}", "target": ""},
    ]
    if report.fully_suppressed:
        rows.append({"measure": "records fully suppressed", "value": f"{report.fully_suppressed:,}", "target": ""})
    for k, v in report.violators.items():
        rows.append({"measure": f"records violating {k}-anonymity", "value": f"{v:,}", "target": ""})
    for d in report.diversity:
        rows.append({"measure": f"l-diversity of {d.attribute}", "value": str(d.l), "target": f">= {spec.l}"})
        if d.entropy_l is not None:
            rows.append({"measure": f"entropy l of {d.attribute}", "value": f"{d.entropy_l:.3f}", "target": ""})
        if d.violating_classes:
            rows.append(
                {
                    "measure": f"  classes not {spec.l}-diverse",
                    "value": f"{d.violating_classes:,} ({d.violating_records:,} records)",
                    "target": "0",
                }
            )
    r = report.risk
    ceiling = "" if r.ceiling is None else f"<= {r.ceiling:.2%}"
    rows += [
        {"measure": "individual risk, highest", "value": f"{r.max_individual:.4f}", "target": ""},
        {"measure": f"records with risk above 1/{spec.k}", "value": f"{r.high_risk_records:,}", "target": ""},
        {"measure": "expected re-identifications", "value": f"{r.expected_reidentifications:,.1f}", "target": ""},
        {
            "measure": "global risk" + (" (weighted)" if r.weighted else " (1/f, no weights)"),
            "value": f"{r.global_risk:.2%}",
            "target": ceiling,
        },
        {"measure": "verdict", "value": "pass" if report.passed else "FAIL", "target": ""},
    ]
    return rows


@disclose_app.command("check")
def disclose_check(file: DataFile, spec_file: SpecFile, fmt: Format = "table") -> None:
    """k achieved, records violating k-anonymity, l-diversity, individual and global risk; exit 1 on failure."""
    from onthemove.share.disclose.microdata import check
    from onthemove.share.disclose.spec import read_data

    _check_format(fmt)
    with user_errors():
        spec = _spec(spec_file)
        report = check(read_data(file, spec), spec)
    if fmt == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        emit(_check_rows(report, spec), "table", title=f"disclosure check: {file.name}")
        for p in report.problems:
            errors.print(f"[red]fails:[/red] {p}", highlight=False)
    if not report.passed:
        raise typer.Exit(1)


def _apply_rows(result: ApplyResult) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"what": f"level of {q}", "value": f"{lv} of {h}"} for q, (lv, h) in result.levels.items()
    ]
    loss, before, after = result.loss, result.before, result.after
    rows += [
        {"what": "suppression", "value": result.suppression},
        {"what": "records suppressed", "value": f"{loss.suppressed_records:,} of {before.records:,}"},
        {"what": "cells suppressed", "value": f"{loss.suppressed_cells:,}"},
        {"what": "loss: LM", "value": f"{loss.lm:.4f}"},
        {"what": "loss: precision", "value": f"{loss.precision:.4f}"},
        {"what": "loss: non-uniform entropy", "value": f"{loss.entropy:.4f}"},
        {"what": "loss: discernibility", "value": f"{loss.discernibility:,}"},
        {"what": "average class size / k", "value": f"{loss.avg_class_size:.2f}"},
        {"what": "k before -> after", "value": f"{before.k} -> {after.k}"},
        {
            "what": f"records violating {before.k_target}-anonymity",
            "value": f"{before.violators[before.k_target]:,} -> {after.violators[after.k_target]:,}",
        },
        {
            "what": "global risk before -> after",
            "value": f"{before.risk.global_risk:.2%} -> {after.risk.global_risk:.2%}",
        },
        {
            "what": "lattice nodes evaluated",
            "value": f"{result.search.evaluated:,} of {result.search.nodes:,} ({result.search.seconds:.2f} s)",
        },
        {"what": "verdict after", "value": "pass" if after.passed else "FAIL"},
    ]
    return rows


@disclose_app.command("apply")
def disclose_apply(
    file: DataFile,
    spec_file: SpecFile,
    out: Annotated[Path, typer.Option("--out", help="where to write the anonymised CSV")],
    report: Annotated[Path | None, typer.Option("--report", help="also write the JSON report here")] = None,
    fmt: Format = "table",
) -> None:
    """Generalise and suppress until k, l and the risk ceiling are met with the least information loss."""
    from onthemove.share.disclose.microdata import apply
    from onthemove.share.disclose.spec import read_data

    _check_format(fmt)
    with user_errors():
        spec = _spec(spec_file)
        result = apply(read_data(file, spec), spec)
        out.parent.mkdir(parents=True, exist_ok=True)
        result.data.to_csv(out, index=False)
    body = result.to_dict()
    if report is not None:
        report.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    if fmt == "json":
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
    else:
        emit(_apply_rows(result), "table", title=f"disclose apply: {file.name} -> {out}")
    if not result.after.passed:
        for p in result.after.problems:
            errors.print(f"[red]still fails:[/red] {p}", highlight=False)
        raise typer.Exit(1)


def _dimension(text: str) -> list[str]:
    return [p.strip() for p in text.split(">") if p.strip()]


@disclose_app.command("table")
def disclose_table(
    file: Annotated[Path, typer.Argument(help="CSV of counts: dimension columns and a count column")],
    dims: Annotated[
        list[str],
        typer.Option("--dim", help="a dimension column; 'district>region' for one with parent columns (repeat)"),
    ],
    out: Annotated[Path | None, typer.Option("--out", help="where to write the suppressed table (CSV)")] = None,
    count: Annotated[str, typer.Option(help="the count column")] = "count",
    threshold: Annotated[
        int | None, typer.Option(help="counts below this are suppressed [default: suppression_threshold]")
    ] = None,
    margin: Annotated[
        float | None, typer.Option(help="narrowest interval left to an intruder for a small cell [default: threshold]")
    ] = None,
    fmt: Format = "table",
) -> None:
    """Small-cell suppression with complementary suppression against every margin, audited by LP."""
    import pandas as pd

    from onthemove.share.disclose.hierarchy import DisclosureError
    from onthemove.share.disclose.tables import suppress_table

    _check_format(fmt)
    limit = threshold if threshold is not None else int(state.settings["suppression_threshold"])
    with user_errors():
        if not file.is_file():
            raise DisclosureError(f"table file not found: {file}")
        try:
            frame = pd.read_csv(file, dtype=str, keep_default_na=False)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise DisclosureError(f"{file}: cannot read it as CSV: {exc}") from None
        if count in frame.columns:
            frame[count] = frame[count].replace("", None)
        try:
            result = suppress_table(frame, [_dimension(d) for d in dims], count, limit, margin)
        except DisclosureError as exc:
            raise DisclosureError(f"{file}: {exc}") from None
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            result.table.to_csv(out, index=False)
    body = result.to_dict()
    if fmt == "json":
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
    else:
        rows = [
            {"what": "cells", "value": f"{body['cells']:,}"},
            {"what": f"primary (below {limit})", "value": f"{result.primary:,}"},
            {"what": "secondary (complementary)", "value": f"{result.secondary:,}"},
            {
                "what": "total suppressed",
                "value": f"{result.suppressed_total:,.0f} of {result.suppressed_total + result.kept_total:,.0f}",
            },
            {"what": "margins published", "value": f"{result.margins_published:,}"},
            {"what": "narrowest interval of a small cell", "value": _narrowest(result)},
            {"what": "unprotectable small cells", "value": f"{len(result.unprotectable):,}"},
            {"what": "optimal", "value": "yes" if result.optimal else "no (time limit or fallback)"},
        ]
        emit(rows, "table", title=f"disclose table: {file.name}" + (f" -> {out}" if out else ""))
        if out is None:
            console.print("[dim]--out writes the table with the suppressed counts left empty[/dim]")
    if not result.protected or result.unprotectable:
        errors.print(
            f"[red]warning:[/red] {len(result.unprotectable)} small cell(s) can be worked out from the margins "
            "whatever this table hides (rows " + ", ".join(str(r + 1) for r in result.unprotectable[:10]) + ")",
            highlight=False,
        )
        raise typer.Exit(1)


def _narrowest(result: Any) -> str:
    widths = [a.width for a in result.audit if a.row not in result.unprotectable]
    if not widths:
        return "-"
    w = min(widths)
    return "unbounded" if w == float("inf") else f"{w:,.0f} (margin {result.margin:,.0f})"
