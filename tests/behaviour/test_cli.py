"""The command line, in-process with Typer's CliRunner, on every engine (pytest -m duckdb / -m postgres).

The CLI keeps the open store in a module-level ``state`` object (one process, one command in real
use). The app's callback closes it when the next command starts; the ``cli`` fixture also closes and
clears it after every invocation, so no store stays open (or locked, for DuckDB) between calls.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.cli_harness import Cli as HarnessCli
from tests.cli_harness import reset_state
from tests.helpers import MOVEMENTS, PCODES, PLAIN, SSD_PCODES, write
from typer.testing import CliRunner

from onthemove.cli import main as cli_main
from onthemove.cli.main import app

REPORT_KEYS = {"batch_id", "rows_read", "rows_loaded", "rows_rejected", "rejections"}
REJECTION_KEYS = {"file", "row", "column", "value", "expected"}
BAD_ROWS = "2024-13-31,XT01,XT0101,conflict,5\n2024-03-31,XT01,XT0102,conflict,many\n"


class Cli(HarnessCli):
    """The harness, with this suite's own steps: a gazetteer, a file of movements."""

    def gazetteer(self) -> None:
        self.ok("places", "load-pcodes", write(self.tmp, "pcodes.csv", PCODES))

    def ingest(self, name: str, text: str, *extra: str) -> dict[str, Any]:
        return dict(self.json("ingest", write(self.tmp, name, text), "--kind", "movements", "--json", *extra))


@pytest.fixture
def cli(store_location: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)  # no onthemove.toml from the working directory
    for name in ("CONFIG", "STORE", "ALERT_Z", "ALERT_RATIO", "ALERT_FLOOR"):
        monkeypatch.delenv(f"ONTHEMOVE_{name}", raising=False)
    reset_state()
    files = tmp_path / "files"
    files.mkdir()
    yield Cli(store_location, files)
    reset_state()


@pytest.fixture
def loaded(cli: Cli) -> tuple[Cli, dict[str, Any]]:
    cli.gazetteer()
    return cli, cli.ingest("arrivals.csv", MOVEMENTS)


def squash(text: str) -> str:
    return " ".join(text.split())


