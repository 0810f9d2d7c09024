"""Rolling-origin backtest: every model and baseline forecast from a run of past origins, scored on what happened.

``run(store, kind, start, end, horizon)`` reads the panel, the driver features and the hierarchy once, up to the
last origin plus the horizon, and calls ``forecast.fit_predict`` at every origin from ``start`` to ``end``
(``every`` months apart). ``fit_predict`` cuts everything at the origin itself, so each forecast sees only
what was known then. The forecasts are joined to the actual counts and scored per model, admin level and
horizon (months after the origin, 1 to H):

* **MASE**, mean absolute scaled error (Hyndman & Koehler 2006). A forecast's absolute error is divided by
  the series' *scale at that origin*: the in-sample mean absolute error of the seasonal naive forecast
  (``y[t] - y[t-12]``) over the series' history up to the origin. A series with fewer than
  ``SEASONAL_MIN`` (24) months of history by then (one seasonal difference per month of the second year at
  the least, as the seasonal models need) is scaled by the one-step naive error (``y[t] - y[t-1]``) instead.
  A series whose scale is zero or undefined at an origin (a flat or one-month history) has no scaled error
  there; ``n_scaled`` counts those that have one. A series' MASE is the mean of its scaled errors over the
  origins; the MASE of a model at a level and horizon is the **mean** of the per-series MASE (``mase``), and
  their **median** (``mase_median``) is reported too, as a few erratic districts can dominate the mean.
* **sMAPE** on the 0-200 scale: ``200 |y - f| / (|y| + |f|)``, with 0/0 (nothing forecast, nothing
  happened) counted as 0. Per series averaged over origins, then over series.
* **coverage**: the share of actuals inside ``[lo, hi]`` (pooled over series and origins), to compare with
  the nominal ``interval``; **width**: the mean ``hi - lo`` in people, and ``width_scaled``: the mean width
  divided by the series' scale (comparable across areas of any size).
* **skill**: a model's MASE divided by the best baseline's MASE at the same level and horizon (the
  baselines are ``models.BASELINES``: naive, seasonal naive, climatology, expanding mean; the best is the one
  with the lowest MASE there). Below 1 the model beats every baseline; above 1 it does not.

The remainder leaves (``<P-code>/unassigned``, records kept at an area above district level) are not scored
by default: they are not areas of their level.

The baselines are always fitted (they are cheap, and the skill needs them); ``models`` picks the others. The
ensemble's members come with it, and its forecast before reconciliation is scored as ``ensemble_base``.

``report_html(result, path)`` writes a self-contained HTML report (tables, inline SVG charts, no external
requests).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from onthemove.foresight import models as m
from onthemove.foresight.forecast import (
    CHOICES,
    ENSEMBLE,
    MAX_HORIZON,
    ForecastError,
    data_months,
    fit_predict,
    inputs,
    parse_origin,
)
from onthemove.foresight.series import LEVELS, Hierarchy, is_remainder
from onthemove.store.base import Store

if TYPE_CHECKING:
    import pandas as pd

SEASON = m.SEASON
SEASONAL_MIN = m.SEASONAL_MIN  # months of history for the seasonal (m=12) MASE scale; fewer: m=1
BASELINES = m.BASELINES
LOWER_IS_BETTER = ("mase", "mase_median", "smape", "skill")
SUMMARY = [
    "level",
    "h",
    "model",
    "n_series",
    "n_forecasts",
    "n_scaled",
    "mase",
    "mase_median",
    "smape",
    "mae",
    "coverage",
    "width",
    "width_scaled",
    "skill",
    "best_baseline",
]

# progress(done origins, all origins, what is happening)
Progress = Callable[[int, int, str], None]


class BacktestError(ForecastError):
    """A backtest that cannot be run as asked; the message says why."""


# --- metrics -------------------------------------------------------------------------------------------------


def mase_scale(history: Sequence[float] | np.ndarray, season: int = SEASON, min_seasonal: int = SEASONAL_MIN) -> float:
    """The MASE scale of a series at an origin: the mean absolute seasonal-naive error (lag ``season``) over
    ``history`` (the series up to the origin), or the one-step naive error when ``history`` has fewer than
    ``min_seasonal`` months. NaN when there is no difference to take; 0 for a flat history."""
    y = np.asarray(history, dtype="float64")
    lag = season if len(y) >= min_seasonal else 1
    if len(y) <= lag:
        return math.nan
    return float(np.mean(np.abs(y[lag:] - y[:-lag])))


def scaled_errors(actual: Any, forecast: Any, scale: Any) -> np.ndarray:
    """``|actual - forecast| / scale``; NaN where the scale is zero or undefined."""
    y, f, s = (np.asarray(v, dtype="float64") for v in (actual, forecast, scale))
    ok = np.isfinite(s) & (s > 0)
    return np.divide(np.abs(y - f), s, out=np.full(np.broadcast(y, f, s).shape, np.nan), where=ok)


def mase(actual: Any, forecast: Any, scale: Any) -> float:
    """The mean of the scaled errors that are defined (NaN when none is)."""
    q = scaled_errors(actual, forecast, scale)
    q = q[np.isfinite(q)]
    return float(q.mean()) if q.size else math.nan


def smape(actual: Any, forecast: Any) -> np.ndarray:
    """Symmetric absolute percentage error per point, 0 to 200; 0 where actual and forecast are both 0."""
    y, f = np.asarray(actual, dtype="float64"), np.asarray(forecast, dtype="float64")
    denominator = np.abs(y) + np.abs(f)
    return np.divide(200.0 * np.abs(y - f), denominator, out=np.zeros(np.broadcast(y, f).shape), where=denominator > 0)


def coverage(actual: Any, lo: Any, hi: Any) -> float:
    """The share of actuals inside ``[lo, hi]`` (bounds included); NaN for no points."""
    y = np.asarray(actual, dtype="float64")
    if y.size == 0:
        return math.nan
    inside = (y >= np.asarray(lo, dtype="float64")) & (y <= np.asarray(hi, dtype="float64"))
    return float(inside.mean())


def skill(summary: pd.DataFrame, baselines: Sequence[str] = BASELINES) -> pd.DataFrame:
    """``summary`` (level, h, model, mase...) with ``skill`` (MASE / the best baseline's MASE at the same level
    and horizon) and ``best_baseline`` (its name); NaN and None where no baseline was scored."""
    out = summary.copy()
    base = out[out["model"].isin(list(baselines)) & np.isfinite(out["mase"].astype("float64"))]
    if base.empty:
        out["skill"], out["best_baseline"] = math.nan, None
        return out
    best = base.loc[base.groupby(["level", "h"])["mase"].idxmin(), ["level", "h", "model", "mase"]]
    best = best.rename(columns={"model": "best_baseline", "mase": "_best"})
    out = out.drop(columns=[c for c in ("skill", "best_baseline") if c in out.columns])
    out = out.merge(best, on=["level", "h"], how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["skill"] = out["mase"].astype("float64") / out["_best"].astype("float64")
    return out.drop(columns="_best")


# --- origins -------------------------------------------------------------------------------------------------


def month_add(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def origins(start: str | dt.date, end: str | dt.date, every: int = 1) -> list[dt.date]:
    """The origin months from ``start`` to ``end`` (both YYYY-MM, included), ``every`` months apart."""
    first, last = parse_origin(start), parse_origin(end)
    if every < 1:
        raise BacktestError(f"--every is a number of months, at least 1 (not {every})")
    if last < first:
        raise BacktestError(f"the last origin {last:%Y-%m} is before the first {first:%Y-%m}")
    out, month = [], first
    while month <= last:
        out.append(month)
        month = month_add(month, every)
    return out


# --- the backtest --------------------------------------------------------------------------------------------


@dataclass
class Backtest:
    """What a backtest gives: the scored forecasts, per-series scores, the summary, and the history shown."""

    forecasts: pd.DataFrame  # unique_id, level, origin, h, ds, model, mean, lo, hi, y, scale
    scores: pd.DataFrame  # per model, level, h, series: n, mase, smape, coverage, width...
    summary: pd.DataFrame  # SUMMARY columns: per model, level, h
    history: pd.DataFrame  # unique_id, ds, y, level (the scored series, to the last target month)
    meta: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # P-code -> place name, where the store knows it

    def shortfalls(self, model: str = ENSEMBLE) -> list[dict[str, Any]]:
        """Where ``model`` does not beat the best baseline (skill >= 1, or no MASE): level, h, skill, baseline."""
        rows = self.summary[self.summary["model"] == model]
        out = []
        for r in rows.to_dict("records"):
            value = float(r["skill"])
            if not math.isfinite(value) or value >= 1:
                out.append(
                    {
                        "level": r["level"],
                        "h": int(r["h"]),
                        "model": model,
                        "mase": _num(r["mase"]),
                        "best_baseline": r["best_baseline"],
                        "baseline_mase": _num(float(r["mase"]) / value) if math.isfinite(value) and value else None,
                        "skill": _num(value),
                    }
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """Meta data, the summary rows and the shortfalls, as plain JSON-able values."""
        return {
            "meta": self.meta,
            "summary": summary_rows(self.summary),
            "shortfalls": self.shortfalls() if ENSEMBLE in set(self.summary["model"]) else [],
        }

    def to_json(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
        return p


def _num(value: Any, digits: int = 4) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return round(x, digits) if math.isfinite(x) else None


def summary_rows(summary: pd.DataFrame, digits: int = 4) -> list[dict[str, Any]]:
    """The summary as a list of dicts with rounded numbers (None for NaN)."""
    rows = []
    for r in summary[SUMMARY].to_dict("records"):
        row: dict[str, Any] = {}
        for key, v in r.items():
            k = str(key)
            if k in ("level", "model", "best_baseline"):
                row[k] = None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            elif k in ("h", "n_series", "n_forecasts", "n_scaled"):
                row[k] = int(v)
            else:
                row[k] = _num(v, digits)
        rows.append(row)
    return rows


def _plan(models: Sequence[str] | None) -> list[str] | None:
    """What to ask ``fit_predict`` for: None (every model and the ensemble) or the baselines plus ``models``."""
    if models is None:
        return None
    wanted = list(dict.fromkeys(models))
    unknown = [x for x in wanted if x not in CHOICES]
    if unknown:
        raise BacktestError(f"unknown model {unknown[0]!r}; expected any of {', '.join(CHOICES)}")
    return list(dict.fromkeys([*BASELINES, *wanted]))


def _check_horizon(horizon: int) -> None:
    if not 1 <= horizon <= MAX_HORIZON:
        raise BacktestError(f"the horizon is 1 to {MAX_HORIZON} months (not {horizon})")


def _scales(panel: pd.DataFrame, stamps: Sequence[pd.Timestamp]) -> pd.DataFrame:
    """``unique_id, origin, scale``: each series' MASE scale from its history up to each origin."""
    import pandas as pd

    rows: list[tuple[str, pd.Timestamp, float]] = []
    for uid, g in panel.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=False):
        ds = g["ds"].to_numpy()
        y = g["y"].to_numpy(dtype="float64")
        for stamp in stamps:
            n = int(np.searchsorted(ds, np.datetime64(stamp), side="right"))
            if n:
                rows.append((str(uid), stamp, mase_scale(y[:n])))
    return pd.DataFrame(rows, columns=["unique_id", "origin", "scale"])


