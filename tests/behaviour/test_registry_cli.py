"""``onthemove registry`` end to end through the CLI, on every engine, with synthetic registrations."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import PCODES, write
from typer.testing import CliRunner

from onthemove.cli import main as cli_main
from onthemove.cli.main import app
from onthemove.demo.households import households, write_distribution_list, write_kobo_json
from onthemove.respond.registry import crypto
from onthemove.respond.registry.keys import read_key_file

SITES = """Site,District,Individuals,Date
#loc+code,#adm2+code,#population+ind,#date+updated
S1,XT0101,100,2024-01-15
S2,XT0201,60,2024-01-15
"""
ASSESSMENTS = """Site,Date,Sector,Indicator,Value
#loc+code,#date+assessed,#sector,#indicator+code,#indicator+value
S1,2024-02-10,wash,severity,4
S2,2024-02-10,wash,severity,3
"""


def _reset() -> None:
    store = cli_main.state._store
    cli_main.state._store = None
    if store is not None:
        store.close()


@dataclass
class Cli:
    store: str
    tmp: Path
    runner: CliRunner
    monkeypatch: pytest.MonkeyPatch

    def __call__(self, *args: str | Path, user: str = "amina") -> Any:
        self.monkeypatch.setenv("ONTHEMOVE_USER", user)
        try:
            return self.runner.invoke(app, ["--store", self.store, *[str(a) for a in args]])
        finally:
            _reset()

    def ok(self, *args: str | Path, user: str = "amina") -> Any:
        result = self(*args, user=user)
        assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
        return result

    def json(self, *args: str | Path, user: str = "amina") -> Any:
        return json.loads(self.ok(*args, user=user).stdout)


@pytest.fixture
def cli(store_location: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)
    for name in ("CONFIG", "STORE", "REGISTRY_KEY", "REGISTRY_PSEUDONYM_KEY"):
        monkeypatch.delenv(f"ONTHEMOVE_{name}", raising=False)
    monkeypatch.setenv("ONTHEMOVE_REGISTRY_KEY_FILE", str(tmp_path / "keys" / "enc.key"))
    monkeypatch.setenv("ONTHEMOVE_REGISTRY_PSEUDONYM_KEY_FILE", str(tmp_path / "keys" / "pseudo.key"))
    _reset()
    files = tmp_path / "files"
    files.mkdir()
    yield Cli(store_location, files, CliRunner(), monkeypatch)
    _reset()


def test_registry_commands(cli: Cli, tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    cli.ok("registry", "keygen", keys_dir / "enc.key", user="x")
    cli.ok("registry", "keygen", "--pseudonym", keys_dir / "pseudo.key", user="x")
    again = cli("registry", "keygen", keys_dir / "enc.key")
    assert again.exit_code == 1 and "never overwritten" in again.stderr
    for name, role in (("amina", "data_manager"), ("dpo", "dpo"), ("vic", "viewer")):
        cli.ok("users", "add", name, "--role", role, user="x")
    cli.ok("places", "load-pcodes", write(cli.tmp, "pcodes.csv", PCODES))
    cli.ok("ingest", write(cli.tmp, "sites.csv", SITES), "--kind", "sites")
    cli.ok("ingest", write(cli.tmp, "assess.csv", ASSESSMENTS), "--kind", "site_assessments")

    today = dt.date.today()
    drawn = households(6, [("S1", "XT0101"), ("S2", "XT0201")], seed=3, on=today)
    registration = write_kobo_json(cli.tmp / "registration.json", drawn)
    nobody = cli("registry", "import", registration, user="nobody")
    assert nobody.exit_code == 1 and "there is no user 'nobody'" in nobody.stderr
    assert cli("registry", "import", registration, user="vic").exit_code == 1
    done = cli.json("registry", "import", registration, "--format", "json")
    assert done["households"] == 6 and done["members"] == sum(len(h.members) for h in drawn)
    assert "was loaded already" in cli.ok("registry", "import", registration).stdout

    pkey = read_key_file(keys_dir / "pseudo.key")
    head = drawn[0].members[0]
    hid = crypto.household_pseudonym(pkey, crypto.member_identity(head.name, head.birth_year, head.sex, head.document))
    shown = cli.json("registry", "show", hid, "--purpose", "assistance", "--reason", "distribution", "--format", "json")
    assert shown["head_name"] == head.name and shown["site_id"] == "S1"
    plain = cli.json("registry", "show", hid, "--format", "json", user="dpo")
    assert "head_name" not in plain and plain["household_id"] == hid
    refused = cli("registry", "show", hid, "--purpose", "assistance", user="vic")
    assert refused.exit_code == 1 and "may not read personal" in refused.stderr

    fresh = json.loads(
        write_kobo_json(cli.tmp / "fresh.json", households(2, [("S2", "XT0201")], seed=11, on=today)).read_text()
    )
    bad = [{**sub, "consent/consent": "no"} if i == 1 else sub for i, sub in enumerate(fresh["results"])]
    refusal = cli("registry", "import", write(cli.tmp, "bad.json", json.dumps({"results": bad})))
    assert refusal.exit_code == 1 and "bad.json refused, nothing stored: 1 problem(s)" in refusal.stderr
    assert "row 2, column 'consent/consent'" in refusal.stderr

    day = today.isoformat()
    ids = [crypto.household_pseudonym(pkey, crypto.member_identity(h.members[0].name, h.members[0].birth_year,
                                                                     h.members[0].sex, h.members[0].document))
           for h in drawn]  # fmt: skip
    rows = [
        {"household_id": i, "site_id": h.site_id, "date": day, "sector": "wash", "package": "hygiene_kit",
         "quantity": 1, "unit": "kit", "value": 25, "currency": "USD", "organisation": "NGO A", "programme": "W1"}
        for i, h in zip(ids, drawn, strict=True)
    ]  # fmt: skip
    listed = write_distribution_list(cli.tmp / "list.csv", rows)
    out = cli.ok("registry", "distribute", listed).stdout
    assert "recorded 6 distributions to 6 households" in out
    twice = cli("registry", "distribute", write_distribution_list(cli.tmp / "twice.csv", rows[:1]))
    assert twice.exit_code == 1 and "a household not paid yet" in twice.stderr

    table = list(csv.DictReader(io.StringIO(cli.ok("registry", "who-what-where", "--format", "csv").stdout)))
    people = {s: sum(len(h.members) for h in drawn if h.site_id == s) for s in ("S1", "S2")}
    assert [(r["site_id"], int(r["households"]), int(r["people"]), float(r["value"])) for r in table] == [
        ("S1", 3, people["S1"], 75.0),
        ("S2", 3, people["S2"], 75.0),
    ]
    gap = cli.json("registry", "gap", "--format", "json")
    wash = {r["site_id"]: r for r in gap["rows"]}
    assert wash["S1"]["people_in_need"] == 100 and wash["S1"]["gap"] == 100 - people["S1"]
    viewer = cli.json("registry", "who-what-where", "--format", "json", user="vic")
    assert viewer["redacted"] and all(r["households"] is None for r in viewer["rows"])  # 3 < the threshold, 10

    cli.ok("registry", "withdraw", ids[1], "--reason", "asked", user="dpo")
    gone = cli("registry", "show", ids[1], "--purpose", "assistance")
    assert gone.exit_code == 1 and "withdrew its consent" in gone.stderr
    assert "would delete 0 households" in cli.ok("registry", "purge", "--dry-run", user="dpo").stdout
    cli.ok("registry", "export", tmp_path / "export", "--recipient", "NGO A")
    exported = "".join(p.read_text() for p in (tmp_path / "export").glob("*.csv"))
    assert "HH-X" in exported and all(m.name not in exported for h in drawn for m in h.members)

    batches = cli.json("registry", "batches", "--format", "json")
    assert sorted(b["kind"] for b in batches) == ["distribution", "registration"]
    log = cli.json("audit", "list", "--format", "json")
    kinds = [e["action"] for e in log]
    for action in ("registry.import", "registry.read", "registry.read_refused", "registry.withdraw", "registry.export"):
        assert action in kinds
    assert cli.ok("audit", "verify").exit_code == 0

    # the key travels neither through the settings nor into the store
    cli.monkeypatch.setenv("ONTHEMOVE_REGISTRY_KEY", (keys_dir / "enc.key").read_text().splitlines()[-1])
    settings = cli.ok("settings", "--format", "json").stdout
    assert (keys_dir / "enc.key").read_text().splitlines()[-1] not in settings
    assert "registry_key_file" in settings


def test_keys_inside_the_store_are_refused(cli: Cli, tmp_path: Path) -> None:
    if cli.store.startswith("postgres"):
        pytest.skip("only a directory store has an inside")
    result = cli("registry", "keygen", Path(cli.store) / "enc.key")
    assert result.exit_code == 1 and "inside the store" in result.stderr
    assert not (Path(cli.store) / "enc.key").exists()  # refused before it was written
