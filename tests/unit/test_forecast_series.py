"""Foresight inputs: monthly panels over the admin hierarchy, the summing structure, driver features by place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.helpers import MOVEMENTS, PCODES, STOCKS, write

from onthemove.foresight.series import (
    SeriesError,
    driver_features,
    hierarchy,
    monthly_panel,
    parse_month,
    recompute_anomalies,
)
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.store import Store, open_store

pytestmark = pytest.mark.duckdb

# arrivals recorded at a region (no district given): they belong to the region but to none of its districts
AT_REGION = """Date,Region,People
#date+reported,#adm1+code,#affected+idps
2024-02-29,XT02,5
"""
# rainfall for one region (three years of January, to have a climatology), conflict in one district
DRIVERS = """Month,Place,Driver,Indicator,Value
#date+occurred,#adm+code,#event+type,#indicator+code,#indicator+value
2022-01-15,XT01,rainfall,rainfall_mm,10
2023-01-15,XT01,rainfall,rainfall_mm,20
2024-01-15,XT01,rainfall,rainfall_mm,60
2024-02-15,XT01,rainfall,rainfall_mm,50
2024-01-03,XT0101,conflict,events,1
2024-01-20,XT0101,conflict,events,1
2024-02-11,XT0201,conflict,events,1
2024-01-20,XT0101,conflict,fatalities,4
2024-01-01,XTL,price,maize_price_index,100
2024-02-01,XTL,price,maize_price_index,110
"""
LATER = """Month,Place,Driver,Indicator,Value
#date+occurred,#adm+code,#event+type,#indicator+code,#indicator+value
2025-01-15,XT01,rainfall,rainfall_mm,0
2025-01-15,XT0102,conflict,events,9
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    files = tmp_path_factory.mktemp("files")
    store = open_store(tmp_path_factory.mktemp("store"))
    load_pcodes(store, write(files, "pcodes.csv", PCODES))
    for name, text, kind in (
        ("moves.csv", MOVEMENTS, "movements"),
        ("stocks.csv", STOCKS, "displacement"),
        ("region.csv", AT_REGION, "movements"),
        ("drivers.csv", DRIVERS, "driver_events"),
    ):
        report = ingest(store, write(files, name, text), kind=kind)
        assert report.rows_rejected == 0, (name, report.rejections)
    yield store
    store.close()


def _values(panel: pd.DataFrame, uid: str) -> dict[str, float]:
    rows = panel[panel["unique_id"] == uid]
    return {f"{d:%Y-%m}": float(y) for d, y in zip(rows["ds"], rows["y"], strict=True)}


def test_flows_zero_filled_from_first_month_and_summed_up_the_hierarchy(tiny: Store) -> None:
    panel = monthly_panel(tiny, "movements", "2024-03")
    assert list(panel.columns) == ["unique_id", "ds", "y", "level"]
    assert _values(panel, "XT0101") == {"2024-01": 100, "2024-02": 120, "2024-03": 0}
    assert _values(panel, "XT0102") == {"2024-01": 50, "2024-02": 0, "2024-03": 0}
    assert _values(panel, "XT0202") == {"2024-02": 7, "2024-03": 11}  # starts at its first record
    # the region's own record goes to its remainder leaf; the region is its districts plus that
    assert _values(panel, "XT02/unassigned") == {"2024-02": 5, "2024-03": 0}
    assert _values(panel, "XT02") == {"2024-01": 30, "2024-02": 12, "2024-03": 11}
    assert _values(panel, "XT01") == {"2024-01": 150, "2024-02": 120, "2024-03": 0}
    assert _values(panel, "XTL") == {"2024-01": 180, "2024-02": 132, "2024-03": 11}
    levels = dict(zip(panel["unique_id"], panel["level"], strict=False))
    assert levels["XTL"] == "adm0" and levels["XT01"] == "adm1" and levels["XT0101"] == "adm2"
    assert levels["XT02/unassigned"] == "adm2"
    # totals agree with the query layer
    assert panel[panel["unique_id"] == "XTL"]["y"].sum() == 323


def test_panel_ends_at_the_origin_and_zero_fills_to_it(tiny: Store) -> None:
    panel = monthly_panel(tiny, "movements", "2024-02")
    assert panel["ds"].max() == pd.Timestamp("2024-02-01")
    assert _values(panel, "XTL") == {"2024-01": 180, "2024-02": 132}
    later = monthly_panel(tiny, "movements", "2024-05")
    assert _values(later, "XT0202") == {"2024-02": 7, "2024-03": 11, "2024-04": 0, "2024-05": 0}
    with pytest.raises(SeriesError, match="no movements recorded up to 2023-12"):
        monthly_panel(tiny, "movements", "2023-12")
    with pytest.raises(SeriesError, match="cannot forecast"):
        monthly_panel(tiny, "sites", "2024-02")