def score(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Per model, level, horizon and series: ``n`` (origins), ``n_scaled`` (errors with a scale), ``mase``,
    ``smape``, ``abs_error`` (mean), ``inside`` (actuals inside the interval) and ``coverage`` (their share),
    ``width`` and ``width_scaled`` (means).

    ``forecasts`` holds ``unique_id, level, h, model, mean, lo, hi, y, scale`` (one row per origin)."""
    f = forecasts.copy()
    f["q"] = scaled_errors(f["y"], f["mean"], f["scale"])
    f["smape"] = smape(f["y"], f["mean"])
    f["abs_error"] = (f["y"] - f["mean"]).abs()
    f["inside"] = ((f["y"] >= f["lo"]) & (f["y"] <= f["hi"])).astype("int64")
    f["width"] = f["hi"] - f["lo"]
    ok = np.isfinite(f["scale"]) & (f["scale"] > 0)
    f["width_scaled"] = np.where(ok, f["width"] / f["scale"].where(ok, 1.0), np.nan)
    grouped = f.groupby(["model", "level", "h", "unique_id"], as_index=False, sort=True)
    out = grouped.agg(
        n=("y", "size"),
        n_scaled=("q", "count"),
        mase=("q", "mean"),
        smape=("smape", "mean"),
        abs_error=("abs_error", "mean"),
        inside=("inside", "sum"),
        width=("width", "mean"),
        width_scaled=("width_scaled", "mean"),
    )
    out["coverage"] = out["inside"] / out["n"]
    return out


def summarise(scores: pd.DataFrame, baselines: Sequence[str] = BASELINES) -> pd.DataFrame:
    """Per model, level and horizon (``SUMMARY`` columns) from ``score``'s per-series rows: MASE as the mean
    (and median) of the per-series MASE, sMAPE the mean of per-series sMAPE, coverage pooled over every
    forecast, widths and MAE as means over every forecast, then the skill against the best baseline."""
    import pandas as pd

    s = scores.assign(
        _err=scores["abs_error"] * scores["n"],
        _wid=scores["width"] * scores["n"],
        _wids=scores["width_scaled"] * scores["n_scaled"],
    )
    grouped = s.groupby(["level", "h", "model"], as_index=False, sort=True)
    out = grouped.agg(
        n_series=("unique_id", "nunique"),
        n_forecasts=("n", "sum"),
        n_scaled=("n_scaled", "sum"),
        mase=("mase", "mean"),
        mase_median=("mase", "median"),
        smape=("smape", "mean"),
        _err=("_err", "sum"),
        inside=("inside", "sum"),
        _wid=("_wid", "sum"),
        _wids=("_wids", "sum"),
    )
    out["mae"] = out["_err"] / out["n_forecasts"]
    out["coverage"] = out["inside"] / out["n_forecasts"]
    out["width"] = out["_wid"] / out["n_forecasts"]
    out["width_scaled"] = out["_wids"] / out["n_scaled"].where(out["n_scaled"] > 0)
    out = skill(out, baselines)
    depth = {lv: i for i, lv in enumerate(LEVELS)}
    out["_depth"] = out["level"].map(depth)
    out["_rank"] = out["model"].map(_model_rank)
    out = out.sort_values(["_depth", "h", "_rank", "model"], ignore_index=True)
    return pd.DataFrame(out[SUMMARY])


def _model_rank(name: str) -> int:
    order = [*BASELINES, *m.STATISTICAL, *m.MACHINE_LEARNING, f"{ENSEMBLE}_base", ENSEMBLE]
    return order.index(name) if name in order else len(order)


def backtest(
    panel: pd.DataFrame,
    drivers: pd.DataFrame | None,
    hierarchy: Hierarchy,
    at: Sequence[str | dt.date],
    horizon: int = 3,
    interval: float = 80,
    models: Sequence[str] | None = None,
    *,
    levels: Sequence[str] = LEVELS,
    remainders: bool = False,
    progress: Progress | None = None,
) -> Backtest:
    """Forecast from every origin in ``at`` with ``fit_predict`` and score the forecasts against ``panel``.

    ``panel``, ``drivers`` and ``hierarchy`` are built once and run at least to the last origin plus
    ``horizon`` months (``fit_predict`` cuts them at each origin). ``models``: None for every model and the
    ensemble; otherwise these plus the baselines. ``levels``: the admin levels scored.
    """
    import pandas as pd

    say = progress or (lambda _done, _total, _msg: None)
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad or not levels:
        raise BacktestError(f"unknown level {bad[0] if bad else ''!r}; expected any of {', '.join(LEVELS)}")
    _check_horizon(horizon)
    wanted = _plan(models)
    stamps = [pd.Timestamp(parse_origin(o)) for o in at]
    if not stamps:
        raise BacktestError("no origin to forecast from")
    last_target = stamps[-1] + pd.DateOffset(months=horizon)
    if panel.empty or panel["ds"].max() < last_target:
        end = "no data" if panel.empty else f"data up to {panel['ds'].max():%Y-%m}"
        raise BacktestError(
            f"the last origin's forecasts run to {last_target:%Y-%m} but the panel has {end}: "
            "choose an earlier last origin or a shorter horizon"
        )
    started = time.perf_counter()
    total = len(stamps)
    parts: list[pd.DataFrame] = []
    methods: dict[str, dict[str, str]] = {}
    for i, stamp in enumerate(stamps):
        label = f"origin {stamp:%Y-%m} ({i + 1} of {total})"
        say(i, total, label)

        def step(msg: str, i: int = i, label: str = label) -> None:
            say(i, total, f"{label}: {msg}")

        out = fit_predict(panel, drivers, hierarchy, stamp, horizon, interval, models=wanted, progress=step)
        methods[f"{stamp:%Y-%m}"] = dict(out.attrs.get("reconciliation", {}))
        keep = out["level"].isin(list(levels))
        if not remainders:
            keep &= ~out["unique_id"].map(is_remainder)
        out = out.loc[keep].assign(origin=stamp)
        parts.append(out)
    say(total, total, "scoring")
    forecasts = pd.concat(parts, ignore_index=True)
    forecasts["h"] = (forecasts["ds"].dt.year - forecasts["origin"].dt.year) * 12 + (
        forecasts["ds"].dt.month - forecasts["origin"].dt.month
    )
    actual = panel[["unique_id", "ds", "y"]]
    forecasts = forecasts.merge(actual, on=["unique_id", "ds"], how="left")
    forecasts = forecasts.merge(_scales(panel, stamps), on=["unique_id", "origin"], how="left")
    forecasts = forecasts[forecasts["y"].notna()]
    columns = ["unique_id", "level", "origin", "h", "ds", "model", "mean", "lo", "hi", "y", "scale"]
    forecasts = forecasts[columns].sort_values(["model", "unique_id", "origin", "h"], ignore_index=True)
    scores = score(forecasts)
    summary = summarise(scores)
    scored = set(forecasts["unique_id"])
    history = panel[panel["unique_id"].isin(scored) & (panel["ds"] <= last_target)]
    history = history[["unique_id", "ds", "y", "level"]].reset_index(drop=True)
    meta = {
        "origins": [f"{s:%Y-%m}" for s in stamps],
        "horizon": horizon,
        "interval": interval,
        "levels": list(levels),
        "models": sorted(set(forecasts["model"]), key=lambda x: (_model_rank(x), x)),
        "baselines": [b for b in BASELINES if b in set(forecasts["model"])],
        "series": {lv: int(forecasts.loc[forecasts["level"] == lv, "unique_id"].nunique()) for lv in levels},
        "reconciliation": methods,
        "remainders": remainders,
        "seconds": round(time.perf_counter() - started, 1),
        "scale": f"seasonal naive (m={SEASON}) MAE up to the origin; m=1 below {SEASONAL_MIN} months",
    }
    return Backtest(forecasts, scores, summary, history, meta)


def run(
    store: Store,
    kind: str = "movements",
    start: str | dt.date = "2020-01",
    end: str | dt.date = "2021-09",
    horizon: int = 3,
    every: int = 1,
    interval: float = 80,
    models: Sequence[str] | None = None,
    levels: Sequence[str] = LEVELS,
    progress: Progress | None = None,
) -> Backtest:
    """The backtest of ``kind`` from origins ``start`` to ``end`` (YYYY-MM), reading the store once."""
    say = progress or (lambda _done, _total, _msg: None)
    _check_horizon(horizon)
    at = origins(start, end, every)
    span = data_months(store, kind)
    if span is None:
        raise BacktestError(f"the store holds no {kind}")
    first, last = span
    needed = month_add(at[-1], horizon)
    if needed > last:
        raise BacktestError(
            f"the last origin {at[-1]:%Y-%m} plus {horizon} month{'s' if horizon != 1 else ''} runs to "
            f"{needed:%Y-%m}, after the last month of {kind} data ({last:%Y-%m})"
        )
    if at[0] < first:
        raise BacktestError(f"origin {at[0]:%Y-%m} is before the first month of {kind} data ({first:%Y-%m})")
    say(0, len(at), f"reading {kind} up to {needed:%Y-%m}")
    data = inputs(store, kind, needed)
    result = backtest(
        data.panel, data.drivers, data.hierarchy, at, horizon, interval, models, levels=levels, progress=progress
    )
    result.meta = {"kind": kind, **result.meta}
    ids = sorted({u.removesuffix("/unassigned") for u in result.history["unique_id"].unique()})
    if ids:
        rows = store.fetch("SELECT pcode, name FROM places WHERE list_contains($codes, pcode)", {"codes": ids})
        result.names = {str(p): str(n) for p, n in rows}
    return result


# --- the HTML report -----------------------------------------------------------------------------------------

# Okabe-Ito: told apart with the common colour-vision deficiencies
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999", "#000000")
CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;margin:0 auto;
max-width:1180px;padding:1rem 1.5rem 3rem}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccc}h3{margin-top:1.6rem}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-variant-numeric:tabular-nums;font-size:.88rem}
caption{text-align:left;font-weight:600;padding:.3rem 0;caption-side:top}
th,td{padding:.25rem .5rem;border-bottom:1px solid #e3e3e3;text-align:right}
th[scope=row],td.name,thead th:first-child{text-align:left}thead th{background:#f4f4f4;vertical-align:bottom}
td.best{background:#dcefdc;font-weight:700}th.group{text-align:left;background:#fafafa;padding-top:.6rem}td.worse{color:#9b1c1c}
.note{color:#444;max-width:60rem}.charts{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0 0 1rem}figcaption{font-size:.85rem;color:#444;max-width:560px}
svg{background:#fff;font:11px system-ui,sans-serif}svg text{fill:#333}
.sr{position:absolute;left:-9999px}
"""


def _fmt(value: Any, digits: int = 2) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(x):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def _short(x: float) -> str:
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:.3g}M"
    if a >= 1e3:
        return f"{x / 1e3:.3g}k"
    return f"{x:.3g}"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(k * power for k in (1, 2, 2.5, 5, 10) if k * power >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


class _Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


def _svg_open(uid: str, width: int, height: int, title: str, desc: str) -> str:
    return (
        f'<svg role="img" aria-labelledby="{uid}-t {uid}-d" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title id="{uid}-t">{_e(title)}</title><desc id="{uid}-d">{_e(desc)}</desc>'
    )


def _style(name: str, index: int) -> tuple[str, str, float]:
    """Colour, dash pattern and stroke width of a model's line: baselines dashed, the ensemble black and thick."""
    if name == ENSEMBLE:
        return "#000000", "", 3.0
    colour = PALETTE[index % (len(PALETTE) - 1)]
    return colour, ("5 3" if name in BASELINES else ""), 1.8


def _horizon_chart(ids: _Ids, level: str, rows: pd.DataFrame, metric: str = "mase") -> str:
    """MASE by horizon, one line per model."""
    uid = ids("hz")
    width, height, left, right, top, bottom = 560, 320, 56, 150, 20, 44
    hs = sorted(int(h) for h in rows["h"].unique())
    values = rows[metric].astype("float64")
    finite = values[np.isfinite(values)]
    top_value = float(finite.max()) * 1.08 if len(finite) else 1.0
    top_value = top_value if top_value > 0 else 1.0

    def x(h: float) -> float:
        span = max(hs[-1] - hs[0], 1)
        return left + (h - hs[0]) / span * (width - left - right) if len(hs) > 1 else left + (width - left - right) / 2

    def y(v: float) -> float:
        return top + (1 - v / top_value) * (height - top - bottom)

    desc = (
        f"Line chart of {metric.upper()} against forecast horizon at {level}, one line per model; "
        "lower is better. The same figures are in the table above."
    )
    out = [_svg_open(uid, width, height, f"{metric.upper()} by horizon, {level}", desc)]
    for t in _ticks(0, top_value):
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#e5e5e5"/>'
            f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{_short(t)}</text>'
        )
    if top_value > 1:
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(1):.1f}" y2="{y(1):.1f}" stroke="#888" '
            'stroke-dasharray="2 3"/>'
        )
    for h in hs:
        out.append(f'<text x="{x(h):.1f}" y="{height - bottom + 16}" text-anchor="middle">{h}</text>')
    out.append(
        f'<text x="{(left + width - right) / 2:.0f}" y="{height - 8}" text-anchor="middle">months ahead</text>'
        f'<text transform="translate(14 {(top + height - bottom) / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{_e(metric.upper())}</text>'
    )
    names = sorted(rows["model"].unique(), key=lambda n: (_model_rank(n), n))
    for i, name in enumerate(names):
        part = rows[rows["model"] == name].sort_values("h")
        pts = [(x(int(h)), y(float(v))) for h, v in zip(part["h"], part[metric], strict=True) if math.isfinite(v)]
        colour, dash, stroke = _style(name, i)
        if pts:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(
                f'<g><title>{_e(name)}</title><polyline points="{path}" fill="none" stroke="{colour}" '
                f'stroke-width="{stroke}"{dash_attr}/>'
                + "".join(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.8" fill="{colour}"/>' for px, py in pts)
                + "</g>"
            )
        ly = top + 12 + i * 16
        lx = width - right + 12
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{lx}" x2="{lx + 22}" y1="{ly - 4}" y2="{ly - 4}" stroke="{colour}" stroke-width="{stroke}"'
            f"{dash_attr}/>"
            f'<text x="{lx + 28}" y="{ly}">{_e(name)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _marker(shape: str, cx: float, cy: float, colour: str, tip: str) -> str:
    """A circle, square, triangle or diamond centred at (cx, cy), with ``tip`` (a <title>) inside."""
    if shape == "circle":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour}">{tip}</circle>'
    if shape == "square":
        return f'<rect x="{cx - 4:.1f}" y="{cy - 4:.1f}" width="8" height="8" fill="{colour}">{tip}</rect>'
    if shape == "triangle":
        pts = f"{cx:.1f},{cy - 5:.1f} {cx + 5:.1f},{cy + 4:.1f} {cx - 5:.1f},{cy + 4:.1f}"
    else:
        pts = f"{cx:.1f},{cy - 5:.1f} {cx + 5:.1f},{cy:.1f} {cx:.1f},{cy + 5:.1f} {cx - 5:.1f},{cy:.1f}"
    return f'<polygon points="{pts}" fill="{colour}">{tip}</polygon>'


