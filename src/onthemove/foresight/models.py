"""The forecasting models: baselines, statistical models per series, LightGBM across all series, an ensemble.

Every function takes a panel already cut at the origin (``unique_id, ds, y, level``; every series ends at the
origin month) and returns one long DataFrame ``unique_id, ds, model, mean, lo, hi`` with ``horizon`` months
after the origin per series. Counts are never negative: every forecast and bound is clipped at 0.

Scale. Monthly displacement counts are skewed and bursty (a district goes from 200 to 40,000 arrivals in a
drought), so the statistical models and LightGBM work on ``log1p(y)`` and their forecasts are transformed
back with ``expm1``: intervals become multiplicative (wide for large counts, never below zero) and the point
forecast is the back-transformed centre, a median-like forecast rather than the arithmetic mean. On the
Somalia PRMN series (origins 2019-06 to 2020-12, three months ahead) this cut the mean absolute error of ETS,
ARIMA and Theta at district level by about 40% against fitting the raw counts, with 80% intervals covering
80-90% of the outcomes. A model that runs away on the log scale is capped at ``CAP`` times the largest month
the series has seen.

Intervals, per family (``interval`` is the central coverage in percent):

* baselines (naive, seasonal naive, climatology, expanding mean): each rule uses only the past, so running it
  from every earlier month of a series gives genuine out-of-sample errors. The interval is the rule's forecast
  moved by the empirical quantiles of those errors (on the log1p scale, per series and horizon; series with
  fewer than ``MIN_ERRORS`` errors borrow the pooled errors of all series). That is split-conformal
  prediction with the series' own history as the calibration set.
* statistical models (AutoETS, AutoARIMA, AutoTheta from statsforecast): the models' own intervals (normal on
  the log1p scale).
* LightGBM (mlforecast, one global model per horizon): split-conformal. The model for horizon k is first
  trained without the last ``CALIBRATION_MONTHS`` months, its errors on those months (all series pooled, on
  the log1p scale, so they compare across areas of any size) give the quantiles, then it is retrained on
  everything for the forecast. Pooling gives hundreds of calibration errors where per-series conformal from a
  few windows gives two or three.
* ensemble: the median of the members' point forecasts, and the median of their lower and of their upper
  bounds (quantile averaging, "Vincentisation"). It costs no extra fit, and because every member satisfies
  lo <= mean <= hi the medians do too. A conformal interval for the ensemble itself would need every member
  refitted per calibration window (the statistical models dominate the run time), which a rolling-origin
  backtest would then pay at every origin; the backtest measures the coverage this gives instead.

Two baselines are members too (climatology and the expanding mean): on the Somalia backtest they lowered the
ensemble's MASE at every level and horizon (skill 0.877 -> 0.854 for regions one month ahead, 0.804 -> 0.801
for districts, 1.131 -> 1.112 for the country) and brought the country's coverage nearer 80%; the mean instead
of the median, or fewer members, did worse below the country (bench/forecast_accuracy.py, docs/adr/0007).

The median (not the mean) combines the members because the members disagree most in the bursts, where one of
them (usually LightGBM or ARIMA) overshoots; the median is robust to one wild member.

Drivers reach LightGBM only as values known at the origin. The model for horizon k sees, for a target month t,
the series' own lags k, k+1, k+2, k+5, k+11 (and 12 when k <= 12), rolling means of lag k, the calendar month
of t and each driver feature as it was in month t-k: at forecast time that is the origin month or earlier
(direct multi-horizon forecasting; no driver is ever projected forward).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

SEASON = 12
BASELINES = ("naive", "snaive", "climatology", "expanding_mean")
STATISTICAL = ("ets", "arima", "theta")
MACHINE_LEARNING = ("lgbm",)
MEMBERS = ("ets", "arima", "theta", "lgbm", "climatology", "expanding_mean")  # the ensemble's default members
MODELS = (*BASELINES, *STATISTICAL, *MACHINE_LEARNING)
COLUMNS = ["unique_id", "ds", "model", "mean", "lo", "hi"]
MIN_ERRORS = 8  # fewer past errors than this: a baseline borrows the pooled errors of all series
SEASONAL_MIN = 2 * SEASON  # months of history a series needs for the seasonal statistical models
SHORT_MIN = 6  # below this, the statistical models fall back to the naive forecast
CALIBRATION_MONTHS = 6  # LightGBM's split-conformal calibration window
CAP = 10  # no forecast above ten times the series' largest month (see ``cap``)
LGBM_PARAMS: dict[str, Any] = {
    "n_estimators": 120,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 10,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "random_state": 0,
    "deterministic": True,
    "force_row_wise": True,
    "n_jobs": 1,
    "verbose": -1,
}

Progress = Callable[[str], None]


def _quiet(_msg: str) -> None:
    return None


def _alpha(interval: float) -> tuple[float, float]:
    if not 0 < interval < 100:
        raise ValueError(f"the interval is a coverage in percent, between 0 and 100 (not {interval})")
    a = (100 - interval) / 200
    return a, 1 - a


def _future(origin: pd.Timestamp, horizon: int) -> pd.DatetimeIndex:
    import pandas as pd

    return pd.date_range(origin + pd.DateOffset(months=1), periods=horizon, freq="MS")


def _long(uid: str, ds: Any, model: str, mean: Any, lo: Any, hi: Any) -> dict[str, Any]:
    return {"unique_id": uid, "ds": ds, "model": model, "mean": mean, "lo": lo, "hi": hi}


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype="float64") for c in COLUMNS}).astype(
            {"unique_id": str, "model": str, "ds": "datetime64[ns]"}
        )
    parts = [pd.DataFrame(r) for r in rows]
    out = pd.concat(parts, ignore_index=True)
    return clip(out[COLUMNS])


def clip(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts are not negative: clip mean and bounds at 0 and keep lo <= mean <= hi."""
    frame = frame.copy()
    for c in ("mean", "lo", "hi"):
        frame[c] = frame[c].astype("float64").clip(lower=0.0)
    frame["lo"] = np.minimum(frame["lo"], frame["mean"])
    frame["hi"] = np.maximum(frame["hi"], frame["mean"])
    return frame


