"""Allocation: tiny plans with a known optimum where greedy is provably worse, rules, infeasible and degenerate
specs, spec errors, outputs, and a property test (the plan never exceeds budget, stock, capacity or need; the
optimum is never worse than greedy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onthemove.respond.allocate import TOL, allocate, build_problem, greedy, sensitivity, solve
from onthemove.respond.needs import Needs, apply_rules, load_rules
from onthemove.respond.plan_output import write_plan
from onthemove.respond.plan_spec import PlanError, load_plan, parse_plan


def needs_of(rows: list[tuple[str, str, int]], people: dict[str, int], adm1: dict[str, str] | None = None) -> Needs:
    """Needs from (site, sector, phase) and each site's individuals (default rules: in need from phase 3)."""
    values = pd.DataFrame(
        [{"site_id": s, "sector": sec, "indicator": "severity", "value": v, "date": None} for s, sec, v in rows]
    )
    adm1 = adm1 or {}
    sites = pd.DataFrame(
        [
            {
                "site_id": s,
                "name": s,
                "place": adm1.get(s, "XT01"),
                "adm1": adm1.get(s, "XT01"),
                "adm2": None,
                "site_type": None,
                "households": None,
                "individuals": n,
                "latitude": 1.0 + i,
                "longitude": 2.0,
            }
            for i, (s, n) in enumerate(people.items())
        ]
    )
    return apply_rules(values, sites, load_rules())


def spec(budget: float, packages: list[dict[str, Any]], **more: Any) -> Any:
    return parse_plan({"budget": budget, "packages": packages, **more}, "test.yaml")


def kit(name: str, sector: str, cost: float, ppu: float = 1, **more: Any) -> dict[str, Any]:
    return {"name": name, "sector": sector, "unit_cost": cost, "people_per_unit": ppu, **more}


def test_whole_kits_beat_greedy_on_a_knapsack() -> None:
    # A: 6 people in phase 5, one kit of 6 for 6; B and C: 5 people in phase 4, one kit of 5 for 5 each. Budget 10.
    # Greedy by value per money takes A (5 per unit of money) and cannot afford another kit: 30. The optimum is B + C:
    # 40. The LP covers A and 4/5 of B: 46, which greedy matches when units may be fractional.
    needs = needs_of([("A", "food", 5), ("B", "wash", 4), ("C", "wash", 4)], {"A": 6, "B": 5, "C": 5})
    plan = spec(10, [kit("food_kit", "food", 6, 6), kit("wash_kit", "wash", 5, 5)])
    problem = build_problem(needs, plan)
    mip, lp = solve(problem), solve(problem, integer=False)
    assert mip.objective == pytest.approx(40) and mip.served_sites(problem) == {"B", "C"}
    assert mip.units.tolist() == [0, 1, 1] and mip.cost == pytest.approx(10)
    assert greedy(problem).objective == pytest.approx(30)
    assert lp.objective == pytest.approx(46) and greedy(problem, integer=False).objective == pytest.approx(46)
    assert mip.status == "Optimal" and mip.gap is not None and mip.gap <= 1e-4


def test_site_capacity_defeats_greedy_also_in_the_lp() -> None:
    # one site that can receive 10 units: cheap kits (3 per unit of money, 3 per unit of capacity) against dear ones
    # (2.5 per unit of money but 5 per unit of capacity); money is plentiful, capacity is not.
    needs = needs_of([("A", "food", 3), ("A", "wash", 5)], {"A": 10})
    plan = spec(100, [kit("cheap", "food", 1), kit("dear", "wash", 2)], site_capacity={"default": 10})
    problem = build_problem(needs, plan)
    for integer in (True, False):
        best, base = solve(problem, integer=integer), greedy(problem, integer=integer)
        assert best.objective == pytest.approx(50) and base.objective == pytest.approx(30)
    result = allocate(needs, plan)
    gain = result.summary()["gains"][0]
    assert gain["baseline"] == "greedy-ratio" and gain["gain"] == pytest.approx(50 / 30 - 1)