def assert_user_error(result: Any, *fragments: str, code: int = 1) -> str:
    """Exit code, a message on stderr naming each fragment, and no Python traceback anywhere."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    message = squash(result.stderr)
    assert message.startswith("error:"), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    return message


def movement_batches(cli: Cli) -> list[dict[str, Any]]:
    return [b for b in cli.json("batches", "--format", "json") if b["kind"] == "movements"]


# --- init, ingest, reports ----------------------------------------------------------------------


def test_init_prints_the_schema_version(cli: Cli) -> None:
    from onthemove.store.migrate import available

    out = squash(cli.ok("init").stdout)
    newest = max(m.version for m in available())
    assert re.search(rf"at schema version {newest}$", out), out
    again = squash(cli.ok("init").stdout)  # upgrading an up-to-date store is a no-op
    assert again == out


def test_ingest_json_report_counts(cli: Cli) -> None:
    loaded = squash(cli.ok("places", "load-pcodes", write(cli.tmp, "pcodes.csv", PCODES)).stdout)
    assert "7 new places" in loaded and "0 rejected" in loaded
    report = cli.ingest("arrivals.csv", MOVEMENTS)
    assert set(report) >= REPORT_KEYS
    assert re.fullmatch(r"B[0-9a-f]{12}", report["batch_id"])
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (6, 6, 0)
    assert report["records_loaded"] == 6
    assert report["rejections"] == []
    assert report["status"] == "loaded" and report["kind"] == "movements"
    again = cli.ingest("arrivals.csv", MOVEMENTS)  # the same file twice changes nothing
    assert again["status"] == "unchanged" and again["batch_id"] == report["batch_id"]
    assert len(movement_batches(cli)) == 1


def test_ingest_lists_rejected_rows(cli: Cli) -> None:
    cli.gazetteer()
    report = cli.ingest("bad.csv", MOVEMENTS + BAD_ROWS)
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (8, 6, 2)
    for r in report["rejections"]:
        assert set(r) == REJECTION_KEYS
        assert r["file"].endswith("bad.csv") and r["expected"]
    found = {(r["row"], r["column"], r["value"]) for r in report["rejections"]}
    assert found == {(10, "Date", "2024-13-31"), (11, "People", "many")}
    people = next(r for r in report["rejections"] if r["column"] == "People")
    assert people["expected"] == "a whole number"


def test_ingest_table_report_is_readable(cli: Cli) -> None:
    cli.gazetteer()
    out = squash(cli.ok("ingest", write(cli.tmp, "bad.csv", MOVEMENTS + BAD_ROWS), "--kind", "movements").stdout)
    assert out.startswith("loaded batch B")
    assert "8 rows read, 6 loaded, 2 rejected" in out
    assert "2024-13-31" in out and "many" in out


def test_strict_refuses_the_file_with_exit_code_2(cli: Cli) -> None:
    cli.gazetteer()
    path = write(cli.tmp, "bad.csv", MOVEMENTS + BAD_ROWS)
    result = cli("ingest", path, "--kind", "movements", "--strict", "--json")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert report["status"] == "refused" and report["rows_rejected"] == 2
    assert "strict mode refuses the whole file" in squash(result.stderr)
    assert "Traceback" not in result.output
    assert movement_batches(cli) == []
    assert cli.json("query", "movements", "--by", "year", "--format", "json") == []
    assert cli("ingest", path, "--kind", "movements", "--strict").exit_code == 2  # table output: same code


# --- batches, batch, rollback -------------------------------------------------------------------


def test_batches_batch_and_rollback(cli: Cli) -> None:
    cli.gazetteer()
    keep = cli.ingest("good.csv", MOVEMENTS.replace("2024-", "2023-").replace("2023-02-29", "2023-02-28"))
    drop = cli.ingest("bad.csv", MOVEMENTS + BAD_ROWS)
    listed = {b["batch_id"]: b for b in cli.json("batches", "--format", "json")}
    assert {keep["batch_id"], drop["batch_id"]} <= set(listed)
    assert listed[drop["batch_id"]]["rows_rejected"] == 2
    assert listed[drop["batch_id"]]["status"] == "loaded"
    assert listed[drop["batch_id"]]["source_file"].endswith("bad.csv")

    [info] = cli.json("batch", drop["batch_id"], "--format", "json")
    assert info["batch_id"] == drop["batch_id"] and "report" not in info
    got = {(r["row_number"], r["column_name"], r["value"]) for r in info["rejections"]}
    assert got == {(10, "Date", "2024-13-31"), (11, "People", "many")}
    assert all(r["expected"] for r in info["rejections"])

    out = squash(cli.ok("rollback", drop["batch_id"]).stdout)
    assert out == f"rolled back {drop['batch_id']}: removed 6 from movements, 2 from rejections"
    years = cli.json("query", "movements", "--by", "year", "--format", "json")
    assert years == [{"year": "2023", "count": 318}]  # only the batch that was kept
    assert drop["batch_id"] not in {b["batch_id"] for b in cli.json("batches", "--format", "json")}
    every = {b["batch_id"]: b["status"] for b in cli.json("batches", "--all", "--format", "json")}
    assert every[drop["batch_id"]] == "rolled_back" and every[keep["batch_id"]] == "loaded"

    assert_user_error(cli("rollback", drop["batch_id"]), drop["batch_id"], "rolled_back", "not loaded")
    assert_user_error(cli("rollback", "Bnope"), "no batch 'Bnope'")
    assert_user_error(cli("batch", "Bnope", "--format", "json"), "no batch 'Bnope'")


# --- query --------------------------------------------------------------------------------------


def test_query_by_year_csv_is_exact(loaded: tuple[Cli, dict[str, Any]]) -> None:
    cli, _ = loaded
    assert cli.ok("query", "movements", "--by", "year", "--format", "csv").stdout == "year,count\n2024,318\n"
    assert cli.ok("query", "--by", "quarter", "--format", "csv").stdout == "quarter,count\n2024-Q1,318\n"


def test_query_by_adm1_and_month_json(loaded: tuple[Cli, dict[str, Any]]) -> None:
    cli, _ = loaded
    rows = cli.json("query", "movements", "--by", "adm1", "--by", "month", "--format", "json")
    assert rows == [
        {"adm1": "XT01", "adm1_name": "Northern", "month": "2024-01", "count": 150},
        {"adm1": "XT01", "adm1_name": "Northern", "month": "2024-02", "count": 120},
        {"adm1": "XT02", "adm1_name": "Southern", "month": "2024-01", "count": 30},
        {"adm1": "XT02", "adm1_name": "Southern", "month": "2024-02", "count": 7},
        {"adm1": "XT02", "adm1_name": "Southern", "month": "2024-03", "count": 11},
    ]


def test_query_hxl_has_a_hashtag_row(loaded: tuple[Cli, dict[str, Any]]) -> None:
    cli, _ = loaded
    lines = cli.ok("query", "movements", "--by", "adm1", "--format", "hxl").stdout.splitlines()
    assert lines[0] == "adm1,adm1_name,count"
    assert lines[1].startswith("#")
    assert lines[1] == "#adm1+code,#adm1+name,#affected+num"
    assert lines[2:] == ["XT01,Northern,270", "XT02,Southern,48"]


def test_query_date_filters(loaded: tuple[Cli, dict[str, Any]]) -> None:
    cli, _ = loaded
    feb = cli.ok("query", "--by", "month", "--from", "2024-02-01", "--to", "2024-02-29", "--format", "csv")
    assert feb.stdout == "month,count\n2024-02,127\n"
    later = cli.json("query", "--by", "month", "--from", "2024-02-29", "--format", "json")
    assert later == [{"month": "2024-02", "count": 127}, {"month": "2024-03", "count": 11}]
    until = cli.json("query", "--by", "month", "--to", "2024-01-31", "--format", "json")
    assert until == [{"month": "2024-01", "count": 180}]
    assert cli.json("query", "--by", "month", "--from", "2025-01-01", "--format", "json") == []


def test_query_filters_and_place(loaded: tuple[Cli, dict[str, Any]]) -> None:
    cli, _ = loaded
    north = cli.json("query", "--by", "month", "--place", "XT01", "--format", "json")
    assert north == [{"month": "2024-01", "count": 150}, {"month": "2024-02", "count": 120}]
    drought = cli.json("query", "--by", "adm2", "--reason", "drought", "--format", "json")
    assert {(r["adm2"], r["count"]) for r in drought} == {("XT0102", 50), ("XT0201", 30)}


def test_query_bad_arguments_are_user_errors(loaded: tuple[Cli, dict[str, Any]]) -> None:
    cli, _ = loaded
    msg = assert_user_error(cli("query", "movements", "--by", "weekday"), "'weekday'")
    for allowed in ("month", "quarter", "year", "adm1", "adm2", "reason", "population_group"):
        assert allowed in msg, allowed
    assert_user_error(cli("query", "--from", "2024-02-30"), "--from", "'2024-02-30'", "not a date")
    assert_user_error(cli("query", "--to", "last week"), "--to", "'last week'", "not a date")
    assert_user_error(cli("query", "--format", "xml"), "--format", "table", "csv", "json", "hxl")
    assert_user_error(cli("query", "sites"), "'sites'", "movements", "displacement")
    assert_user_error(cli("query", "--by", "month", "--by", "year"), "one period")


# --- alerts -------------------------------------------------------------------------------------


def _monthly(series: dict[str, list[int]]) -> str:
    lines = ["Date,District,People", "#date+reported,#adm2+code,#affected+idps"]
    for code, values in series.items():
        for i, v in enumerate(values):
            year, month = 2023 + i // 12, i % 12 + 1
            lines.append(f"{year}-{month:02d}-15,{code},{v}")
    return "\n".join(lines) + "\n"


HISTORY = [96, 104, 100, 98, 102, 100, 95, 105, 101, 99, 100, 103]


def test_alerts_flag_the_district_that_spikes(cli: Cli) -> None:
    cli.gazetteer()
    cli.ingest("monthly.csv", _monthly({"XT0101": [*HISTORY, 2000], "XT0201": [*HISTORY, 101]}))
    found = cli.json("alerts", "--format", "json")
    assert [a["area"] for a in found] == ["XT0101"]
    [a] = found
    assert a["name"] == "Kismaayo Town"
    assert a["period"] == "2024-01"
    assert a["value"] == 2000
    assert a["history_months"] == 12
    assert a["median"] == statistics.median(HISTORY) == 100
    assert a["maximum"] == 105
    assert a["ratio"] == 20.0
    assert a["robust_z"] > 100
    assert "2,000 in 2024-01" in a["reason"]
    by_region = cli.json("alerts", "--level", "adm1", "--format", "json")
    assert [x["area"] for x in by_region] == ["XT01"]
    assert cli.json("alerts", "--period", "2023-12", "--format", "json") == []


def test_no_alert_for_a_flat_series(cli: Cli) -> None:
    cli.gazetteer()
    cli.ingest("flat.csv", _monthly({"XT0101": [100] * 13, "XT0202": [*HISTORY, 110]}))
    assert cli.json("alerts", "--format", "json") == []
    assert "no rows" in cli.ok("alerts").stdout


# --- places -------------------------------------------------------------------------------------


def test_places_match_known_and_unknown_names(cli: Cli) -> None:
    cli.gazetteer()
    exact, spelled, unknown = cli.json(
        "places", "match", "Kismaayo Town", "Kismayo Town", "Qwzx Harbour", "--format", "json"
    )
    assert exact["pcode"] == "XT0101" and exact["method"] == "exact" and exact["score"] == 100.0
    assert spelled["name"] == "Kismayo Town" and spelled["pcode"] == "XT0101"
    assert spelled["method"] not in ("unmatched", "ambiguous")
    assert unknown["pcode"] is None and unknown["method"] == "unmatched"
    assert re.search(r"\(XT\d+, \d+\)", unknown["candidates"]), unknown
    listed = cli.json("places", "list", "--level", "2", "--parent", "XT02", "--format", "json")
    assert [p["pcode"] for p in listed] == ["XT0201", "XT0202"]


# --- errors a person makes ----------------------------------------------------------------------


def test_ingest_missing_file(cli: Cli) -> None:
    assert_user_error(cli("ingest", cli.tmp / "nope.csv", "--kind", "movements"), "nope.csv", "not found")


def test_ingest_plain_csv_without_mapping(cli: Cli) -> None:
    path = write(cli.tmp, "plain.csv", PLAIN)
    assert_user_error(cli("ingest", path, "--kind", "movements"), "plain.csv", "--mapping", "HXL")
    assert movement_batches(cli) == []


def test_ingest_mapping_with_unknown_field(cli: Cli) -> None:
    mapping = write(cli.tmp, "m.yaml", "kind: movements\ncolumns: {When: date, Where: destination, How many: count}\n")
    msg = assert_user_error(cli("ingest", write(cli.tmp, "plain.csv", PLAIN), "--mapping", mapping), "'destination'")
    assert "to_place" in msg  # the message lists the fields that exist


def test_ingest_mapping_of_another_kind(cli: Cli) -> None:
    mapping = write(cli.tmp, "m.yaml", "kind: movements\ncolumns: {When: date, How many: count}\n")
    path = write(cli.tmp, "plain.csv", PLAIN)
    assert_user_error(cli("ingest", path, "--mapping", mapping, "--kind", "displacement"), "'displacement'")


def test_ingest_hxl_without_kind(cli: Cli) -> None:
    assert_user_error(cli("ingest", write(cli.tmp, "a.csv", MOVEMENTS)), "--kind")


def test_ingest_malformed_mapping_is_a_user_error(cli: Cli) -> None:
    mapping = write(cli.tmp, "m.yaml", "kind: movements\ncolumns: [When, How many]\n")
    assert_user_error(cli("ingest", write(cli.tmp, "plain.csv", PLAIN), "--mapping", mapping), "columns")


def test_ingest_unknown_kind(cli: Cli) -> None:
    assert_user_error(cli("ingest", write(cli.tmp, "a.csv", MOVEMENTS), "--kind", "flows"), "'flows'", "movements")


# --- export -------------------------------------------------------------------------------------


def test_export_hxl_and_csv(loaded: tuple[Cli, dict[str, Any]]) -> None:
    cli, report = loaded
    out = cli.tmp / "out" / "movements.csv"
    assert cli.ok("export", out, "--format", "hxl").stdout == f"wrote {out}\n"
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["batch_id", "row_number", "from_place"]
    tags = dict(zip(rows[0], rows[1], strict=True))
    assert all(t.startswith("#") for t in rows[1]), rows[1]
    assert tags["date"] == "#date+reported" and tags["to_place"] == "#adm+code+dest"
    assert tags["count"].startswith("#affected+")
    assert len(rows) == 2 + 6
    assert {r[0] for r in rows[2:]} == {report["batch_id"]}
    plain = cli.tmp / "plain.csv"
    cli.ok("export", plain, "--format", "csv")
    assert len(plain.read_text(encoding="utf-8").splitlines()) == 1 + 6
    assert_user_error(cli("export", cli.tmp / "x", "--format", "parquet"), "--format")


def test_export_frictionless_package(loaded: tuple[Cli, dict[str, Any]]) -> None:
    cli, _ = loaded
    folder = cli.tmp / "package"
    out = cli.ok("export", folder, "--format", "frictionless").stdout
    assert out == f"wrote {folder / 'datapackage.json'}\n"
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    names = {r["name"] for r in package["resources"]}
    assert {"places", "batches", "movements"} <= names
    for resource in package["resources"]:
        assert (folder / resource["path"]).is_file(), resource["path"]
    movements = next(r for r in package["resources"] if r["name"] == "movements")
    assert len((folder / movements["path"]).read_text(encoding="utf-8").splitlines()) == 1 + 6


def test_public_export_holds_aggregates_through_disclosure_control(loaded: tuple[Cli, dict[str, Any]]) -> None:
    cli, _ = loaded
    folder = cli.tmp / "public"
    cli.ok("export", folder, "--format", "frictionless", "--public")
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    names = {r["name"] for r in package["resources"]}
    assert "movements" not in names  # no row-level table leaves
    monthly = next(r for r in package["resources"] if r["name"].startswith("movements-monthly"))
    rows = list(csv.DictReader(io.StringIO((folder / monthly["path"]).read_text(encoding="utf-8"))))
    counts = [r["count"] for r in rows if r.get("count") is not None]
    assert all(c == "" or int(c) >= 10 for c in counts)  # under the threshold: blank, never shown
    assert "" in counts  # the fixture's small months are there, blanked
    assert_user_error(cli("export", cli.tmp / "m.csv", "--public"), "row level and cannot be exported publicly")


def test_paths_are_not_wrapped(loaded: tuple[Cli, dict[str, Any]]) -> None:
    """Rich hard-wraps at 80 columns off a terminal unless soft_wrap is set: scripts read this path."""
    cli, _ = loaded
    out = cli.tmp / ("a-long-folder-name-" * 4) / "movements.csv"
    assert cli.ok("export", out, "--format", "hxl").stdout == f"wrote {out}\n"


# --- demo ---------------------------------------------------------------------------------------


def test_demo_if_empty_then_summary(cli: Cli) -> None:
    demo = pytest.importorskip("onthemove.demo", reason="onthemove.demo is not there yet")
    if not all(hasattr(demo, n) for n in ("load_demo", "is_empty", "summary")):
        pytest.skip("onthemove.demo does not have load_demo/is_empty/summary yet")
    loaded = cli.ok("demo", "--if-empty")
    assert "rejected" in loaded.stdout
    info = cli.json("summary", "--format", "json")
    assert info["batches"] > 0 and sum(info["batches_by_kind"].values()) == info["batches"]
    assert info["tables"]["movements"] > 0 and info["tables"]["places"] > 0
    assert info["tables"]["rejections"] == 0
    assert info["date_range"]["start"] < info["date_range"]["end"]
    assert info["latest_month"]["month"] and info["latest_month"]["arrivals"] > 0
    again = squash(cli.ok("demo", "--if-empty").stdout)
    assert "already holds data; demo not loaded" in again
    assert cli.json("summary", "--format", "json")["tables"] == info["tables"]


# --- the cached store ---------------------------------------------------------------------------


@pytest.mark.duckdb
def test_each_invocation_uses_its_own_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In one process (tests, notebooks), a later --store must not reuse the first store."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    reset_state()
    try:
        runner.invoke(app, ["--store", first, "places", "load-pcodes", str(write(tmp_path, "p.csv", PCODES))])
        result = runner.invoke(app, ["--store", second, "batches", "--format", "json"])
        assert result.exit_code == 0
        assert json.loads(result.stdout) == []  # the second store is empty
    finally:
        reset_state()


# --- DTM API: fetch, save, load (recorded responses, no network) ------------------------------


def _recorded_dtm(monkeypatch: pytest.MonkeyPatch, body: str, seen: list[Any]) -> None:
    import httpx

    from onthemove.ingest.dtm import DTMClient

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text=body, headers={"content-type": "application/json"})

    monkeypatch.setattr(
        cli_main, "dtm_client", lambda: DTMClient(key="test-key", transport=httpx.MockTransport(handler))
    )


def test_dtm_fetch_saves_and_loads(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures/dtm"
    seen: list[Any] = []
    _recorded_dtm(monkeypatch, (fixtures / "admin2_ssd.json").read_text(), seen)
    cli.ok("places", "load-pcodes", write(cli.tmp, "ssd.csv", SSD_PCODES))
    out = cli.tmp / "dtm" / "ssd.json"
    result = cli.ok("dtm", "fetch", out, "--admin0", "SSD", "--from", "2023-01-01", "--ingest")
    assert "saved 6 DTM admin2 records" in squash(result.stdout)
    assert seen[0].url.params["Admin0Pcode"] == "SSD"
    assert seen[0].url.params["FromReportingDate"] == "2023-01-01"
    assert seen[0].headers["Ocp-Apim-Subscription-Key"] == "test-key"
    assert json.loads(out.read_text())["result"][0]["admin2Pcode"] == "SS0101"
    [batch] = [b for b in cli.json("batches", "--format", "json") if b["kind"] == "displacement"]
    assert batch["rows_read"] == 6 and batch["rows_rejected"] == 0


def test_dtm_errors_are_user_errors(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures/dtm"
    _recorded_dtm(monkeypatch, (fixtures / "error_no_data.json").read_text(), [])
    assert_user_error(cli("dtm", "fetch", cli.tmp / "x.json", "--admin0", "SSD"), "DTM API error")
    assert_user_error(cli("dtm", "fetch", cli.tmp / "x.json"), "Admin0Pcode")
    assert not (cli.tmp / "x.json").exists()


def test_settings_lists_every_setting_and_hides_the_key(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from onthemove.settings import SETTINGS

    monkeypatch.setenv("ONTHEMOVE_DTM_KEY", "secret-key")
    monkeypatch.setenv("ONTHEMOVE_ALERT_Z", "2.5")
    rows = {r["name"]: r for r in cli.json("settings", "--format", "json")}
    assert set(rows) == {s.name for s in SETTINGS}
    assert rows["alert_z"]["value"] == 2.5
    assert rows["dtm_key"]["value"] == "(set)"
    assert "secret-key" not in json.dumps(rows)


def test_settings_never_show_a_password() -> None:
    from onthemove.store.postgres_engine import redact

    assert redact("postgresql://im:s3cret@db.local:5432/otm") == "postgresql://im@db.local:5432/otm"
    assert redact("./onthemove-data/") == "./onthemove-data/"