def cap(frame: pd.DataFrame, panel: pd.DataFrame, columns: Sequence[str] = ("mean", "lo", "hi")) -> pd.DataFrame:
    """No value above ``CAP`` times the largest month in the series' history (plus ``CAP``): a model that
    explodes on the log scale (a trend run away, a fit gone wrong) gives a large number, not 1e30.
    Non-finite values become missing."""
    limit = frame["unique_id"].map(panel.groupby("unique_id")["y"].max() * CAP + CAP).to_numpy(dtype="float64")
    frame = frame.copy()
    for c in columns:
        values = frame[c].to_numpy(dtype="float64")
        frame[c] = np.where(np.isfinite(values), np.minimum(values, limit), np.nan)
    return frame


def _series(panel: pd.DataFrame) -> list[tuple[str, np.ndarray, pd.Timestamp]]:
    """(unique_id, values, first month) per series, in panel order."""
    return [
        (str(uid), g["y"].to_numpy(dtype="float64"), g["ds"].iloc[0])
        for uid, g in panel.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=True)
    ]


# --- baselines -----------------------------------------------------------------------------------------------


def _rule_paths(name: str, y: np.ndarray, horizon: int) -> np.ndarray:
    """P[o, k-1]: the rule's forecast for month o+k made with data up to month o (every origin o of the series)."""
    n = len(y)
    P = np.full((n, horizon), np.nan)
    csum = np.concatenate([[0.0], np.cumsum(y)])
    for k in range(1, horizon + 1):
        o = np.arange(n)
        if name == "naive":
            P[:, k - 1] = y
        elif name == "expanding_mean":
            P[:, k - 1] = csum[o + 1] / (o + 1)
        elif name == "snaive":
            src = o + k - SEASON * math.ceil(k / SEASON)
            ok = src >= 0
            P[ok, k - 1] = y[src[ok]]
            P[~ok, k - 1] = y[~ok]  # less than a year of history: the last value
        elif name == "climatology":
            target = o + k
            for i in range(n):
                same = np.arange(target[i] - SEASON, -1, -SEASON)
                same = same[same <= i]
                P[i, k - 1] = y[same].mean() if len(same) else csum[i + 1] / (i + 1)
        else:
            raise ValueError(f"unknown baseline {name!r}")
    return P


