"""Forecasts on the Somalia case study (PRMN arrivals by district, national rainfall), skipped without ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from onthemove.foresight.forecast import forecast
from onthemove.store import Store

pytestmark = [pytest.mark.acceptance, pytest.mark.slow, pytest.mark.duckdb]

ORIGIN = "2020-12"
PERIODS = ["2021-01", "2021-02", "2021-03"]


@pytest.fixture(scope="module")
def somalia(somalia_store: Store) -> Store:
    """The case study, loaded once per session (tests/acceptance/conftest.py)."""
    return somalia_store


def test_regions_forecast_three_months_coherent_with_the_country(shared_data: Path, somalia: Store) -> None:
    regions = forecast(somalia, kind="movements", level="adm1", origin=ORIGIN, horizon=3)
    assert list(regions.columns) == ["place", "period", "mean", "lo", "hi"]
    assert len(regions) == 18 * 3
    assert regions["place"].nunique() == 18
    assert set(regions["place"]) <= {r[0] for r in somalia.fetch("SELECT pcode FROM places WHERE admin_level = 1")}
    assert sorted(regions["period"].unique()) == PERIODS
    assert (regions["lo"] >= 0).all()
    assert (regions["lo"] <= regions["mean"]).all() and (regions["mean"] <= regions["hi"]).all()
    country = forecast(somalia, kind="movements", level="adm0", origin=ORIGIN, horizon=3)
    assert country["place"].tolist() == ["SO"] * 3
    summed = regions.groupby("period")["mean"].sum()
    for period, total in zip(country["period"], country["mean"], strict=True):
        assert summed[period] == pytest.approx(total, rel=1e-6)
    # a sanity band: PRMN recorded 19,000 to 70,000 arrivals a month in January-March 2021 (38,000 in
    # December 2020, 151,000 in November); the forecast is of that order, not off by a factor of ten
    assert 10_000 < country["mean"].mean() < 200_000
