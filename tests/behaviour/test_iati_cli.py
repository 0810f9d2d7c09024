"""``onthemove iati``: validate files (exit codes, table and JSON) and write the worked example, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onthemove.cli.main import app
from onthemove.share.iati.validate import SchemasMissing, find_schemas

runner = CliRunner()


@pytest.fixture
def schemas(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("ONTHEMOVE_IATI_SCHEMAS", raising=False)
    try:
        return find_schemas()
    except SchemasMissing:
        pytest.skip("IATI 2.03 schemas not present in ../shared/standards/iati")


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_example_is_written_and_valid(tmp_path: Path, schemas: Path) -> None:
    out = tmp_path / "example.xml"
    code, stdout, _ = invoke("iati", "example", out)
    assert code == 0, stdout
    assert "valid" in stdout and out.exists()
    code, stdout, _ = invoke("iati", "validate", out, "--format", "json")
    assert code == 0
    (verdict,) = json.loads(stdout)
    assert verdict["status"] == "valid" and verdict["document"] == "activities" and verdict["errors"] == []


def test_invalid_file_exits_1_and_names_line_and_element(tmp_path: Path, schemas: Path) -> None:
    good = tmp_path / "good.xml"
    invoke("iati", "example", good)
    bad = tmp_path / "bad.xml"
    # activity-status must come before the activity dates: move it after them
    text = good.read_text(encoding="utf-8")
    status = '    <activity-status code="2"/>\n'
    text = text.replace(status, "", 1).replace("    <activity-scope", status + "    <activity-scope", 1)
    bad.write_text(text, encoding="utf-8")
    code, stdout, _ = invoke("iati", "validate", good, bad, "--format", "json")
    assert code == 1
    verdicts = {Path(v["path"]).name: v for v in json.loads(stdout)}
    assert verdicts["good.xml"]["valid"] is True
    error = verdicts["bad.xml"]["errors"][0]
    assert verdicts["bad.xml"]["status"] == "invalid"
    assert error["element"] == "activity-date" and "activity-status )" in error["message"]
    assert error["line"] == text.splitlines().index('    <activity-date type="1" iso-date="2024-01-01"/>') + 1
    code, stdout, _ = invoke("iati", "validate", bad)
    assert code == 1 and "invalid" in stdout and "activity-date" in stdout


def test_codes_are_reported_and_fail_only_when_strict(tmp_path: Path, schemas: Path) -> None:
    good = tmp_path / "good.xml"
    invoke("iati", "example", good)
    odd = tmp_path / "odd.xml"
    odd.write_text(good.read_text(encoding="utf-8").replace('code="72010"', 'code="72011"'), encoding="utf-8")
    code, stdout, _ = invoke("iati", "validate", odd, "--format", "json")
    (verdict,) = json.loads(stdout)
    if not verdict["codelists_checked"]:
        pytest.skip("no codelists beside the schemas")
    assert code == 0 and verdict["code_issues"][0]["element"] == "sector/@code"
    code, _, _ = invoke("iati", "validate", odd, "--strict-codes")
    assert code == 1
    code, stdout, _ = invoke("iati", "validate", odd, "--no-codes", "--format", "json")
    assert code == 0 and json.loads(stdout)[0]["code_issues"] == []


def test_missing_schema_folder_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from onthemove.share.iati import validate

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(validate, "_REPO", tmp_path)
    monkeypatch.delenv("ONTHEMOVE_IATI_SCHEMAS", raising=False)
    out = tmp_path / "example.xml"
    code, stdout, stderr = invoke("iati", "example", out)
    assert code == 0 and "not validated" in stdout and out.exists()
    assert "IATI-Schemas" in stderr
    code, _, stderr = invoke("iati", "validate", out)
    assert code == 2
    assert "schema folder is missing" in stderr and "version-2.03" in stderr
    monkeypatch.setenv("ONTHEMOVE_IATI_SCHEMAS", str(tmp_path))
    code, _, stderr = invoke("iati", "validate", out)
    assert code == 2 and f"{tmp_path} has no iati-activities-schema.xsd" in " ".join(stderr.split())


def test_bad_options_are_user_errors(tmp_path: Path, schemas: Path) -> None:
    code, _, stderr = invoke("iati", "validate", tmp_path / "x.xml", "--format", "csv")
    assert code == 1 and "--format" in stderr
    code, stdout, _ = invoke("iati", "validate", tmp_path / "missing.xml", "--format", "json")
    assert code == 1 and "cannot read" in json.loads(stdout)[0]["errors"][0]["message"]