def baselines(
    panel: pd.DataFrame, horizon: int, interval: float = 80, names: Sequence[str] = BASELINES
) -> pd.DataFrame:
    """Naive (last value), seasonal naive (same month last year), climatology (mean of the same calendar month
    in earlier years) and expanding mean (mean of all history), with intervals from each rule's own past errors.
    """
    lo_q, hi_q = _alpha(interval)
    series = _series(panel)
    origin = panel["ds"].max()
    dates = _future(origin, horizon)
    rows: list[dict[str, Any]] = []
    for name in names:
        if name not in BASELINES:
            raise ValueError(f"unknown baseline {name!r}; expected one of {', '.join(BASELINES)}")
        point = np.zeros((len(series), horizon))
        errors: list[list[np.ndarray]] = []
        for s, (_uid, y, _start) in enumerate(series):
            P = _rule_paths(name, y, horizon)
            point[s] = P[-1]
            z = np.log1p(y)
            per_k = []
            for k in range(1, horizon + 1):
                o = np.arange(len(y) - k)
                per_k.append(z[o + k] - np.log1p(P[o, k - 1]))
            errors.append(per_k)
        pooled = [np.concatenate([e[k] for e in errors]) if errors else np.zeros(0) for k in range(horizon)]
        for s, (uid, _y, _start) in enumerate(series):
            lo, hi = np.empty(horizon), np.empty(horizon)
            for k in range(horizon):
                e = errors[s][k]
                if len(e) < MIN_ERRORS:
                    e = pooled[k]
                if len(e) == 0:
                    lo[k], hi[k] = point[s, k], point[s, k]
                    continue
                base = np.log1p(point[s, k])
                lo[k] = np.expm1(base + np.quantile(e, lo_q, method="lower"))
                hi[k] = np.expm1(base + np.quantile(e, hi_q, method="higher"))
            rows.append(_long(uid, dates, name, point[s], lo, hi))
    return _frame(rows)


# --- statistical models --------------------------------------------------------------------------------------


def _sf_models(names: Sequence[str], season: int) -> list[Any]:
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    made = {
        "ets": lambda: AutoETS(season_length=season, alias="ets"),
        # a restricted stepwise search: the full one takes ~0.3 s a series, this one ~0.07 s, for the same
        # accuracy on the Somalia series (log1p scale, 3 months ahead)
        "arima": lambda: AutoARIMA(
            season_length=season,
            max_p=2,
            max_q=2,
            max_P=1,
            max_Q=1,
            nmodels=8,
            approximation=True,
            alias="arima",
        ),
        "theta": lambda: AutoTheta(season_length=season, alias="theta"),
    }
    return [made[n]() for n in names]


