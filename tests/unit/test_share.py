"""Exports checked by the tools their readers use: libhxl's default schema and Frictionless.

A tiny gazetteer and two tiny HXL files (movements, displacement) are loaded into a DuckDB store;
every export is then validated, and a deliberately broken file shows each validator can fail.
Regenerate the golden datapackage.json with ``UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onthemove.analyse.query import Query, run
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.hxl import parse_tagspec
from onthemove.ingest.kinds import KINDS
from onthemove.ingest.pipeline import ingest
from onthemove.share import export_hxl, export_package, export_records, hxl_tags_for
from onthemove.share.frictionless_export import licence_entry
from onthemove.share.hxl_export import NUMERIC_HASHTAGS, count_attributes, field_tag
from onthemove.store import Store, open_store

hxl = pytest.importorskip("hxl")

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SHARED_SCHEMA = SHARED / "standards" / "hxl" / "hxl-default-schema.json"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "datapackage.json"

PCODES = """Location,Admin Level,P-Code,Name,Parent P-Code,Valid from date
#country+code,#geo+admin_level,#adm+code,#adm+name,#adm+code+parent,#date+start
SOM,1,SO11,Awdal,SOM,2017-01-01
SOM,1,SO12,Woqooyi Galbeed,SOM,2017-01-01
SOM,2,SO1101,Borama,SO11,2017-01-01
SOM,2,SO1201,Hargeysa,SO12,2017-01-01
SOM,2,SO1202,Berbera,SO12,2017-01-01
"""
MOVEMENTS = """Date,Arrival district,Origin district,Reason,IDPs
#date+reported,#adm2+code+dest,#adm2+code+origin,#cause+type,#affected+idps
2021-01-31,SO1201,SO1101,conflict,120
2021-01-31,SO1202,SO1101,drought,40
2021-02-28,SO1201,SO1202,drought,75
2021-02-28,SO1101,,flood,10
2021-03-31,SO1202,SO1201,conflict,33
"""
DISPLACEMENT = """Date,District,Reason,IDPs,IDPs female
#date+reported,#adm2+code,#cause+type,#affected+idps,#affected+idps+f
2021-03-31,SO1201,conflict,500,260
2021-03-31,SO1101,drought,80,41
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    d = tmp_path_factory.mktemp("share")
    for name, text in (("pcodes.csv", PCODES), ("movements.csv", MOVEMENTS), ("displacement.csv", DISPLACEMENT)):
        (d / name).write_text(text, encoding="utf-8")
    s = open_store(d / "s")
    load_pcodes(s, d / "pcodes.csv", country="SOM")
    assert ingest(s, d / "movements.csv", kind="movements", attribution="Test monitoring", licence="CC BY").rows_loaded
    assert ingest(
        s, d / "displacement.csv", kind="displacement", attribution="Test DTM", licence="CC BY-IGO"
    ).rows_loaded
    yield s
    s.close()


def hxl_issues(path: Path) -> tuple[bool, list[tuple[str, str, Any]]]:
    """Validate with the HXL default schema: the copy in ../shared when present, else libhxl's own."""
    issues: list[Any] = []
    local = hxl.InputOptions(allow_local=True)
    source = hxl.data(str(SHARED_SCHEMA), local) if SHARED_SCHEMA.is_file() else None
    ok = hxl.schema(source, callback=issues.append).validate(hxl.data(str(path), local))
    return ok, [(i.rule.severity, i.message, i.value) for i in issues]


# --- tags -----------------------------------------------------------------------------------


def test_aggregate_columns_get_core_tags() -> None:
    cols = ["month", "adm1", "adm1_name", "adm2", "adm2_name", "reason", "population_group", "sex", "count"]
    assert hxl_tags_for(cols) == [
        "#date",
        "#adm1+code",
        "#adm1+name",
        "#adm2+code",
        "#adm2+name",
        "#cause+type",
        "#x_population+type",
        "#x_sex",
        "#affected+num",
    ]
    assert hxl_tags_for(["adm0", "year", "quarter", "mystery"]) == ["#country+code", "#date", "#date", ""]
    assert hxl_tags_for(["adm2", "adm2_name"], "movements", side="from") == ["#adm2+code+origin", "#adm2+name+origin"]


