"""``onthemove simulate --from-store`` in-process (Typer's CliRunner) on Demoland in DuckDB: the same CSV and JSON
summary as for a Flee case directory, no ARD (the store holds no daily camp counts), scenarios naming places by
P-code, and the errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import onthemove.cli.simulate_cmd  # noqa: F401  (adds ``simulate`` to the app, as cli/main.py's last import does)
from onthemove.cli import main as cli_main
from onthemove.cli.main import app
from onthemove.demo import load_demo
from onthemove.store import open_store

pytestmark = pytest.mark.duckdb

# the keys of a case directory's summary (run.CaseRun.summary), which a store run has too
CASE_KEYS = {"case", "start", "days", "people", "in_camps", "seconds", "mode", "seed", "ard", "ard_unscaled", "mase",
             "camps", "rules", "warnings", "scenario", "csv"}  # fmt: skip


def _reset_state() -> None:
    store = cli_main.state._store
    cli_main.state._store = None
    if store is not None:
        store.close()


class Cli:
    def __init__(self, store: str) -> None:
        self.store, self.runner = store, CliRunner()

    def __call__(self, *args: str | Path) -> Any:
        try:
            return self.runner.invoke(app, ["--store", self.store, "simulate", *[str(a) for a in args]])
        finally:
            _reset_state()

    def ok(self, *args: str | Path) -> Any:
        result = self(*args)
        assert result.exit_code == 0, (args, result.exit_code, result.stdout, result.stderr, result.exception)
        return result

    def summary(self, *args: str | Path) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.ok("--from-store", "--json", *args).stdout)
        return out


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    location = str(tmp_path_factory.mktemp("simulate-store") / "store")
    with open_store(location) as store:
        load_demo(store)
    return location


@pytest.fixture
def cli(store_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)  # no onthemove.toml from the working directory; the default CSV lands here
    for name in ("CONFIG", "STORE"):
        monkeypatch.delenv(f"ONTHEMOVE_{name}", raising=False)
    _reset_state()
    yield Cli(store_dir)
    _reset_state()


def test_json_summary_and_csv_have_the_case_directory_s_shape(cli: Cli, tmp_path: Path) -> None:
    summary = cli.summary("--days", "20")
    assert set(summary) >= CASE_KEYS
    assert summary["case"] == "store:XD" and summary["start"] == "2026-11-01" and summary["days"] == 20
    assert summary["ard"] is None and summary["mase"] is None and "no ARD" in summary["ard_note"]
    assert summary["graph"] == {"country": "XD", "admin_level": 2, "locations": 180, "routes": 425, "camps": 150}
    assert {o["location"] for o in summary["origins"]} >= {"XD0401", "XD0402", "XD0403", "XD0404"}
    assert "2026-10" in summary["origins_source"]
    assert summary["rules"]["conflict_driven_spawning"] and summary["rules"]["source"].startswith("onthemove rule set")
    assert 0 < summary["in_camps"] <= summary["people"]
    assert len(summary["camps"]) == 150
    assert all(c["observed"] is None and c["ard_share"] is None for c in summary["camps"])
    daily = sum(int(summary["displaced_per_conflict_day"] * o["intensity"]) for o in summary["origins"])
    assert summary["people"] == pytest.approx(20 * daily)  # everyone displaced is still in the simulation
    # the per-day counts: ./XD_store_simulated.csv, the summary beside it
    path = tmp_path / "XD_store_simulated.csv"
    assert summary["csv"] == "XD_store_simulated.csv" and path.exists()
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    assert header[:2] == ["day", "date"] and header[-2:] == ["in camps sim", "people"]
    assert len(header) == 2 + 150 + 2 and all(h.endswith(" sim") for h in header[2:-1])
    assert len(rows) == 21 and rows[1][:2] == ["0", "2026-11-01"] and rows[-1][:2] == ["19", "2026-11-20"]
    assert float(rows[-1][-1]) == pytest.approx(summary["people"]) and float(rows[-1][-2]) == pytest.approx(
        summary["in_camps"], abs=0.01
    )
    assert json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["rules"] == summary["rules"]


def test_plain_csv_goes_to_stdout(cli: Cli) -> None:
    result = cli.ok("--from-store", "--days", "5", "--start", "2027-01-01")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:3] == ["day", "date", "XDS-XD0101-001 Baobab Site"] and len(rows[0]) == 152
    assert [r[1] for r in rows[1:]] == [f"2027-01-0{d}" for d in range(1, 6)]
    assert "no ARD" in result.stderr and "5 days from 2027-01-01" in result.stderr


def test_a_scenario_names_places_by_p_code(cli: Cli, tmp_path: Path) -> None:
    base = cli.summary("--days", "30", "--csv", tmp_path / "base.csv")
    scenario = tmp_path / "cut-off.yml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "name": "Dunmere cut off",
                "closures": [{"type": "location", "name1": "XD0401", "start": 0}],
                "conflicts": [{"location": "XD0101", "start": "2026-11-10", "intensity": 1.5}],
                "capacities": [{"location": "XDS-XD0402-003", "capacity": 100}],
            }
        ),
        encoding="utf-8",
    )
    changed = cli.summary("--days", "30", "--scenario", scenario, "--csv", tmp_path / "changed.csv")
    assert changed["scenario"]["name"] == "Dunmere cut off" and len(changed["scenario"]["events"]) == 4
    rate = int(1.5 * changed["displaced_per_conflict_day"])
    assert changed["people"] == pytest.approx(base["people"] + 21 * rate)  # the flare-up, days 9 to 29
    camp = {c["name"]: c["simulated"] for c in changed["camps"]}
    before = {c["name"]: c["simulated"] for c in base["camps"]}
    name = next(n for n in camp if n.startswith("XDS-XD0402-003 "))
    assert before[name] > 1000 and camp[name] <= 120


def test_stochastic_runs_are_averaged(cli: Cli, tmp_path: Path) -> None:
    summary = cli.summary("--days", "10", "--mode", "stochastic", "--runs", "2", "--seed", "3")
    assert summary["runs"] == 2 and summary["seeds"] == [3, 4] and summary["seed"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from-store", "--country", "ZZ"], "no country 'ZZ' in the store (it holds: XD)"),
        (["--from-store", "--admin-level", "4"], "the admin level must be 1, 2 or 3"),
        (["--from-store", "--calibrate"], "--calibrate needs observed daily camp counts"),
        (["--from-store", "--start", "soon"], "--start 'soon' is not a date"),
        (["--from-store", "--days", "0"], "--days must be between 1 and 3650"),
        (["case-dir", "--from-store"], "not both"),
        ([], "give a Flee case directory, or --from-store"),
    ],
)
def test_user_errors(cli: Cli, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 1 and message in result.stderr, (result.stdout, result.stderr)


def test_a_wrong_scenario_names_its_entry(cli: Cli, tmp_path: Path) -> None:
    scenario = tmp_path / "wrong.yml"
    scenario.write_text(yaml.safe_dump({"closures": [{"type": "link", "name1": "XD0401", "name2": "Atlantis",
                                                      "start": 3}]}), encoding="utf-8")  # fmt: skip
    result = cli("--from-store", "--scenario", scenario)
    assert result.exit_code == 1
    assert f"{scenario}: closures[0]: 'Atlantis' is not a location of the graph" in result.stderr
