"""``onthemove backtest``: rolling-origin accuracy of every model against the baselines, as a table or a report."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from onthemove.cli.main import app, fail, state, user_errors
from onthemove.cli.output import console, emit, errors

BACKTEST_FORMATS = ("table", "csv", "json")
COLUMNS = ("level", "h", "model", "mase", "mase_median", "smape", "coverage", "width", "skill", "best_baseline")


@contextmanager
def _progress(quiet: bool = False) -> Iterator[Any]:
    """A bar over the origins on stderr, with the step at hand (each origin fits every model)."""
    if quiet:
        yield lambda _done, _total, _msg: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as progress:
        task = progress.add_task("backtest", total=None)

        def update(done: int, total: int, message: str) -> None:
            progress.update(task, completed=done, total=total, description=f"backtest: {message}")

        yield update


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


@app.command()
def backtest(
    kind: Annotated[
        str, typer.Option(help="movements (arrivals in the area, summed) or displacement (people present, stocks)")
    ] = "movements",
    start: Annotated[str, typer.Option("--from", help="first origin (last month of data used), YYYY-MM")] = "2020-01",
    end: Annotated[str, typer.Option("--to", help="last origin, YYYY-MM; plus the horizon it must be in the data")] = (
        "2021-09"
    ),
    horizon: Annotated[int, typer.Option(help="months ahead, 1 to 12")] = 3,
    every: Annotated[int, typer.Option(help="months between origins")] = 1,
    levels: Annotated[str, typer.Option(help="admin levels scored, comma-separated")] = "adm0,adm1,adm2",
    models: Annotated[
        str | None,
        typer.Option(
            help="models to run besides the baselines, comma-separated (ets, arima, theta, lgbm, ensemble) "
            "[default: all]"
        ),
    ] = None,
    interval: Annotated[int, typer.Option(help="central prediction interval, in percent")] = 80,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    report: Annotated[Path | None, typer.Option("--html", help="also write a self-contained HTML report here")] = None,
) -> None:
    """Rolling-origin backtest: forecast from every origin, score MASE, sMAPE and interval coverage.

    Per model, admin level and months ahead, with each model's skill (MASE over the best baseline's; below 1
    beats every baseline). The ensemble's shortfalls are listed, not hidden.
    """
    from onthemove.foresight.backtest import report_html, run, summary_rows

    if fmt not in BACKTEST_FORMATS:
        fail(f"--format must be one of {', '.join(BACKTEST_FORMATS)}")
    with user_errors():
        store = state.store()
        with _progress() as progress:
            result = run(
                store,
                kind=kind,
                start=start,
                end=end,
                horizon=horizon,
                every=every,
                interval=interval,
                models=_split(models),
                levels=_split(levels) or [],
                progress=progress,
            )
    rows = [{c: r[c] for c in COLUMNS} for r in summary_rows(result.summary, digits=3)]
    origins = result.meta["origins"]
    title = (
        f"{kind} backtest: {len(origins)} origins {origins[0]} to {origins[-1]}, "
        f"1-{horizon} months ahead, {interval}% intervals"
    )
    if fmt == "table":
        for level in result.meta["levels"]:
            emit([r for r in rows if r["level"] == level], "table", title=f"{title}, {level}")
        short = result.shortfalls() if any(r["model"] == "ensemble" for r in rows) else []
        for s in short:
            console.print(
                f"the ensemble does not beat {s['best_baseline']} at {s['level']}, {s['h']} months ahead "
                f"(skill {s['skill']})",
                highlight=False,
            )
    else:
        emit(rows, fmt, title=title)
    if report is not None:
        written = report_html(result, report)
        errors.print(f"report written to {written}", highlight=False, soft_wrap=True)