def test_record_columns_use_kinds_tags_with_provenance_and_names() -> None:
    cols = ["batch_id", "row_number", "to_place", "to_place_name", "date", "reason", "count"]
    assert hxl_tags_for(cols, "movements") == [
        "#meta+batch",
        "#meta+row",
        "#adm+code+dest",
        "#adm+name+dest",
        "#date+reported",
        "#cause+type",
        "#affected+num",
    ]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_text_field_is_tagged_with_a_numeric_hashtag(kind: str) -> None:
    """The default schema's error rules: numbers under #population/#affected/..., dates under #date."""
    k = KINDS[kind]
    for f in k.fields:
        tag = field_tag(k, f.name)
        assert tag and parse_tagspec(tag), f"{kind}.{f.name}: {tag!r} is not a valid HXL tag spec"
        hashtag = tag.split("+")[0]
        if f.type not in ("int", "float"):
            assert hashtag not in NUMERIC_HASHTAGS, f"{kind}.{f.name} is {f.type} but tagged {tag}"
        assert (hashtag == "#date") == (f.type == "date"), f"{kind}.{f.name}: {tag}"


def test_count_attributes_describe_what_every_row_shares() -> None:
    pa = pytest.importorskip("pyarrow")
    t = pa.table({"population_group": ["idps", "idps"], "sex": ["f", "f"], "age_group": ["18-59", "18-59"]})
    assert count_attributes(t) == ["idps", "f", "age18_59"]
    assert count_attributes(pa.table({"age_group": ["60+"]})) == ["age60plus"]
    mixed = pa.table({"population_group": ["idps", "returnees"], "sex": ["total", "total"], "count": [1, 2]})
    assert count_attributes(mixed) == []
    assert hxl_tags_for(["count"], "movements", table=t) == ["#affected+idps+f+age18_59+num"]


# --- HXL exports through libhxl ----------------------------------------------------------------


def test_hxl_aggregate_passes_default_schema(store: Store, tmp_path: Path) -> None:
    table = run(store, Query(kind="movements", by=["month", "adm1", "reason"]))
    path = export_hxl(table, tmp_path / "monthly.csv", "movements")
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0] == ["month", "adm1", "adm1_name", "reason", "count"]
    assert rows[1] == ["#date", "#adm1+code", "#adm1+name", "#cause+type", "#affected+num"]
    assert ["2021-01", "SO12", "Woqooyi Galbeed", "conflict", "120"] in rows
    assert hxl_issues(path) == (True, [])


def test_hxl_quarters_are_written_as_libhxl_dates(store: Store, tmp_path: Path) -> None:
    table = run(store, Query(kind="movements", by=["quarter", "adm2", "population_group"]))
    assert table.column("quarter").to_pylist()[0] == "2021-Q1"
    path = export_hxl(table, tmp_path / "quarterly.csv", "movements")
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[1] == ["#date", "#adm2+code", "#adm2+name", "#x_population+type", "#affected+idps+num"]
    assert {r[0] for r in rows[2:]} == {"2021Q1"}
    assert hxl_issues(path) == (True, [])


@pytest.mark.parametrize("kind", ["movements", "displacement"])
def test_hxl_records_pass_default_schema(store: Store, tmp_path: Path, kind: str) -> None:
    path = export_records(store, kind, tmp_path / f"{kind}.csv")
    rows = list(csv.reader(path.open(encoding="utf-8")))
    header, tags = rows[0], rows[1]
    assert header[:2] == ["batch_id", "row_number"] and tags[:2] == ["#meta+batch", "#meta+row"]
    assert all(r[0].startswith("B") for r in rows[2:])  # every record names its batch
    named = dict(zip(header, rows[2], strict=True))
    place = "to_place" if kind == "movements" else "place"
    assert named[f"{place}_name"] in {"Borama", "Hargeysa", "Berbera"}
    assert hxl_issues(path) == (True, [])