def test_stock_caps_and_coverage_caps() -> None:
    needs = needs_of([("A", "wash", 4), ("B", "wash", 3)], {"A": 100, "B": 100})
    plan = spec(10_000, [kit("wash_kit", "wash", 10, 6, stock=10)])
    result = allocate(needs, plan)
    assert result.best.units.sum() == 10 and result.best.covered.sum() == pytest.approx(60)
    by = result.plan().set_index("site_id")
    assert by.loc["A", "units"] == 10 and "B" not in by.index  # phase 4 first
    plenty = allocate(needs, spec(10_000, [kit("wash_kit", "wash", 10, 6)]))
    # 100 people need 17 kits of 6 (the last one covers 4): never more than the need
    assert plenty.best.units.tolist() == [17, 17] and plenty.best.covered.tolist() == [100, 100]


def test_unreachable_sites_and_sites_without_need_get_nothing() -> None:
    needs = needs_of([("A", "wash", 4), ("B", "wash", 4), ("C", "wash", 2)], {"A": 10, "B": 10, "C": 10}, {"B": "XT02"})
    result = allocate(needs, spec(1000, [kit("wash_kit", "wash", 1)], unreachable={"places": ["XT02"]}))
    assert result.best.served_sites(result.problem) == {"A"}
    assert result.problem.unreachable == ["B"]
    assert any("1 sites are unreachable" in n for n in result.notes)
    by_site = allocate(needs, spec(1000, [kit("wash_kit", "wash", 1)], unreachable={"sites": ["A", "Z"]}))
    assert by_site.best.served_sites(by_site.problem) == {"B"}
    assert any("not among the assessed sites: Z" in n for n in by_site.notes)


def test_minimum_coverage_and_minimum_budget_rules_hold() -> None:
    needs = needs_of(
        [("A", "wash", 5), ("B", "wash", 3), ("C", "wash", 3)],
        {"A": 100, "B": 100, "C": 100},
        {"A": "XT01", "B": "XT01", "C": "XT02"},
    )
    # without rules phase 5 takes everything; the rules force 10 to B (min_coverage on phase 3) and 30 to XT02
    rules = [
        {"min_coverage": {"severity": 3, "share": 0.1}},
        {"min_budget": {"per": "adm1", "share": 0.3}},
    ]
    result = allocate(needs, spec(100, [kit("wash_kit", "wash", 1)], rules=rules))
    got = dict(zip(result.problem.pairs["site_id"], result.best.covered, strict=True))
    assert got["B"] >= 10 - TOL and got["C"] >= 30 - TOL and sum(got.values()) == pytest.approx(100)
    assert got == {"A": pytest.approx(60), "B": pytest.approx(10), "C": pytest.approx(30)}
    place = allocate(
        needs, spec(100, [kit("wash_kit", "wash", 1)], rules=[{"min_budget": {"place": "XT02", "share": 0.5}}])
    )
    assert dict(zip(place.problem.pairs["site_id"], place.best.covered, strict=True))["C"] == pytest.approx(50)
    for base in result.baselines:
        assert base.notes == []  # greedy meets the rules too


def test_infeasible_rules_say_why() -> None:
    needs = needs_of([("A", "wash", 5), ("B", "wash", 5)], {"A": 100, "B": 100})
    rule = [{"min_coverage": {"severity": 5, "share": 0.5}}]
    with pytest.raises(PlanError, match=r"no feasible plan .*need USD 100 but the budget is USD 50"):
        allocate(needs, spec(50, [kit("wash_kit", "wash", 1)], rules=rule))
    with pytest.raises(PlanError, match="need 100 wash_kit units but the stock is 20"):
        allocate(needs, spec(500, [kit("wash_kit", "wash", 1, stock=20)], rules=rule))
    with pytest.raises(PlanError, match="delivery capacity of 2 sites"):
        allocate(needs, spec(500, [kit("wash_kit", "wash", 1)], rules=rule, site_capacity={"default": 10}))


