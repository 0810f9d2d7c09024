"""``onthemove results`` in-process, on every engine: the framework tree, import, reports, IATI export, errors."""

from __future__ import annotations

import json

from openpyxl import load_workbook
from tests.behaviour.test_cli import Cli, assert_user_error, cli, squash  # noqa: F401  (the fixture)
from tests.behaviour.test_results import EXTENSION, SITES, VALUES
from tests.helpers import MOVEMENTS, write


def setup(cli: Cli) -> str:  # noqa: F811
    cli.gazetteer()
    cli.ingest("arrivals.csv", MOVEMENTS)
    cli.ok("ingest", write(cli.tmp, "sites.csv", SITES), "--kind", "sites")
    ext = write(cli.tmp, "ext.yaml", EXTENSION)
    return str(ext)


def test_framework_tree_and_csv(cli: Cli) -> None:  # noqa: F811
    tree = squash(cli.ok("results", "framework").stdout)
    assert "3 objectives" in tree and "7 enablers" in tree and "4 cross cuttings" in tree
    assert "O1 objective: Saving lives and protecting people on the move" in tree
    rows = cli.json("results", "framework", "--format", "json")
    assert {r["kind"] for r in rows} == {"objective", "outcome_area", "enabler", "cross_cutting"}


def test_import_report_and_export(cli: Cli) -> None:  # noqa: F811
    ext = setup(cli)
    done = cli.json("results", "import", write(cli.tmp, "values.csv", VALUES), "--framework", ext, "--json")
    assert done["status"] == "loaded" and done["by_indicator"] == {"T-OUT-1": 11}
    report = cli.json(
        "results", "report", "--period", "2024-Q1", "--framework", ext, "--part", "T-PRJ", "--format", "json"
    )
    values = {i["indicator"]: i["actual"]["value"] for s in report["sections"] for i in s["indicators"]}
    assert values == {"T-ALL": 80, "T-OUT-1": 80}
    html = cli.tmp / "r.html"
    out = squash(
        cli.ok("results", "report", "--period", "2024", "--framework", ext, "--format", "html", "--out", html).stdout
    )
    assert out.startswith(f"wrote {html}") and "<svg" in html.read_text(encoding="utf-8")
    xlsx = cli.tmp / "r.xlsx"
    cli.ok("results", "report", "--period", "2024", "--framework", ext, "--format", "xlsx", "--out", xlsx)
    assert load_workbook(xlsx)["Summary"]["A1"].value.startswith("Progress report")
    xml = cli.tmp / "iati.xml"
    summary = json.loads(
        cli.ok(
            "results",
            "export-iati",
            xml,
            "--period",
            "2024-Q1",
            "--framework",
            ext,
            "--json",
            "--publisher-ref",
            "XM-TEST",
        ).stdout
    )
    assert summary["activities"] == 1 and summary["indicators"] == 2
    assert summary["validation"]["status"] in ("valid", "not validated")
    assert xml.read_bytes().startswith(b"<?xml")


def test_errors(cli: Cli) -> None:  # noqa: F811
    ext = setup(cli)
    assert_user_error(cli("results", "report", "--period", "2024-13", "--framework", ext), "month 13")
    assert_user_error(
        cli("results", "report", "--period", "2024", "--place", "XX99", "--framework", ext), "no place 'XX99'"
    )
    assert_user_error(cli("results", "report", "--period", "2024", "--part", "NOPE"), "no node 'NOPE'")
    assert_user_error(cli("results", "report", "--period", "2024", "--format", "html"), "needs --out FILE")
    bad = write(cli.tmp, "bad.csv", VALUES.replace("T-OUT-1,target", "T-NOPE,target"))
    refused = cli("results", "import", bad, "--framework", ext)
    assert_user_error(refused, "cannot be used, nothing was kept", "row 11", code=2)
    assert cli.json("results", "report", "--period", "2024", "--framework", ext, "--format", "json")
