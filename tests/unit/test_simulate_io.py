"""Reading Flee case directories: Flee's own rules, and clear errors naming file, row and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onthemove.foresight.simulate.example import write_example_case
from onthemove.foresight.simulate.flee_io import (
    FleeFormatError,
    Series,
    add_tables,
    location_kind,
    read_case,
    read_series,
)
from onthemove.foresight.simulate.graph import CAMP, CONFLICT, FORWARD, TOWN, from_flee_case


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    return write_example_case(tmp_path / "example")


def test_reads_every_file(case_dir: Path) -> None:
    case = read_case(case_dir)
    assert case.name == "example"
    assert case.period.start == dt.date(2020, 1, 1) and case.period.length == 20
    assert [loc.name for loc in case.locations][:3] == ["Alpha", "Bravo", "Charlie"]
    assert case.home_country == "Homeland"
    assert case.camp_names == ["Camp_East", "Camp_South"]
    alpha, charlie, delta = case.location("Alpha"), case.location("Charlie"), case.location("Delta")
    assert alpha.kind == "conflict" and alpha.conflict_date == 0 and alpha.population == 50000
    assert charlie.conflict_date == 5
    assert delta.population == 0  # an empty population is 0
    assert len(case.routes) == 7 and case.routes[0].distance == 60.0
    assert case.closures[0].kind == "country" and (case.closures[0].start, case.closures[0].end) == (0, 3)
    assert case.conflicts is not None and case.conflicts.intensity.shape == (20, 7)
    assert case.corrections[0].name == "Camp_East"
    assert case.validation is not None
    assert list(case.validation.camps) == ["Camp_East", "Camp_South"]
    assert case.warnings == []


def test_graph_follows_flee(case_dir: Path) -> None:
    g = from_flee_case(read_case(case_dir))
    kinds = dict(zip(g.names, g.kind.tolist(), strict=True))
    assert kinds["Alpha"] == CONFLICT
    assert kinds["Charlie"] == TOWN  # a conflict zone from day 5 starts as a town
    assert kinds["Hub"] == FORWARD and kinds["Camp_East"] == CAMP
    assert g.capacity[g.node("Camp_East")] == 3000 and g.population[g.node("Camp_East")] == 0
    assert g.foreign[g.node("Camp_East")] and not g.foreign[g.node("Bravo")]
    assert g.n_edges == 14  # every route both ways
    onsets = [(e.day, g.names[e.nodes[0]]) for e in g.events if e.action == "conflict_on"]
    assert onsets == [(0, "Alpha"), (5, "Charlie")]
    closed = next(e for e in g.events if e.action == "close_edges")
    pairs = {(g.names[g.src[e]], g.names[g.dst[e]]) for e in closed.edges}
    assert pairs == {("Hub", "Camp_East"), ("Camp_East", "Hub"), ("Delta", "Camp_South"), ("Camp_South", "Delta")}


def test_registration_correction_scales_earlier_values(case_dir: Path) -> None:
    v = read_case(case_dir).validation
    assert v is not None
    east = v.camp("Camp_East")
    # 2020-01-11 holds 1100, the value before it 400: everything before is multiplied by 2.75
    assert east.values.tolist() == [220.0, 1100.0, 1100.0, 2100.0]
    assert east.at(0) == 220 and east.at(10) == 1100 and east.at(15) == 1600 and east.at(40) == 2100


def test_series_interpolation_truncates_like_flee() -> None:
    s = Series("x", ["x.csv"], np.asarray([0.0, 3.0]), np.asarray([0.0, 10.0]))
    assert [s.at(t) for t in range(5)] == [0, 3, 6, 10, 10]
    assert s.daily(5).tolist() == [0, 3, 6, 10, 10]
    before = Series("x", ["x.csv"], np.asarray([5.0, 6.0]), np.asarray([7.0, 9.0]))
    assert before.at(0) == 7 and before.daily(3).tolist() == [7, 7, 7]


def test_add_tables_sums_two_series() -> None:
    a = (np.asarray([0.0, 10.0]), np.asarray([100.0, 200.0]))
    b = (np.asarray([0.0, 5.0, 10.0]), np.asarray([1.0, 2.0, 3.0]))
    days, values = add_tables(a, b)
    assert days.tolist() == [0.0, 5.0, 10.0] and values.tolist() == [101.0, 202.0, 203.0]


def test_location_kinds_use_flees_substrings() -> None:
    assert location_kind("camp") == "camp" and location_kind("IDPcamp") == "idpcamp"
    assert location_kind("conflict_zone") == "conflict" and location_kind("forwarding_hub") == "forward"
    assert location_kind("Town") == "town" and location_kind("default") == "town" and location_kind("city") is None


def _replace(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("input_csv/routes.csv", "Alpha,Bravo,60", "Alpha,Bravoo,60", "routes.csv, row 2, column 'name2'"),
        ("input_csv/routes.csv", "Alpha,Bravo,60", "Alpha,Bravo,sixty", "routes.csv, row 2, column 'distance'"),
        ("input_csv/locations.csv", "town,,20000", "village,,20000", "locations.csv, row 3, column 'location_type'"),
        (
            "input_csv/locations.csv",
            "conflict_zone,5",
            "conflict_zone,",
            "locations.csv, row 4, column 'conflict_date'",
        ),
        ("input_csv/locations.csv", "10.5,10.5", "10.5,east", "locations.csv, row 3, column 'longitude'"),
        ("input_csv/closures.csv", "country,Homeland", "border,Homeland", "closures.csv, row 2, column 'closure_type'"),
        ("input_csv/closures.csv", "Neighbourland,0,3", "Narnia,0,3", "closures.csv, row 2, column 'name2'"),
        ("input_csv/sim_period.csv", "2020-01-01", "01/01/2020", "sim_period.csv, row 1, column 'StartDate'"),
        ("input_csv/conflicts.csv", "3,1,0,0", "3,1,x,0", "conflicts.csv, row 5, column 'Bravo'"),
        ("input_csv/registration_corrections.csv", "2020-01-11", "2020-01-12", "registration_corrections.csv, row 1"),
        ("source_data/camp-south.csv", "2020-01-06,100", "2020-01-06,1e2", "camp-south.csv, row 2, column 'count'"),
        ("source_data/data_layout.csv", "camp-south.csv", "camp-west.csv", "camp-west.csv: missing"),
    ],
)
def test_errors_name_file_row_and_column(case_dir: Path, file: str, old: str, new: str, expected: str) -> None:
    _replace(case_dir / file, old, new)
    with pytest.raises(FleeFormatError) as info:
        read_case(case_dir)
    assert expected in str(info.value)


def test_a_camp_without_series_is_an_error(case_dir: Path) -> None:
    _replace(case_dir / "source_data/data_layout.csv", "Camp_South,camp-south.csv\n", "")
    with pytest.raises(FleeFormatError, match="camp 'Camp_South' has no series"):
        read_case(case_dir)


def test_short_conflicts_file_is_an_error(case_dir: Path) -> None:
    _replace(case_dir / "input_csv/sim_period.csv", "Length,20", "Length,25")
    with pytest.raises(FleeFormatError, match="20 days of conflicts for a period of 25 days"):
        read_case(case_dir)


def test_not_a_case(tmp_path: Path) -> None:
    with pytest.raises(FleeFormatError, match="not a Flee case"):
        read_case(tmp_path)


def test_inputs_dir_itself_and_no_source_data(case_dir: Path, tmp_path: Path) -> None:
    case = read_case(case_dir / "input_csv")
    assert case.name == "example" and case.validation is not None
    bare = tmp_path / "bare"
    (bare / "input_csv").mkdir(parents=True)
    for f in (case_dir / "input_csv").iterdir():
        (bare / "input_csv" / f.name).write_bytes(f.read_bytes())
    assert read_case(bare).validation is None


dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(dates, st.integers(min_value=0, max_value=10**7)), min_size=1, max_size=30))
def test_series_reader_round_trips(tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[dt.date, int]]) -> None:
    path = tmp_path_factory.mktemp("series") / "s.csv"
    path.write_text("".join(f"{d.isoformat()},{n}\n" for d, n in rows), encoding="utf-8")
    start = dt.date(2010, 1, 1)
    days, values = read_series(path, start, "s")
    assert days.tolist() == [float((d - start).days) for d, _ in rows]
    assert values.tolist() == [float(n) for _, n in rows]
    s = Series("s", ["s.csv"], days, values)
    horizon = 40
    assert s.daily(horizon).tolist() == [s.at(t) for t in range(horizon)]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.text(max_size=6), min_size=0, max_size=5), min_size=1, max_size=6))
def test_readers_fail_only_with_format_errors(tmp_path_factory: pytest.TempPathFactory, cells: list[list[str]]) -> None:
    """Arbitrary cells in a locations file or a series file: parsed, or a FleeFormatError, never a crash."""
    import csv

    root = tmp_path_factory.mktemp("junk")
    path = root / "junk.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(cells)
    from onthemove.foresight.simulate.flee_io import read_locations

    for reader in (lambda: read_locations(path), lambda: read_series(path, dt.date(2020, 1, 1), "x")):
        try:
            reader()
        except FleeFormatError as exc:
            assert "junk.csv" in str(exc)
