"""Kobo reader on the formpack fixtures in ../shared/standards/kobo (form + API submissions JSON)."""

from __future__ import annotations

from pathlib import Path

import pytest

from onthemove.ingest.kobo import explode_select_multiple, flatten_repeat, read_kobo, short_names
from onthemove.ingest.raw import RawTable

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
KOBO = SHARED / "standards" / "kobo" / "formpack-fixtures"

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(not KOBO.is_dir(), reason=f"shared Kobo fixtures not found at {KOBO}"),
]


def column(table: RawTable, header: str) -> list[str | None]:
    return table.table.column(f"c{table.headers.index(header)}").to_pylist()


@pytest.mark.parametrize("name", ["grouped_repeatable", "hxl_grouped_repeatable"])
def test_grouped_repeatable(name: str) -> None:
    export = read_kobo(KOBO / name / "v1.json")
    main = export.main
    assert main.headers[0] == "household_visit/household_location"
    assert column(main, "household_visit/household_location")[:2] == ["montreal", "marseille"]
    assert main.table.column("_row").to_pylist() == [1, 2, 3, 4, 5, 6]
    assert short_names(main.headers)[0] == "household_location"
    assert list(export.repeats) == ["houshold_member_repeat"]
    flat = flatten_repeat(export, "houshold_member_repeat")
    names = column(flat, "household_visit/houshold_member_repeat/household_member_name")
    assert len(names) == 13 and names[:3] == ["peter", "kyle", "linda"]
    assert column(flat, "household_visit/household_location")[:3] == ["montreal", "marseille", "marseille"]
    assert flat.table.column("_row").to_pylist()[:3] == [1, 2, 2]


def test_hxl_tags_come_from_the_form() -> None:
    main = read_kobo(KOBO / "hxl_grouped_repeatable" / "v1.json").main
    assert main.tags is not None
    assert main.tags[main.headers.index("household_visit/household_location")] == "#loc+name"
    assert main.tags[main.headers.index("start")] == "#date+start"


def test_dietary_needs_select_multiple() -> None:
    main = read_kobo(KOBO / "dietary_needs" / "v1.json").main
    q = "dietary_accommodations"
    assert column(main, q) == ["gluten_free", "vegan vegetarian", "gluten_free vegan vegetarian lactose_free"]
    assert column(main, f"{q}/vegan") == ["0", "1", "1"]
    long = explode_select_multiple(main, q)
    assert long.table.num_rows == 7
    assert column(long, q)[1:3] == ["vegan", "vegetarian"]


@pytest.mark.parametrize("version", ["v1.json", "v2.json"])
def test_all_geo_types(version: str) -> None:
    main = read_kobo(KOBO / "all_geo_types" / version).main
    assert "_uuid" in main.headers and "_index" in main.headers
    point = "Point" if version == "v1.json" else "geo_group/Point"
    assert column(main, point)[0] is not None
    assert (column(main, "_id")[0] or "").isdigit()
