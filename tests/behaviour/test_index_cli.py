"""``onthemove index``: list, compute (with --compare) and somalia, in-process with Typer's CliRunner."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import MOVEMENTS, PCODES, write
from typer.testing import CliRunner

from onthemove.cli import main as cli_main
from onthemove.cli.main import app
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.store import open_store

# three countries in the INFORM file's shape (Latin-1, `x` for missing); published aggregates alongside
INFORM_LIKE = (
    "COUNTRY,ISO3,Flood,Drought,Natural,Conflict,Human\n"
    "Côte d'Ivoire,CIV,4.0,6.0,5.1,2.0,2.0\n"
    "Chad,TCD,x,8.0,8.0,6.0,6.0\n"
    "Peru,PER,1.0,1.0,1.0,0.0,0.0\n"
)
DEFINITION = """
name: small
title: A small index
id: ISO3
keep: [COUNTRY]
round: 1
nodes:
  - name: Risk
    method: geomean
    children:
      - {name: Natural, method: inform_hz, children: [Flood, Drought]}
      - {name: Human, method: max, children: [{node: Conflict, factor: 1}]}
  - {name: Flood}
  - {name: Drought}
  - {name: Conflict}
"""


def _reset() -> None:
    store = cli_main.state._store
    cli_main.state._store = None
    if store is not None:
        store.close()


class Cli:
    def __init__(self, store: str, tmp: Path) -> None:
        self.store, self.tmp, self.runner = store, tmp, CliRunner()

    def __call__(self, *args: str | Path) -> Any:
        try:
            return self.runner.invoke(app, ["--store", self.store, *[str(a) for a in args]])
        finally:
            _reset()

    def ok(self, *args: str | Path) -> Any:
        result = self(*args)
        assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
        return result

    def error(self, *args: str | Path, fragments: tuple[str, ...] = ()) -> str:
        result = self(*args)
        assert result.exit_code == 1, (args, result.stdout, result.stderr, result.exception)
        message = " ".join(result.stderr.split())
        assert message.startswith("error:") or "error:" in message, message
        for fragment in fragments:
            assert fragment in message, (fragment, message)
        assert "Traceback" not in result.output + result.stderr
        return message


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)
    for name in ("CONFIG", "STORE"):
        monkeypatch.delenv(f"ONTHEMOVE_{name}", raising=False)
    _reset()
    yield Cli(str(tmp_path / "store"), tmp_path)
    _reset()


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "inform_like.csv"
    data.write_bytes(INFORM_LIKE.encode("latin-1"))
    return write(tmp_path, "small.yaml", DEFINITION), data


def test_list_names_the_shipped_definitions(cli: Cli) -> None:
    rows = json.loads(cli.ok("index", "list", "--format", "json").stdout)
    by_name = {r["name"]: r for r in rows}
    assert by_name["inform_risk_2020"]["id"] == "ISO3" and by_name["inform_risk_2020"]["index"] == "INFORM RISK"
    assert by_name["somalia_displacement_risk"]["id"] == "pcode"


def test_compute_csv_json_and_table(cli: Cli, files: tuple[Path, Path]) -> None:
    definition, data = files
    rows = list(csv.DictReader(io.StringIO(cli.ok("index", "compute", definition, data, "--format", "csv").stdout)))
    assert [r["ISO3"] for r in rows] == ["CIV", "TCD", "PER"]
    assert rows[0]["COUNTRY"] == "Côte d'Ivoire"  # Latin-1 read as such
    assert rows[0]["Natural"] == "5.1" and rows[0]["Risk"] == "3.2"  # HZ(4, 6) = 5.1; sqrt(5.1 * 2) = 3.19
    assert rows[1]["Flood"] == "" and rows[1]["Natural"] == "8.0"  # x is missing: HZ of the drought alone
    assert rows[2]["Risk"] == "0.0"
    as_json = json.loads(cli.ok("index", "compute", definition, data, "--format", "json").stdout)
    assert as_json[1]["Flood"] is None and as_json[1]["Human"] == 6.0
    table = cli.ok("index", "compute", definition, data).stdout
    assert "A small index" in table and "Risk" in table and "Flood" not in table  # the table shows aggregates


def test_compare_reports_misses_and_fails_on_unexplained_ones(cli: Cli, files: tuple[Path, Path]) -> None:
    definition, data = files
    report = json.loads(cli.ok("index", "compute", definition, data, "--compare", "--format", "json").stdout)
    assert report["compared"] == 6 and report["matched"] == 6 and report["unexplained"] == 0
    assert [n["node"] for n in report["nodes"]] == ["Natural", "Human"]
    # a published Natural of 5.6 for Côte d'Ivoire is beyond what rounding of Flood and Drought explains
    wrong = write(cli.tmp, "wrong.csv", INFORM_LIKE.replace("4.0,6.0,5.1", "4.0,6.0,5.6"))
    result = cli("index", "compute", definition, wrong, "--compare", "--format", "csv")
    assert result.exit_code == 1, (result.stdout, result.stderr)
    [miss] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert miss["id"] == "CIV" and miss["node"] == "Natural" and miss["published"] == "5.6"
    assert miss["explained"] == "no" and miss["inputs"] == "Flood=4; Drought=6"
    assert "1 values differ from the published ones beyond what input rounding explains" in " ".join(
        result.stderr.split()
    )
    # 5.0 is within reach: HZ(4, 6) = 5.082, and HZ(3.95, 5.95) = 5.032 -> 5.0
    near = write(cli.tmp, "near.csv", INFORM_LIKE.replace("4.0,6.0,5.1", "4.0,6.0,5.0"))
    result = cli.ok("index", "compute", definition, near, "--compare")
    assert "misses" in result.stdout and "CIV" in result.stdout
    assert (
        "5 of 6 values equal the published ones at 1 decimal(s) (from inputs); 1 misses explained by input "
        "rounding, 0 not" in " ".join(result.stderr.split())
    )


def test_compute_errors_name_the_file_row_and_column(cli: Cli, files: tuple[Path, Path]) -> None:
    definition, data = files
    cli.error(
        "index",
        "compute",
        definition,
        write(cli.tmp, "short.csv", "ISO3,Flood\nAFG,1\n"),
        fragments=("short.csv lacks column(s) 'Drought' (read by node 'Drought')", "'COUNTRY'"),
    )
    cli.error(
        "index",
        "compute",
        definition,
        write(cli.tmp, "broken.csv", INFORM_LIKE.replace("Chad,TCD,x", "Chad,TCD,#VALUE!")),
        fragments=("broken.csv: column 'Flood': row 3 (ISO3 TCD): '#VALUE!' (a broken spreadsheet cell)",),
    )
    cli.error("index", "compute", "inform_risk_2030", data, fragments=("no shipped definition of that name",))
    bad = write(cli.tmp, "bad.yaml", DEFINITION.replace("method: max", "method: maximum"))
    cli.error("index", "compute", bad, data, fragments=("bad.yaml: node 'Human': unknown method 'maximum'",))
    cli.error("index", "compute", definition, cli.tmp / "none.csv", fragments=("none.csv: cannot read",))
    cli.error("index", "compute", definition, data, "--format", "xml", fragments=("--format must be one of",))
    cli.error("index", "compute", definition, data, "--id-column", "ISO", fragments=("lacks column(s) 'ISO'",))


def test_compute_a_shipped_definition_by_name(cli: Cli) -> None:
    header = "COUNTRY,ISO3,Current Highly Violent Conflict Intensity,Projected Conflict Risk"
    data = write(cli.tmp, "conflict.csv", f"{header}\nA,AAA,3,10\n")
    cli.error("index", "compute", "inform_risk_2020", data, fragments=("lacks column(s)", "'Earthquake'"))


SITES = """Site,Place,People
#loc+code,#adm+code,#population+ind
CCCM-XT0101-0001,XT0101,600
CCCM-XT0202-0001,XT02,400
"""
NEEDS = "Site,Assessed,Indicator,Value\n#loc+code,#date+assessed,#indicator+code,#indicator+value+num\n" + "".join(
    f"{site},2024-02-01,{indicator},{value}\n"
    for site in ("CCCM-XT0101-0001", "CCCM-XT0202-0001")
    for indicator, value in (("wash_need", 2), ("health_need", 1), ("fs_need", 1), ("protection_need", 2))
)


@pytest.fixture
def somalia_like(store_location: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ONTHEMOVE_CONFIG", raising=False)
    with open_store(store_location) as store:
        load_pcodes(store, write(tmp_path, "p.csv", PCODES))
        ingest(store, write(tmp_path, "m.csv", MOVEMENTS), kind="movements")
        ingest(store, write(tmp_path, "s.csv", SITES), kind="sites")
        ingest(store, write(tmp_path, "n.csv", NEEDS), kind="site_assessments")
    _reset()
    yield Cli(store_location, tmp_path)
    _reset()


@pytest.mark.parametrize(
    "store_location",
    [pytest.param("duckdb", marks=pytest.mark.duckdb), pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_somalia_index_from_the_store(somalia_like: Cli) -> None:
    cli = somalia_like
    result = cli.ok("index", "somalia", "--country", "XTL", "--format", "json")
    rows = json.loads(result.stdout)
    assert [r["pcode"] for r in rows[:2]] == ["XT0101", "XT0202"]  # ranked: the two districts with a risk score
    assert rows[0]["DISPLACEMENT RISK"] > rows[1]["DISPLACEMENT RISK"] > 0
    assert all(r["DISPLACEMENT RISK"] is None for r in rows[2:])
    assert "note: arrivals and rainfall over 2023-04 to 2024-03" in result.stderr
    assert "no complete national rainfall series" in result.stderr
    inputs = json.loads(cli.ok("index", "somalia", "--country", "XTL", "--inputs", "--format", "json").stdout)
    assert {r["pcode"]: r["arrivals"] for r in inputs} == {"XT0101": 220, "XT0102": 50, "XT0201": 30, "XT0202": 18}
    early = json.loads(
        cli.ok("index", "somalia", "--country", "XTL", "--as-of", "2024-01", "--inputs", "--format", "json").stdout
    )
    assert {r["pcode"]: r["arrivals"] for r in early}["XT0101"] == 100
    assert "Somalia district displacement risk" in cli.ok("index", "somalia", "--country", "XTL").stdout
    cli.error(
        "index", "somalia", "--country", "XTL", "--as-of", "March", fragments=("--as-of: 'March' is not a month",)
    )
    cli.error("index", "somalia", fragments=("no districts (admin level 2 places) of SOM",))