def test_degenerate_plans() -> None:
    needs = needs_of([("A", "wash", 4)], {"A": 10})
    nothing = allocate(needs, spec(0, [kit("wash_kit", "wash", 1)]))
    assert nothing.best.objective == 0 and nothing.plan().empty and nothing.summary()["gains"][0]["gain"] is None
    gone = allocate(needs, spec(100, [kit("wash_kit", "wash", 1)], unreachable={"sites": ["A"]}))
    assert gone.best.objective == 0 and len(gone.problem.pairs) == 0 and gone.plan().empty
    calm = allocate(needs_of([("A", "wash", 2)], {"A": 10}), spec(100, [kit("wash_kit", "wash", 1)]))
    assert calm.plan().empty
    with pytest.raises(
        PlanError, match=r"packages\[0\].sector: 'food' is not a sector of the needs \(the assessments have wash\)"
    ):
        allocate(needs, spec(100, [kit("k", "food", 1)]))


def test_sensitivity_moves_the_budget() -> None:
    needs = needs_of(
        [(s, "wash", p) for s, p in zip("ABCDE", (5, 4, 4, 3, 3), strict=True)], dict.fromkeys("ABCDE", 10)
    )
    result = allocate(needs, spec(30, [kit("wash_kit", "wash", 1)]), with_sensitivity=True)
    assert result.best.served_sites(result.problem) == {"A", "B", "C"}
    rows = {r["change"]: r for r in result.sensitivity}
    assert set(rows) == {-0.2, -0.1, 0.1, 0.2}
    assert rows[-0.2]["budget"] == 24 and rows[-0.2]["leave"] == [] and rows[-0.2]["enter"] == []  # C gets 4
    assert rows[0.2]["objective"] == pytest.approx(50 + 80 + 6 * 3) and rows[0.2]["enter"] == ["D"]
    assert rows[0.2]["marginal"] == pytest.approx(3)
    assert sensitivity(result.problem, result.best, (0.5,))[0]["sites"] == 5
    assert sensitivity(result.problem, result.best, (-0.5,))[0]["leave"] == ["C"]


def test_weights_change_what_wins() -> None:
    needs = needs_of([("A", "wash", 5), ("B", "food", 3)], {"A": 10, "B": 10})
    plan = [kit("wash_kit", "wash", 2), kit("food_kit", "food", 1)]
    linear = allocate(needs, spec(10, plan))  # 5/2 = 2.5 per money against 3/1: food first
    assert linear.best.served_sites(linear.problem) == {"B"}
    convex = allocate(needs, spec(10, plan, weights={3: 1, 4: 3, 5: 9}))  # 9/2 against 1/1: wash first
    assert convex.best.served_sites(convex.problem) == {"A"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"packages": [kit("k", "wash", 1)]}, "budget: missing"),
        ({"budget": 10}, "packages: missing"),
        ({"budget": "lots", "packages": [kit("k", "wash", 1)]}, "budget: expected a number"),
        ({"budget": 10, "packages": []}, "packages: expected a list of packages"),
        ({"budget": 10, "packages": [{"name": "k", "sector": "wash"}]}, r"packages\[0\].unit_cost: missing"),
        ({"budget": 10, "packages": [kit("k", "wash", 0)]}, r"packages\[0\].unit_cost: expected a number above 0"),
        ({"budget": 10, "packages": [kit("k", "wash", 1), kit("k", "food", 1)]}, r"packages\[1\].name: another"),
        ({"budget": 10, "packages": [kit("k", "wash", 1, colour="red")]}, r"packages\[0\].colour: unknown key"),
        ({"budget": 10, "packages": [kit("k", "wash", 1)], "rules": [{"max_coverage": {}}]}, "unknown rule"),
        (
            {"budget": 10, "packages": [kit("k", "wash", 1)], "rules": [{"min_coverage": {"severity": 3, "share": 2}}]},
            r"rules\[0\].min_coverage.share: expected a share between 0 and 1",
        ),
        (
            {
                "budget": 10,
                "packages": [kit("k", "wash", 1)],
                "rules": [{"min_coverage": {"severity": 3, "share": 0.1, "packages": ["x"]}}],
            },
            "no package named 'x'; the plan has k",
        ),
        (
            {"budget": 10, "packages": [kit("k", "wash", 1)], "rules": [{"min_budget": {"share": 0.1}}]},
            "give exactly one of per: adm1|adm2 or place",
        ),
        ({"budget": 10, "packages": [kit("k", "wash", 1)], "solver": {"integer": "yes"}}, "solver.integer: expected"),
        ({"budget": 10, "packages": [kit("k", "wash", 1)], "weights": {7: 1}}, "weights.7: unknown key"),
        ({"budget": 10, "packages": [kit("k", "wash", 1)], "unreachable": {"sites": 5}}, "unreachable.sites: expected"),
    ],
)
def test_spec_errors_name_the_file_and_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError, match=f"test.yaml: .*{message}"):
        parse_plan(data, "test.yaml")


