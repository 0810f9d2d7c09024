"""Forecasting models and reconciliation on small synthetic panels (no store)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from onthemove.foresight import models
from onthemove.foresight.reconcile import coherence_gap, reconcile
from onthemove.foresight.series import Hierarchy, _build

MONTHS = pd.date_range("2021-01-01", periods=36, freq="MS")


def _panel(series: dict[str, np.ndarray], level: str = "adm2") -> pd.DataFrame:
    frames = [
        pd.DataFrame({"unique_id": uid, "ds": MONTHS[-len(y) :], "y": np.asarray(y, dtype=float), "level": level})
        for uid, y in series.items()
    ]
    return pd.concat(frames, ignore_index=True)


def _tree() -> tuple[Hierarchy, pd.DataFrame]:
    """A country C with regions R1 (districts A, B) and R2 (district D), 36 months of seasonal counts."""
    rng = np.random.default_rng(3)
    season = 1 + 0.5 * np.sin(np.arange(36) * 2 * np.pi / 12)
    leaves = {u: rng.poisson(scale * season).astype(float) for u, scale in (("A", 200), ("B", 50), ("D", 900))}
    values = {
        **leaves,
        "R1": leaves["A"] + leaves["B"],
        "R2": leaves["D"],
        "C": leaves["A"] + leaves["B"] + leaves["D"],
    }
    level = {"A": "adm2", "B": "adm2", "D": "adm2", "R1": "adm1", "R2": "adm1", "C": "adm0"}
    parent: dict[str, str | None] = {"A": "R1", "B": "R1", "D": "R2", "R1": "C", "R2": "C", "C": None}
    panel = pd.concat(
        [_panel({u: v}, level[u]) for u, v in values.items()],
        ignore_index=True,
    )
    return _build(list(values), level, parent), panel


def test_baselines_follow_their_rules() -> None:
    y = np.arange(1, 37, dtype=float)  # 1..36: month index + 1
    out = models.baselines(_panel({"s": y}), horizon=3, interval=80).set_index(["model", "ds"])
    first = pd.Timestamp("2024-01-01")
    assert sorted(out.index.get_level_values("ds").unique()) == list(pd.date_range(first, periods=3, freq="MS"))
    assert out.loc[("naive", first), "mean"] == 36
    assert out.loc[("snaive", first), "mean"] == 25  # January a year before
    assert out.loc[("snaive", pd.Timestamp("2024-03-01")), "mean"] == 27
    assert out.loc[("climatology", first), "mean"] == (1 + 13 + 25) / 3  # every earlier January
    assert out.loc[("expanding_mean", first), "mean"] == pytest.approx(y.mean())
    assert (out["lo"] <= out["mean"]).all() and (out["mean"] <= out["hi"]).all()
    # a series that never changes has never erred: its intervals collapse onto the forecast
    flat = models.baselines(_panel({"f": np.full(30, 40.0)}), horizon=2, interval=90)
    assert np.allclose(flat[["mean", "lo", "hi"]].to_numpy(), 40.0)


def test_short_series_borrow_pooled_errors_and_nothing_goes_negative() -> None:
    panel = _panel({"long": np.tile([0.0, 500.0, 20.0], 12), "short": np.array([3.0, 0.0, 4.0])})
    out = models.baselines(panel, horizon=2, interval=80)
    assert len(out) == 2 * 4 * 2
    assert (out[["mean", "lo", "hi"]] >= 0).all().all()
    short = out[(out["unique_id"] == "short") & (out["model"] == "naive")]
    assert (short["hi"] > short["mean"]).all()  # the long series' errors give the short one an interval


def test_clip_and_ensemble_median() -> None:
    frame = pd.DataFrame(
        {
            "unique_id": ["a"] * 4,
            "ds": [pd.Timestamp("2024-01-01")] * 4,
            "model": ["ets", "arima", "theta", "lgbm"],
            "mean": [10.0, 20.0, 30.0, 1000.0],
            "lo": [5.0, 10.0, 20.0, 900.0],
            "hi": [15.0, 30.0, 40.0, 1100.0],
        }
    )
    out = models.ensemble(frame)
    assert out[["mean", "lo", "hi"]].iloc[0].tolist() == [25.0, 15.0, 35.0]  # the wild member does not drag it
    assert models.ensemble(frame, members=["ets", "theta"])["mean"].iloc[0] == 20.0
    with pytest.raises(ValueError, match="none of the ensemble"):
        models.ensemble(frame, members=["naive"])
    clipped = models.clip(frame.assign(mean=[-5.0, 1.0, 2.0, 3.0], lo=[-9.0, 2.0, 1.0, 1.0]))
    assert clipped["mean"].min() == 0 and clipped["lo"].min() == 0
    assert (clipped["lo"] <= clipped["mean"]).all() and (clipped["mean"] <= clipped["hi"]).all()


@pytest.mark.parametrize("method", ["mint_shrink", "ols", "bottom_up"])
def test_reconciled_means_add_up(method: str) -> None:
    tree, panel = _tree()
    assert tree.check(panel) == 0.0
    dates = pd.date_range("2024-01-01", periods=3, freq="MS")
    # base forecasts that do not add up: each series' last value times a different factor
    last = panel.groupby("unique_id")["y"].last()
    factor = {"A": 1.1, "B": 0.7, "D": 1.0, "R1": 1.3, "R2": 0.8, "C": 0.95}
    base = pd.DataFrame(
        [
            {"unique_id": u, "ds": d, "model": "x", "mean": last[u] * factor[u] * (1 + i / 10)}
            for u in tree.ids
            for i, d in enumerate(dates)
        ]
    )
    base["lo"], base["hi"] = base["mean"] * 0.5, base["mean"] * 2
    assert coherence_gap(base, tree) > 0.05
    insample = panel.assign(fitted=panel.groupby("unique_id")["y"].shift(1))
    out, used = reconcile(base, tree, method=method, insample=insample)
    assert used == method
    assert coherence_gap(out, tree) < 1e-6
    wide = out.pivot(index="unique_id", columns="ds", values="mean")
    assert np.allclose(wide.loc["A"] + wide.loc["B"], wide.loc["R1"], rtol=1e-6)
    assert np.allclose(wide.loc["R1"] + wide.loc["R2"], wide.loc["C"], rtol=1e-6)
    assert (out["lo"] <= out["mean"]).all() and (out["mean"] <= out["hi"]).all() and (out["lo"] >= 0).all()
    assert set(out["model"]) == {"x"}
    # the interval moves with its mean: the same ratio as the base interval's bounds
    merged = out.merge(base, on=["unique_id", "ds"], suffixes=("", "_base"))
    assert np.allclose(merged["hi"] / merged["mean"], merged["hi_base"] / merged["mean_base"])


def test_reconciliation_falls_back_to_bottom_up() -> None:
    tree, panel = _tree()
    dates = pd.date_range("2024-01-01", periods=2, freq="MS")
    base = pd.DataFrame(
        [{"unique_id": u, "ds": d, "mean": 100.0, "lo": 50.0, "hi": 200.0} for u in tree.ids for d in dates]
    )
    # a perfect in-sample fit: no error covariance to estimate, MinTrace refuses
    out, used = reconcile(base, tree, method="mint_shrink", insample=panel.assign(fitted=panel["y"]))
    assert used == "bottom_up"
    assert out.set_index("unique_id").loc["C", "mean"].tolist() == [300.0, 300.0]
    with pytest.raises(ValueError, match="lack some series"):
        reconcile(base[base["unique_id"] != "A"], tree)


@pytest.mark.slow
def test_statistical_models_and_lightgbm_cover_every_series() -> None:
    rng = np.random.default_rng(5)
    panel = _panel(
        {
            "long": rng.poisson(300, 36).astype(float),
            "medium": rng.poisson(40, 12).astype(float),
            "short": np.array([5.0, 7.0, 0.0]),
            "zeros": np.zeros(30),
        }
    )
    stats, fitted = models.statistical(panel, horizon=2, interval=80, fitted=True)
    assert len(stats) == 4 * 3 * 2
    assert set(stats["model"]) == set(models.STATISTICAL)
    assert np.isfinite(stats[["mean", "lo", "hi"]].to_numpy()).all()
    assert (stats["lo"] <= stats["mean"]).all() and (stats["mean"] <= stats["hi"]).all() and (stats["lo"] >= 0).all()
    short = stats[stats["unique_id"] == "short"]
    assert (short["mean"] == 0.0).all()  # too short to fit: the naive forecast (last value)
    assert fitted is not None and {"unique_id", "ds", "model", "fitted"} <= set(fitted.columns)
    drivers = pd.DataFrame({"unique_id": panel["unique_id"], "ds": panel["ds"], "rain": rng.gamma(2, 20, len(panel))})
    origin = panel["ds"].max()
    future = drivers[drivers["ds"] == origin].assign(ds=origin + pd.DateOffset(months=1), rain=1e6)
    lgbm = models.lightgbm(panel, drivers, horizon=2, interval=80)
    assert len(lgbm) == 4 * 2 and set(lgbm["model"]) == {"lgbm"}
    assert (lgbm["lo"] <= lgbm["mean"]).all() and (lgbm["mean"] <= lgbm["hi"]).all()
    # driver values after the origin are never read
    again = models.lightgbm(panel, pd.concat([drivers, future], ignore_index=True), horizon=2, interval=80)
    pd.testing.assert_frame_equal(lgbm, again)