def statistical(
    panel: pd.DataFrame,
    horizon: int,
    interval: float = 80,
    names: Sequence[str] = STATISTICAL,
    fitted: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """AutoETS, AutoARIMA and AutoTheta per series on log1p(y), with their own intervals.

    Series with at least ``SEASONAL_MIN`` months get the seasonal models (season length 12); shorter ones
    non-seasonal models; series shorter than ``SHORT_MIN`` months (and any fit that fails) the naive forecast.
    With ``fitted`` also returns the in-sample one-step fitted values (``unique_id, ds, model, fitted``, on the
    count scale) that reconciliation estimates the error covariance from.
    """
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import Naive

    for n in names:
        if n not in STATISTICAL:
            raise ValueError(f"unknown statistical model {n!r}; expected one of {', '.join(STATISTICAL)}")
    names = list(names)
    if not names:
        return _frame([]), None
    level: list[Any] = [interval]
    tag = f"{interval:g}"
    df = panel[["unique_id", "ds", "y"]].copy()
    df["y"] = np.log1p(df["y"].astype("float64"))
    sizes = df.groupby("unique_id")["y"].transform("size")
    groups = {SEASON: df[sizes >= SEASONAL_MIN], 1: df[(sizes >= SHORT_MIN) & (sizes < SEASONAL_MIN)]}
    outs, fits = [], []
    for season, part in groups.items():
        if part.empty:
            continue
        sf = StatsForecast(models=_sf_models(names, season), freq="MS", n_jobs=1, fallback_model=Naive())
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = sf.forecast(df=part, h=horizon, level=level, fitted=fitted)
            if fitted:
                fits.append(sf.forecast_fitted_values())
        outs.append(out)
    rows: list[dict[str, Any]] = []
    for out in outs:
        for n in names:
            mean, lo, hi = out[n], out[f"{n}-lo-{tag}"], out[f"{n}-hi-{tag}"]
            rows.append(
                {
                    "unique_id": out["unique_id"].to_numpy(),
                    "ds": out["ds"].to_numpy(),
                    "model": n,
                    "mean": np.expm1(mean.to_numpy()),
                    "lo": np.expm1(lo.to_numpy()),
                    "hi": np.expm1(hi.to_numpy()),
                }
            )
    result = _frame(rows)
    # too short to fit, or a fit that gave no finite numbers: the naive forecast stands in
    result = result.loc[np.isfinite(result[["mean", "lo", "hi"]].to_numpy()).all(axis=1)]
    naive = baselines(panel, horizon, interval, names=["naive"])
    stand_in = pd.concat([naive.assign(model=n) for n in names], ignore_index=True)
    key = ["unique_id", "ds", "model"]
    found = stand_in[key].merge(result[key], on=key, how="left", indicator=True)["_merge"].to_numpy()
    result = pd.concat([result, stand_in.loc[found == "left_only"]], ignore_index=True)
    result = cap(result, panel)
    fitted_frame = None
    if fitted:
        parts = []
        for f in fits:
            for n in names:
                with np.errstate(over="ignore"):
                    values = np.expm1(f[n].to_numpy(dtype="float64"))
                parts.append(
                    pd.DataFrame(
                        {"unique_id": f["unique_id"].astype(str).to_numpy(), "ds": f["ds"].to_numpy(), "model": n}
                    ).assign(fitted=values)
                )
        if parts:
            fitted_frame = cap(pd.concat(parts, ignore_index=True), panel, columns=("fitted",))
    return result.sort_values(["model", "unique_id", "ds"], ignore_index=True), fitted_frame


# --- LightGBM across all series ------------------------------------------------------------------------------


def _lags(k: int) -> list[int]:
    base = {k, k + 1, k + 2, k + 5, k + 11}
    if k <= SEASON:
        base.add(SEASON)
    return sorted(base)


def lightgbm(
    panel: pd.DataFrame,
    drivers: pd.DataFrame | None,
    horizon: int,
    interval: float = 80,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """One LightGBM model per horizon step, trained across all series and levels at once (mlforecast).

    Target log1p(y). Features for target month t and step k: the lags ``_lags(k)`` of the target, rolling means
    (3 and 12 months) of lag k, the calendar month of t, the series' admin depth (0, 1, 2) and every driver
    feature as of month t-k. Intervals: split-conformal, pooled over series (see the module docstring).
    """
    import pandas as pd
    from lightgbm import LGBMRegressor
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean

    say = progress or _quiet
    lo_q, hi_q = _alpha(interval)
    origin = panel["ds"].max()
    base = panel[["unique_id", "ds", "y"]].copy()
    base["y"] = np.log1p(base["y"].astype("float64"))
    base["depth"] = panel["level"].map({"adm0": 0, "adm1": 1, "adm2": 2}).astype("float64").to_numpy()
    feature_cols: list[str] = []
    if drivers is not None and len(drivers.columns) > 2:
        feature_cols = [c for c in drivers.columns if c not in ("unique_id", "ds")]
    rows: list[dict[str, Any]] = []
    for k in range(1, horizon + 1):
        say(f"LightGBM, {k} month{'s' if k > 1 else ''} ahead")
        df = base
        future = pd.DataFrame(
            {
                "unique_id": np.repeat(base["unique_id"].unique(), k),
                "ds": np.tile(_future(origin, k), base["unique_id"].nunique()),
            }
        )
        if feature_cols:
            assert drivers is not None
            shifted = drivers[drivers["ds"] <= origin].copy()
            shifted["ds"] = shifted["ds"] + pd.DateOffset(months=k)  # the value of month t-k, seen at month t
            df = base.merge(shifted, on=["unique_id", "ds"], how="left")
            future = future.merge(shifted, on=["unique_id", "ds"], how="left")
            for c in feature_cols:
                future[c] = future[c].astype("float64")
        mlf = MLForecast(
            models={"lgbm": LGBMRegressor(**LGBM_PARAMS)},
            freq="MS",
            lags=_lags(k),
            lag_transforms={k: [RollingMean(window_size=3), RollingMean(window_size=12)]},
            date_features=["month"],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prep = cast("pd.DataFrame", mlf.preprocess(df, static_features=["depth"], dropna=False))
            prep = prep[prep[f"lag{k}"].notna()]
            X = prep[mlf.ts.features_order_]
            y = prep["y"].to_numpy()
            cutoff = origin - pd.DateOffset(months=CALIBRATION_MONTHS)
            fit_rows = (prep["ds"] <= cutoff).to_numpy()
            scores = np.zeros(0)
            if fit_rows.sum() >= 50 and (~fit_rows).sum() >= 20:
                calib = LGBMRegressor(**LGBM_PARAMS).fit(X[fit_rows], y[fit_rows])
                scores = y[~fit_rows] - calib.predict(X[~fit_rows])
            mlf.fit_models(X, y)
            if scores.size == 0:  # too little history to hold months out: in-sample errors (optimistic)
                final: Any = mlf.models_["lgbm"]
                scores = y - final.predict(X)
            pred = mlf.predict(h=k, X_df=future if feature_cols else None)
        pred = pred[pred["ds"] == pred["ds"].max()]
        q_lo = np.quantile(scores, lo_q, method="lower")
        q_hi = np.quantile(scores, hi_q, method="higher")
        z = pred["lgbm"].to_numpy(dtype="float64")
        rows.append(
            {
                "unique_id": pred["unique_id"].astype(str).to_numpy(),
                "ds": pred["ds"].to_numpy(),
                "model": "lgbm",
                "mean": np.expm1(z),
                "lo": np.expm1(z + q_lo),
                "hi": np.expm1(z + q_hi),
            }
        )
    return cap(_frame(rows), panel).sort_values(["unique_id", "ds"], ignore_index=True)


# --- the ensemble --------------------------------------------------------------------------------------------


def ensemble(forecasts: pd.DataFrame, members: Sequence[str] = MEMBERS, name: str = "ensemble") -> pd.DataFrame:
    """The median of the members' means, lower and upper bounds per series and month (see the module docstring).

    Members missing from ``forecasts`` are skipped; a series and month gets the median of the members it has.
    """
    part = forecasts[forecasts["model"].isin(list(members))]
    if part.empty:
        raise ValueError(f"none of the ensemble's members ({', '.join(members)}) has a forecast")
    out = part.groupby(["unique_id", "ds"], as_index=False)[["mean", "lo", "hi"]].median()
    out["model"] = name
    return clip(out[COLUMNS])
