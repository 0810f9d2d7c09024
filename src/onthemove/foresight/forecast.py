"""Forecasts of monthly counts per admin area, 1-12 months after an origin month, with prediction intervals.

``forecast`` is what the CLI prints: one model's (by default the ensemble's) reconciled forecast at one admin
level. ``fit_predict`` is the engine under it and under the rolling-origin backtest: given a panel, driver
features and the hierarchy (each may run past the origin; everything is cut at the origin here), it returns
every model's forecast for every series at every level.

Only data up to the origin month is used: the panel and the drivers are cut at its last day, driver anomalies
are measured against the climatology of those years only, and LightGBM sees drivers only as of the origin or
earlier (see ``models``). Changing or adding records after the origin leaves the forecast bit for bit the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from onthemove.foresight import models as m
from onthemove.foresight.reconcile import reconcile as reconcile_forecasts
from onthemove.foresight.series import (
    KINDS,
    LEVELS,
    Hierarchy,
    SeriesError,
    driver_features,
    is_remainder,
    monthly_panel,
    parse_month,
    recompute_anomalies,
)
from onthemove.foresight.series import hierarchy as build_hierarchy
from onthemove.store.base import Store

if TYPE_CHECKING:
    import pandas as pd

MAX_HORIZON = 12
MIN_HISTORY = 12  # months of data up to the origin (for the longest series, the country's)
ENSEMBLE = "ensemble"
CHOICES = (*m.MODELS, ENSEMBLE)
OUTPUT = ["unique_id", "level", "ds", "model", "mean", "lo", "hi"]


class ForecastError(ValueError):
    """A forecast that cannot be made as asked; the message says why (shown to CLI users as is)."""


@dataclass
class Inputs:
    """What a forecast at one origin is made from, all cut at the origin."""

    panel: pd.DataFrame
    drivers: pd.DataFrame
    hierarchy: Hierarchy


def inputs(store: Store, kind: str, origin: str | dt.date) -> Inputs:
    """The panel, driver features and hierarchy known at ``origin`` (read from the store once)."""
    try:
        panel = monthly_panel(store, kind, origin)
    except SeriesError as exc:
        raise ForecastError(str(exc)) from exc
    tree = build_hierarchy(store, panel)
    return Inputs(panel, driver_features(store, origin, tree.ids), tree)


def data_months(store: Store, kind: str) -> tuple[dt.date, dt.date] | None:
    """The first and last month with records of ``kind`` (None when there are none)."""
    if kind not in KINDS:
        raise ForecastError(f"cannot forecast {kind!r}; expected one of {', '.join(KINDS)}")
    row = store.fetch_one(f"SELECT min(date), max(date) FROM {kind}")
    if not row or row[0] is None:
        return None
    return parse_month(row[0]), parse_month(row[1])


def _timestamp(origin: str | dt.date | pd.Timestamp) -> pd.Timestamp:
    import pandas as pd

    if isinstance(origin, pd.Timestamp):
        return origin.to_period("M").to_timestamp()
    return pd.Timestamp(parse_month(origin))


def _check_request(horizon: int, interval: float) -> None:
    if not 1 <= horizon <= MAX_HORIZON:
        raise ForecastError(f"the horizon is 1 to {MAX_HORIZON} months (not {horizon})")
    if not 50 <= interval < 100:
        raise ForecastError(f"the interval is a coverage in percent, from 50 to 99 (not {interval:g})")


def _plan(models: Sequence[str] | None, members: Sequence[str]) -> tuple[list[str], bool]:
    """The models to fit, and whether the ensemble is wanted."""
    wanted = list(CHOICES) if models is None else list(dict.fromkeys(models))
    unknown = [x for x in wanted if x not in CHOICES]
    if unknown:
        raise ForecastError(f"unknown model {unknown[0]!r}; expected one of {', '.join(CHOICES)}")
    bad = [x for x in members if x not in m.MODELS]
    if bad:
        raise ForecastError(f"unknown ensemble member {bad[0]!r}; expected any of {', '.join(m.MODELS)}")
    with_ensemble = ENSEMBLE in wanted
    fit = [x for x in m.MODELS if x in wanted or (with_ensemble and x in members)]
    return fit, with_ensemble


def fit_predict(
    panel: pd.DataFrame,
    drivers: pd.DataFrame | None,
    hierarchy: Hierarchy,
    origin: str | dt.date | pd.Timestamp,
    horizon: int,
    interval: float = 80,
    models: Sequence[str] | None = None,
    *,
    members: Sequence[str] = m.MEMBERS,
    reconciled: Sequence[str] = (ENSEMBLE,),
    method: str = "mint_shrink",
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Every requested model's forecast for every series, ``horizon`` months after ``origin``.

    Returns a long DataFrame ``unique_id, level, ds, model, mean, lo, hi`` (``ds``: first day of the forecast
    month). ``models`` picks from ``models.MODELS`` and ``"ensemble"`` (default: all of them). Models named in
    ``reconciled`` (default: the ensemble) are made coherent over ``hierarchy`` with ``method``; their forecasts
    before reconciliation are kept as ``<model>_base``, and ``result.attrs["reconciliation"]`` names the method
    each got (``mint_shrink``, or ``ols``/``bottom_up`` where that could not be used). Other models' forecasts are
    their own, not coherent. When the ensemble is asked for, its members' own forecasts come with it.

    ``panel``, ``drivers`` and ``hierarchy`` may run past the origin (built once for a whole backtest): the panel
    and drivers are cut at the origin, driver anomalies recomputed from data up to it, and the hierarchy
    restricted to the series that have data by then. The panel must reach the origin.
    """
    import pandas as pd

    say = progress or (lambda _msg: None)
    _check_request(horizon, interval)
    fit, with_ensemble = _plan(models, members)
    stamp = _timestamp(origin)
    if panel.empty or panel["ds"].max() < stamp:
        last = "no data" if panel.empty else f"data up to {panel['ds'].max():%Y-%m}"
        raise ForecastError(f"the panel has {last}; it does not reach the origin {stamp:%Y-%m}")
    cut = panel[panel["ds"] <= stamp]
    if cut.empty:
        raise ForecastError(f"no data up to the origin {stamp:%Y-%m}")
    history = int(cut.groupby("unique_id").size().max())
    if history < MIN_HISTORY:
        raise ForecastError(
            f"too little history: {history} month{'s' if history != 1 else ''} of data up to {stamp:%Y-%m}, "
            f"at least {MIN_HISTORY} are needed"
        )
    cut = cut.sort_values(["unique_id", "ds"], ignore_index=True)
    tree = hierarchy.restrict(cut["unique_id"].unique())
    missing = set(cut["unique_id"]) - set(tree.ids)
    if missing:
        raise ForecastError(f"series missing from the hierarchy: {', '.join(sorted(missing)[:5])}")
    known = recompute_anomalies(drivers, stamp) if drivers is not None and not drivers.empty else None
    parts: list[pd.DataFrame] = []
    insample = None
    base = [x for x in fit if x in m.BASELINES]
    if base:
        say("baselines")
        parts.append(m.baselines(cut, horizon, interval, names=base))
    stats = [x for x in fit if x in m.STATISTICAL]
    if stats:
        say(f"statistical models ({', '.join(stats)}) for {cut['unique_id'].nunique()} series")
        frame, fitted = m.statistical(cut, horizon, interval, names=stats, fitted=True)
        parts.append(frame)
        if fitted is not None and not fitted.empty:
            # one-step in-sample errors for MinTrace: the statistical models' median fit, or the previous
            # month where a series was too short to fit
            central = fitted.groupby(["unique_id", "ds"], as_index=False)["fitted"].median()
            insample = cut[["unique_id", "ds", "y"]].merge(central, on=["unique_id", "ds"], how="left")
            insample["fitted"] = insample["fitted"].fillna(insample.groupby("unique_id")["y"].shift(1))
    if "lgbm" in fit:
        parts.append(m.lightgbm(cut, known, horizon, interval, progress=say))
    result = pd.concat(parts, ignore_index=True)
    if with_ensemble:
        result = pd.concat([result, m.ensemble(result, members=members, name=ENSEMBLE)], ignore_index=True)
    methods: dict[str, str] = {}
    for name in reconciled:
        rows = result["model"] == name
        if not rows.any():
            continue
        say(f"reconciling {name} over the hierarchy ({method})")
        coherent, methods[name] = reconcile_forecasts(result.loc[rows], tree, method=method, insample=insample)
        result = pd.concat(
            [result.loc[~rows], result.loc[rows].assign(model=f"{name}_base"), coherent], ignore_index=True
        )
    if models is not None and ENSEMBLE not in models:
        keep = set(models) | {f"{x}_base" for x in reconciled if x in models}
        result = result[result["model"].isin(keep)]
    result = result.assign(level=result["unique_id"].map(tree.level))[OUTPUT]
    result = result.sort_values(["model", "unique_id", "ds"], ignore_index=True)
    result.attrs["reconciliation"] = methods
    return result