def test_plain_csv_records_have_one_header_row(store: Store, tmp_path: Path) -> None:
    path = export_records(store, "movements", tmp_path / "m.csv", fmt="csv")
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert not rows[1][0].startswith("#") and len(rows) == 1 + 5
    with pytest.raises(ValueError, match="unknown format"):
        export_records(store, "movements", tmp_path / "x.csv", fmt="xlsx")


@pytest.mark.parametrize(
    ("tag", "value"),
    [("#date", "not a date"), ("#date+reported", "2021-13-01"), ("#population+type", "idps"), ("#affected", "n/a")],
)
def test_default_schema_rejects_broken_files(tmp_path: Path, tag: str, value: str) -> None:
    """The check above can fail: a non-date under #date, text under a numeric hashtag."""
    path = tmp_path / "broken.csv"
    path.write_text(f"what,count\n{tag},#affected+num\n{value},3\n", encoding="utf-8")
    ok, issues = hxl_issues(path)
    assert not ok
    assert [i[0] for i in issues] == ["error"]


def test_libhxl_embeds_the_shared_default_schema() -> None:
    if not SHARED_SCHEMA.is_file():
        pytest.skip(f"no ../shared HXL default schema at {SHARED_SCHEMA}")
    embedded = Path(hxl.__file__).parent / "hxl-default-schema.json"
    assert json.loads(embedded.read_text(encoding="utf-8")) == json.loads(SHARED_SCHEMA.read_text(encoding="utf-8"))


# --- Frictionless package ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def package(store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_package(store, tmp_path_factory.mktemp("pkg") / "package")


def test_package_passes_frictionless(package: Path) -> None:
    from frictionless import validate

    report = validate(str(package))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    names = [r["name"] for r in json.loads(package.read_text(encoding="utf-8"))["resources"]]
    assert names == ["places", "batches", "displacement", "movements", "movements-monthly-adm1-reason"]
    for name in ("places.csv", "batches.csv", "movements.csv", "movements_monthly_adm1_reason.csv"):
        first = (package.parent / name).read_text(encoding="utf-8").splitlines()[1]
        assert not first.startswith("#"), f"{name} must be plain CSV"


@pytest.mark.parametrize(
    ("column", "value", "error"), [("count", "many", "type-error"), ("to_place", "SO9999", "foreign-key")]
)
def test_package_corruption_is_caught(package: Path, tmp_path: Path, column: str, value: str, error: str) -> None:
    import shutil

    from frictionless import validate

    copy = tmp_path / "copy"
    shutil.copytree(package.parent, copy)
    target = copy / "movements.csv"
    rows = list(csv.reader(target.open(encoding="utf-8")))
    rows[1][rows[0].index(column)] = value
    with target.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    report = validate(str(copy / "datapackage.json"))
    assert not report.valid
    assert error in {e[0] for e in report.flatten(["type"])}


def test_package_matches_golden(package: Path) -> None:
    got = json.loads(package.read_text(encoding="utf-8"))
    assert got.pop("created").endswith("Z")
    text = json.dumps(got, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.is_file(), "no golden file yet: run with UPDATE_GOLDEN=1"
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_licences_use_open_definition_ids_where_known() -> None:
    assert licence_entry("CC BY")["name"] == "CC-BY-4.0"
    assert licence_entry("CC-BY-4.0")["name"] == "CC-BY-4.0"
    assert licence_entry("CC BY-IGO") == {
        "path": "https://creativecommons.org/licenses/by/3.0/igo/",
        "title": "CC BY-IGO",
    }
    assert licence_entry("Terms of the provider") == {"name": "Terms-of-the-provider", "title": "Terms of the provider"}
