"""``onthemove forecast``, ``onthemove backtest`` and ``onthemove triggers``: the foresight commands."""

from __future__ import annotations

from typing import Annotated

import typer

from onthemove.cli.main import app, fail, state, steps, user_errors
from onthemove.cli.output import emit

FORECAST_FORMATS = ("csv", "table", "json")
FORECAST_MODELS = "naive, snaive, climatology, expanding_mean, ets, arima, theta, lgbm"


@app.command()
def forecast(
    kind: Annotated[
        str, typer.Option(help="movements (arrivals in the area, summed) or displacement (people present, stocks)")
    ] = "movements",
    level: Annotated[str, typer.Option(help="admin level of the areas: adm0, adm1 or adm2")] = "adm1",
    origin: Annotated[
        str | None, typer.Option(help="last month of data used, YYYY-MM [default: the latest month with data]")
    ] = None,
    horizon: Annotated[int, typer.Option(help="months ahead, 1 to 12")] = 3,
    interval: Annotated[int, typer.Option(help="central prediction interval, in percent")] = 80,
    fmt: Annotated[str, typer.Option("--format", help="csv, table or json")] = "csv",
    model: Annotated[
        str | None, typer.Option("--model", help=f"one model instead of the ensemble: {FORECAST_MODELS}")
    ] = None,
) -> None:
    """Forecast monthly counts per area from data up to the origin: place, period, mean, lo, hi.

    The median of ETS, ARIMA, Theta and LightGBM (with the store's drivers), reconciled: districts add up to regions.
    """
    from onthemove.foresight.forecast import forecast as make_forecast

    if fmt not in FORECAST_FORMATS:
        fail(f"--format must be one of {', '.join(FORECAST_FORMATS)}")
    with user_errors():
        store = state.store()
        with steps(f"forecasting {kind} at {level}") as step:
            table = make_forecast(
                store,
                kind=kind,
                level=level,
                origin=origin,
                horizon=horizon,
                interval=interval,
                model=model or "ensemble",
                progress=step,
            )
    rows = [
        {"place": r["place"], "period": r["period"], **{c: round(float(r[c]), 1) for c in ("mean", "lo", "hi")}}
        for r in table.to_dict("records")
    ]
    emit(rows, fmt, title=f"{kind} forecast, {level}, {interval}% intervals ({model or 'ensemble'})")
