"""``onthemove disclose check|apply|table`` in-process with Typer's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import onthemove.cli.disclose_cmd  # noqa: F401  (adds ``disclose`` to the app, as cli/main.py's last import does)
from onthemove.cli.main import app

SPEC = """quasi_identifiers:
  age: {intervals: [10, 20]}
  sex: {}
sensitive: [status]
k: 3
l: 1
suppression_cap: 0.2
risk_ceiling: null
"""


class Cli:
    def __init__(self, tmp: Path) -> None:
        self.tmp, self.runner = tmp, CliRunner()

    def __call__(self, *args: str | Path) -> Any:
        return self.runner.invoke(app, ["--store", str(self.tmp / "store"), *[str(a) for a in args]])


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)
    for name in ("CONFIG", "STORE"):
        monkeypatch.delenv(f"ONTHEMOVE_{name}", raising=False)
    yield Cli(tmp_path)


def _files(tmp: Path) -> tuple[Path, Path]:
    rows = [(20 + (i % 17), "fm"[i % 2], "ab"[i % 3 == 0]) for i in range(60)] + [(77, "f", "a")]
    data = tmp / "people.csv"
    pd.DataFrame(rows, columns=["age", "sex", "status"]).to_csv(data, index=False)
    spec = tmp / "spec.yaml"
    spec.write_text(SPEC)
    return data, spec


def test_check_reports_and_fails_then_apply_fixes_it(cli: Cli, tmp_path: Path) -> None:
    data, spec = _files(tmp_path)
    res = cli("disclose", "check", data, "--spec", spec, "--format", "json")
    assert res.exit_code == 1, res.output
    body = json.loads(res.stdout)
    assert not body["passed"] and body["k"] == 1 and body["violators"]["3"] > 0
    assert body["risk"]["global_risk"] > 0 and body["l_diversity"][0]["attribute"] == "status"
    out = tmp_path / "anon.csv"
    res = cli("disclose", "apply", data, "--spec", spec, "--out", out, "--report", tmp_path / "r.json")
    assert res.exit_code == 0, res.output
    assert "records suppressed" in res.stdout and "loss: LM" in res.stdout and "pass" in res.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["after"]["passed"] and report["levels"]["age"]["level"] >= 1
    assert cli("disclose", "check", out, "--spec", spec).exit_code == 0
    released = pd.read_csv(out, dtype=str)
    assert released.groupby(["age", "sex"]).size().min() >= 3


def test_bad_input_gets_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    data, spec = _files(tmp_path)
    res = cli("disclose", "check", tmp_path / "none.csv", "--spec", spec)
    assert res.exit_code == 1 and "data file not found" in res.stderr
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(SPEC.replace("sex: {}", "gender: {}"))
    res = cli("disclose", "check", data, "--spec", wrong)
    assert res.exit_code == 1 and "'gender'" in res.stderr and "are not in the file" in res.stderr
    res = cli("disclose", "check", data, "--spec", spec, "--format", "xml")
    assert res.exit_code == 1 and "--format" in res.stderr


def test_table_hides_small_cells_and_their_complements(cli: Cli, tmp_path: Path) -> None:
    table = tmp_path / "counts.csv"
    table.write_text("region,district,count\nN,N1,5\nN,N2,40\nN,N3,300\nS,S1,60\nS,S2,80\n")
    out = tmp_path / "public.csv"
    res = cli("disclose", "table", table, "--dim", "district>region", "--out", out, "--format", "json")
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout)
    assert body["primary"] == 1 and body["secondary"] == 1 and body["protected"]
    released = pd.read_csv(out)
    assert released["count"].isna().tolist() == [True, True, False, False, False]  # 5 and its cheapest partner
    res = cli("disclose", "table", table, "--dim", "ward")
    assert res.exit_code == 1 and "dimension column 'ward' is not in the table" in res.stderr