def _coverage_chart(ids: _Ids, level: str, rows: pd.DataFrame, nominal: float) -> str:
    """Coverage per model (a dot per horizon) against the nominal coverage."""
    uid = ids("cov")
    names = sorted(rows["model"].unique(), key=lambda n: (_model_rank(n), n))
    hs = sorted(int(h) for h in rows["h"].unique())
    left, right, top, bottom = 120, 120, 16, 40
    width, height = 560, top + bottom + 20 * len(names)

    def x(v: float) -> float:
        return left + v * (width - left - right)

    desc = (
        f"Dot chart of interval coverage at {level}: one row per model, a dot per horizon "
        f"(shapes: {', '.join(f'{h} month' + ('s' if h > 1 else '') for h in hs)}), "
        f"and a vertical line at the nominal {nominal:g}%."
    )
    out = [_svg_open(uid, width, height, f"Coverage of the {nominal:g}% intervals, {level}", desc)]
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        out.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{height - bottom}" stroke="#e5e5e5"/>'
            f'<text x="{x(t):.1f}" y="{height - bottom + 14}" text-anchor="middle">{t:.0%}</text>'
        )
    out.append(
        f'<line x1="{x(nominal / 100):.1f}" x2="{x(nominal / 100):.1f}" y1="{top - 4}" y2="{height - bottom}" '
        f'stroke="#b00" stroke-width="1.5" stroke-dasharray="4 3"><title>nominal {nominal:g}%</title></line>'
        f'<text x="{(left + width - right) / 2:.0f}" y="{height - 6}" text-anchor="middle">'
        "share of actuals inside the interval</text>"
    )
    shapes = ("circle", "square", "triangle", "diamond")
    for i, name in enumerate(names):
        cy = top + 10 + i * 20
        out.append(f'<text x="{left - 8}" y="{cy + 4}" text-anchor="end">{_e(name)}</text>')
        part = rows[rows["model"] == name]
        for h, v in zip(part["h"], part["coverage"], strict=True):
            if not math.isfinite(float(v)):
                continue
            k = hs.index(int(h))
            cx = x(float(v))
            colour = PALETTE[k % len(PALETTE)]
            tip = f"<title>{_e(name)}, {int(h)} month{'s' if int(h) > 1 else ''} ahead: {float(v):.0%}</title>"
            out.append(_marker(shapes[k % len(shapes)], cx, cy, colour, tip))
    for k, h in enumerate(hs):
        ly = top + 12 + k * 16
        lx = width - right + 14
        out.append(
            _marker(shapes[k % len(shapes)], lx, ly - 4, PALETTE[k % len(PALETTE)], "")
            + f'<text x="{lx + 10}" y="{ly}">{h} month{"s" if h > 1 else ""} ahead</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _fan_chart(ids: _Ids, label: str, history: pd.DataFrame, fans: pd.DataFrame, model: str, nominal: float) -> str:
    """History of one series with ``model``'s forecasts (mean and interval band) from a few origins."""
    import pandas as pd

    uid = ids("fan")
    width, height, left, right, top, bottom = 560, 280, 64, 16, 16, 40
    hist = history.sort_values("ds")
    first = fans["origin"].min() - pd.DateOffset(months=12) if not fans.empty else hist["ds"].min()
    hist = hist[hist["ds"] >= first]
    if hist.empty:
        return ""
    t0, t1 = hist["ds"].min(), max(hist["ds"].max(), fans["ds"].max() if not fans.empty else hist["ds"].max())
    months = max((t1.year - t0.year) * 12 + t1.month - t0.month, 1)
    peak = float(max(hist["y"].max(), fans["mean"].max() if not fans.empty else 0.0))
    y_top = peak * 1.3 if peak > 0 else 1.0

    def x(t: pd.Timestamp) -> float:
        return left + ((t.year - t0.year) * 12 + t.month - t0.month) / months * (width - left - right)

    def y(v: float) -> float:
        return top + (1 - min(v, y_top) / y_top) * (height - top - bottom)

    origins_text = ", ".join(f"{o:%Y-%m}" for o in sorted(fans["origin"].unique()))
    desc = (
        f"Monthly counts for {label} (black line) with the {model} forecasts made at {origins_text}: "
        f"the forecast mean (coloured line) and its {nominal:g}% interval (shaded band). "
        "Bands above the top of the chart are cut off."
    )
    clip = f"{uid}-clip"
    out = [
        _svg_open(uid, width, height, f"{label}: {model} forecasts from {fans['origin'].nunique()} origins", desc),
        f'<clipPath id="{clip}"><rect x="{left}" y="{top}" width="{width - left - right}" '
        f'height="{height - top - bottom}"/></clipPath>',
    ]
    for t in _ticks(0, y_top):
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{_short(t)}</text>'
        )
    for ts in pd.date_range(t0, t1, freq="MS"):
        if ts.month in (1, 7):
            out.append(
                f'<line x1="{x(ts):.1f}" x2="{x(ts):.1f}" y1="{height - bottom}" y2="{height - bottom + 4}" '
                f'stroke="#666"/><text x="{x(ts):.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                f"{ts:%Y-%m}</text>"
            )
    out.append(f'<g clip-path="url(#{clip})">')
    for k, (when, part) in enumerate(fans.sort_values("ds").groupby("origin", sort=True)):
        origin = pd.Timestamp(cast("dt.datetime", when))
        colour = PALETTE[k % (len(PALETTE) - 1)]
        anchor = hist[hist["ds"] == origin]
        pts = [(origin, float(anchor["y"].iloc[0]))] if len(anchor) else []
        upper = [(t, float(v)) for t, v in zip(part["ds"], part["hi"], strict=True)]
        lower = [(t, float(v)) for t, v in zip(part["ds"], part["lo"], strict=True)]
        band = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in pts + upper + lower[::-1])
        line = " ".join(
            f"{x(t):.1f},{y(v):.1f}" for t, v in pts + list(zip(part["ds"], part["mean"].astype(float), strict=True))
        )
        out.append(
            f'<g><title>forecast from {origin:%Y-%m}</title><polygon points="{band}" fill="{colour}" '
            f'fill-opacity="0.22" stroke="none"/><polyline points="{line}" fill="none" stroke="{colour}" '
            f'stroke-width="2"/><line x1="{x(origin):.1f}" x2="{x(origin):.1f}" y1="{top}" y2="{height - bottom}" '
            f'stroke="{colour}" stroke-dasharray="2 3"/></g>'
        )
    path = " ".join(f"{x(t):.1f},{y(float(v)):.1f}" for t, v in zip(hist["ds"], hist["y"], strict=True))
    out.append(
        f'<g><title>actual monthly counts</title><polyline points="{path}" fill="none" stroke="#111" '
        'stroke-width="1.6"/></g></g>'
    )
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{height - bottom}" y2="{height - bottom}" stroke="#666"/></svg>'
    )
    return "".join(out)


