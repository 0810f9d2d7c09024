"""The results framework: the default file, extension files, their errors, periods and status rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onthemove.account import framework, values
from onthemove.account.framework import FrameworkError, Indicator, Status
from onthemove.account.periods import PeriodError, from_dates, parse_period
from onthemove.account.reported import rollup as _rollup
from onthemove.account.values import Figure

ROOT = Path(__file__).resolve().parents[2]


def test_default_framework_has_the_plan_architecture() -> None:
    fw = framework.load()
    assert [n.title for n in fw.top("objective")] == [
        "Saving lives and protecting people on the move",
        "Driving solutions to displacement",
        "Facilitating pathways for regular migration",
    ]
    assert [n.title for n in fw.top("enabler")] == [
        "Workforce",
        "Partnerships",
        "Funding",
        "Data and evidence",
        "Learning and innovation",
        "Communication",
        "Internal systems",
    ]
    assert [n.title for n in fw.top("cross_cutting")] == [
        "Integrity, transparency and accountability",
        "Equality, diversity and inclusion",
        "Protection-centred approaches",
        "Environmental sustainability",
    ]
    # every objective has outcome areas in the plan's words, and the SDG target the plan names is linked
    for obj in fw.top("objective"):
        areas = fw.children(obj.id)
        assert len(areas) >= 5 and all(a.kind == "outcome_area" and a.statement for a in areas)
    assert "SDG10.7" in fw.nodes["O3"].sdg and fw.sdg["SDG10.7"]["target"] == "10.7"
    assert all(i.computed for i in fw.indicators.values())


def test_every_statement_is_the_plans_own_wording() -> None:
    plan = ROOT.parent / "shared" / "seed" / "strategic-plan-2024-2028.md"
    if not plan.exists():
        pytest.skip(f"the plan is not at {plan}")
    text = " ".join(plan.read_text(encoding="utf-8").replace("**", "").split())
    fw = framework.load()
    for node in fw.top("objective") + fw.top("enabler") + fw.top("cross_cutting"):
        first = node.statement.split(";")[0].rstrip(".")
        assert first in text, (node.id, first)


def write(tmp: Path, text: str, name: str = "ext.yaml") -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def test_extension_adds_the_chain_and_replaces_an_indicator(tmp_path: Path) -> None:
    ext = write(
        tmp_path,
        """
nodes:
  - id: P1
    kind: project
    parent: O1.1
    title: A project
    children:
      - {id: P1.LTO, kind: long_term_outcome, title: Long}
      - id: P1.OUT
        kind: output
        title: Kits
        children: [{id: P1.ACT, kind: activity, title: Buy kits}]
indicators:
  - {code: P1-KITS, node: P1.OUT, name: Kits, targets: [{period: "2025", value: 10}]}
  - code: O1.4-DISP-NEW
    node: O1.4
    name: replaced
    numerator: {table: movements, value: people}
""",
    )
    fw = framework.load([ext])
    assert [n.id for n in fw.descendants("P1")] == ["P1.LTO", "P1.OUT", "P1.ACT"]
    assert [n.id for n in fw.path("P1.ACT")] == ["O1", "O1.1", "P1", "P1.OUT", "P1.ACT"]
    assert fw.indicators["P1-KITS"].reported and fw.indicators["P1-KITS"].targets[0].value == 10
    assert fw.indicators["O1.4-DISP-NEW"].name == "replaced"
    assert fw.indicators["O1.4-DISP-NEW"].source == str(ext)
    assert {n.id for n in fw.part("P1")} == {"P1", "P1.LTO", "P1.OUT", "P1.ACT"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nodes: [{id: X, kind: output, title: t}]", "nodes[0] (X).parent: expected the id of the node above a output"),
        ("nodes: [{id: X, kind: output, parent: NOPE, title: t}]", "expected the id of a node defined before it"),
        ("nodes: [{id: X, kind: objective, parent: O1, title: t}]", "expected a kind that can sit below"),
        ("nodes: [{id: O1, kind: objective, title: t}]", "expected an id not used before"),
        ("nodes: [{id: X, kind: outcome_area, parent: O1.1, title: t}]", "expected a kind below outcome_area"),
        ("nodes: [{id: X, kind: widget, parent: O1, title: t}]", "kind: expected one of objective"),
        ("nodes: [{id: X, kind: output, parent: O1.1}]", "title: expected a value (it is required)"),
        ("indicators: [{code: I, node: NOPE, name: n}]", "node: expected the id of a framework node"),
        (
            "indicators: [{code: I, node: O1, name: n, numerator: {table: movements, value: sites}}]",
            "numerator.value: expected one of people, records",
        ),
        (
            "indicators: [{code: I, node: O1, name: n, numerator: {table: movements, where: {colour: red}}}]",
            "numerator.where.colour: expected a column of movements",
        ),
        (
            "indicators: [{code: I, node: O1, name: n, numerator: {table: sites}, aggregation: sum, "
            "denominator: {table: sites}}]",
            "aggregation: expected ratio",
        ),
        ("indicators: [{code: I, node: O1, name: n, targets: [{period: '2025-13', value: 1}]}]", "month 13"),
        ("indicators: [{code: I, node: O1, name: n, baseline: {period: '2025'}}]", "baseline.value: expected"),
        ("indicators: [{code: I, node: O1, name: n, children: [J]}]", "children: no indicator 'J'"),
        ("indicators: [{code: I, node: O1, name: n, status: {on_track: 0.5, at_risk: 0.8}}]", "at_risk <= on_track"),
        ("colour: red", "top level key 'colour'"),
        ("- just a list", "top level: expected a mapping"),
        ("nodes: [{id: X", "not valid YAML"),
    ],
)
def test_framework_errors_name_file_place_and_expectation(tmp_path: Path, text: str, message: str) -> None:
    ext = write(tmp_path, text)
    with pytest.raises(FrameworkError) as err:
        framework.load([ext])
    assert str(ext) in str(err.value)
    assert message in str(err.value)


def test_indicators_that_aggregate_each_other_in_a_circle_are_refused(tmp_path: Path) -> None:
    ext = write(
        tmp_path,
        """
