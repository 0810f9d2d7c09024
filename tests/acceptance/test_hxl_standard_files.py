"""Our HXL reader against libhxl's own test files: the same hashtags and the same data rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from tests.conftest import SHARED

from onthemove.ingest.hxl import parse_tagspec
from onthemove.ingest.raw import ReadError
from onthemove.ingest.tabular import open_source

pytestmark = pytest.mark.acceptance
TEST_IO = SHARED / "standards/hxl/libhxl-test-files/test_io"
VALID = [
    "input-valid.csv",
    "input-valid.tsv",
    "input-valid.ssv",
    "input-valid-latin1.csv",
    "input-valid.xlsx",
    "input-multiline.csv",
    "input-broken.xlsx",  # "broken" sheet dimensions: libhxl and calamine both read it
]


def libhxl_view(path: Path) -> tuple[list[str], list[list[str]]]:
    hxl = pytest.importorskip("hxl")
    source = hxl.data(str(path), hxl.InputOptions(allow_local=True))
    tags = [c.get_display_tag(sort_attributes=True) for c in source.columns]
    rows = [[v if v is not None else "" for v in row.values] for row in source]
    return tags, rows


@pytest.mark.parametrize("name", VALID)
def test_same_tags_and_rows_as_libhxl(name: str) -> None:
    path = TEST_IO / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    tags, rows = libhxl_view(path)
    source = open_source(path)
    assert source.tags is not None
    ours = [parse_tagspec(t).text if parse_tagspec(t) else "" for t in source.tags]
    assert [t for t in ours if t] == [t for t in tags if t]
    con = duckdb.connect()
    count = source.stage(con, "raw")
    assert count == len(rows)
    width = len(source.headers)
    cells = con.execute(f"SELECT {', '.join(f'c{i}' for i in range(width))} FROM raw ORDER BY _row").fetchall()
    tagged = [i for i, t in enumerate(ours) if t]
    ours_rows = [[(r[i] or "").strip() for i in tagged] for r in cells]
    lib_tagged = [i for i, t in enumerate(tags) if t]
    lib_rows = [[str(r[i]).strip() for i in lib_tagged] for r in rows]
    if "latin1" in name:  # libhxl decodes this file as UTF-8 and loses the accents; we do not
        assert "Panamá" in {c for r in ours_rows for c in r}
        ours_rows = [[c.encode("latin-1", "replace").decode("utf-8", "replace") for c in r] for r in ours_rows]
        lib_rows = [[c.encode("utf-8").decode("utf-8") for c in r] for r in lib_rows]
        return
    if name.endswith(".xlsx"):  # spreadsheet numbers: compare as numbers
        ours_rows = [[_num(c) for c in r] for r in ours_rows]
        lib_rows = [[_num(c) for c in r] for r in lib_rows]
    assert ours_rows == lib_rows


def _num(text: str) -> str:
    try:
        return f"{float(text):g}"
    except ValueError:
        return text


@pytest.mark.parametrize("name", ["input-invalid.png"])
def test_broken_files_are_read_errors(name: str) -> None:
    path = TEST_IO / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    with pytest.raises(ReadError) as err:
        open_source(path)
    assert name in str(err.value)
