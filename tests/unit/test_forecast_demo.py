"""Forecasts on Demoland end to end: every model at every level, coherence, no leakage, the CLI contract.

Fitting is the slow part (statsforecast compiles with numba on first use), so the store and one full
``fit_predict`` are built once for the module and the other tests reuse them.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from onthemove.cli import main as cli_main
from onthemove.cli.main import app
from onthemove.demo import load_demo
from onthemove.foresight import models
from onthemove.foresight.forecast import ForecastError, fit_predict, forecast, inputs
from onthemove.foresight.reconcile import coherence_gap
from onthemove.foresight.series import monthly_panel
from onthemove.store import Store, open_store

pytestmark = [pytest.mark.duckdb, pytest.mark.slow]

ORIGIN = "2026-06"
HORIZON = 3
PERIODS = ["2026-07", "2026-08", "2026-09"]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("demo") / "store"
    store = open_store(where)
    try:
        load_demo(store, directory=tmp_path_factory.mktemp("demo-files"))
    finally:
        store.close()
    return where


@pytest.fixture(scope="module")
def demo(demo_dir: Path) -> Iterator[Store]:
    store = open_store(demo_dir)
    yield store
    store.close()


@pytest.fixture(scope="module")
def result(demo: Store) -> pd.DataFrame:
    data = inputs(demo, "movements", ORIGIN)
    return fit_predict(data.panel, data.drivers, data.hierarchy, ORIGIN, HORIZON, interval=80)


def test_every_model_forecasts_every_series(result: pd.DataFrame, demo: Store) -> None:
    assert list(result.columns) == ["unique_id", "level", "ds", "model", "mean", "lo", "hi"]
    expected = {*models.MODELS, "ensemble", "ensemble_base"}
    assert set(result["model"]) == expected
    series = monthly_panel(demo, "movements", ORIGIN)["unique_id"].nunique()
    assert series == 37  # Demoland: 1 country, 6 regions, 30 districts
    for name, part in result.groupby("model"):
        assert len(part) == series * HORIZON, name
        assert sorted(part["ds"].dt.strftime("%Y-%m").unique()) == PERIODS
    values = result[["mean", "lo", "hi"]].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    assert (result["lo"] <= result["mean"]).all() and (result["mean"] <= result["hi"]).all()
    assert result.groupby("level")["unique_id"].nunique().to_dict() == {"adm0": 1, "adm1": 6, "adm2": 30}


def test_ensemble_is_coherent_across_the_hierarchy(result: pd.DataFrame, demo: Store) -> None:
    data = inputs(demo, "movements", ORIGIN)
    coherent = result[result["model"] == "ensemble"]
    assert coherence_gap(coherent, data.hierarchy) < 1e-6
    assert coherence_gap(result[result["model"] == "ensemble_base"], data.hierarchy) > 1e-3
    mean = coherent.set_index(["unique_id", "ds"])["mean"]
    region_of = {u: u[:4] for u in coherent["unique_id"] if len(u) == 6}
    for ds in coherent["ds"].unique():
        districts = coherent[(coherent["level"] == "adm2") & (coherent["ds"] == ds)]
        by_region = districts.groupby(districts["unique_id"].map(region_of))["mean"].sum()
        for region, total in by_region.items():
            assert total == pytest.approx(mean[(region, ds)], rel=1e-6)
        assert by_region.sum() == pytest.approx(mean[("XD", ds)], rel=1e-6)


def test_forecast_uses_nothing_after_the_origin(result: pd.DataFrame, demo_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "store"
    shutil.copytree(demo_dir, copy)
    store = open_store(copy)
    try:
        before = monthly_panel(store, "movements", "2026-10")
        with store.transaction():
            store.execute("UPDATE movements SET count = count * 10 WHERE date > $d", {"d": "2026-06-30"})
            store.execute("UPDATE driver_events SET value = value + 500 WHERE date > $d", {"d": "2026-06-30"})
            store.execute(
                "INSERT INTO driver_events (batch_id, place, date, driver, indicator, value) "
                "VALUES ('test', 'XD0101', DATE '2026-07-15', 'conflict', 'events', 40), "
                "('test', 'XD01', DATE '2026-08-01', 'rainfall', 'rainfall_mm', 900)"
            )
        after = monthly_panel(store, "movements", "2026-10")
        assert after["y"].sum() > before["y"].sum()  # the change is real...
        table = forecast(store, kind="movements", level="adm1", origin=ORIGIN, horizon=HORIZON)
    finally:
        store.close()
    # ...and the forecast from the origin is bit for bit the one made before it
    expected = result[(result["model"] == "ensemble") & (result["level"] == "adm1")]
    assert table["place"].tolist() == expected["unique_id"].tolist()
    assert table["period"].tolist() == expected["ds"].dt.strftime("%Y-%m").tolist()
    for c in ("mean", "lo", "hi"):
        assert table[c].to_numpy().tobytes() == expected[c].to_numpy().tobytes(), c


def test_backtest_inputs_built_once_give_the_same_forecast(result: pd.DataFrame, demo: Store) -> None:
    """A backtest builds the panel and drivers at its last month and forecasts from earlier origins."""
    late = inputs(demo, "movements", "2026-10")
    again = fit_predict(late.panel, late.drivers, late.hierarchy, ORIGIN, HORIZON, models=["naive", "lgbm"])
    assert set(again["model"]) == {"naive", "lgbm"}
    for name in ("naive", "lgbm"):
        mine = again[again["model"] == name].reset_index(drop=True)
        theirs = result[result["model"] == name].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, theirs)


def test_one_model_instead_of_the_ensemble(demo: Store) -> None:
    table = forecast(demo, kind="displacement", level="adm0", origin=ORIGIN, horizon=2, model="snaive")
    assert table["place"].tolist() == ["XD", "XD"] and table["period"].tolist() == PERIODS[:2]
    stocks = monthly_panel(demo, "displacement", ORIGIN)
    country = stocks[stocks["unique_id"] == "XD"].set_index("ds")["y"]
    # reconciled seasonal naive: districts' values of a year before, summed (the country's own, as it is coherent)
    assert table["mean"].tolist() == pytest.approx(
        [country[pd.Timestamp("2025-07-01")], country[pd.Timestamp("2025-08-01")]]
    )
    with pytest.raises(ForecastError, match="unknown model"):
        forecast(demo, model="prophet")


# --- the command line ----------------------------------------------------------------------------------------


@pytest.fixture
def run(demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.chdir(tmp_path)  # no onthemove.toml from the working directory
    for name in ("CONFIG", "STORE"):
        monkeypatch.delenv(f"ONTHEMOVE_{name}", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        try:
            return runner.invoke(app, ["--store", str(demo_dir), "forecast", *args])
        finally:
            store, cli_main.state._store = cli_main.state._store, None
            if store is not None:
                store.close()

    yield invoke


def test_cli_prints_the_contract(run: Any, demo: Store) -> None:
    done = run("--kind", "movements", "--level", "adm1", "--origin", ORIGIN, "--horizon", "2", "--format", "csv")
    assert done.exit_code == 0, (done.stdout, done.stderr)
    lines = done.stdout.splitlines()
    assert lines[0] == "place,period,mean,lo,hi"
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    regions = sorted(r[0] for r in demo.fetch("SELECT pcode FROM places WHERE admin_level = 1"))
    assert len(rows) == 2 * len(regions) == 12
    assert sorted({r["place"] for r in rows}) == regions
    assert {r["period"] for r in rows} == set(PERIODS[:2])
    for r in rows:
        lo, mean, hi = float(r["lo"]), float(r["mean"]), float(r["hi"])
        assert 0 <= lo <= mean <= hi, r


def test_cli_formats_and_one_model(run: Any) -> None:
    done = run("--level", "adm0", "--origin", ORIGIN, "--horizon", "1", "--format", "json", "--model", "naive")
    assert done.exit_code == 0, done.stderr
    assert [set(r) for r in json.loads(done.stdout)] == [{"place", "period", "mean", "lo", "hi"}]
    table = run("--level", "adm0", "--origin", ORIGIN, "--horizon", "1", "--format", "table", "--model", "naive")
    assert table.exit_code == 0 and "XD" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--level", "adm3"], "unknown level 'adm3'"),
        (["--origin", "2027-01"], "after the last month of movements data (2026-10)"),
        (["--origin", "2020-01"], "before the first month of movements data (2023-11)"),
        (["--origin", "2024-02"], "too little history"),
        (["--origin", "June"], "YYYY-MM"),
        (["--horizon", "0"], "horizon is 1 to 12"),
        (["--horizon", "13"], "horizon is 1 to 12"),
        (["--interval", "120"], "interval"),
        (["--kind", "sites"], "cannot forecast 'sites'"),
        (["--model", "prophet"], "unknown model"),
        (["--format", "xml"], "--format must be"),
    ],
)
def test_cli_errors_are_clear(run: Any, args: list[str], message: str) -> None:
    done = run(*args)
    assert done.exit_code == 1, done.stdout
    assert message in done.stderr
    assert done.stdout == ""