def forecast(
    store: Store,
    kind: str = "movements",
    level: str = "adm1",
    origin: str | dt.date | None = None,
    horizon: int = 3,
    interval: float = 80,
    models: Sequence[str] | None = None,
    model: str = ENSEMBLE,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """The forecast per area at ``level``: ``place, period, mean, lo, hi`` (``period`` YYYY-MM).

    ``origin`` is the last month of data used (default: the latest month with data); the forecast covers the
    ``horizon`` months after it, with a central ``interval`` % prediction interval. ``model`` is the forecast
    shown (default the ensemble of ``models``, by default ``models.MEMBERS``; or one of ``models.MODELS``),
    reconciled over the admin hierarchy so that districts add up to regions and regions to the country.
    Areas at ``level`` are the P-codes with data; the remainder leaves (``<P-code>/unassigned``) are not shown.
    """
    say = progress or (lambda _msg: None)
    if level not in LEVELS:
        raise ForecastError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    _check_request(horizon, interval)
    if model not in CHOICES:
        raise ForecastError(f"unknown model {model!r}; expected one of {', '.join(CHOICES)}")
    span = data_months(store, kind)
    if span is None:
        raise ForecastError(f"the store holds no {kind}")
    first, last = span
    start = parse_origin(origin) if origin is not None else last
    if start > last:
        raise ForecastError(f"origin {start:%Y-%m} is after the last month of {kind} data ({last:%Y-%m})")
    if start < first:
        raise ForecastError(f"origin {start:%Y-%m} is before the first month of {kind} data ({first:%Y-%m})")
    say(f"reading {kind} up to {start:%Y-%m}")
    data = inputs(store, kind, start)
    members = tuple(models) if models is not None else m.MEMBERS
    wanted = [ENSEMBLE] if model == ENSEMBLE else [model]
    result = fit_predict(
        data.panel,
        data.drivers,
        data.hierarchy,
        start,
        horizon,
        interval,
        models=wanted,
        members=members,
        reconciled=wanted,
        progress=say,
    )
    chosen = result[(result["model"] == model) & (result["level"] == level)]
    chosen = chosen[~chosen["unique_id"].map(is_remainder)]
    if chosen.empty:
        raise ForecastError(f"no {kind} series at {level} up to {start:%Y-%m}")
    out = chosen.rename(columns={"unique_id": "place"}).assign(period=chosen["ds"].dt.strftime("%Y-%m"))
    out = out[["place", "period", "mean", "lo", "hi"]].sort_values(["place", "period"], ignore_index=True)
    for c in ("mean", "lo", "hi"):
        out[c] = out[c].astype("float64")
    return out


def parse_origin(origin: str | dt.date) -> dt.date:
    try:
        return parse_month(origin)
    except SeriesError as exc:
        raise ForecastError(str(exc)) from exc


__all__ = [
    "CHOICES",
    "ENSEMBLE",
    "MAX_HORIZON",
    "MIN_HISTORY",
    "ForecastError",
    "Inputs",
    "data_months",
    "fit_predict",
    "forecast",
    "inputs",
]