indicators:
  - {code: A, node: O1, name: a, children: [B]}
  - {code: B, node: O1, name: b, children: [A]}
""",
    )
    with pytest.raises(FrameworkError, match="in a circle: A -> B -> A"):
        framework.load([ext])


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2024", dt.date(2024, 1, 1), dt.date(2024, 12, 31), "2024"),
        ("2024-Q1", dt.date(2024, 1, 1), dt.date(2024, 3, 31), "2024-Q1"),
        ("2024q4", dt.date(2024, 10, 1), dt.date(2024, 12, 31), "2024-Q4"),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29), "2024-02"),
        ("2024-01..2024-06", dt.date(2024, 1, 1), dt.date(2024, 6, 30), "2024-01..2024-06"),
        ("2023..2024-Q2", dt.date(2023, 1, 1), dt.date(2024, 6, 30), "2023..2024-Q2"),
    ],
)
def test_periods(text: str, start: dt.date, end: dt.date, label: str) -> None:
    p = parse_period(text)
    assert (p.start, p.end, p.label) == (start, end, label)


@pytest.mark.parametrize("text", ["24", "2024-Q5", "2024-00", "2024-02-30", "2024-06..2024-01", "soon"])
def test_bad_periods(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 12, 1)))
def test_a_month_round_trips(day: dt.date) -> None:
    month = parse_period(f"{day:%Y-%m}")
    assert from_dates(month.start, month.end) == month
    assert month.contains(day)
    assert len(month.months()) == 1
    assert month.previous().end == month.start - dt.timedelta(days=1)


def ind(direction: str = "decrease", **kw: object) -> Indicator:
    return Indicator(code="I", node="O1", name="i", direction=direction, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("actual", "verdict"),
    [(150.0, "on track"), (160.0, "at risk"), (175.0, "off track"), (120.0, "on track"), (210.0, "off track")],
)
def test_status_compares_progress_with_time_passed(actual: float, verdict: str) -> None:
    # baseline 200 (2023) -> target 100 (2025); at the end of 2024, half the time has passed: 50 expected
    p = parse_period("2024")
    got, reason, progress, expected = values.status(
        ind(), p, Figure(actual, "2024", "computed"), Figure(200, "2023", "framework"), Figure(100, "2025", "x")
    )
    assert got == verdict
    assert expected == pytest.approx(366 / 731)
    assert progress == pytest.approx((actual - 200) / -100)
    assert "of the way from the baseline 200 (2023) to the target 100 (2025)" in reason


def test_status_without_data_target_or_baseline() -> None:
    p = parse_period("2024")
    assert values.status(ind(), p, None, None, None)[0] == "no data"
    assert values.status(ind(), p, Figure(5, "2024", "c"), None, None)[0] == "no target"
    # no baseline: the actual is compared with the target directly, in the indicator's direction
    assert values.status(ind("increase"), p, Figure(5, "2024", "c"), None, Figure(4, "2024", "f"))[0] == "on track"
    assert values.status(ind("increase"), p, Figure(3, "2024", "c"), None, Figure(4, "2024", "f"))[0] == "off track"


def test_maintain_uses_the_tolerance() -> None:
    p = parse_period("2024")
    i = ind("maintain", status=Status(tolerance=0.1))
    target = Figure(100, "2024", "f")
    assert values.status(i, p, Figure(109, "2024", "c"), None, target)[0] == "on track"
    assert values.status(i, p, Figure(115, "2024", "c"), None, target)[0] == "at risk"
    assert values.status(i, p, Figure(130, "2024", "c"), None, target)[0] == "off track"


def test_rollup_prefers_own_values_and_adds_children() -> None:
    children = {"C": ["R1", "R2"], "R1": ["D1", "D2"], "R2": ["D3"]}
    own = {"D1": 10.0, "D2": 20.0, "D3": 5.0, "R2": 50.0}
    assert _rollup(own, ["C", "R1", "R2"], children, "sum") == {"C": 80.0, "R1": 30.0, "R2": 50.0}
    assert _rollup(own, ["C", "R1"], children, "mean") == {"C": 32.5, "R1": 15.0}
    assert _rollup(own, ["C", "R1", "R2"], children, "none") == {"R2": 50.0}


@given(st.dictionaries(st.sampled_from(["D1", "D2", "D3", "D4"]), st.floats(0, 1e6), min_size=1))
def test_rollup_of_leaves_is_their_sum(own: dict[str, float]) -> None:
    children = {"C": ["R1", "R2"], "R1": ["D1", "D2"], "R2": ["D3", "D4"]}
    got = _rollup(own, ["C"], children, "sum")
    assert got["C"] == pytest.approx(sum(own.values()))
