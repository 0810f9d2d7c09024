"""Scenario files, rule files, and the ``onthemove simulate`` command on the example case."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from onthemove.cli import simulate_cmd  # noqa: F401  (adds the command to the app)
from onthemove.cli.main import app
from onthemove.foresight.simulate.example import write_example_case
from onthemove.foresight.simulate.rules import FLEE3, ONTHEMOVE, Rules, load_rules
from onthemove.foresight.simulate.run import prepare, run_case
from onthemove.foresight.simulate.scenario import ScenarioError, load, parse

SHARED_RULESET = Path(__file__).resolve().parents[3] / "shared/data/flee/rulesets/simsetting.yml"


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    return write_example_case(tmp_path / "example")


def test_scenario_events(case_dir: Path) -> None:
    p = prepare(case_dir)
    sc = parse(
        {
            "name": "flare",
            "closures": [{"type": "link", "name1": "Hub", "name2": "Camp_East", "start": "2020-01-05"}],
            "conflicts": [{"location": "Bravo", "start": 2, "end": 9, "intensity": 0.5}],
            "capacities": [{"location": "Camp_South", "capacity": 200}],
            "camps": [{"location": "Delta", "open": 4}],
            "rules": {"camp_weight": 3.0},
        },
        p.graph,
        p.case.period.start,
        p.days,
    )
    actions = sorted((e.day, e.action) for e in sc.events)
    assert actions == [
        (0, "capacity"),
        (2, "conflict_on"),
        (4, "hold_edges"),
        (4, "open_camp"),
        (9, "conflict_off"),
        (10**9, "release_edges"),
    ]
    assert sc.apply_rules(FLEE3).camp_weight == 3.0


def test_scenario_changes_the_run(case_dir: Path) -> None:
    p = prepare(case_dir)
    base = run_case(p, FLEE3, record="full")
    sc = parse({"closures": [{"type": "link", "name1": "Hub", "name2": "Camp_East", "start": 0}]},
               p.graph, p.case.period.start, p.days)  # fmt: skip
    closed = run_case(p, FLEE3, extra_events=sc.events, record="full")
    east = p.graph.camp_names.index("Camp_East")
    # nobody reaches Camp_East (the case's own border reopening on day 3 does not undo the scenario's closure)
    assert closed.result.camps[-1, east] == pytest.approx(closed.result.camps[0, east])
    assert closed.result.camps[-1, east] < base.result.camps[-1, east]
    assert closed.result.edges is not None
    edges = p.graph.edges_between(p.graph.node("Hub"), p.graph.node("Camp_East"))
    assert closed.result.edges[:, edges].sum() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"closures": [{"type": "country", "name1": "Homeland", "name2": "Narnia", "start": 0}]}, "not the country"),
        ({"closures": [{"type": "link", "name1": "Alpha", "name2": "Hub", "start": 0}]}, "no route joins"),
        ({"conflicts": [{"location": "Nowhere", "start": 0}]}, "'Nowhere' is not a location"),
        ({"conflicts": [{"location": "Bravo", "start": 25}]}, "outside the period"),
        ({"conflicts": [{"location": "Bravo", "start": "2019-12-31"}]}, "outside the period"),
        ({"conflicts": [{"location": "Bravo", "start": "soon"}]}, "neither a day number nor a date"),
        ({"capacities": [{"location": "Camp_East", "capacity": "big"}]}, "is not a number"),
        ({"camps": [{"location": "Delta"}]}, "give open: or close:"),
        (
            {"closures": [{"type": "country", "name1": "Homeland", "name2": "Neighbourland", "start": 5, "end": 2}]},
            "must come after start",
        ),
        ({"wishes": []}, "unknown key(s) wishes"),
    ],
)
def test_scenario_errors(case_dir: Path, data: dict, message: str) -> None:
    p = prepare(case_dir)
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(data, p.graph, p.case.period.start, p.days, "s.yml")


def test_scenario_file_errors(case_dir: Path, tmp_path: Path) -> None:
    p = prepare(case_dir)
    bad = tmp_path / "bad.yml"
    bad.write_text("closures: [\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not YAML"):
        load(bad, p.graph, p.case.period.start, p.days)


@pytest.mark.skipif(not SHARED_RULESET.exists(), reason="the Flee rule set in ../shared is absent")
def test_flee_ruleset_reads_as_flee3() -> None:
    read = Rules.from_flee_yaml(SHARED_RULESET)
    same = {k: v for k, v in read.to_dict().items() if k not in ("source", "ignored")}
    assert same == {k: v for k, v in FLEE3.to_dict().items() if k not in ("source", "ignored")}
    assert "spawn_rules.sum_from_camps" in read.ignored and "move_rules.capacity_scaling" in read.ignored


def test_rules_files(tmp_path: Path) -> None:
    f = tmp_path / "r.yml"
    f.write_text("base: flee3\nrules: {camp_weight: 5.0}\n", encoding="utf-8")
    r = load_rules(f)
    assert r.camp_weight == 5.0 and r.max_move_speed == FLEE3.max_move_speed and r.source == str(f)
    f.write_text("move_rules: {camp_weight: 3.0, awareness_level: 2, use_v1_rules: false}\n", encoding="utf-8")
    assert load_rules(f).camp_weight == 3.0 and load_rules(f).awareness_level == 2
    f.write_text("rules: {camp_wieght: 5.0}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown rule parameters: camp_wieght"):
        load_rules(f)
    with pytest.raises(ValueError, match="must be a probability"):
        FLEE3.replace(default_movechance=1.5).checked()
    assert load_rules(None) is ONTHEMOVE
    with pytest.raises(ValueError, match="no such rule set"):
        load_rules("flee9")


runner = CliRunner()


def test_cli_json_csv_and_plot(case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "counts.csv"
    svg = tmp_path / "camps.svg"
    scenario = tmp_path / "s.yml"
    scenario.write_text(yaml.safe_dump({"name": "late border", "closures": [
        {"type": "country", "name1": "Homeland", "name2": "Neighbourland", "start": 3, "end": 10}]}),
        encoding="utf-8")  # fmt: skip
    res = runner.invoke(
        app,
        ["simulate", str(case_dir), "--scenario", str(scenario), "--json", "--csv", str(out), "--plot", str(svg)],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    for key in ("ard", "days", "people", "seconds", "camps", "rules", "scenario"):
        assert key in summary
    assert summary["days"] == 20 and summary["scenario"]["name"] == "late border"
    assert summary["rules"]["source"]
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("day,date,Camp_East sim,Camp_East data,Camp_South sim")
    assert len(lines) == 21
    saved = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert saved["rules"] == summary["rules"]
    assert svg.read_text(encoding="utf-8").startswith("<svg")


def test_cli_stochastic_runs_and_calibration(case_dir: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["simulate", str(case_dir), "--json", "--csv", str(tmp_path / "a.csv"),
                              "--mode", "stochastic", "--runs", "3", "--seed", "4"])  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["runs"] == 3 and summary["seeds"] == [4, 5, 6] and "ard_runs" in summary
    saved = tmp_path / "fitted.yml"
    res = runner.invoke(app, ["simulate", str(case_dir), "--json", "--csv", str(tmp_path / "b.csv"), "--calibrate",
                              "--max-evals", "12", "--save-rules", str(saved)])  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert np.isfinite(summary["in_sample_ard"]) and np.isfinite(summary["out_of_sample_ard"])
    assert summary["calibration"]["split"] == {"example": 10}
    assert summary["rules"]["source"].startswith("calibrated on example days 0-9")
    assert load_rules(saved).camp_weight == pytest.approx(summary["rules"]["camp_weight"])


def test_cli_plain_csv_and_errors(case_dir: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["simulate", str(case_dir), "--rules", "flee3"])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0] == "day,date,Camp_East,Camp_South"
    res = runner.invoke(app, ["simulate", str(tmp_path / "nothing")])
    assert res.exit_code == 1 and "not a Flee case" in res.output
    res = runner.invoke(app, ["simulate", str(case_dir), "--mode", "chaotic"])
    assert res.exit_code == 1 and "--mode must be one of" in res.output
    (case_dir / "input_csv" / "routes.csv").write_text("#name1,name2,distance\nAlpha,Nowhere,5\n", encoding="utf-8")
    res = runner.invoke(app, ["simulate", str(case_dir)])
    assert res.exit_code == 1 and "routes.csv, row 2, column 'name2'" in res.output