def test_plan_files(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read plan file"):
        load_plan(tmp_path / "missing.yaml")
    (tmp_path / "plan.yaml").write_text(
        "budget: 100\nneeds_rules: rules.yaml\npackages: [{name: k, sector: wash, unit_cost: 1}]\n"
    )
    loaded = load_plan(tmp_path / "plan.yaml")
    assert loaded.needs_rules == tmp_path / "rules.yaml" and loaded.name == "plan" and loaded.integer


def test_outputs(tmp_path: Path) -> None:
    needs = needs_of([("A", "wash", 4), ("B", "wash", 3), ("B", "food", 5)], {"A": 12, "B": 30})
    result = allocate(
        needs, spec(60, [kit("wash_kit", "wash", 2, 6), kit("cash", "food", 5, 6)]), with_sensitivity=True
    )
    csv = pd.read_csv(write_plan(result, tmp_path / "plan.csv"))
    assert set(csv.columns) >= {"site_id", "package", "units", "people_covered", "coverage", "cost", "currency"}
    assert csv["cost"].sum() <= 60
    sheets = pd.read_excel(write_plan(result, tmp_path / "plan.xlsx"), sheet_name=None)
    assert set(sheets) == {"plan", "packages", "summary", "vs greedy", "sensitivity"}
    geo = json.loads(write_plan(result, tmp_path / "plan.geojson").read_text())
    assert geo["type"] == "FeatureCollection" and {f["properties"]["site_id"] for f in geo["features"]} <= {"A", "B"}
    page = write_plan(result, tmp_path / "plan.html").read_text()
    assert "<svg" in page and "greedy-ratio" in page
    with pytest.raises(PlanError, match="expected a file ending in"):
        write_plan(result, tmp_path / "plan.pdf")


@st.composite
def instances(draw: Any) -> tuple[Needs, Any]:
    n_sites = draw(st.integers(1, 6))
    sectors = ["wash", "food", "shelter"]
    rows = [(f"S{i}", sec, draw(st.integers(1, 5))) for i in range(n_sites) for sec in sectors]
    people = {f"S{i}": draw(st.integers(0, 60)) for i in range(n_sites)}
    packages = [
        kit(
            f"p{j}",
            draw(st.sampled_from(sectors)),
            draw(st.integers(1, 30)),
            draw(st.integers(1, 7)),
            stock=draw(st.one_of(st.none(), st.integers(0, 20))),
        )
        for j in range(draw(st.integers(1, 3)))
    ]
    extra: dict[str, Any] = {}
    if draw(st.booleans()):
        extra["site_capacity"] = {"default": draw(st.integers(0, 15))}
    return needs_of(rows, people), spec(draw(st.integers(0, 400)), packages, **extra)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_plans_never_exceed_budget_stock_capacity_or_need(instance: tuple[Needs, Any]) -> None:
    needs, plan = instance
    problem = build_problem(needs, plan)
    lp = solve(problem, integer=False)
    for sol in (solve(problem), lp, greedy(problem), greedy(problem, order="rank"), greedy(problem, integer=False)):
        assert sol.cost <= plan.budget + 1e-6
        assert np.all(sol.covered <= problem.need + 1e-6)
        assert np.all(sol.covered <= sol.units * problem.ppu + 1e-6)
        used = np.bincount(problem.package, weights=sol.units, minlength=len(problem.stock))
        assert np.all(used <= problem.stock + 1e-6)
        per_site = np.bincount(problem.site, weights=sol.units, minlength=len(problem.capacity))
        assert np.all(per_site <= problem.capacity + 1e-6)
    mip = solve(problem)
    assert np.all(mip.units == np.round(mip.units))
    assert lp.objective >= greedy(problem, integer=False).objective - 1e-6
    assert lp.objective >= mip.objective - 1e-6
    assert mip.objective >= greedy(problem).objective * (1 - 2e-4) - 1e-6
