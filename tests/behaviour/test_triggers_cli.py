"""``onthemove triggers evaluate|status`` in-process with Typer's CliRunner, on every engine."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cli_harness import Cli, reset_state
from tests.helpers import PCODES, write
from tests.unit.test_triggers import DEFICITS, DRIVER, EVENT, FakeForecaster, movements_csv, rain_csv, trigger

import onthemove.cli.triggers_cmd  # noqa: F401  (adds ``triggers`` to the app, as cli/main.py's last import does)


@pytest.fixture
def cli(store_location: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)
    for name in ("CONFIG", "STORE"):
        monkeypatch.delenv(f"ONTHEMOVE_{name}", raising=False)
    reset_state()
    c = Cli(store_location, tmp_path)
    c.ok("places", "load-pcodes", write(tmp_path, "pcodes.csv", PCODES))
    c.ok("ingest", write(tmp_path, "m.csv", movements_csv()), "--kind", "movements")
    c.ok("ingest", write(tmp_path, "r.csv", rain_csv(DEFICITS)), "--kind", "driver_events")
    yield c
    reset_state()


def _file(tmp: Path, *triggers: dict[str, Any]) -> Path:
    return write(tmp, "triggers.yaml", yaml.safe_dump({"triggers": list(triggers)}, sort_keys=False))


def test_evaluate_prints_the_table_and_scores(cli: Cli) -> None:
    seasonal = trigger(name="spring", when={"driver": {**DRIVER, "months": [4, 5, 6]}})
    path = _file(cli.tmp, trigger(), seasonal)
    [dry, spring] = json.loads(
        cli.ok("triggers", "evaluate", path, "--from", "2023-01", "--to", "2023-08", "--format", "json").stdout
    )
    assert dry["trigger"] == "dry" and (dry["from"], dry["to"]) == ("2023-01", "2023-08")
    assert (dry["hits"], dry["false_alarms"], dry["misses"], dry["correct_negatives"]) == (1, 1, 3, 11)
    assert dry["cases"] == 16 and dry["pod"] == 0.25 and dry["far"] == 0.5 and dry["csi"] == 0.2
    assert "by_area" not in dry
    assert spring["hits"] + spring["false_alarms"] == 0 and spring["far"] is None and spring["pod"] == 0.0

    out = cli.ok("triggers", "evaluate", path, "--trigger", "dry", "--by-area", "--format", "csv", "--from", "2023-01")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["trigger"], r["area"]) for r in rows] == [("dry", ""), ("dry", "XT01"), ("dry", "XT02")]
    assert rows[1]["name"] == "Northern" and rows[0]["to"] == "2023-10"
    assert sum(int(r["cases"]) for r in rows[1:]) == int(rows[0]["cases"]) == 20
    assert rows[0]["far"] != "" and rows[0]["undetermined"] == "0"

    table = cli.ok("triggers", "evaluate", path, "--trigger", "dry", "--by-area", "--to", "2023-08").stdout
    assert "trigger fired" in table and "did not fire" in table and "hk" in table and "XT02" in table


def test_status_says_which_triggers_fire(cli: Cli) -> None:
    path = _file(cli.tmp, trigger())
    now = json.loads(cli.ok("triggers", "status", path, "--format", "json").stdout)
    assert {(s["area"], s["month"], s["fires"]) for s in now} == {
        ("XT01", "2024-06", False),
        ("XT02", "2024-06", False),
    }
    then = cli.ok("triggers", "status", path, "--as-of", "2023-04")
    assert "dry fires in 2 of 2 areas in 2023-04: XT01, XT02" in then.stderr
    rows = list(
        csv.DictReader(io.StringIO(cli.ok("triggers", "status", path, "--as-of", "2023-04", "--format", "csv").stdout))
    )
    assert [(r["area"], r["fires"]) for r in rows] == [("XT01", "yes"), ("XT02", "yes")]
    assert "2023-03 49.62, 2023-04 49.62 -> yes" in rows[0]["why"]
    firing = json.loads(cli.ok("triggers", "status", path, "--firing", "--as-of", "2023-05", "--format", "json").stdout)
    assert firing == []


def test_errors_name_the_trigger_and_the_field(cli: Cli) -> None:
    bad = trigger()
    bad["when"] = {"driver": {**DRIVER, "statistic": "median"}}
    result = cli("triggers", "evaluate", _file(cli.tmp, bad))
    assert result.exit_code == 1
    assert "trigger 'dry': when.driver.statistic" in result.stderr
    unknown = cli("triggers", "status", _file(cli.tmp, trigger()), "--trigger", "wet")
    assert unknown.exit_code == 1 and "no trigger named 'wet'" in unknown.stderr
    fmt = cli("triggers", "evaluate", _file(cli.tmp, trigger()), "--format", "xml")
    assert fmt.exit_code == 1 and "--format must be one of" in fmt.stderr
    month = cli("triggers", "evaluate", _file(cli.tmp, trigger(event=EVENT)), "--from", "June")
    assert month.exit_code == 1 and "'June' is not a month" in month.stderr


def test_forecast_triggers_use_the_store_forecaster(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from onthemove.foresight import triggers as module

    fake = FakeForecaster({("XT01", "2023-04", 1): 150.0})
    monkeypatch.setattr(module, "store_forecaster", lambda store: fake)
    when = {"forecast": {"kind": "movements", "horizon": 2, "above": 100, "probability": 0.5}}
    path = _file(cli.tmp, trigger(name="high", when=when))
    args = ("--from", "2023-01", "--to", "2023-08", "--every", "2", "--format", "json")
    [high] = json.loads(cli.ok("triggers", "evaluate", path, *args).stdout)
    assert [c[2] for c in fake.calls] == ["2023-01", "2023-03", "2023-05", "2023-07"]
    assert high["cases"] == 8 and high["every"] == 2
    now = json.loads(cli.ok("triggers", "status", path, "--as-of", "2023-04", "--format", "json").stdout)
    assert [(s["area"], s["fires"]) for s in now] == [("XT01", True), ("XT02", False)]
    assert now[0]["evidence"]["probability"] == 1.0
