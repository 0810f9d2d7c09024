"""``onthemove backtest`` in-process with Typer's CliRunner on a small DuckDB store: tables, CSV, JSON, the report."""

from __future__ import annotations

import calendar
import csv
import io
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli_harness import Cli, reset_state
from tests.helpers import write

import onthemove.cli.backtest_cmd  # noqa: F401  (adds ``backtest`` to the app, as cli/main.py's last import does)
from onthemove.foresight import models

pytestmark = [pytest.mark.duckdb, pytest.mark.slow]

PCODES = """Location,Admin Level,P-Code,Name,Parent P-Code,Valid from date
#country+code,#geo+admin_level,#adm+code,#adm+name,#adm+code+parent,#date+start
XTL,0,XT,Testland,,2020-01-01
XTL,1,XT01,Northern,XT,2020-01-01
XTL,1,XT02,Southern,XT,2020-01-01
XTL,2,XT0101,Kismaayo Town,XT01,2020-01-01
XTL,2,XT0102,Belet Weyne,XT01,2020-01-01
XTL,2,XT0201,Ceel Barde,XT02,2020-01-01
XTL,2,XT0202,Baydhaba,XT02,2020-01-01
"""
DISTRICTS = {"XT0101": 300, "XT0102": 80, "XT0201": 1200, "XT0202": 45}
ARGS = ("--from", "2021-03", "--to", "2021-09", "--every", "3", "--horizon", "2")
ALL = {*models.MODELS, "ensemble", "ensemble_base"}


def movements_csv() -> str:
    """Arrivals in four districts, 2018-01 to 2021-12: a yearly wave and a deterministic wobble."""
    lines = ["Date,Region,District,Reason,People", "#date+reported,#adm1+code,#adm2+code,#cause+type,#affected+idps"]
    for t in range(48):
        year, month = 2018 + t // 12, t % 12 + 1
        day = f"{year}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"
        for k, (district, base) in enumerate(DISTRICTS.items()):
            wave = 1 + 0.5 * math.sin(2 * math.pi * (month - 1) / 12) + 0.15 * math.sin(t * (k + 2.3))
            lines.append(f"{day},{district[:4]},{district},conflict,{round(base * wave)}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("backtest")
    cli = Cli(str(folder / "store"))
    cli.ok("places", "load-pcodes", write(folder, "pcodes.csv", PCODES))
    cli.ok("ingest", write(folder, "m.csv", movements_csv()), "--kind", "movements")
    return folder / "store"


@pytest.fixture
def cli(store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)  # no onthemove.toml from the working directory
    for name in ("CONFIG", "STORE"):
        monkeypatch.delenv(f"ONTHEMOVE_{name}", raising=False)
    reset_state()
    yield Cli(str(store_dir))
    reset_state()


def test_csv_has_every_model_level_and_horizon_and_the_report_is_self_contained(cli: Cli, tmp_path: Path) -> None:
    report = tmp_path / "out" / "report.html"
    done = cli.ok("backtest", *ARGS, "--format", "csv", "--html", report)
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert list(rows[0]) == [
        "level",
        "h",
        "model",
        "mase",
        "mase_median",
        "smape",
        "coverage",
        "width",
        "skill",
        "best_baseline",
    ]
    keys = {(r["model"], r["level"], r["h"]) for r in rows}
    assert keys == {(mo, lv, h) for mo in ALL for lv in ("adm0", "adm1", "adm2") for h in ("1", "2")}
    assert len(rows) == len(keys)
    for r in rows:
        assert 0 <= float(r["coverage"]) <= 1, r
        assert math.isfinite(float(r["mase"])) and float(r["mase"]) >= 0, r
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "</html>" in text
    assert not re.search(r"https?://", text)  # nothing fetched from anywhere
    assert "<script" not in text and "<link" not in text
    assert "Testland (XT)" in text  # fan charts carry the place names from the store
    assert "<caption>Accuracy at adm1" in text
    assert "report written to" in done.stderr


def test_json_levels_and_models(cli: Cli) -> None:
    done = cli.ok("backtest", *ARGS, "--format", "json", "--levels", "adm1", "--models", "theta")
    rows = json.loads(done.stdout)
    assert {r["model"] for r in rows} == {*models.BASELINES, "theta"}
    assert {r["level"] for r in rows} == {"adm1"}
    assert {r["h"] for r in rows} == {1, 2}
    theta = [r for r in rows if r["model"] == "theta"]
    for r in theta:
        best = min(x["mase"] for x in rows if x["h"] == r["h"] and x["model"] in models.BASELINES)
        assert r["skill"] == pytest.approx(r["mase"] / best, rel=1e-2)


def test_table_lists_the_levels(cli: Cli) -> None:
    done = cli.ok("backtest", *ARGS, "--levels", "adm0", "--models", "naive", "--format", "table")
    assert "movements backtest" in done.stdout and "adm0" in done.stdout and "snaive" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "2021-11"], "after the last month of movements data (2021-12)"),
        (["--from", "2017-01", "--to", "2017-06"], "before the first month"),
        (["--from", "2018-03", "--to", "2018-06"], "too little history"),
        (["--from", "2021-05", "--to", "2021-01"], "before the first 2021-05"),
        (["--every", "0"], "at least 1"),
        (["--models", "prophet"], "unknown model 'prophet'"),
        (["--levels", "adm9"], "unknown level 'adm9'"),
        (["--horizon", "13", "--to", "2020-01"], "horizon is 1 to 12"),
        (["--format", "xml"], "--format must be"),
        (["--kind", "sites"], "cannot forecast 'sites'"),
    ],
)
def test_user_errors(cli: Cli, args: list[str], message: str) -> None:
    done = cli("backtest", "--from", "2021-03", "--to", "2021-09", *args)
    assert done.exit_code == 1, done.stdout
    assert message in done.stderr
