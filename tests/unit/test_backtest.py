"""The rolling-origin backtest: metrics on hand-computed examples, and a backtest of a small hand-built panel."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from onthemove.foresight import backtest as bt
from onthemove.foresight import models
from onthemove.foresight.forecast import ENSEMBLE
from onthemove.foresight.series import Hierarchy

# --- metrics ---------------------------------------------------------------------------------------------------


def test_mase_scale_is_the_seasonal_naive_error_up_to_the_origin() -> None:
    # two years: lag 12, every difference is 12
    assert bt.mase_scale(np.arange(24)) == 12.0
    # 24 months of a pure seasonal pattern: the seasonal naive is perfect in sample
    season = np.tile([1.0, 5.0, 3.0, 8.0, 2.0, 9.0, 4.0, 7.0, 6.0, 0.0, 10.0, 11.0], 2)
    assert bt.mase_scale(season) == 0.0
    # fewer than 24 months: the one-step naive error, |5-1|, |3-5|, |8-3|... over the first 23 months
    y = season[:23]
    assert bt.mase_scale(y) == pytest.approx(np.mean(np.abs(np.diff(y))))
    assert bt.mase_scale([4.0, 6.0, 1.0]) == pytest.approx((2 + 5) / 2)
    assert math.isnan(bt.mase_scale([7.0]))
    assert math.isnan(bt.mase_scale([]))
    assert bt.mase_scale([3.0, 3.0, 3.0]) == 0.0


def test_mase_skips_errors_without_a_scale() -> None:
    q = bt.scaled_errors([10, 20, 5], [12, 14, 5], [2, 0, math.nan])
    assert q[0] == 1.0 and math.isnan(q[1]) and math.isnan(q[2])
    assert bt.mase([10, 20, 30], [12, 14, 36], [2, 0, 3]) == pytest.approx((1 + 2) / 2)
    assert math.isnan(bt.mase([1], [2], [0]))


def test_smape_on_the_0_to_200_scale_with_zeros() -> None:
    got = bt.smape([0, 100, 0, 50, 10], [0, 50, 10, 50, 0])
    assert got == pytest.approx([0.0, 200 * 50 / 150, 200.0, 0.0, 200.0])


def test_coverage_counts_the_bounds_as_inside() -> None:
    assert bt.coverage([1, 5, 10, 3], [0, 6, 10, 3], [2, 7, 12, 3]) == pytest.approx(3 / 4)
    assert math.isnan(bt.coverage([], [], []))


def test_skill_is_mase_over_the_best_baseline_per_level_and_horizon() -> None:
    summary = pd.DataFrame(
        {
            "level": ["adm0"] * 4 + ["adm1"] * 4,
            "h": [1] * 8,
            "model": ["naive", "snaive", "ets", ENSEMBLE] * 2,
            "mase": [0.8, 1.0, 0.6, 1.2, 2.0, 1.5, 1.0, 1.5],
        }
    )
    out = bt.skill(summary).set_index(["level", "model"])
    assert out.loc[("adm0", "ets"), "skill"] == pytest.approx(0.75)
    assert out.loc[("adm0", ENSEMBLE), "skill"] == pytest.approx(1.5)
    assert out.loc[("adm0", "naive"), "skill"] == pytest.approx(1.0)
    assert out.loc[("adm0", "ets"), "best_baseline"] == "naive"
    assert out.loc[("adm1", "ets"), "skill"] == pytest.approx(1 / 1.5)
    assert out.loc[("adm1", ENSEMBLE), "skill"] == pytest.approx(1.0)
    assert out.loc[("adm1", "naive"), "best_baseline"] == "snaive"
    none = bt.skill(summary[summary["model"].isin(["ets", ENSEMBLE])])
    assert none["skill"].isna().all()


def test_origins_every_n_months() -> None:
    assert bt.origins("2020-11", "2021-03") == [dt.date(2020, 11, 1), dt.date(2020, 12, 1)] + [
        dt.date(2021, m, 1) for m in (1, 2, 3)
    ]
    assert bt.origins("2020-01", "2021-09", every=3)[-1] == dt.date(2021, 7, 1)
    assert len(bt.origins("2020-01", "2021-09", every=3)) == 7
    with pytest.raises(bt.BacktestError, match="before the first"):
        bt.origins("2021-01", "2020-01")
    with pytest.raises(bt.BacktestError, match="at least 1"):
        bt.origins("2020-01", "2020-05", every=0)


# --- a backtest on a hand-built panel ----------------------------------------------------------------------------

LEAVES = {"XX0101": 300.0, "XX0102": 80.0, "XX0201": 1200.0, "XX0202": 45.0}
MONTHS = pd.date_range("2018-01-01", "2021-12-01", freq="MS")
ORIGINS = ["2021-03", "2021-06", "2021-09"]
HORIZON = 2


def _panel() -> tuple[pd.DataFrame, Hierarchy]:
    rng = np.random.default_rng(3)
    frames = []
    wave = 1 + 0.5 * np.sin(2 * np.pi * (MONTHS.month.to_numpy() - 1) / 12)
    values: dict[str, np.ndarray] = {}
    for i, (uid, base) in enumerate(LEAVES.items()):
        values[uid] = rng.poisson(base * wave * (1 + 0.01 * i * np.arange(len(MONTHS)))).astype("float64")
    values["XX01"] = values["XX0101"] + values["XX0102"]
    values["XX02"] = values["XX0201"] + values["XX0202"]
    values["XX"] = values["XX01"] + values["XX02"]
    for uid, y in values.items():
        depth = {2: "adm0", 4: "adm1", 6: "adm2"}[len(uid)]
        frames.append(pd.DataFrame({"unique_id": uid, "ds": MONTHS, "y": y, "level": depth}))
    panel = pd.concat(frames, ignore_index=True).sort_values(["unique_id", "ds"], ignore_index=True)
    bottom = sorted(LEAVES)
    ids = ["XX", "XX01", "XX02", *bottom]
    S = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1], *np.eye(4).tolist()], dtype="float64")
    level = {u: {2: "adm0", 4: "adm1", 6: "adm2"}[len(u)] for u in ids}
    parent = {u: (None if len(u) == 2 else u[: len(u) - 2]) for u in ids}
    tags = {lv: [u for u in ids if level[u] == lv] for lv in ("adm0", "adm1", "adm2")}
    return panel, Hierarchy(ids=ids, bottom=bottom, S=S, tags=tags, parent=parent, level=level)


@pytest.fixture(scope="module")
def panel() -> tuple[pd.DataFrame, Hierarchy]:
    return _panel()


@pytest.fixture(scope="module")
def result(panel: tuple[pd.DataFrame, Hierarchy]) -> bt.Backtest:
    frame, tree = panel
    seen: list[tuple[int, int, str]] = []
    out = bt.backtest(frame, None, tree, ORIGINS, HORIZON, 80, progress=lambda d, n, msg: seen.append((d, n, msg)))
    assert seen[0][:2] == (0, 3) and seen[-1] == (3, 3, "scoring")
    assert any("origin 2021-06 (2 of 3)" in msg for _, _, msg in seen)
    return out


@pytest.mark.slow
def test_every_model_level_and_horizon_is_scored(result: bt.Backtest) -> None:
    s = result.summary
    expected_models = {*models.MODELS, ENSEMBLE, f"{ENSEMBLE}_base"}
    assert set(s["model"]) == expected_models
    keys = set(zip(s["model"], s["level"], s["h"], strict=True))
    assert keys == {(mo, lv, h) for mo in expected_models for lv in ("adm0", "adm1", "adm2") for h in (1, 2)}
    assert len(s) == len(keys)
    assert s.set_index("level")["n_series"].groupby(level=0).max().to_dict() == {"adm0": 1, "adm1": 2, "adm2": 4}
    assert (s["n_forecasts"] == s["n_series"] * len(ORIGINS)).all()
    for c in ("mase", "mase_median", "smape", "mae", "coverage", "width", "skill"):
        assert np.isfinite(s[c].to_numpy(dtype="float64")).all(), c
    assert s["coverage"].between(0, 1).all()
    assert s["smape"].between(0, 200).all()
    assert set(s["best_baseline"]) <= set(models.BASELINES)
    assert result.meta["origins"] == ORIGINS
    assert set(result.forecasts["origin"].dt.strftime("%Y-%m")) == set(ORIGINS)


@pytest.mark.slow
def test_naive_mase_at_one_month_is_the_hand_computation(
    result: bt.Backtest, panel: tuple[pd.DataFrame, Hierarchy]
) -> None:
    frame, _ = panel
    for level in ("adm0", "adm1", "adm2"):
        per_series = []
        for _uid, g in frame[frame["level"] == level].groupby("unique_id"):
            y = g.set_index("ds")["y"]
            scaled = []
            for origin in ORIGINS:
                o = pd.Timestamp(origin)
                history = y[y.index <= o].to_numpy()
                scale = np.mean(np.abs(history[12:] - history[:-12]))  # 39+ months: seasonal, lag 12
                actual = y[o + pd.DateOffset(months=1)]
                scaled.append(abs(actual - history[-1]) / scale)
            per_series.append(np.mean(scaled))
        row = result.summary.query("model == 'naive' and level == @level and h == 1").iloc[0]
        assert row["mase"] == pytest.approx(np.mean(per_series), rel=1e-12), level
        assert row["mase_median"] == pytest.approx(np.median(per_series), rel=1e-12), level
        # and the skill of the naive forecast is its MASE over the best baseline's
        best = result.summary.query("level == @level and h == 1 and model in @models.BASELINES")["mase"].min()
        assert row["skill"] == pytest.approx(np.mean(per_series) / best)


@pytest.mark.slow
def test_shortfalls_and_json(result: bt.Backtest, tmp_path: Path) -> None:
    s = result.summary
    ens = s[s["model"] == ENSEMBLE]
    expected = {(r["level"], int(r["h"])) for r in ens.to_dict("records") if r["skill"] >= 1}
    assert {(x["level"], x["h"]) for x in result.shortfalls()} == expected
    data = result.to_dict()
    assert len(data["summary"]) == len(s)
    written = result.to_json(tmp_path / "bt.json")
    assert written.read_text().startswith("{")


@pytest.mark.slow
def test_html_report_is_self_contained(result: bt.Backtest, tmp_path: Path) -> None:
    path = bt.report_html(result, tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://", text)
    assert "<script" not in text and "<link" not in text and " src=" not in text
    assert text.count("<caption>") >= 3  # a table per level (and the shortfalls, if any)
    assert text.count("<svg") == text.count("<title id=")  # every chart has a title
    assert 'class="best"' in text
    for area in ("XX", "XX02"):  # the country and the largest region get fan charts
        assert f"{area}: ensemble forecasts" in text


@pytest.mark.slow
def test_models_subset_keeps_the_baselines(panel: tuple[pd.DataFrame, Hierarchy]) -> None:
    frame, tree = panel
    out = bt.backtest(frame, None, tree, ["2021-09"], 1, models=["theta"], levels=["adm1"])
    assert set(out.summary["model"]) == {*models.BASELINES, "theta"}
    assert set(out.summary["level"]) == {"adm1"}


def test_the_last_target_month_must_be_in_the_panel(panel: tuple[pd.DataFrame, Hierarchy]) -> None:
    frame, tree = panel
    with pytest.raises(bt.BacktestError, match="run to 2022-01"):
        bt.backtest(frame, None, tree, ["2021-11"], 2)
    with pytest.raises(bt.BacktestError, match="unknown model"):
        bt.backtest(frame, None, tree, ["2021-03"], 2, models=["prophet"])
    with pytest.raises(bt.BacktestError, match="unknown level"):
        bt.backtest(frame, None, tree, ["2021-03"], 2, levels=["adm4"])
