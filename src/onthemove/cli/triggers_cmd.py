"""``onthemove triggers``: early-warning triggers from a YAML file, scored on history and tested now."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from onthemove.cli.main import app, emit, fail, state, steps, user_errors
from onthemove.cli.output import errors

if TYPE_CHECKING:
    from onthemove.foresight.triggers import Evaluation, Forecaster, Trigger

triggers_app = typer.Typer(
    help="Early-warning triggers: thresholds on drivers and forecasts, scored on history (docs/triggers.md).",
    no_args_is_help=True,
)
app.add_typer(triggers_app, name="triggers")

FORMATS = ("table", "csv", "json")
File = Annotated[Path, typer.Argument(help="YAML triggers file (docs/triggers.md)")]
Names = Annotated[list[str] | None, typer.Option("--trigger", help="only this trigger (repeat); default all")]
Format = Annotated[str, typer.Option("--format", help="table, csv or json")]
SCORES = ("pod", "far", "pofd", "csi", "hk", "bias", "base_rate")


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def _load(file: Path, names: list[str] | None) -> list[Trigger]:
    from onthemove.foresight.triggers import load_triggers, select

    return select(load_triggers(file), names)


def _forecaster(triggers: list[Trigger]) -> Forecaster | None:
    from onthemove.foresight.triggers import store_forecaster

    return store_forecaster(state.store()) if any(t.uses_forecasts for t in triggers) else None


@triggers_app.command("evaluate")
def triggers_evaluate(
    file: File,
    start: Annotated[
        str | None,
        typer.Option("--from", help="first trigger month, YYYY-MM (default: the first month of the event's data)"),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="last trigger month, YYYY-MM (default: the last whose lead window the data cover)"),
    ] = None,
    every: Annotated[int, typer.Option(help="score every n-th month only (forecast triggers are slow)")] = 1,
    names: Names = None,
    by_area: Annotated[bool, typer.Option("--by-area", help="also the table and scores of each area")] = False,
    fmt: Format = "table",
) -> None:
    """Score triggers on history: hits, false alarms, misses, correct negatives, POD, FAR, POFD, CSI, HK, bias."""
    from onthemove.foresight.triggers import evaluate

    _check_format(fmt)
    with user_errors():
        triggers = _load(file, names)
        with steps("evaluating triggers", quiet=fmt != "table") as step:
            results = evaluate(
                state.store(),
                triggers,
                start=start,
                end=end,
                every=every,
                forecaster=_forecaster(triggers),
                progress=step,
            )
    if fmt == "json":
        emit([r.to_dict(by_area=by_area) for r in results], "json")
        return
    if fmt == "csv":
        emit([row for r in results for row in _csv_rows(r, by_area)], "csv")
        for r in results:
            for note in r.notes:
                errors.print(f"{r.trigger}: {note}", highlight=False, style="dim")
        return
    for r in results:
        _print_table(r, by_area)


def _csv_rows(r: Evaluation, by_area: bool) -> list[dict[str, Any]]:
    head = {"trigger": r.trigger, "area": "", "name": "", "from": r.start, "to": r.end}
    rows = [{**head, **r.table.to_dict(), "undetermined": r.undetermined, "censored": r.censored}]
    if by_area:
        for area, table in r.by_area.items():
            cases = r.cases[r.cases["area"] == area]
            rows.append(
                {
                    **head,
                    "area": area,
                    "name": r.area_names.get(area, ""),
                    **table.to_dict(),
                    "undetermined": int((cases["fired"].isna() & cases["event"].notna()).sum()),
                    "censored": int(cases["event"].isna().sum()),
                }
            )
    return rows


def _print_table(r: Evaluation, by_area: bool) -> None:
    t = r.table
    a, b, c, d = t.hits, t.false_alarms, t.misses, t.correct_negatives
    every = f", every {r.every} months" if r.every > 1 else ""
    emit(
        [
            {"": "trigger fired", "event": a, "no event": b, "total": a + b},
            {"": "did not fire", "event": c, "no event": d, "total": c + d},
            {"": "total", "event": a + c, "no event": b + d, "total": t.n},
        ],
        "table",
        title=f"{r.trigger}: {r.start} to {r.end}{every}, {t.n:,} cases (area x month)",
    )
    emit([{k: v for k, v in t.to_dict().items() if k in SCORES}], "table", title=f"{r.trigger}: scores")
    if by_area:
        rows = []
        for area, table in r.by_area.items():
            scores = table.to_dict()
            rows.append(
                {
                    "area": area,
                    "name": r.area_names.get(area, "")[:16],
                    "a": table.hits,
                    "b": table.false_alarms,
                    "c": table.misses,
                    "d": table.correct_negatives,
                    **{k.upper() if k != "bias" else k: scores[k] for k in SCORES[:-1]},
                }
            )
        emit(rows, "table", title=f"{r.trigger} by area: a hits, b false alarms, c misses, d correct negatives")
    for note in r.notes:
        errors.print(f"{r.trigger}: {note}", highlight=False, style="dim")


@triggers_app.command("status")
def triggers_status(
    file: File,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="month to test, YYYY-MM (default: the latest month with each trigger's data)"),
    ] = None,
    names: Names = None,
    firing: Annotated[bool, typer.Option("--firing", help="only the areas where a trigger fires")] = False,
    fmt: Format = "table",
) -> None:
    """Which triggers fire now (or in --as-of), area by area, with the figures behind each decision."""
    from onthemove.foresight.triggers import explain_text, status

    _check_format(fmt)
    with user_errors():
        triggers = _load(file, names)
        found = status(state.store(), triggers, as_of=as_of, forecaster=_forecaster(triggers))
    shown = [s for s in found if s.fires] if firing else found
    if fmt == "json":
        emit([s.to_dict() for s in shown], "json")
        return
    verdict = {True: "yes", False: "no", None: "undetermined"}
    rows = [
        {
            "trigger": s.trigger,
            "area": s.area,
            "name": s.name,
            "month": s.month,
            "fires": verdict[s.fires],
            "why": explain_text(s.evidence),
        }
        for s in shown
    ]
    emit(rows, fmt, title="trigger status")
    if fmt == "table":
        for t in triggers:
            mine = [s for s in found if s.trigger == t.name]
            on = [s.area for s in mine if s.fires]
            month = mine[0].month if mine else ""
            where = f": {', '.join(on)}" if on else ""
            errors.print(f"{t.name} fires in {len(on)} of {len(mine)} areas in {month}{where}", highlight=False)
