"""``onthemove dedupe``, ``link``, ``link keygen|encode|encoded`` and ``review list|decide`` in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

import onthemove.cli.link_cmd  # noqa: F401  (adds its commands to the app, as cli/main.py's last import does)
from onthemove.cli.main import app
from onthemove.demo.registrations import registrations

ENCODING = """id: record_id
fields:
  first_name: name
  father_name: name
  grandfather_name: name
  dob: {type: date, order: dmy}
  phone: phone
filters:  # siblings share the household's names and phone: the person's own name and birth date are one filter
  person: {fields: [first_name, dob], bits: 1024, k: 12}
  household: {fields: [father_name, grandfather_name, phone], bits: 1024, k: 12}
  name: {fields: [first_name, father_name], bits: 1024, k: 12}
"""


class Cli:
    def __init__(self, tmp: Path, store: str) -> None:
        self.tmp, self.store, self.runner = tmp, store, CliRunner()

    def __call__(self, *args: str | Path) -> Any:
        return self.runner.invoke(app, ["--store", self.store, *[str(a) for a in args]])


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_location: str) -> Iterator[Cli]:
    """On every engine: the review queue and its decisions live in the store (migration 006)."""
    monkeypatch.chdir(tmp_path)
    for name in ("CONFIG", "STORE"):
        monkeypatch.delenv(f"ONTHEMOVE_{name}", raising=False)
    table = registrations(1200, seed=21)
    pacsv.write_csv(table, tmp_path / "reg.csv")
    frame = table.to_pandas()
    frame[frame.agency == "A"].to_csv(tmp_path / "agency_a.csv", index=False)
    frame[frame.agency != "A"].to_csv(tmp_path / "agency_b.csv", index=False)
    yield Cli(tmp_path, store_location)


def test_dedupe_writes_clusters_and_queues_uncertain_pairs(cli: Cli, tmp_path: Path) -> None:
    done = cli("dedupe", "reg.csv", "--out", "clusters.csv", "--pairs", "pairs.csv", "--by", "amina")
    assert done.exit_code == 0, done.output
    assert "candidate pairs compared" in done.output
    clusters = pd.read_csv(tmp_path / "clusters.csv", dtype=str)
    truth = pd.read_csv(tmp_path / "reg.csv", dtype=str)
    assert list(clusters.columns) == ["id", "cluster_id", "cluster_size"]
    assert sorted(clusters.id) == sorted(truth.record_id)
    merged = clusters.merge(truth, left_on="id", right_on="record_id")
    # records put together are mostly the same person
    same = merged.groupby("cluster_id").person_id.nunique()
    assert (same == 1).mean() > 0.97
    assert merged.cluster_id.nunique() < len(merged) * 0.8
    pairs = pd.read_csv(tmp_path / "pairs.csv")
    assert {"first_name", "dob", "family", "status"} <= set(pairs.columns)
    assert set(pairs.status) <= {"link", "review"}

    listed = cli("review", "list", "--format", "json", "--limit", "5", "--records", "reg.csv")
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.output)
    assert items and all(0.5 <= i["probability"] < 0.9 for i in items)
    assert "first_name" in items[0]["evidence"] and "first_name:" in items[0]["values"]


def test_review_decisions_are_recorded_and_override_the_model(cli: Cli, tmp_path: Path) -> None:
    assert cli("dedupe", "reg.csv", "--out", "c1.csv", "--pairs", "p1.csv", "--by", "amina").exit_code == 0
    first = json.loads(cli("review", "list", "--format", "json", "--limit", "2").output)
    match, other = first[0], first[1]
    done = cli("review", "decide", str(match["item"]), "match", "--reason", "same phone and mother", "--by", "hodan")
    assert done.exit_code == 0, done.output
    assert cli("review", "decide", str(other["item"]), "non_match", "--reason", "twins", "--by", "hodan").exit_code == 0
    bad = cli("review", "decide", str(other["item"]), "maybe", "--reason", "?", "--by", "hodan")
    assert bad.exit_code == 1 and "match, non_match, unsure" in bad.output
    decided = json.loads(cli("review", "list", "--status", "decided", "--format", "json").output)
    assert {d["decision"] for d in decided} == {"match", "non_match"}
    audit = cli("audit", "list", "--format", "json")
    assert any(e["action"] == "linkage.decide" and e["actor"] == "hodan" for e in json.loads(audit.output))

    assert cli("dedupe", "reg.csv", "--out", "c2.csv", "--pairs", "p2.csv", "--by", "amina").exit_code == 0
    clusters = pd.read_csv(tmp_path / "c2.csv", dtype=str).set_index("id").cluster_id
    left, right = match["left"].split(":")[1], match["right"].split(":")[1]
    assert clusters[left] == clusters[right]  # decided a match: linked
    pairs = pd.read_csv(tmp_path / "p2.csv", dtype=str)
    a, b = other["left"].split(":")[1], other["right"].split(":")[1]
    decided_pair = pairs[(pairs.id_l == a) & (pairs.id_r == b)]
    assert (decided_pair.status == "rejected").all()
    runs = json.loads(cli("review", "runs", "--format", "json").output)
    assert len(runs) == 2


def test_link_two_agencies(cli: Cli, tmp_path: Path) -> None:
    done = cli("link", "agency_a.csv", "agency_b.csv", "--out", "linked.csv", "--no-review")
    assert done.exit_code == 0, done.output
    linked = pd.read_csv(tmp_path / "linked.csv", dtype=str)
    assert set(linked.list) == {"agency_a", "agency_b"}
    assert len(linked) == 1200


def test_privacy_preserving_linkage_end_to_end(cli: Cli, tmp_path: Path) -> None:
    assert cli("link", "keygen", "--out", "agencies.key").exit_code == 0
    again = cli("link", "keygen", "--out", "agencies.key")
    assert again.exit_code == 1 and "exists" in again.output
    (tmp_path / "enc.yaml").write_text(ENCODING)
    for side in ("a", "b"):
        done = cli("link", "encode", f"agency_{side}.csv", "--key-file", "agencies.key", "--spec", "enc.yaml",
                   "--out", f"{side}.enc.csv")  # fmt: skip
        assert done.exit_code == 0, done.output
    encoded = (tmp_path / "a.enc.csv").read_text()
    assert "Mohamed" not in encoded and "mohamed" not in encoded
    assert encoded.splitlines()[0] == "record_id,person,household,name"
    done = cli("link", "encoded", "a.enc.csv", "b.enc.csv", "--out", "linked.csv", "--pairs", "pairs.csv",
               "--no-review")  # fmt: skip
    assert done.exit_code == 0, done.output
    pairs = pd.read_csv(tmp_path / "pairs.csv", dtype=str)
    truth = pd.read_csv(tmp_path / "reg.csv", dtype=str).set_index("record_id").person_id
    links = pairs[pairs.status == "link"]
    assert len(links) > 50
    # siblings share most of a household filter and EM on encodings cannot tell them apart as well as the joint
    # comparison of plaintext does (docs/linkage.md, open questions): a lower bar than plaintext's
    assert (truth[links.id_l].to_numpy() == truth[links.id_r].to_numpy()).mean() > 0.8


def test_clear_errors(cli: Cli, tmp_path: Path) -> None:
    missing = cli("dedupe", "nowhere.csv", "--out", "x.csv", "--no-review")
    assert missing.exit_code == 1 and "nowhere.csv: no such file" in missing.output
    (tmp_path / "bad.yaml").write_text("fields: {name: surname}\nblocking: [[name.key]]\n")
    bad = cli("dedupe", "reg.csv", "--spec", "bad.yaml", "--out", "x.csv", "--no-review")
    assert bad.exit_code == 1 and "bad.yaml" in bad.output and "unknown type 'surname'" in bad.output
    (tmp_path / "rule.yaml").write_text("fields: {first_name: name}\nblocking: [[first_name.year]]\n")
    rule = cli("dedupe", "reg.csv", "--spec", "rule.yaml", "--out", "x.csv", "--no-review")
    assert rule.exit_code == 1 and "no part 'year'" in rule.output
    (tmp_path / "col.yaml").write_text("fields: {surname: name}\nblocking: [[surname.key]]\n")
    col = cli("dedupe", "reg.csv", "--spec", "col.yaml", "--out", "x.csv", "--no-review")
    assert col.exit_code == 1 and "no column 'surname'" in col.output
    one = cli("link", "agency_a.csv", "--out", "x.csv")
    assert one.exit_code == 1 and "two or more" in one.output
