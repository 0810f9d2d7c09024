"""``onthemove needs`` and ``onthemove allocate`` in-process with Typer's CliRunner, on every engine."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from tests.behaviour.test_needs_engines import ASSESSMENTS, SITES
from tests.cli_harness import Cli, reset_state
from tests.helpers import PCODES, write

import onthemove.cli.respond_cmd  # noqa: F401  (adds the commands to the app, as cli/main.py's last import does)

PLAN = """
name: test-plan
currency: USD
budget: 50
packages:
  - {name: wash_kit, sector: wash, unit_cost: 1, people_per_unit: 5}
  - {name: shelter_kit, sector: shelter, unit_cost: 4, people_per_unit: 5, stock: 5}
rules:
  - min_budget: {per: adm1, share: 0.1}
"""


@pytest.fixture
def cli(store_location: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("CONFIG", "STORE"):
        monkeypatch.delenv(f"ONTHEMOVE_{name}", raising=False)
    reset_state()
    c = Cli(store_location)
    c.ok("places", "load-pcodes", write(tmp_path, "pcodes.csv", PCODES))
    c.ok("ingest", write(tmp_path, "sites.csv", SITES), "--kind", "sites")
    c.ok("ingest", write(tmp_path, "assess.csv", ASSESSMENTS), "--kind", "site_assessments")
    yield c
    reset_state()


def test_needs_table_csv_json(cli: Cli) -> None:
    table = cli.ok("needs").stdout
    assert "sites per severity phase" in table and "ranking: 4 of 4 sites" in table
    assert "severity 5 (WASH 5, shelter 3); 2 sectors in need; 100 people in need" in table
    rows = list(csv.DictReader(io.StringIO(cli.ok("needs", "--format", "csv").stdout)))
    assert [r["site_id"] for r in rows] == ["S1", "S2", "S3", "S4"] and rows[0]["severity"] == "5"
    assert {"rank", "why", "people_in_need", "sectors_in_need", "wash", "shelter", "pin_wash"} <= set(rows[0])
    areas = json.loads(cli.ok("needs", "--level", "adm1", "--format", "json").stdout)
    assert [(a["area"], a["name"], a["people_in_need"]) for a in areas] == [
        ("XT01", "Northern", 300),
        ("XT02", "Southern", 300),
    ]
    assert len(json.loads(cli.ok("needs", "--format", "json", "--limit", "2", "--place", "XT02").stdout)) == 2


def test_needs_errors(cli: Cli, tmp_path: Path) -> None:
    bad = cli("needs", "--level", "adm9")
    assert bad.exit_code == 1 and "--level must be site, adm1 or adm2" in bad.stderr
    rules = write(tmp_path, "rules.yaml", "sectors: {wash: {combine: median, indicators: {severity: {}}}}")
    wrong = cli("needs", "--rules", rules)
    assert wrong.exit_code == 1 and "rules.yaml: sectors.wash.combine: expected one of max, mean, min" in wrong.stderr
    date = cli("needs", "--as-of", "yesterday")
    assert date.exit_code == 1 and "--as-of must be a date" in date.stderr


def test_allocate(cli: Cli, tmp_path: Path) -> None:
    plan = write(tmp_path, "plan.yaml", PLAN)
    out = cli.ok("allocate", plan, "--sensitivity", "--out", tmp_path / "plan.xlsx")
    assert "test-plan: MIP Optimal" in out.stdout and "greedy-ratio" in out.stdout and "+20%" in out.stdout
    assert "plan written to" in out.stderr
    sheets = pd.read_excel(tmp_path / "plan.xlsx", sheet_name=None)
    assert {"plan", "packages", "summary", "vs greedy", "sensitivity"} == set(sheets)
    body = json.loads(cli.ok("allocate", plan, "--format", "json").stdout)
    assert body["status"] == "Optimal" and body["cost"] <= 50 and body["currency"] == "USD"
    assert [g["baseline"] for g in body["gains"]] == ["greedy-ratio", "greedy-rank"]
    assert sum(p["cost"] for p in body["plan"]) == pytest.approx(body["cost"])
    # the rule: 10% of the budget in XT02, whose only site in need is S3 (shelter 3)
    assert any(p["site_id"] == "S3" for p in body["plan"])
    rows = list(csv.DictReader(io.StringIO(cli.ok("allocate", plan, "--format", "csv", "--lp").stdout)))
    assert {r["package"] for r in rows} <= {"wash_kit", "shelter_kit"}
    more = json.loads(cli.ok("allocate", plan, "--format", "json", "--budget", "100", "--gap", "0.01").stdout)
    assert more["budget"] == 100 and more["objective"] >= body["objective"] * 0.99
    cli.ok("allocate", plan, "--out", tmp_path / "plan.html", "--format", "csv")
    assert "<svg" in (tmp_path / "plan.html").read_text()


def test_allocate_errors(cli: Cli, tmp_path: Path) -> None:
    missing = cli("allocate", tmp_path / "nope.yaml")
    assert missing.exit_code == 1 and "cannot read plan file" in missing.stderr
    bad = write(tmp_path, "bad.yaml", "budget: 10\npackages: [{name: k, sector: food, unit_cost: 1}]\n")
    wrong = cli("allocate", bad)
    assert wrong.exit_code == 1 and "'food' is not a sector of the needs" in wrong.stderr
    tight = write(
        tmp_path,
        "tight.yaml",
        "budget: 10\npackages: [{name: k, sector: wash, unit_cost: 1}]\n"
        "rules: [{min_coverage: {severity: 4, share: 1}}]\n",
    )
    infeasible = cli("allocate", tight)
    assert (
        infeasible.exit_code == 1
        and "no feasible plan" in infeasible.stderr
        and "budget is USD 10" in infeasible.stderr
    )
    suffix = cli("allocate", write(tmp_path, "plan.yaml", PLAN), "--out", "plan.pdf")
    assert suffix.exit_code == 1 and "expected a file ending in" in suffix.stderr
    gap = cli("allocate", tmp_path / "plan.yaml", "--gap", "2")
    assert gap.exit_code == 1 and "--gap must be at least 0 and below 1" in gap.stderr
