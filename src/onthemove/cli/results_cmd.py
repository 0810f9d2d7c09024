"""``onthemove results``: the results framework, its indicators' values, progress reports and IATI export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from onthemove.cli.main import app, console, emit, fail, state, steps, user_errors

if TYPE_CHECKING:
    from onthemove.account.framework import Framework

results_app = typer.Typer(
    help="The results framework (IOM Strategic Plan 2024-2028 by default): indicators, progress reports, IATI.",
    no_args_is_help=True,
)
app.add_typer(results_app, name="results")

Frameworks = Annotated[
    list[Path] | None,
    typer.Option(
        "--framework", help="a framework file extending the default (repeat; default: setting results_framework)"
    ),
]
Period = Annotated[str, typer.Option("--period", help="YYYY, YYYY-Qn, YYYY-MM or FROM..TO")]
Place = Annotated[str | None, typer.Option("--place", help="P-code (default: the whole programme)")]
Part = Annotated[str | None, typer.Option("--part", help="a node of the framework, e.g. O1 or E4 (default: all)")]


def framework_files(files: list[Path] | None) -> list[Path]:
    if files:
        return files
    configured = str(state.settings.get("results_framework") or "")
    return [Path(p.strip()) for p in configured.split(",") if p.strip()]


def load_framework(files: list[Path] | None) -> Framework:
    from onthemove.account.framework import load

    return load(framework_files(files))


@results_app.command("framework")
def results_framework(
    files: Frameworks = None,
    fmt: Annotated[str, typer.Option("--format", help="tree, csv or json")] = "tree",
) -> None:
    """The framework: objectives, enablers, cross-cutting priorities, the results chain and the indicators."""
    if fmt not in ("tree", "csv", "json"):
        fail(f"--format must be tree, csv or json, not {fmt!r}")
    with user_errors():
        fw = load_framework(files)
    rows = [
        {
            "id": n.id,
            "kind": n.kind,
            "parent": n.parent or "",
            "title": n.title,
            "sdg": " ".join(n.sdg),
            "indicators": " ".join(i.code for i in fw.indicators.values() if i.node == n.id),
        }
        for n in fw.nodes.values()
    ]
    if fmt != "tree":
        emit(rows, fmt)
        return
    from rich.tree import Tree

    counts = fw.summary()
    head = ", ".join(f"{v} {k.replace('_', ' ')}{'s' if v != 1 else ''}" for k, v in counts.items())
    console.print(f"[bold]{fw.title}[/bold]: {head}")
    tree = Tree(", ".join(fw.sources))
    branches: dict[str | None, Any] = {None: tree}
    for n in fw.nodes.values():
        inds = [i.code for i in fw.indicators.values() if i.node == n.id]
        label = f"[bold]{n.id}[/bold] {n.kind.replace('_', ' ')}: {n.title}"
        if inds:
            label += f" [dim]({', '.join(inds)})[/dim]"
        branches[n.id] = branches[n.parent].add(label)
    console.print(tree)


@results_app.command("import")
def results_import(
    file: Annotated[Path, typer.Argument(help="CSV/XLSX of indicator values (HXL-tagged or with --mapping)")],
    files: Frameworks = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping file (column -> field)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Load reported baselines, targets and actuals; refused as a whole if a row names an unknown indicator."""
    from onthemove.account.imports import ImportRefused, import_values

    with user_errors():
        fw = load_framework(files)
        try:
            with steps(f"loading {file.name}", quiet=as_json):
                done = import_values(state.store(), fw, file, mapping=mapping, user=state.settings["user"] or None)
        except ImportRefused as refused:
            if as_json:
                sys.stdout.write(json.dumps({"status": "refused", "problems": refused.problems}, indent=2) + "\n")
            else:
                emit(refused.problems[:20], title="rows that cannot be used")
            fail(str(refused), code=2)
            return
    r = done.report
    if as_json:
        sys.stdout.write(json.dumps({**r.to_dict(), "by_indicator": done.by_indicator}, indent=2, default=str) + "\n")
        return
    console.print(
        f"[bold]{r.status}[/bold] batch {r.batch_id}: {r.rows_read:,} rows read, {r.rows_loaded:,} loaded, "
        f"{r.rows_rejected:,} rejected"
    )
    if r.rejection_summary:
        emit(r.rejection_summary, title="rejections by reason")
    if done.by_indicator:
        emit([{"indicator": k, "values": v} for k, v in sorted(done.by_indicator.items())], title="values loaded")


