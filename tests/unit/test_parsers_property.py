"""Property tests and fuzzing for the parsers: HXL tag specs and hashtag rows, the CSV sniffer and
stager, the whole ingest on generated HXL files, and mapping dictionaries.

The contract under test: bad input gives a ``ReadError``, ``IngestError`` or ``MappingError`` with a
message (the CLI turns those into an exit code 1), or a rejected row with a reason; never any other
exception, and never a silently lost or altered row. The bugs these tests found were fixed; their
regression tests are at the end.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from tests.helpers import PCODES, write

from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.hxl import MAX_HEADER_ROWS, TagSpec, find_hashtag_row, is_hashtag_row, parse_tagspec
from onthemove.ingest.kinds import KINDS
from onthemove.ingest.mapping import ALLOWED_KEYS, Mapping, MappingError
from onthemove.ingest.pipeline import IngestError, StrictRefusal, ingest
from onthemove.ingest.raw import ROW, ReadError
from onthemove.ingest.sources import ingest_file
from onthemove.ingest.tabular import open_source, sniff_csv
from onthemove.store import Store, open_store

FAST = settings(max_examples=100, deadline=None)
SLOW = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

pytestmark = pytest.mark.duckdb


@contextmanager
def scratch() -> Iterator[Path]:
    """A temporary folder per example (hypothesis and function-scoped fixtures don't mix)."""
    path = Path(tempfile.mkdtemp(prefix="otm-prop-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- parse_tagspec ------------------------------------------------------------------------------

NAME = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
TAGSPECS = st.builds(TagSpec, NAME, st.frozensets(NAME, max_size=5))
SPACE = st.sampled_from(["", "", " ", "  ", "\t"])


@FAST
@given(TAGSPECS)
def test_tagspec_round_trip(ts: TagSpec) -> None:
    assert parse_tagspec(ts.text) == ts
    assert parse_tagspec(f"  {ts.text}\t") == ts


@FAST
@given(TAGSPECS, st.data())
def test_tagspec_attribute_order_and_spacing_do_not_matter(ts: TagSpec, data: st.DataObject) -> None:
    attrs = data.draw(st.permutations(sorted(ts.attributes)))
    repeats = data.draw(st.lists(st.sampled_from(sorted(ts.attributes)), max_size=3)) if attrs else []
    text = "#" + ts.tag + "".join(f"{data.draw(SPACE)}+{data.draw(SPACE)}{a}" for a in [*attrs, *repeats])
    parsed = parse_tagspec(text)
    assert parsed == ts
    assert parsed is not None and parsed.matches(TagSpec(ts.tag, frozenset(attrs[:1])))


@FAST
@given(TAGSPECS, st.data())
def test_tagspec_is_case_insensitive(ts: TagSpec, data: st.DataObject) -> None:
    flips = data.draw(st.lists(st.booleans(), min_size=len(ts.text), max_size=len(ts.text)))
    text = "".join(c.upper() if f else c for c, f in zip(ts.text, flips, strict=True))
    assert parse_tagspec(text) == ts
    assert parse_tagspec(ts.text.upper()) == ts


@FAST
@given(st.one_of(st.none(), st.text(), st.text(alphabet="#+ _aZ09\t\n-.é").map(lambda s: "#" + s)))
def test_tagspec_never_raises(text: str | None) -> None:
    parsed = parse_tagspec(text)
    assert parsed is None or isinstance(parsed, TagSpec)
    if parsed is not None:
        assert text is not None and text.strip().startswith("#")
        assert parsed.tag == parsed.tag.lower()
        assert all(a == a.lower() and a for a in parsed.attributes)


@FAST
@given(st.text(max_size=20).filter(lambda s: not s.lstrip().startswith("#")))
def test_text_without_a_hash_is_not_a_tag(text: str) -> None:
    assert parse_tagspec(text) is None


# --- hashtag rows -------------------------------------------------------------------------------

CELL = st.one_of(st.none(), st.text(max_size=15))
ROWS = st.lists(st.lists(CELL, max_size=8), max_size=40)
NOT_A_TAG = st.one_of(st.none(), st.text(max_size=15).filter(lambda s: parse_tagspec(s) is None))
PLAIN_ROW = st.lists(NOT_A_TAG, max_size=8)


@st.composite
def tag_rows(draw: st.DrawFn) -> list[str | None]:
    """A hashtag row: some tags, some empty cells, and fewer non-tag texts than tags."""
    tags = draw(st.lists(TAGSPECS.map(lambda t: t.text), min_size=1, max_size=6))
    others = draw(st.lists(st.text(min_size=1, max_size=10).filter(lambda s: s.strip() and not parse_tagspec(s))))
    others = others[: len(tags)]
    blanks = draw(st.lists(st.sampled_from([None, "", "  "]), max_size=3))
    return draw(st.permutations([*tags, *others, *blanks]))


@FAST
@given(ROWS)
def test_hashtag_row_search_never_raises(rows: list[list[str | None]]) -> None:
    found = find_hashtag_row(rows)
    assert found is None or 0 <= found < min(len(rows), MAX_HEADER_ROWS)
    if found is not None:
        assert is_hashtag_row(rows[found])
        assert not any(is_hashtag_row(r) for r in rows[:found])


@FAST
@given(st.lists(PLAIN_ROW, max_size=MAX_HEADER_ROWS - 1), tag_rows(), ROWS)
def test_hashtag_row_found_at_its_index(above: list[list[Any]], tags: list[str | None], below: list[Any]) -> None:
    assert is_hashtag_row(tags)
    assert not any(is_hashtag_row(r) for r in above)
    assert find_hashtag_row([*above, tags, *below]) == len(above)


@FAST
@given(st.lists(PLAIN_ROW, min_size=MAX_HEADER_ROWS, max_size=MAX_HEADER_ROWS + 10), tag_rows(), ROWS)
def test_hashtag_row_past_25_is_not_found(above: list[list[Any]], tags: list[str | None], below: list[Any]) -> None:
    assert find_hashtag_row([*above, tags, *below]) is None


@FAST
@given(st.integers(0, 6), st.integers(0, 6), st.integers(0, 3))
def test_hashtag_row_needs_half_of_the_filled_cells(tags: int, texts: int, blanks: int) -> None:
    row = ["#adm1+code"] * tags + ["Region"] * texts + [None, " "][: blanks % 2 + 1] * blanks
    assert is_hashtag_row(row) == (tags > 0 and 2 * tags >= tags + texts)


# --- sniff_csv / open_source / stage ------------------------------------------------------------


def _stage_or_read_error(path: Path) -> tuple[Any, int] | None:
    """open_source + stage; None when the file is refused with a ReadError."""
    try:
        source = open_source(path)
    except ReadError:
        return None
    assert source.headers and all(isinstance(h, str) for h in source.headers)
    assert source.tags is None or len(source.tags) == len(source.headers)
    con = duckdb.connect()
    try:
        try:
            n = source.stage(con, "raw")
        except ReadError:
            return None
        columns = [d[0] for d in con.execute('SELECT * FROM "raw" LIMIT 0').description]
        assert columns == [*(f"c{i}" for i in range(len(source.headers))), ROW]
        numbers = [r[0] for r in con.execute(f'SELECT {ROW} FROM "raw" ORDER BY {ROW}').fetchall()]
        assert len(numbers) == n and len(set(numbers)) == n
        assert all(x >= 1 for x in numbers)
        return source, n
    finally:
        con.close()


@SLOW
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_read_or_read_error(data: bytes) -> None:
    with scratch() as tmp:
        path = tmp / "data.csv"
        path.write_bytes(data)
        with suppress(ReadError):
            sniff_csv(path)
        _stage_or_read_error(path)


TEXT_CELL = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=",;\t|\"'\r\n #+ab1é€…", max_size=12),
    st.sampled_from(["", "#adm1+code", "#date+reported", "#affected+idps", "Date", "2024-01-31", "1,000"]),
)


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    """Text that looks like CSV: rows of cells, sometimes properly quoted, sometimes not."""
    rows = draw(st.lists(st.lists(TEXT_CELL, min_size=1, max_size=6), min_size=0, max_size=12))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    if draw(st.booleans()):
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows(rows)
        return out.getvalue()
    return "\n".join(delimiter.join(r) for r in rows)


@SLOW
@given(csv_texts(), st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]))
def test_csv_like_text_reads_or_read_error(text: str, encoding: str) -> None:
    with scratch() as tmp:
        path = tmp / "data.csv"
        path.write_bytes(text.encode(encoding, errors="replace"))
        _stage_or_read_error(path)


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header row and data rows of equal width, written with the csv module (always valid CSV)."""
    width = draw(st.integers(1, 5))
    headers = draw(st.lists(st.from_regex(r"[A-Za-z][A-Za-z ]{0,8}", fullmatch=True), min_size=width, max_size=width))
    cell = st.one_of(st.text(alphabet=st.characters(exclude_categories=["Cs", "Cc"]), max_size=10), st.just(""))
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=15))
    return headers, rows


@SLOW
@given(well_formed())
def test_well_formed_csv_is_read_whole(table: tuple[list[str], list[list[str]]]) -> None:
    """Valid UTF-8 CSV with a plain header: every non-empty row is staged, cell for cell."""
    headers, rows = table
    assume(not any(is_hashtag_row(r) for r in rows))  # HXL rule: such a row *is* the hashtag row
    with scratch() as tmp:
        path = tmp / "data.csv"
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([headers, *rows])
        path.write_text(out.getvalue(), encoding="utf-8")
        source = open_source(path)
        assume(sniff_csv(path).delimiter == ",")  # see test_semicolons_in_quoted_notes_...
        assert source.headers == [h.strip() for h in headers]
        con = duckdb.connect()
        n = source.stage(con, "raw")
        # a row of empty cells is no row; nor is a line of nothing but spaces (a one-column row of spaces)
        kept = [r for r in rows if any(c != "" for c in r) and not (len(r) == 1 and r[0].strip(" ") == "")]
        assert n == len(kept)
        got = con.execute(f'SELECT * EXCLUDE ({ROW}) FROM "raw" ORDER BY {ROW}').fetchall()
        assert [[c or "" for c in r] for r in got] == kept


# --- the whole ingest on generated HXL files ----------------------------------------------------

HEADER = "Date,Region,District,Reason,People\n#date+reported,#adm1+code,#adm2+code,#cause+type,#affected+idps\n"
CODES = ["XT0101", "XT0102", "XT0201", "XT0202"]  # districts in the PCODES gazetteer
KNOWN = {"XTL", "XT01", "XT02", *CODES}
LATEST = dt.date.today() + dt.timedelta(days=300)
ODD_DATE_FORMATS = ["%d/%m/%Y", "%Y%m%d", "%d %b %Y", "%Y/%m/%d", "%m-%d-%Y", "%Y-%m-%dT%H:%M:%SZ", "%b %Y"]
# NUL makes a file binary for the sniffer (a ReadError, by design); CR/LF only in the line-break variant
NO_BREAKS = st.characters(codec="utf-8", exclude_characters="\x00\r\n")
WITH_BREAKS = st.characters(codec="utf-8", exclude_characters="\x00")


FRACTIONS = ["2.5", "0.5", "1.25", "-0.5", "7.000001"]


def row_cells(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    """One data row; each cell is (text, verdict): "good" valid, "bad" surely rejected, "any" either.

    A third of the rows are all good, a third good but for one cell, a third anything.
    """
    random = st.one_of(st.text(alphabet, max_size=25), st.text(alphabet=',"\r\n; #+x9', max_size=6))
    if alphabet is NO_BREAKS:
        random = random.map(lambda t: t.replace("\r", " ").replace("\n", " "))
    anything = random.map(lambda t: (t, "any"))
    good = [
        st.dates(dt.date(1900, 1, 1), LATEST).map(lambda d: (d.isoformat(), "good")),
        st.one_of(st.sampled_from(["XT01", "XT02", ""]), random).map(lambda t: (t, "good")),  # a column not mapped
        st.sampled_from(CODES).map(lambda t: (t, "good")),
        st.one_of(st.sampled_from(["conflict", "Drought", ""]), random).map(lambda t: (t, "good")),  # free text
        st.one_of(st.integers(0, 10**9).map(str), st.sampled_from(["0", " 12 ", "1e3", "1000000000000"])).map(
            lambda t: (t, "good")
        ),
    ]
    other = [
        st.one_of(
            st.dates(dt.date(1, 1, 1), dt.date(1899, 12, 31)).map(lambda d: (d.isoformat(), "bad")),
            st.tuples(st.dates(), st.sampled_from(ODD_DATE_FORMATS)).map(lambda t: (t[0].strftime(t[1]), "any")),
            st.sampled_from(["2024-13-31", "2024-02-30", "31/31/2024", "yesterday", "", " "]).map(lambda t: (t, "bad")),
            anything,
        ),
        good[1],
        st.one_of(st.sampled_from(["XT9999", "SO1101", ""]).map(lambda t: (t, "bad")), anything),
        good[3],
        st.one_of(
            st.integers(max_value=-1).map(lambda n: (str(n), "bad")),
            st.sampled_from(["", "many", "nan", "inf", "1e400", "3 people"]).map(lambda t: (t, "bad")),
            # "bad" once fractions are rejected again (test_fractional_counts_are_rejected)
            st.sampled_from(FRACTIONS).map(lambda t: (t, "any")),
            st.integers(-(10**40), 10**40).map(lambda n: (str(n), "any")),
            st.floats(allow_nan=True).map(lambda f: (repr(f), "any")),
            st.sampled_from(["1,000", "+5", "1_000", "0x10", "٣", "1,5"]).map(lambda t: (t, "any")),
            anything,
        ),
    ]
    mixed = [st.one_of(g, o) for g, o in zip(good, other, strict=True)]
    one_off = st.integers(0, 4).flatmap(lambda k: st.tuples(*(other[i] if i == k else good[i] for i in range(5))))
    return st.one_of(st.tuples(*good), one_off, st.tuples(*mixed))


def _quoted(cell: str) -> str:
    """RFC 4180 quoting: a cell holding a comma, a quote, CR or LF is quoted, its quotes doubled.

    (Python's csv module leaves a lone CR unquoted when the line terminator is LF.)
    """
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell


def _hxl_file(rows: list[tuple[tuple[str, str], ...]], newline: str = "\n") -> str:
    """The HXL header and the rows as valid CSV."""
    lines = [",".join(_quoted(text) for text, _ in row) for row in rows]
    return HEADER.replace("\n", newline) + "".join(line + newline for line in lines)


def _plain_int(text: str) -> int | None:
    s = text.strip()
    return int(s) if re.fullmatch(r"[+-]?[0-9]+", s) else None


@contextmanager
def fuzz_store() -> Iterator[tuple[Store, Path]]:
    with scratch() as tmp, open_store(tmp / "store") as store:
        load_pcodes(store, write(tmp, "pcodes.csv", PCODES))
        yield store, tmp


def check_ingest(store: Store, path: Path, rows: list[tuple[tuple[str, str], ...]]) -> None:
    """Ingest one generated HXL file and check the batch report against the rows written."""
    # csv.Sniffer can take ';' for the delimiter of a comma file (pinned by test_semicolons_in_quoted_notes...)
    assume(sniff_csv(path).delimiter == ",")
    report = ingest(store, path, kind="movements")  # a valid HXL file always loads: no exception
    assert report.status in ("loaded", "unchanged")
    if report.status == "unchanged":  # the same bytes as an earlier example
        return
    numbered = {3 + i: row for i, row in enumerate(rows) if any(text != "" for text, _ in row)}
    assert report.rows_read == len(numbered)
    assert report.rows_read == report.rows_loaded + report.rows_rejected
    assert 0 <= report.rows_rejected <= report.rows_read
    rejected_rows = {r["row"] for r in report.rejections}
    assert len(rejected_rows) == report.rows_rejected
    for r in report.rejections:
        assert r["row"] in numbered, r
        assert isinstance(r["expected"], str) and r["expected"].strip(), r
        assert r["file"] == str(path)
    stored = store.fetch_dicts(
        "SELECT row_number, to_place, date, count, population_group FROM movements WHERE batch_id = $b",
        {"b": report.batch_id},
    )
    assert len(stored) == report.records_loaded == report.rows_loaded
    assert {s["row_number"] for s in stored} == set(numbered) - rejected_rows
    (kept,) = store.fetch_one("SELECT count(*) FROM rejections WHERE batch_id = $b", {"b": report.batch_id}) or (0,)
    assert kept == len(report.rejections)
    for s in stored:
        row = numbered[s["row_number"]]
        assert s["to_place"] in KNOWN and s["population_group"] == "idps"
        assert s["count"] >= 0
        n = _plain_int(row[4][0])
        if n is not None and abs(n) < 2**53:
            assert s["count"] == n
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[0][0]):
            assert s["date"] == dt.date.fromisoformat(row[0][0])
    for number, row in numbered.items():
        verdicts = {v for _, v in row}
        if verdicts == {"good"}:
            assert number not in rejected_rows, (number, row, report.rejections)
        if "bad" in verdicts:
            assert number in rejected_rows, (number, row)


GOOD_ROW = (("2024-01-31", "good"), ("XT01", "good"), ("XT0101", "good"), ("conflict", "good"), ("5", "good"))


def test_ingest_of_generated_hxl_files() -> None:
    with fuzz_store() as (store, tmp):
        counter = iter(range(10**9))

        @SLOW
        @given(st.lists(row_cells(NO_BREAKS), max_size=15))
        @example([GOOD_ROW, (*GOOD_ROW[:4], ("-3", "bad")), (*GOOD_ROW[:4], ("many", "bad"))])
        def check(rows: list[tuple[tuple[str, str], ...]]) -> None:
            path = tmp / f"fuzz{next(counter)}.csv"
            path.write_text(_hxl_file(rows), encoding="utf-8")
            check_ingest(store, path, rows)

        check()


QUOTED_BREAK = [(("2024-01-31", "good"), ("", "good"), ("XT0101", "good"), ("a\nb", "any"), ("5", "good"))]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_ingest_of_generated_hxl_files_with_line_breaks_in_cells(newline: str) -> None:
    with fuzz_store() as (store, tmp):
        counter = iter(range(10**9))

        @settings(max_examples=25, deadline=None, report_multiple_bugs=False)
        @given(st.lists(row_cells(WITH_BREAKS), max_size=10))
        @example(QUOTED_BREAK)
        def check(rows: list[tuple[tuple[str, str], ...]]) -> None:
            path = tmp / f"breaks{next(counter)}.csv"
            path.write_bytes(_hxl_file(rows, newline).encode("utf-8"))
            check_ingest(store, path, rows)

        check()


def test_strict_ingest_of_generated_hxl_files() -> None:
    with fuzz_store() as (store, tmp):
        counter = iter(range(10**9))

        @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(st.lists(row_cells(NO_BREAKS), min_size=1, max_size=8))
        def check(rows: list[tuple[tuple[str, str], ...]]) -> None:
            path = tmp / f"strict{next(counter)}.csv"
            path.write_text(_hxl_file(rows), encoding="utf-8")
            assume(sniff_csv(path).delimiter == ",")  # see check_ingest
            before = store.fetch_one("SELECT count(*) FROM movements")
            try:
                report = ingest(store, path, kind="movements", strict=True)
            except StrictRefusal as refused:
                assert refused.report.rows_rejected > 0
                assert refused.report.status == "refused"
                assert store.fetch_one("SELECT count(*) FROM movements") == before
                assert not store.fetch("SELECT 1 FROM batches WHERE batch_id = $b", {"b": refused.report.batch_id})
                return
            assert report.rows_rejected == 0

        check()


def test_ingest_of_arbitrary_bytes_fails_cleanly() -> None:
    """Through ingest_file, the path the CLI takes (source detection first)."""
    with fuzz_store() as (store, tmp):
        counter = iter(range(10**9))

        @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(st.one_of(st.binary(max_size=600), st.text(max_size=400).map(lambda s: (HEADER + s).encode())))
        def check(data: bytes) -> None:
            path = tmp / f"bytes{next(counter)}.csv"
            path.write_bytes(data)
            try:
                report = ingest_file(store, path, kind="movements")
            except (IngestError, ReadError, MappingError) as exc:
                assert str(exc)
                return
            assert report.rows_read == report.rows_loaded + report.rows_rejected
            assert all(r["expected"] for r in report.rejections)

        check()


# --- Mapping.from_dict --------------------------------------------------------------------------

SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10))
ANYTHING = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=10,
)
FIELD_NAMES = sorted({n for k in KINDS.values() for n in k.names} | {"to_place.name", "to_place.parent", "nope"})


@st.composite
def well_shaped_mappings(draw: st.DrawFn) -> dict[str, Any]:
    """Mapping dictionaries with the right shape for each key (the way a YAML file would normally look)."""
    field = st.sampled_from(FIELD_NAMES)
    data: dict[str, Any] = {"kind": draw(st.sampled_from([*KINDS, "flows"]))}
    optional = {
        "columns": st.dictionaries(st.text(max_size=8), field, max_size=4),
        "date_formats": st.lists(st.sampled_from(["%d/%m/%Y", "%Y", "nonsense"]), max_size=2),
        "values": st.dictionaries(field, st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2)),
        "constants": st.dictionaries(field, SCALAR, max_size=3),
        "places": st.dictionaries(field, st.fixed_dictionaries({}, optional={"level": st.integers(0, 3)})),
        "unpivot": st.lists(
            st.fixed_dictionaries(
                {}, optional={"column": st.text(max_size=5), "field": field, "set": st.dictionaries(field, SCALAR)}
            ),
            max_size=3,
        ),
        "sheet": st.text(max_size=5),
        "header_row": st.integers(1, 30),
        "attribution": st.text(max_size=5),
        "licence": st.text(max_size=5),
        "description": st.text(max_size=5),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            data[key] = draw(strategy)
    return data


@FAST
@given(well_shaped_mappings())
def test_well_shaped_mapping_dicts_load_or_mapping_error(data: dict[str, Any]) -> None:
    try:
        m = Mapping.from_dict(data)
    except MappingError as exc:
        assert str(exc).startswith("inline")
        return
    assert m.kind in KINDS
    assert len(m.fingerprint()) == 64
    for target in m.columns.values():
        assert target.partition(".")[0] in m.kind_spec.names


KEYS = st.one_of(st.sampled_from(sorted(ALLOWED_KEYS)), st.text(max_size=6), st.integers())


@settings(max_examples=200, deadline=None, report_multiple_bugs=False)
@given(
    st.fixed_dictionaries({"kind": st.one_of(st.sampled_from(sorted(KINDS)), ANYTHING)}).flatmap(
        lambda base: st.dictionaries(KEYS, ANYTHING, max_size=6).map(lambda extra: {**base, **extra})
    )
)
@example({"kind": "movements", "columns": ["When", "How many"]})
@example({"kind": "movements", 1: "x", "other": "y"})
def test_arbitrary_mapping_dicts_load_or_mapping_error(data: dict[Any, Any]) -> None:
    with suppress(MappingError):
        Mapping.from_dict(data)


# --- known bugs, pinned -------------------------------------------------------------------------


@FAST
@given(st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=4))
@example("İ")
def test_parsed_tags_are_ascii_and_reparse_to_themselves(name: str) -> None:
    parsed = parse_tagspec(f"#{name}+x")
    if parsed is None:
        return
    assert re.fullmatch(r"[a-z][a-z0-9_]*", parsed.tag), parsed
    assert parse_tagspec(parsed.text) == parsed


@pytest.mark.parametrize(
    "case",
    [
        {"kind": "flows"},
        {"kind": ["movements"]},
        {"kind": "movements", "columns": ["When"]},
        {"kind": "movements", "values": {"reason": "conflict"}},
        {"kind": "movements", "values": {"reason": 3}},
        {"kind": "movements", "unpivot": [1]},
        {"kind": "movements", "unpivot": {"column": "a"}},
        {"kind": "movements", "date_formats": 5},
        {"kind": "movements", "date_formats": "%d/%m/%Y"},  # would become ['%', 'd', '/', ...]
        {"kind": "movements", "places": {"to_place": "x"}},
        {"kind": "movements", "constants": [["sex", "f"]]},
        {"kind": "movements", 1: "x", "other": "y"},
        {"kind": "movements", "header_row": "two"},
        {"kind": "movements", "header_row": 0},
        {"kind": "movements", "header_row": {"a": 1}},
    ],
)
def test_wrongly_shaped_mapping_is_a_mapping_error(case: dict[Any, Any]) -> None:
    with pytest.raises(MappingError):
        Mapping.from_dict(case)


def test_semicolons_in_quoted_notes_do_not_change_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text(
        "Date,District,People,Note\n#date+reported,#adm2+code,#affected+idps,#meta+note\n"
        '2024-01-31,XT0101,5,"from Afgooye, Marka;"\n'
        '2024-02-29,XT0101,6,"; and Baraawe, Kurtunwaarey"\n',
        encoding="utf-8",
    )
    source = sniff_csv(path)
    assert source.delimiter == ","
    assert source.headers == ["Date", "District", "People", "Note"]
    assert source.tags is not None


@pytest.mark.parametrize("count", FRACTIONS)
def test_fractional_counts_are_rejected(count: str) -> None:
    with fuzz_store() as (store, tmp):
        path = tmp / "fraction.csv"
        path.write_text(HEADER + f"2024-01-31,XT01,XT0101,conflict,{count}\n", encoding="utf-8")
        report = ingest(store, path, kind="movements")
        assert (report.rows_loaded, report.rows_rejected) == (0, 1), store.fetch("SELECT count FROM movements")
        assert report.rejections[0]["column"] == "People"
        assert report.rejections[0]["expected"] == "a whole number"


NOTES = "Date,District,People,Note\n#date+reported,#adm2+code,#affected+idps,#meta+note\n"


def test_short_rows_are_padded(tmp_path: Path) -> None:
    """A row whose trailing empty cells were left out (common in exports) is padded, not fatal."""
    path = write(tmp_path, "short.csv", NOTES + "2024-01-31,XT0101,5\n2024-02-29,XT0101,6,ok\n")
    con = duckdb.connect()
    assert open_source(path).stage(con, "raw") == 2
    assert con.execute(f'SELECT c2, c3 FROM "raw" ORDER BY {ROW}').fetchall() == [("5", None), ("6", "ok")]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_quoted_line_break_in_a_cell_is_read(tmp_path: Path, newline: str) -> None:
    text = NOTES + '2024-01-31,XT0101,5,"two\nlines"\n2024-02-29,XT0101,6,ok\n'
    path = tmp_path / "notes.csv"
    path.write_bytes(text.replace("\n", newline).encode())
    con = duckdb.connect()
    assert open_source(path).stage(con, "raw") == 2
    assert con.execute(f'SELECT c3 FROM "raw" ORDER BY {ROW}').fetchall() == [(f"two{newline}lines",), ("ok",)]


def test_a_huge_quoted_field_is_read_or_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_bytes(b'"' + b"a" * 200_000 + b"\n")
    try:
        source = sniff_csv(path)
    except ReadError:
        return
    assert source.headers[0].startswith("a" * 1000)


@pytest.mark.parametrize("breaker", ["\u2028", "\x0b", "\x0c", "\x1e", "\x85"])
def test_line_separators_in_a_title_row_lose_no_data_row(tmp_path: Path, breaker: str) -> None:
    text = f"Arrivals{breaker}2024,,\n" + (
        "Date,District,People\n#date+reported,#adm2+code,#affected+idps\n2024-01-31,XT0101,5\n2024-02-29,XT0101,6\n"
    )
    path = tmp_path / "title.csv"
    path.write_text(text, encoding="utf-8")
    source = open_source(path)
    con = duckdb.connect()
    assert source.stage(con, "raw") == 2
    assert con.execute('SELECT c0 FROM "raw" ORDER BY _row').fetchall() == [("2024-01-31",), ("2024-02-29",)]


def test_latin1_byte_near_the_end_of_a_short_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("Date,District,People\n2024-01-31,Café,5\n".encode("latin-1"))
    source = open_source(path)
    con = duckdb.connect()
    assert source.stage(con, "raw") == 1
    assert con.execute('SELECT c1 FROM "raw"').fetchall() == [("Café",)]


def test_windows_1252_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cp1252.csv"
    path.write_bytes("Date,District,Note\n2024-01-31,Café,“ok” … 5 €\n2024-02-29,Baidoa,x\n".encode("cp1252"))
    source = open_source(path)
    con = duckdb.connect()
    assert source.stage(con, "raw") == 2


def test_big_counts_are_kept_exactly_or_rejected() -> None:
    with fuzz_store() as (store, tmp):

        @settings(max_examples=30, deadline=None)
        @given(st.integers(2**53, 2**63 - 1))
        @example(2**53 + 1)
        def check(n: int) -> None:
            path = tmp / f"big{n}.csv"
            path.write_text(HEADER + f"2024-01-31,XT01,XT0101,conflict,{n}\n", encoding="utf-8")
            report = ingest(store, path, kind="movements")
            stored = store.fetch("SELECT count FROM movements WHERE batch_id = $b", {"b": report.batch_id})
            assert report.rows_rejected == 1 or [r[0] for r in stored] == [n]

        check()