def test_stocks_take_the_latest_report_and_carry_it_forward(tiny: Store) -> None:
    panel = monthly_panel(tiny, "displacement", "2024-03")
    # XT0101: two January reports (1,000 then 1,100): the latest counts, not the sum
    assert _values(panel, "XT0101") == {"2024-01": 1100, "2024-02": 900, "2024-03": 900}
    assert _values(panel, "XT0201") == {"2024-01": 500, "2024-02": 500, "2024-03": 500}
    assert _values(panel, "XTL") == {"2024-01": 1600, "2024-02": 1400, "2024-03": 1400}


def test_hierarchy_sums_leaves_to_every_level(tiny: Store) -> None:
    panel = monthly_panel(tiny, "movements", "2024-03")
    tree = hierarchy(tiny, panel)
    assert tree.ids[0] == "XTL"
    assert set(tree.bottom) == {"XT0101", "XT0102", "XT0201", "XT0202", "XT02/unassigned"}
    assert tree.ids[-len(tree.bottom) :] == tree.bottom
    assert tree.S.shape == (8, 5)
    assert np.array_equal(tree.S[-5:], np.eye(5))
    assert tree.tags["adm1"] == ["XT01", "XT02"]
    assert tree.check(panel) == 0.0
    # an earlier origin: a series without data drops out and its region is a sum of fewer leaves
    smaller = tree.restrict(monthly_panel(tiny, "movements", "2024-01")["unique_id"])
    assert set(smaller.bottom) == {"XT0101", "XT0102", "XT0201"}
    assert smaller.S.shape == (6, 3)
    frame = tree.S_df()
    assert list(frame.columns) == ["unique_id", *tree.bottom]


def test_drivers_align_by_place_across_levels(tiny: Store) -> None:
    panel = monthly_panel(tiny, "movements", "2024-02")
    ids = hierarchy(tiny, panel).ids
    feats = driver_features(tiny, "2024-02", ids).set_index(["unique_id", "ds"])
    jan, feb = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")
    # rainfall recorded for region XT01: the region and its districts; the country averages what it holds
    for uid in ("XT01", "XT0101", "XT0102", "XTL"):
        assert feats.loc[(uid, jan), "rainfall_mm"] == 60, uid
    # a region without rainfall records takes the nearest area up the chain that has some (the country)
    assert feats.loc[("XT0201", feb), "rainfall_mm"] == 50
    # conflict events recorded by district add up to the region and the country; districts without are 0
    assert feats.loc[("XT0101", jan), "conflict_events"] == 2
    assert feats.loc[("XT0102", jan), "conflict_events"] == 0
    assert feats.loc[("XT01", jan), "conflict_events"] == 2
    assert feats.loc[("XT02", feb), "conflict_events"] == 1
    assert feats.loc[("XTL", jan), "conflict_events"] == 2 and feats.loc[("XTL", feb), "conflict_events"] == 1
    assert feats.loc[("XT0101", jan), "conflict_fatalities"] == 4
    # a driver recorded for the country applies to every area inside; remainder leaves take their area's value
    assert feats.loc[("XT0202", feb), "price_maize_price_index"] == 110
    assert feats.loc[("XT02/unassigned", feb), "conflict_events"] == 1
    assert feats.loc[("XT0101", feb), "conflict_events_3m"] == pytest.approx(1.0)  # (2 + 0) / 2 months so far
    assert "conflict_events_anom" not in feats.columns  # counts get no climatology; averages do
    assert {"rainfall_mm_anom", "price_maize_price_index_anom"} <= set(feats.columns)


def test_anomaly_uses_only_data_up_to_the_origin(tiny: Store, tmp_path: Path) -> None:
    jan = pd.Timestamp("2024-01-01")
    before = driver_features(tiny, "2024-02", ["XT0101"]).set_index(["unique_id", "ds"])
    # January climatology from 2022-2024 only: (10 + 20 + 60) / 3 = 30
    assert before.loc[("XT0101", jan), "rainfall_mm_anom"] == pytest.approx(60 - 30)
    assert before.index.get_level_values("ds").max() == pd.Timestamp("2024-02-01")
    report = ingest(tiny, write(tmp_path, "later.csv", LATER), kind="driver_events")
    assert report.rows_loaded == 2
    again = driver_features(tiny, "2024-02", ["XT0101"]).set_index(["unique_id", "ds"])
    pd.testing.assert_frame_equal(before, again)
    # from an origin after the new January the climatology includes it: (10 + 20 + 60 + 0) / 4 = 22.5
    after = driver_features(tiny, "2025-01", ["XT0101"])
    assert after.set_index(["unique_id", "ds"]).loc[("XT0101", jan), "rainfall_mm_anom"] == pytest.approx(37.5)
    # recomputing from the later features at the earlier origin gives the earlier features back
    redone = recompute_anomalies(after, pd.Timestamp("2024-02-01")).set_index(["unique_id", "ds"])
    pd.testing.assert_frame_equal(before, redone[before.columns])


def test_parse_month() -> None:
    assert f"{parse_month('2020-06'):%Y-%m-%d}" == "2020-06-01"
    for bad in ("2020-13", "June 2020", "2020/06", ""):
        with pytest.raises(SeriesError, match="YYYY-MM"):
            parse_month(bad)