def _table(level: str, rows: pd.DataFrame, nominal: float, caption_extra: str = "") -> str:
    """One accuracy table for a level: a group of rows per horizon, a row per model, the best value of each
    column within its horizon in bold on green."""
    metrics = [
        ("mase", "MASE"),
        ("mase_median", "median MASE"),
        ("smape", "sMAPE"),
        ("mae", "MAE"),
        ("coverage", "coverage"),
        ("width", "width"),
        ("skill", "skill"),
    ]
    hs = sorted(int(h) for h in rows["h"].unique())
    names = sorted(rows["model"].unique(), key=lambda n: (_model_rank(n), n))
    best: dict[tuple[int, str], float] = {}
    for h in hs:
        part = rows[rows["h"] == h]
        for key, _ in metrics:
            values = part[key].astype("float64")
            values = values[np.isfinite(values)]
            if values.empty or key == "width":
                continue
            if key == "coverage":
                best[(h, key)] = float(values.iloc[int(np.argmin(np.abs(values.to_numpy() - nominal / 100)))])
            else:
                best[(h, key)] = float(values.min())
    out = [
        "<table>",
        f"<caption>Accuracy at {_e(level)}, by months ahead{_e(caption_extra)}. Bold on green: the best value "
        f"in its column for that horizon (coverage: the closest to {nominal:g}%). MAE and width in people. "
        "Skill: MASE over the best baseline's; below 1 beats every baseline.</caption>",
        '<thead><tr><th scope="col">model</th>',
        *[f'<th scope="col">{_e(title)}</th>' for _, title in metrics],
        "</tr></thead>",
    ]
    for h in hs:
        out.append(
            f'<tbody><tr><th scope="rowgroup" colspan="{len(metrics) + 1}" class="group">'
            f"{h} month{'s' if h > 1 else ''} ahead</th></tr>"
        )
        for name in names:
            hit = rows[(rows["model"] == name) & (rows["h"] == h)]
            if hit.empty:
                continue
            r = hit.iloc[0]
            label = name + (" (baseline)" if name in BASELINES else "")
            out.append(f'<tr><th scope="row">{_e(label)}</th>')
            for key, _ in metrics:
                value = float(r[key])
                text = f"{value:.0%}" if key == "coverage" and math.isfinite(value) else _fmt(value)
                classes = []
                if math.isfinite(value) and (h, key) in best and math.isclose(value, best[(h, key)], rel_tol=1e-12):
                    classes.append("best")
                if key == "skill" and math.isfinite(value) and value >= 1 and name not in BASELINES:
                    classes.append("worse")
                cls = f' class="{" ".join(classes)}"' if classes else ""
                out.append(f"<td{cls}>{text}</td>")
            out.append("</tr>")
        out.append("</tbody>")
    out.append("</table>")
    return "".join(out)


