"""``onthemove iati``: check IATI 2.03 files against the official XSD (and codes against the codelists)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from onthemove.cli.main import app, fail, state
from onthemove.cli.output import console, emit, errors

iati_app = typer.Typer(help="IATI 2.03: validate activity and organisation files.", no_args_is_help=True)
app.add_typer(iati_app, name="iati")

FORMATS = ("table", "json")
SHOWN_PER_FILE = 20  # the table shows this many problems per file; json shows all


@iati_app.command("validate")
def iati_validate(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="IATI XML files (activities or organisations)")],
    schemas: Annotated[
        Path | None,
        typer.Option(
            help="folder with iati-activities-schema.xsd (setting iati_schemas; default ../shared/standards/iati)"
        ),
    ] = None,
    codelists: Annotated[
        Path | None, typer.Option(help="IATI codelists folder (default: codelists-2.03 beside the schemas)")
    ] = None,
    check_codes: Annotated[bool, typer.Option("--codes/--no-codes", help="also check codes against codelists")] = True,
    strict_codes: Annotated[bool, typer.Option(help="a code not on its codelist makes the file fail too")] = False,
    document: Annotated[
        str, typer.Option(help="auto (from the root element), activities, organisations or registry-record")
    ] = "auto",
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Validate files against the IATI 2.03 XSD. Exit code 1 when any file is invalid, 2 when no schemas."""
    from onthemove.share.iati.validate import SCHEMA_FILES, SchemasMissing, find_schemas, validate_file

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if document != "auto" and document not in SCHEMA_FILES:
        fail(f"--document must be auto or one of {', '.join(SCHEMA_FILES)}, not {document!r}")
    try:
        folder = find_schemas(schemas if schemas is not None else state.settings.get("iati_schemas", ""))
    except SchemasMissing as exc:
        fail(f"not validated: {exc}", code=2)
        return
    if codelists is not None and not codelists.is_dir():
        fail(f"the codelists folder {codelists} does not exist")
    verdicts = [
        validate_file(f, folder, document=document, codelists=codelists, check_codelists=check_codes) for f in files
    ]
    failed = [v for v in verdicts if v.valid is not True or (strict_codes and v.code_issues)]
    if fmt == "json":
        sys.stdout.write(json.dumps([v.to_dict() for v in verdicts], indent=2) + "\n")
    else:
        _table(verdicts, strict_codes)
        for note in sorted({n for v in verdicts for n in v.notes}):
            errors.print(f"[dim]{note}[/dim]", highlight=False)
        errors.print(f"schemas: {folder}", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


def _shown(path: str) -> str:
    """A path as the user would type it: relative to the working directory when it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


def _table(verdicts: list[Any], strict_codes: bool) -> None:
    rows = []
    for v in verdicts:
        status = "invalid" if strict_codes and v.valid and v.code_issues else v.status
        codes = len(v.code_issues) if v.codelists_checked else None
        rows.append(
            {
                "file": _shown(v.path),
                "document": v.document or "",
                "verdict": status,
                "errors": len(v.errors),
                "code issues": codes,
            }
        )
    emit(rows, "table", title="IATI 2.03 validation")
    for v in verdicts:
        listed = [*v.errors, *v.code_issues]
        if not listed:
            continue
        problems: list[dict[str, Any]] = [
            {"line": p.line, "element": p.element or "", "kind": p.source, "message": p.message}
            for p in listed[:SHOWN_PER_FILE]
        ]
        if len(listed) > SHOWN_PER_FILE:
            more = f"... and {len(listed) - SHOWN_PER_FILE} more (--format json shows all)"
            problems.append({"line": None, "element": "", "kind": "", "message": more})
        emit(problems, "table", title=_shown(v.path))
    if verdicts and not any(v.errors or v.code_issues for v in verdicts):
        console.print("no problems found")


@iati_app.command("example")
def iati_example(
    out: Annotated[Path, typer.Argument(metavar="OUT.xml", help="where to write the example activity file")],
    schemas: Annotated[Path | None, typer.Option(help="folder with iati-activities-schema.xsd")] = None,
) -> None:
    """Write a worked example (two activities with results) and validate it when the schemas are there."""
    from onthemove.share.iati.example import GENERATED, example_activities
    from onthemove.share.iati.validate import validate_file
    from onthemove.share.iati.write import write_activities

    size = write_activities(example_activities(), out, generated=GENERATED)
    verdict = validate_file(out, schemas if schemas is not None else state.settings.get("iati_schemas", ""))
    console.print(f"wrote {out} ({size:,} bytes): {verdict.status}", highlight=False, soft_wrap=True)
    if verdict.reason:
        errors.print(verdict.reason, highlight=False, soft_wrap=True)
    for p in verdict.errors:
        errors.print(f"line {p.line}: {p.message}", highlight=False, soft_wrap=True)
    if verdict.valid is False:
        raise typer.Exit(1)