@results_app.command("report")
def results_report(
    period: Period,
    place: Place = None,
    part: Part = None,
    files: Frameworks = None,
    fmt: Annotated[str, typer.Option("--format", help="html, xlsx, json or table")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="file to write (html and xlsx need one)")] = None,
) -> None:
    """A progress report: baseline, target, actual, status and reason of every indicator, with disaggregations."""
    from onthemove.account import report as rep

    if fmt not in ("html", "xlsx", "json", "table"):
        fail(f"--format must be html, xlsx, json or table, not {fmt!r}")
    if fmt in ("html", "xlsx") and out is None:
        fail(f"--format {fmt} needs --out FILE")
    with user_errors():
        fw = load_framework(files)
        with steps("computing indicators", quiet=fmt == "json" and out is None) as step:
            built = rep.build(state.store(), fw, period, place, part, progress=lambda _d, _t, msg: step(msg))
    if fmt == "html":
        assert out is not None
        out.write_text(rep.to_html(built), encoding="utf-8")
    elif fmt == "xlsx":
        assert out is not None
        rep.to_xlsx(built, out)
    elif fmt == "json":
        text = json.dumps(built.as_dict(), indent=2, default=str) + "\n"
        if out is not None:
            out.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
            return
    if fmt == "table":
        emit(
            [
                {
                    "indicator": line.evaluation.indicator.code,
                    "baseline": line.evaluation.baseline.value if line.evaluation.baseline else None,
                    "target": line.evaluation.target.value if line.evaluation.target else None,
                    "actual": line.evaluation.actual.value if line.evaluation.actual else None,
                    "status": line.evaluation.status,
                    "reason": line.evaluation.reason,
                }
                for line in built.lines()
            ],
            title=f"{fw.title}: {built.period.label}, {built.place_name}",
        )
        return
    counts = ", ".join(f"{n} {s}" for s, n in built.counts().items() if n)
    console.print(f"wrote {out} ({len(built.lines())} indicators: {counts})")


@results_app.command("export-iati")
def results_export_iati(
    out: Annotated[Path, typer.Argument(help="the IATI activities XML file to write")],
    periods: Annotated[list[str], typer.Option("--period", help="a reporting period (repeat): YYYY, YYYY-Qn, ...")],
    files: Frameworks = None,
    publisher_ref: Annotated[str, typer.Option(help="the publisher's IATI organisation identifier")] = "XM-DAC-47066",
    publisher_name: Annotated[
        str, typer.Option(help="the publisher's name")
    ] = "International Organization for Migration",
    schemas: Annotated[
        str | None, typer.Option(help="folder with the IATI 2.03 XSD (default: setting iati_schemas)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Publish the framework's projects as IATI 2.03 activities with their results, and validate the file."""
    from onthemove.account.iati_export import activities
    from onthemove.share.iati import codes, model
    from onthemove.share.iati.validate import validate_file
    from onthemove.share.iati.write import write_activities

    with user_errors():
        fw = load_framework(files)
        publisher = model.Organisation(publisher_ref, publisher_name, codes.OrganisationType.MULTILATERAL)
        threshold = int(state.settings.get("suppression_threshold") or 10)
        with steps("building activities", quiet=as_json):
            export = activities(state.store(), fw, periods, publisher, threshold=threshold)
        size = write_activities(export.activities, out)
        verdict = validate_file(out, schemas if schemas is not None else state.settings.get("iati_schemas"))
    summary = {
        "file": str(out),
        "bytes": size,
        "activities": len(export.activities),
        "results": sum(len(a.results) for a in export.activities),
        "indicators": sum(len(r.indicators) for a in export.activities for r in a.results),
        "suppressed": export.suppressed,
        "validation": verdict.to_dict(),
        "notes": export.notes,
    }
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2, default=str) + "\n")
    else:
        console.print(
            f"wrote {out}: {summary['activities']} activities, {summary['results']} results, "
            f"{summary['indicators']} indicators; {export.suppressed} disaggregated values under the suppression "
            f"threshold ({threshold}) left out"
        )
        console.print(
            f"IATI 2.03 schema: [bold]{verdict.status}[/bold]" + (f" ({verdict.reason})" if verdict.reason else "")
        )
        for e in verdict.errors[:10]:
            console.print(f"  {e}")
        for note in export.notes:
            console.print(f"  note: {note}")
    if verdict.status == "invalid":
        raise typer.Exit(1)