def _headline(summary: pd.DataFrame, nominal: float) -> str:
    """The ensemble against the best baseline, per level and horizon."""
    ens = summary[summary["model"] == ENSEMBLE]
    head = ("level", "months ahead", "ensemble MASE", "best baseline", "its MASE", "skill", "ensemble coverage")
    out = [
        "<table><caption>The ensemble against the best baseline at each level and horizon (skill below 1: the "
        f"ensemble is better; coverage of its {nominal:g}% intervals)</caption><thead><tr>",
        *[f'<th scope="col">{c}</th>' for c in head],
        "</tr></thead><tbody>",
    ]
    for r in ens.to_dict("records"):
        value = float(r["skill"])
        base = summary[(summary["level"] == r["level"]) & (summary["h"] == r["h"])]
        base = base[base["model"] == r["best_baseline"]]
        base_mase = float(base["mase"].iloc[0]) if len(base) else math.nan
        worse = ' class="worse"' if not math.isfinite(value) or value >= 1 else ""
        out.append(
            f'<tr><th scope="row">{_e(r["level"])}</th><td>{int(r["h"])}</td><td>{_fmt(r["mase"])}</td>'
            f'<td class="name">{_e(r["best_baseline"])}</td><td>{_fmt(base_mase)}</td>'
            f"<td{worse}>{_fmt(value)}</td><td>{_fmt(float(r['coverage']) * 100, 0)}%</td></tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def _fan_origins(origins_: Sequence[pd.Timestamp], horizon: int, count: int = 4) -> list[pd.Timestamp]:
    """Up to ``count`` origins spread over the backtest, at least ``horizon`` months apart (bands do not overlap)."""
    ordered = sorted(origins_)
    if not ordered:
        return []
    picks = [ordered[round(i * (len(ordered) - 1) / max(count - 1, 1))] for i in range(count)]
    out: list[pd.Timestamp] = []
    for p in dict.fromkeys(picks):
        if not out or (p.year - out[-1].year) * 12 + p.month - out[-1].month >= horizon:
            out.append(p)
    return out


def default_areas(result: Backtest, regions: int = 3) -> list[str]:
    """The country (every adm0 series) and the ``regions`` largest adm1 series by total count."""
    h = result.history
    out = sorted(h.loc[h["level"] == "adm0", "unique_id"].unique())
    adm1 = h[h["level"] == "adm1"].groupby("unique_id")["y"].sum().sort_values(ascending=False)
    out += [str(u) for u in adm1.index[:regions]]
    return out


def report_html(
    result: Backtest,
    path: str | Path,
    areas: Sequence[str] | None = None,
    model: str | None = None,
    title: str | None = None,
) -> Path:
    """A self-contained HTML report of ``result``: accuracy tables per level and horizon (best values
    highlighted), MASE by horizon and coverage against nominal per level (inline SVG), where the ensemble does
    not beat the best baseline, and fan charts (history, forecast mean and interval band from a few origins)
    for ``areas`` (default: the country and the three largest regions) of ``model`` (default: the ensemble
    when it was scored). Nothing in it is fetched from elsewhere."""
    import pandas as pd

    meta = result.meta
    nominal = float(meta.get("interval", 80))
    summary = result.summary
    scored = set(summary["model"])
    shown = model or (ENSEMBLE if ENSEMBLE in scored else sorted(scored, key=lambda n: (-_model_rank(n), n))[0])
    ids = _Ids()
    kind = meta.get("kind", "counts")
    origins_list = meta.get("origins", [])
    heading = title or f"Backtest of {kind} forecasts"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(heading)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{_e(heading)}</h1>",
        '<p class="note">',
        f"Rolling-origin backtest: {len(origins_list)} origin{'s' if len(origins_list) != 1 else ''} "
        f"({_e(origins_list[0] if origins_list else '')} to {_e(origins_list[-1] if origins_list else '')}), "
        f"forecasts 1 to {_e(meta.get('horizon'))} months ahead with {nominal:g}% intervals, scored on the "
        f"actual monthly counts at {_e(', '.join(meta.get('levels', [])))}. Each forecast used only data up to "
        f"its origin. Series: {_e(', '.join(f'{k} {v}' for k, v in meta.get('series', {}).items()))}. "
        f"Run time {_e(meta.get('seconds'))} s.</p>",
        '<p class="note"><strong>MASE</strong>: absolute error over the series\' own in-sample seasonal naive error '
        f"up to the origin (lag 12; lag 1 below {SEASONAL_MIN} months of history), averaged over origins, then the "
        "mean (and median) over series. <strong>sMAPE</strong>: 0 to 200, 0/0 counted as 0. "
        "<strong>coverage</strong>: share of actuals inside the interval. <strong>width</strong>: mean interval "
        "width in people. <strong>skill</strong>: MASE over the best baseline's MASE at the same level and "
        f"horizon (baselines: {_e(', '.join(meta.get('baselines', BASELINES)))}); below 1 beats every baseline. "
        "<em>ensemble_base</em> is the ensemble before reconciliation over the admin hierarchy.</p>",
    ]
    if ENSEMBLE in scored:
        short = result.shortfalls()
        parts.append("<h2>The ensemble against the baselines</h2>")
        parts.append(_headline(summary, nominal))
        parts.append("<h3>Where the ensemble does not beat the best baseline</h3>")
        if short:
            parts.append(
                "<table><caption>Level and horizon where the ensemble's MASE is not below the best baseline's"
                "</caption><thead><tr>"
                + "".join(
                    f'<th scope="col">{c}</th>'
                    for c in ("level", "months ahead", "ensemble MASE", "best baseline", "its MASE", "skill")
                )
                + "</tr></thead><tbody>"
            )
            for s in short:
                parts.append(
                    f'<tr><th scope="row">{_e(s["level"])}</th><td>{s["h"]}</td><td>{_fmt(s["mase"])}</td>'
                    f'<td class="name">{_e(s["best_baseline"])}</td><td>{_fmt(s["baseline_mase"])}</td>'
                    f'<td class="worse">{_fmt(s["skill"])}</td></tr>'
                )
            parts.append("</tbody></table>")
        else:
            parts.append('<p class="note">Nowhere: the ensemble has the lower MASE at every level and horizon.</p>')
    for level in [lv for lv in LEVELS if lv in set(summary["level"])]:
        rows = summary[summary["level"] == level]
        n_series = int(rows["n_series"].max())
        parts.append(f"<h2>{_e(level)} ({n_series} series)</h2>")
        parts.append(_table(level, rows, nominal, f", {n_series} series"))
        parts.append('<div class="charts">')
        parts.append(
            f"<figure>{_horizon_chart(ids, level, rows)}<figcaption>MASE by months ahead at {_e(level)}; "
            "dashed lines are baselines, the thick black line the ensemble, the dotted line MASE 1 (the in-sample "
            "seasonal naive error).</figcaption></figure>"
        )
        parts.append(
            f"<figure>{_coverage_chart(ids, level, rows, nominal)}<figcaption>Coverage of the {nominal:g}% "
            f"intervals at {_e(level)} against the nominal {nominal:g}% (red dashed line).</figcaption></figure>"
        )
        parts.append("</div>")
    wanted = list(areas) if areas is not None else default_areas(result)
    fc = result.forecasts[result.forecasts["model"] == shown]
    if wanted and not fc.empty:
        stamps = [pd.Timestamp(o) for o in sorted(fc["origin"].unique())]
        picks = _fan_origins(stamps, int(meta.get("horizon", 1)))
        parts.append(f"<h2>Fan charts: {_e(shown)}</h2>")
        parts.append(
            f'<p class="note">Monthly counts (black) and the {_e(shown)} forecasts from '
            f"{_e(', '.join(f'{p:%Y-%m}' for p in picks))}: mean (coloured line) and {nominal:g}% interval "
            "(band).</p>"
        )
        parts.append('<div class="charts">')
        for area in wanted:
            hist = result.history[result.history["unique_id"] == area]
            if hist.empty:
                continue
            fans = fc[(fc["unique_id"] == area) & fc["origin"].isin(picks)]
            name = result.names.get(area)
            label = f"{name} ({area})" if name else area
            level = str(hist["level"].iloc[0])
            chart = _fan_chart(ids, label, hist, fans, shown, nominal)
            if chart:
                parts.append(f"<figure>{chart}<figcaption>{_e(label)}, {_e(level)}.</figcaption></figure>")
        parts.append("</div>")
    parts.append("<h2>Reconciliation</h2>")
    methods = meta.get("reconciliation", {})
    used: dict[str, int] = {}
    for per_origin in methods.values():
        for name, method in per_origin.items():
            used[f"{name}: {method}"] = used.get(f"{name}: {method}", 0) + 1
    text = ", ".join(f"{k} at {v} origin{'s' if v != 1 else ''}" for k, v in sorted(used.items())) or "none"
    parts.append(f'<p class="note">Methods used: {_e(text)}.</p>')
    parts.append(
        f'<p class="note">Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by onthemove.</p></main></body></html>'
    )
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return p


__all__ = [
    "BASELINES",
    "SEASONAL_MIN",
    "Backtest",
    "BacktestError",
    "backtest",
    "coverage",
    "default_areas",
    "mase",
    "mase_scale",
    "origins",
    "report_html",
    "run",
    "scaled_errors",
    "score",
    "skill",
    "smape",
    "summarise",
]
