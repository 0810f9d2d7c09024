"""INFORM GRI 2020 recomputed from its components, and the Somalia index on the case study's store (real data in
../shared/data; skipped when it is absent).

Every aggregate of all 191 countries equals the published value at one decimal; a miss would have to be explained
by the rounding of the published inputs, and the number of misses it cannot explain must be 0. The figures are
printed (pytest -s) and written to docs/indices.md by hand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from onthemove.foresight.index import Comparison, compare, compute, load_definition, read_table, somalia_inputs
from onthemove.store import Store

pytestmark = pytest.mark.acceptance

AGGREGATES = [
    "Natural",
    "Human",
    "HAZARD & EXPOSURE",
    "Socio-Economic Vulnerability",
    "Other Vulnerable Groups",
    "Vulnerable Groups",
    "VULNERABILITY",
    "Institutional",
    "Infrastructure",
    "LACK OF COPING CAPACITY",
    "INFORM RISK",
]
# exact arithmetic (no rounding between levels) from the components: misses per aggregate, all within reach of
# inputs that were themselves rounded to one decimal
EXACT_MISSES = {"HAZARD & EXPOSURE": 31, "Vulnerable Groups": 24, "VULNERABILITY": 39}
EXACT_MISSES |= {"LACK OF COPING CAPACITY": 48, "INFORM RISK": 44}


@pytest.fixture
def inform(shared_data: Path) -> pd.DataFrame:
    return read_table(shared_data / "inform/inform_gri_2020_v040.csv")


def _report(label: str, done: Comparison) -> None:
    print(f"\n{label}: {done.matched} of {done.compared} match; {len(done.misses)} misses, ", end="")
    print(f"{len(done.unexplained)} unexplained")
    for n in done.nodes:
        print("  ", n.to_dict())
    for m in done.misses:
        print("   miss", m.to_dict())


@pytest.mark.parametrize("stepwise", [False, True], ids=["from-components", "stepwise"])
def test_inform_2020_every_aggregate_of_191_countries(inform: pd.DataFrame, stepwise: bool) -> None:
    definition = load_definition("inform_risk_2020")
    done = compare(definition, inform, stepwise=stepwise)
    _report(f"INFORM 2020, rounding at each level, {'stepwise' if stepwise else 'from the components'}", done)
    assert [n.node for n in done.nodes] == AGGREGATES
    assert all(n.compared == 191 for n in done.nodes)
    assert done.compared == 11 * 191 == 2101
    assert done.unexplained == []  # the number of misses input rounding does not explain is 0
    assert all(m.explained for m in done.misses)
    assert done.matched == 2101  # and in fact there are none: INFORM's own arithmetic is reproduced


def test_inform_2020_in_exact_arithmetic_misses_are_all_input_rounding(inform: pd.DataFrame) -> None:
    """Without rounding between levels 186 aggregates differ by 0.1; each is reachable with the components moved
    within their own rounding (+-0.05), so the comparison cannot tell them from noise - but only rounding at each
    level reproduces all 2,101."""
    definition = load_definition("inform_risk_2020").without_rounding()
    done = compare(definition, inform)
    _report("INFORM 2020, exact arithmetic from the components", done)
    assert {n.node: n.explained + n.unexplained for n in done.nodes if n.explained + n.unexplained} == EXACT_MISSES
    assert done.unexplained == []
    for m in done.misses:
        assert m.published is not None and m.computed is not None
        assert abs(round(m.computed, 1) - m.published) <= 0.1 + 1e-9


def test_inform_2020_values(inform: pd.DataFrame) -> None:
    out = compute(load_definition("inform_risk_2020"), inform).set_index("ISO3")
    assert len(out) == 191
    afg = out.loc["AFG"]
    assert (afg["Natural"], afg["Human"], afg["HAZARD & EXPOSURE"], afg["INFORM RISK"]) == (6.5, 10.0, 8.8, 8.0)
    assert out.loc["ALB", "COUNTRY"] == "Albania"
    assert out["INFORM RISK"].between(0, 10).all()


@pytest.mark.slow
def test_somalia_district_index_on_the_case_study(somalia_store: Store, tmp_path: Path) -> None:
    inputs = somalia_inputs(somalia_store)
    assert inputs.attrs["start"] == "2021-01-01" and inputs.attrs["end"] == "2021-12-31"
    assert len(inputs) == 74  # the COD-AB districts, all of them with PRMN arrivals
    assert inputs["arrivals"].sum() == 874_037 - 6_233  # 2021's arrivals less those kept at region level
    assert inputs["rainfall_deficit_pct"].nunique() == 1 and 15 < inputs["rainfall_deficit_pct"].iloc[0] < 25
    banadir = inputs.set_index("pcode").loc["SO2201"]
    assert banadir["idp_sites"] == 1835  # the Mogadishu sites kept at region level, placed by their site code
    index = compute(load_definition("somalia_displacement_risk"), inputs)
    risk = index.set_index("pcode")["DISPLACEMENT RISK"]
    assert risk.notna().sum() == 45  # the districts with an assessed site
    assert risk.dropna().between(0, 10).all()
    top = list(risk.sort_values(ascending=False).index[:3])
    print("\nSomalia displacement risk, top districts:", top, risk.sort_values(ascending=False).head(10).round(2))
    assert "SO2201" in top  # Banadir (Mogadishu): most arrivals, most people in sites
