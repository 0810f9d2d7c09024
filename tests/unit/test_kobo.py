"""Kobo/ODK exports: group paths, repeats, select_multiple shapes, label headers, broken files."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from onthemove.ingest.kobo import (
    KoboExport,
    explode_select_multiple,
    flatten_repeat,
    read_kobo,
    short_names,
)
from onthemove.ingest.raw import RawTable, ReadError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kobo"

MAIN_HEADERS = [
    "start", "end", "grp_location/district", "grp_location/village", "reasons", "reasons/conflict",
    "reasons/flood", "reasons/other", "hh_size", "_id", "_uuid", "_submission_time", "_index",
]  # fmt: skip
MAIN_ROWS: list[list[Any]] = [
    ["2024-02-01T09:00", "2024-02-01T09:20", "d1", "Abyei town", "conflict flood", 1, 1, 0, 6, 501, "u-1",
     "2024-02-01", 1],
    ["2024-02-02T10:00", "2024-02-02T10:15", "d2", "Agok", "other", 0, 0, 1, 3, 502, "u-2", "2024-02-02", 2],
]  # fmt: skip
MEMBER_HEADERS = [
    "grp_hh/members/name", "grp_hh/members/age", "grp_hh/members/needs", "grp_hh/members/needs/food",
    "grp_hh/members/needs/water", "grp_hh/members/needs/shelter", "_index", "_parent_table_name",
    "_parent_index", "_submission__id", "_submission__uuid",
]  # fmt: skip
MEMBER_ROWS: list[list[Any]] = [
    ["Amina", 34, "food water", 1, 1, 0, 1, "Displacement survey", 1, 501, "u-1"],
    ["Deng", 9, "shelter", 0, 0, 1, 2, "Displacement survey", 1, 501, "u-1"],
    ["Nyibol", 61, None, None, None, None, 3, "Displacement survey", 2, 502, "u-2"],
]  # fmt: skip

SURVEY = [
    ["type", "name", "label::English (en)", "hxl"],
    ["start", "start", None, None],
    ["begin_group", "grp_location", "Location", None],
    ["select_one districts", "district", "District", "#adm2+code"],
    ["text", "village", "Village", None],
    ["end_group", None, None, None],
    ["select_multiple reasons", "reasons", "Reasons for leaving", "#cause+type"],
    ["integer", "hh_size", "Household size", "#affected+hh"],
    ["begin group", "grp_hh", "Household", None],
    ["begin repeat", "members", "Household members", None],
    ["text", "name", "Name", None],
    ["integer", "age", "Age", None],
    ["select all that apply from needs or specify other", "needs", "Needs", None],
    ["end repeat", None, None, None],
    ["end group", None, None, None],
]
CHOICES = [
    ["list_name", "name", "label::English (en)"],
    ["districts", "d1", "District One"],
    ["districts", "d2", "District Two"],
    ["reasons", "conflict", "Conflict"],
    ["reasons", "flood", "Flood"],
    ["reasons", "other", "Other reason"],
    ["needs", "food", "Food"],
    ["needs", "water", "Water"],
    ["needs", "shelter", "Shelter"],
]


def write_xlsx(path: Path, sheets: Mapping[str, Sequence[Any]]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def column(table: RawTable, header: str) -> list[str | None]:
    return table.table.column(f"c{table.headers.index(header)}").to_pylist()


def rows_of(table: RawTable) -> list[int]:
    return table.table.column("_row").to_pylist()


@pytest.fixture
def form(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "form.xlsx", {"survey": SURVEY, "choices": CHOICES})


@pytest.fixture
def export(tmp_path: Path) -> KoboExport:
    path = write_xlsx(
        tmp_path / "survey_xml.xlsx",
        {"Displacement survey": [MAIN_HEADERS, *MAIN_ROWS], "members": [MEMBER_HEADERS, *MEMBER_ROWS]},
    )
    return read_kobo(path)


def test_group_paths_kept_as_headers(export: KoboExport) -> None:
    main = export.main
    assert main.headers == MAIN_HEADERS
    assert main.sheet == "Displacement survey" and main.source == "survey_xml.xlsx"
    assert rows_of(main) == [2, 3]
    assert column(main, "grp_location/district") == ["d1", "d2"]
    assert column(main, "hh_size") == ["6", "3"]  # numbers as text, no "6.0"
    assert column(main, "_index") == ["1", "2"]
    assert main.notes and main.notes[0].startswith("Kobo XLSX export")


def test_short_names() -> None:
    assert short_names(MAIN_HEADERS)[:9] == [
        "start", "end", "district", "village", "reasons", "reasons/conflict", "reasons/flood", "reasons/other",
        "hh_size",
    ]  # fmt: skip
    assert short_names(["a/name", "b/name", "c/age", "_grp/pt_latitude", "meta/instanceID"]) == [
        "a/name", "b/name", "age", "_pt_latitude", "instanceID",
    ]  # fmt: skip
    assert short_names(["age", "grp/age"]) == ["age", "grp/age"]


def test_repeat_group_linked_to_parent(export: KoboExport) -> None:
    members = export.repeats["members"]
    assert members.headers == MEMBER_HEADERS and members.sheet == "members"
    assert column(members, "_parent_index") == ["1", "1", "2"]
    flat = flatten_repeat(export, "members")
    assert rows_of(flat) == [2, 3, 4]  # the repeat sheet's rows
    assert flat.headers[: len(MEMBER_HEADERS)] == MEMBER_HEADERS
    assert column(flat, "grp_location/village") == ["Abyei town", "Abyei town", "Agok"]
    assert column(flat, "_submission__index") == ["1", "1", "2"]
    assert column(flat, "_submission__submission_time") == ["2024-02-01", "2024-02-01", "2024-02-02"]
    assert flat.headers.count("_submission__uuid") == 1  # Kobo's own copy is not duplicated
    assert "_index" in flat.headers and "_id" not in flat.headers


def test_flatten_orphans_and_unknown_repeat(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "orphan.xlsx",
        {"main": [["q", "_index"], ["a", 1]], "r": [["r/x", "_parent_index"], ["x1", 1], ["x2", 7]]},
    )
    export = read_kobo(path)
    flat = flatten_repeat(export, "r")
    assert column(flat, "q") == ["a", None]
    assert any("1 repeat row(s) have no parent" in n for n in flat.notes)
    with pytest.raises(ValueError, match="the export has: r"):
        flatten_repeat(export, "nope")


def test_nested_repeats_flatten_through_the_chain(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "nested.xlsx",
        {
            "form": [["site", "_uuid", "_index"], ["S1", "u1", 1], ["S2", "u2", 2]],
            "hh": [["hh/head", "_index", "_parent_table_name", "_parent_index"],
                   ["H1", 1, "form", 1], ["H2", 2, "form", 2]],
            "person": [["hh/person/age", "_parent_table_name", "_parent_index"],
                       [30, "hh", 2], [4, "hh", 2], [50, "hh", 1]],
        },
    )  # fmt: skip
    flat = flatten_repeat(read_kobo(path), "person")
    assert column(flat, "hh/head") == ["H2", "H2", "H1"]
    assert column(flat, "site") == ["S2", "S2", "S1"]
    assert column(flat, "_hh__index") == ["2", "2", "1"]
    assert column(flat, "_submission__uuid") == ["u2", "u2", "u1"]


def test_select_multiple_both_shapes_kept(export: KoboExport) -> None:
    assert column(export.main, "reasons") == ["conflict flood", "other"]
    assert column(export.main, "reasons/flood") == ["1", "0"]
    long = explode_select_multiple(export.main, "reasons")
    assert column(long, "reasons") == ["conflict", "flood", "other"]
    assert rows_of(long) == [2, 2, 3]
    assert long.headers == export.main.headers


def test_split_only_export_gets_the_summary_column(tmp_path: Path) -> None:
    headers = ["q", "fruit/apple", "fruit/pear", "_index"]
    rows = [["a", True, True, 1], ["b", False, False, 2], ["c", None, None, 3]]
    main = read_kobo(write_xlsx(tmp_path / "split.xlsx", {"s": [headers, *rows]}), form=None).main
    # without a form a split-only column set cannot be told apart from a group: left as is
    assert "fruit" not in main.headers
    assert column(main, "fruit/apple") == ["true", "false", None]
    long = explode_select_multiple(main, "fruit")
    assert long.headers[:2] == ["q", "fruit"]
    assert column(long, "fruit") == ["apple", "pear", None, None]
    assert rows_of(long) == [2, 2, 3, 4]


def test_form_completes_select_multiple_shapes(tmp_path: Path, form: Path) -> None:
    headers = ["grp_location/district", "reasons/conflict", "reasons/flood", "reasons/other", "_index"]
    split_only = write_xlsx(tmp_path / "details.xlsx", {"s": [headers, ["d1", 1, 0, 1, 1], ["d2", 0, 0, 0, 2]]})
    main = read_kobo(split_only, form=form).main
    assert main.headers[1] == "reasons"
    assert column(main, "reasons") == ["conflict other", None]
    summary_only = write_xlsx(tmp_path / "summary.xlsx", {"s": [["reasons", "_index"], ["flood", 1], [None, 2]]})
    main = read_kobo(summary_only, form=form).main
    assert main.headers == ["reasons", "reasons/conflict", "reasons/flood", "reasons/other", "_index"]
    assert column(main, "reasons/flood") == ["1", None]
    assert column(main, "reasons/conflict") == ["0", None]
    assert any("split columns added" in n for n in main.notes)


def test_label_header_export_renamed_with_form(tmp_path: Path, form: Path) -> None:
    headers = ["District", "Village", "Reasons for leaving", "Reasons for leaving/Conflict",
               "Reasons for leaving/Flood", "Reasons for leaving/Other reason", "Household size", "_index"]  # fmt: skip
    rows = [["District One", "Agok", "Conflict Other reason", 1, 0, 1, 4, 1]]
    members = [["Household/Household members/Name", "Household/Household members/Needs/Food", "_parent_index"],
               ["Ajok", 1, 1]]  # fmt: skip
    path = write_xlsx(tmp_path / "labels.xlsx", {"Displacement survey": [headers, *rows], "members": members})
    export = read_kobo(path, form=form)
    assert export.main.headers == [
        "grp_location/district", "grp_location/village", "reasons", "reasons/conflict", "reasons/flood",
        "reasons/other", "hh_size", "_index",
    ]  # fmt: skip
    assert column(export.main, "grp_location/district") == ["District One"]  # values never translated
    assert export.main.tags is not None and export.main.tags[0] == "#adm2+code"  # from the form's hxl column
    member_headers = export.repeats["members"].headers
    assert member_headers[:3] == ["grp_hh/members/name", "grp_hh/members/needs", "grp_hh/members/needs/food"]
    # the summary holds labels, so the split columns decide what was chosen
    assert column(explode_select_multiple(export.main, "reasons"), "reasons") == ["conflict", "other"]
    # without the form the label headers are kept exactly
    assert read_kobo(path).main.headers == headers


def test_dash_separator_renamed_with_form(tmp_path: Path, form: Path) -> None:
    path = write_xlsx(
        tmp_path / "dash.xlsx", {"s": [["grp_location-district", "reasons-flood", "_index"], ["d1", 1, 1]]}
    )
    assert read_kobo(path, form=form).main.headers[:3] == ["grp_location/district", "reasons", "reasons/flood"]


def test_hxl_tag_row(tmp_path: Path) -> None:
    rows = [["grp/district", "hh_size", "_index"], ["#adm2+code", "#affected+hh", None], ["d1", 5, 1]]
    main = read_kobo(write_xlsx(tmp_path / "hxl.xlsx", {"s": rows})).main
    assert main.tags == ["#adm2+code", "#affected+hh", None]
    assert rows_of(main) == [3]


def test_csv_export_semicolons_and_line_numbers() -> None:
    main = read_kobo(FIXTURES / "site_visits.csv").main
    assert main.headers[:4] == ["start", "end", "grp_location/district", "grp_location/village"]
    assert main.sheet is None and main.source == "site_visits.csv"
    assert rows_of(main) == [2, 4, 5]  # the first record spans lines 2-3
    assert column(main, "comment")[0] == "two families\nshare one shelter"
    assert column(main, "reasons") == ["conflict flood", "other", None]
    assert column(explode_select_multiple(main, "reasons"), "reasons") == ["conflict", "flood", "other", None]
    assert read_kobo(FIXTURES / "site_visits.csv").repeats == {}


def test_json_api_submissions_with_nested_repeats(tmp_path: Path, form: Path) -> None:
    results = [
        {"_id": 7, "_uuid": "u7", "grp_location/district": "d1", "reasons": "flood",
         "grp_hh/members": [{"grp_hh/members/name": "A", "grp_hh/members/needs": "food"},
                            {"grp_hh/members/name": "B"}],
         "_attachments": [], "_geolocation": [1.5, 2.0]},
        {"_id": 8, "_uuid": "u8", "grp_location/district": "d2"},
    ]  # fmt: skip
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"count": 2, "next": None, "results": results}))
    export = read_kobo(path, form=form)
    main = export.main
    assert rows_of(main) == [1, 2]
    assert column(main, "_geolocation") == ["[1.5, 2.0]", None]
    assert column(main, "reasons/flood") == ["1", None]
    members = export.repeats["members"]
    assert rows_of(members) == [1, 1]  # the submission's index in the file
    assert column(members, "_parent_index") == ["1", "1"]
    assert column(members, "_submission__uuid") == ["u7", "u7"]
    assert column(members, "grp_hh/members/needs/food") == ["1", None]
    assert column(flatten_repeat(export, "members"), "grp_location/district") == ["d1", "d1"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.xlsx", b"PK\x03\x04 this is not really a zip", "not a readable Kobo XLSX export"),
        ("broken.json", b'{"results": [', "not valid JSON"),
        ("odd.json", b'{"hello": 1}', "expected a list of submissions"),
        ("empty.csv", b"", "is empty"),
        ("latin1.csv", "caf\xe9;x\n1;2\n".encode("latin-1"), "UTF-8"),
    ],
)
def test_broken_files_give_read_error_with_file_name(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReadError, match=message) as err:
        read_kobo(path)
    assert err.value.source == name
    assert str(err.value).startswith(name)


def test_missing_file_and_bad_form(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="file not found"):
        read_kobo(tmp_path / "nope.xlsx")
    csv_path = FIXTURES / "site_visits.csv"
    not_a_form = write_xlsx(tmp_path / "notform.xlsx", {"Sheet": [["a"]]})
    with pytest.raises(ReadError, match="no 'survey' sheet"):
        read_kobo(csv_path, form=not_a_form)


def test_every_sheet_is_a_repeat_is_an_error(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "only_repeat.xlsx", {"r": [["r/x", "_parent_index"], ["x", 1]]})
    with pytest.raises(ReadError, match="no main sheet"):
        read_kobo(path)


def test_explode_unknown_column(export: KoboExport) -> None:
    with pytest.raises(ValueError, match="no column 'nope'"):
        explode_select_multiple(export.main, "nope")


def test_long_repeat_names_cut_by_excel_are_restored_with_a_json_form(tmp_path: Path) -> None:
    long_name = "household_members_roster_repeat_group"  # 37 characters; Excel sheet names stop at 31
    content = {
        "survey": [
            {"type": "text", "name": "site", "label": ["Site"]},
            {"type": "begin_repeat", "name": long_name, "label": ["Members"]},
            {"type": "begin_repeat", "name": "child_visits", "label": ["Visits"]},
            {"type": "integer", "name": "days", "label": ["Days"]},
            {"type": "end_repeat"},
            {"type": "end_repeat"},
        ]
    }
    form = tmp_path / "form.json"
    form.write_text(json.dumps({"content": content}))
    cut = long_name[:31]
    path = write_xlsx(
        tmp_path / "long.xlsx",
        {
            "Form": [["site", "_index"], ["S1", 1]],
            cut: [[f"{long_name}/x", "_index", "_parent_table_name", "_parent_index"], ["m1", 1, "Form", 1]],
            "child_visits": [
                [f"{long_name}/child_visits/days", "_parent_table_name", "_parent_index"],
                [3, cut, 1],
            ],
        },
    )
    export = read_kobo(path, form=form)
    assert list(export.repeats) == [long_name, "child_visits"]
    flat = flatten_repeat(export, "child_visits")
    assert column(flat, f"{long_name}/x") == ["m1"]
    assert column(flat, "site") == ["S1"]
