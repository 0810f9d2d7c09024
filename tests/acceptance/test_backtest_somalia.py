"""The rolling-origin backtest on the Somalia case study (PRMN arrivals by region), skipped without ../shared.

Origins every third month over 2020-2021 (2020-01 to 2021-09, seven origins), one to three months ahead, at
country and region level. The test checks that the table is complete and its figures sane, and records them
(``-s`` prints them; ``record_property`` keeps them in a JUnit report). It does not assert that the ensemble
wins: where it does not beat the best baseline, that is a finding to report (``bench/forecast_accuracy.py``
runs every month and prints it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from onthemove.foresight import backtest as bt
from onthemove.foresight import models
from onthemove.store import Store

pytestmark = [pytest.mark.acceptance, pytest.mark.slow, pytest.mark.duckdb]

LEVELS = ("adm0", "adm1")
HORIZON = 3
EVERY = 3
ORIGINS = ["2020-01", "2020-04", "2020-07", "2020-10", "2021-01", "2021-04", "2021-07"]
ALL = {*models.MODELS, "ensemble", "ensemble_base"}


@pytest.fixture(scope="module")
def somalia(somalia_store: Store) -> Store:
    """The case study, loaded once per session (tests/acceptance/conftest.py)."""
    return somalia_store


@pytest.fixture(scope="module")
def result(somalia: Store) -> bt.Backtest:
    return bt.run(somalia, "movements", "2020-01", "2021-09", HORIZON, every=EVERY, levels=LEVELS)


def test_backtest_table_is_complete_and_sane(
    shared_data: Path, result: bt.Backtest, tmp_path: Path, record_property: Callable[[str, Any], None]
) -> None:
    s = result.summary
    assert result.meta["origins"] == ORIGINS
    assert set(zip(s["model"], s["level"], s["h"], strict=True)) == {
        (mo, lv, h) for mo in ALL for lv in LEVELS for h in range(1, HORIZON + 1)
    }
    assert len(s) == len(ALL) * len(LEVELS) * HORIZON
    series = s.groupby("level")["n_series"].max().to_dict()
    assert series == {"adm0": 1, "adm1": 18}  # the country and Somalia's 18 regions
    assert (s["n_forecasts"] == s["level"].map(series) * len(ORIGINS)).all()
    for c in ("mase", "mase_median", "smape", "mae", "coverage", "width", "skill"):
        assert np.isfinite(s[c].to_numpy(dtype="float64")).all(), c
    assert s["coverage"].between(0, 1).all()
    assert s["smape"].between(0, 200).all()
    assert (s["mase"] >= 0).all()
    # the best baseline has skill 1 at every level and horizon, by definition
    for (_level, _h), part in s.groupby(["level", "h"]):
        assert part.loc[part["model"].isin(models.BASELINES), "skill"].min() == pytest.approx(1.0)
    # the figures, recorded: ensemble against the best baseline, and where the ensemble does not beat it
    ens = s[s["model"] == "ensemble"]
    lines = ["level h  ensemble MASE  best baseline          MASE  skill  coverage"]
    for r in ens.itertuples():
        base = s[(s["level"] == r.level) & (s["h"] == r.h) & (s["model"] == r.best_baseline)]["mase"].iloc[0]
        lines.append(
            f"{r.level:<5} {r.h}  {r.mase:13.3f}  {r.best_baseline:<16} {base:10.3f}  {r.skill:5.2f}  {r.coverage:8.0%}"
        )
    print("\n" + "\n".join(lines))
    shortfalls = result.shortfalls()
    print("ensemble does not beat the best baseline at:", [(x["level"], x["h"], x["skill"]) for x in shortfalls])
    record_property("backtest_summary", json.dumps(bt.summary_rows(s)))
    record_property("backtest_shortfalls", json.dumps(shortfalls))
    assert all(math.isfinite(x["skill"]) for x in shortfalls)
    report = bt.report_html(result, tmp_path / "somalia.html")
    text = report.read_text(encoding="utf-8")
    assert "Somalia (SO)" in text and "https://" not in text and "http://" not in text
