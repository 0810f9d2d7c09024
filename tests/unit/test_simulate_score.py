"""ARD and MASE exactly as Flee's validation script computes them; spawning from observed totals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from onthemove.foresight.simulate.rules import FLEE3
from onthemove.foresight.simulate.score import calculate_mase, flee_out_ard, rescaled, score
from onthemove.foresight.simulate.spawn import conflict_decay, observed_spawns, spawn_weights


def test_ard_by_hand() -> None:
    sim = np.asarray([[10.0, 30.0], [50.0, 50.0], [0.0, 0.0]])
    obs = np.asarray([[20.0, 20.0], [30.0, 60.0], [5.0, 5.0]])
    # day 0: rescaled to 40 people: 10, 30 -> |10-20| + |30-20| = 20, / 40 = 0.5
    # day 1: rescaled to 90: 45, 45 -> 15 + 15 = 30, / 90 = 1/3
    # day 2: nobody simulated in camps: no rescaling, 0 -> 5 + 5 = 10, / 10 = 1
    s = score(sim, obs, ["a", "b"])
    assert s.ard_by_day.tolist() == pytest.approx([0.5, 1 / 3, 1.0])
    assert s.ard == pytest.approx((0.5 + 1 / 3 + 1.0) / 3)
    assert sum(s.ard_by_camp.values()) == pytest.approx(s.ard)
    assert s.ard_unscaled == pytest.approx((20 / 40 + 30 / 90 + 10 / 10) / 3)
    assert s.window(1) == pytest.approx((1 / 3 + 1.0) / 2)


def test_days_without_refugees_have_no_camp_total() -> None:
    """Flee's run.py writes the UNHCR camp total as 0 when its running total is not positive."""
    sim = np.asarray([[1.0, 1.0], [2.0, 2.0]])
    obs = np.asarray([[4.0, 0.0], [3.0, 1.0]])
    raw = np.asarray([0, 5])
    r = rescaled(sim, obs, raw)
    assert r[0].tolist() == [0.0, 0.0] and r[1].tolist() == [2.0, 2.0]
    s = score(sim, obs, ["a", "b"], raw)
    assert s.ard_by_day.tolist() == pytest.approx([4.0, 2.0 / 4.0])


def test_mase_by_hand() -> None:
    actual = np.asarray([0.0, 2.0, 4.0, 6.0])
    forecast = np.asarray([1.0, 2.0, 3.0, 6.0])
    naive = np.full(4, 2.0)
    # forecast error: (1 + 0 + 1 + 0) / 4 = 0.5; naive error after day 1+1: (|4-2| + |6-2|) / 2 = 3
    assert calculate_mase(forecast, actual, naive, 1) == pytest.approx(0.5 / 3, abs=1e-4)


def test_mase_weighted_by_observations() -> None:
    days = 40
    obs = np.stack([np.linspace(0, 100, days), np.linspace(0, 300, days)], axis=1)
    s = score(obs * 1.1, obs, ["a", "b"])
    assert set(s.mase) == {"MASE7", "MASE7-sloped", "MASE7-ratio", "MASE30", "MASE30-sloped", "MASE30-ratio"}
    w = obs.sum(axis=0)
    expected = (s.mase_by_camp["a"]["MASE7"] * w[0] + s.mase_by_camp["b"]["MASE7"] * w[1]) / w.sum()
    assert s.mase["MASE7"] == pytest.approx(expected)


def test_observed_spawns_with_refugee_debt() -> None:
    total = np.asarray([100, 150, 120, 130, 170, 160])
    out = observed_spawns(total)
    # day 0: nobody (camps start full); +50; -30 owed; +10 - 30 < 0: still owed 20; +40 - 20 = 20; -10 owed
    assert out.new.tolist() == [0, 50, 0, 0, 20, 0]
    assert out.debt.tolist() == [0, 0, 30, 20, 0, 10]
    assert out.raw.tolist() == [100, 150, 120, 130, 170, 160]


def test_observed_spawns_with_a_lead() -> None:
    total = np.asarray([100, 150, 170, 200, 200])
    out = observed_spawns(total, lead=2)
    # those counted on days 1-2 leave on day 0; day t adds day t+2's increase; the last 2 days add nobody
    assert out.new.tolist() == [70, 30, 0, 0, 0]
    assert int(out.new.sum()) == int(total[-1] - total[0])


def test_spawn_weights_decay_per_thirty_days() -> None:
    since = np.asarray([0.0, 29.0, 30.0, 95.0, 200.0, -1.0])
    assert conflict_decay(FLEE3, since).tolist() == [1.0, 1.0, 1.0, 0.5, 0.1, 1.0]
    w = spawn_weights(
        FLEE3, np.asarray([100.0, 200.0, 300.0]), np.asarray([1.0, -1.0, 0.5]), np.asarray([0.0, 0.0, 0.0]), 100
    )
    assert w.tolist() == [50.0, 0.0, 75.0]


def test_flee_out_csv_ard(tmp_path: Path) -> None:
    """The ARD of a Flee out.csv, read with the columns Flee's script reads."""
    header = (
        "Day,Date,a sim,a data,a error,b sim,b data,b error,Total error,refugees in camps (UNHCR),"
        "total refugees (simulation),raw UNHCR refugee count,refugees in camps (simulation),refugee_debt"
    )
    rows = ["0,2020-01-01,10,20,0.5,30,20,0.5,0,40,40,40,40,0", "1,2020-01-02,50,30,0,50,60,0,0,90,100,90,100,0"]
    path = tmp_path / "out.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    assert flee_out_ard(str(path)) == pytest.approx((0.5 + 1 / 3) / 2)
