"""Read a Flee case directory exactly as Flee 3.1 reads it, with clear errors instead of crashes.

A case directory holds ``input_csv/`` and, for validation, ``source_data/``::

    input_csv/locations.csv      #name,region,country,latitude,longitude,location_type,conflict_date,population[,attr..]
    input_csv/routes.csv         #name1,name2,distance,forced_redirection[,attr..]
    input_csv/closures.csv       #closure_type,name1,name2,closure_start,closure_end
    input_csv/conflicts.csv      #Day,<location>,... one row per simulated day (intensity; optional file)
    input_csv/registration_corrections.csv   <camp>,<YYYY-MM-DD>,normalize (optional file)
    input_csv/sim_period.csv     StartDate,<YYYY-MM-DD> / Length,<days>  (conflict_period.csv is also read)
    source_data/data_layout.csv  total,refugees.csv / <camp>,<file>[,<file to add>..]
    source_data/<file>.csv       <YYYY-MM-DD>,<count> (a first row "Date,..." or "DateTime,..." is a header)

Flee's own rules, kept here (``flee/InputGeography.py``, ``flee/datamanager/DataTable.py``):

* In locations, routes and closures a row whose first cell starts with ``#`` is a comment (the header is one);
  extra columns after the fixed ones are attributes named by the header row.
* A location whose type contains ``conflict`` and whose conflict date is after day 0 starts as a town.
  An empty population is 0; for a camp the population column is its capacity.
* The home country is the country of the first location; locations in other countries are *foreign*.
* ``forced_redirection`` 1 makes Flee link the pair twice (a quirk kept: the route counts double), 2 links it once.
* conflicts.csv is indexed by row position (row 1 is day 0), its header names are stripped, and an empty header
  cell ends nothing: values under it are ignored.
* Validation series are interpolated linearly between dates and truncated to integers; before the first date
  the first value holds, after the last the last. A registration correction scales every earlier value of a
  camp by (value on the correction date) / (value on the date before it).

Errors name the file, the row (1-based, as an editor shows it) and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

LOCATION_COLUMNS = (
    "name",
    "region",
    "country",
    "latitude",
    "longitude",
    "location_type",
    "conflict_date",
    "population",
)
ROUTE_COLUMNS = ("name1", "name2", "distance", "forced_redirection")
CLOSURE_COLUMNS = ("closure_type", "name1", "name2", "closure_start", "closure_end")
CLOSURE_TYPES = ("country", "location", "link", "camp", "idpcamp", "remove_forced_redirection")
LOCATION_TYPES = ("camp", "idpcamp", "conflict_zone", "town", "default", "forwarding_hub", "marker")


class FleeFormatError(ValueError):
    """A Flee input file that Flee would misread or crash on; the message names file, row and column."""

    def __init__(self, path: Path | str, message: str, row: int | None = None, column: str | None = None) -> None:
        where = str(path)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.row = row
        self.column = column


@dataclass(frozen=True)
class Location:
    name: str
    region: str
    country: str
    latitude: float
    longitude: float
    location_type: str  # as written
    kind: str  # camp, idpcamp, conflict, town, forward, marker (Flee's substring rules)
    conflict_date: int | None
    population: int  # capacity for camps
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def is_camp(self) -> bool:
        return self.kind in ("camp", "idpcamp")


@dataclass(frozen=True)
class Route:
    name1: str
    name2: str
    distance: float
    forced_redirection: int
    attributes: dict[str, str] = field(default_factory=dict)
    row: int = 0


@dataclass(frozen=True)
class Closure:
    kind: str
    name1: str
    name2: str
    start: int
    end: int
    row: int = 0


@dataclass(frozen=True)
class Conflicts:
    """Intensity per day (rows) and location (columns), indexed by row position as Flee does."""

    names: list[str]
    intensity: np.ndarray  # float64 [days, names]


@dataclass(frozen=True)
class Correction:
    name: str
    date: dt.date
    mode: str
    row: int = 0


@dataclass(frozen=True)
class Period:
    start: dt.date
    length: int


@dataclass
class Series:
    """One observed series: (day offset from the start date, value) in file order, as Flee keeps it."""

    name: str
    files: list[str]
    days: np.ndarray  # float64
    values: np.ndarray  # float64

    def at(self, day: int) -> int:
        """Flee's ``get_interpolated_data``: linear between entries, truncated to int, flat outside."""
        days, values = self.days, self.values
        if len(days) == 0:
            return 0
        if day <= days[0]:
            return int(values[0])
        for i in range(1, len(days)):
            if day < days[i]:
                fraction = float(day - days[i - 1]) / float(days[i] - days[i - 1])
                return int(values[i - 1] + fraction * float(values[i] - values[i - 1]))
        return int(values[-1])

    def daily(self, length: int) -> np.ndarray:
        """``at(day)`` for days 0..length-1, vectorised (int64)."""
        out = np.empty(length, dtype=np.int64)
        days, values = self.days, self.values
        if len(days) < 2:
            out[:] = int(values[0]) if len(days) else 0
            return out
        t = np.arange(length, dtype=np.float64)
        # the first index i >= 1 with t < days[i], scanning in file order (days need not be sorted)
        later = t[:, None] < days[None, 1:]
        has = later.any(axis=1)
        first = np.where(has, later.argmax(axis=1) + 1, len(days))
        lo = np.clip(first - 1, 0, len(days) - 1)
        hi = np.clip(first, 0, len(days) - 1)
        span = days[hi] - days[lo]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(span != 0, (t - days[lo]) / np.where(span != 0, span, 1.0), 0.0)
        interp = values[lo] + frac * (values[hi] - values[lo])
        interp = np.where(has, interp, values[-1])
        interp = np.where(t <= days[0], values[0], interp)
        out[:] = np.trunc(interp).astype(np.int64)
        return out


@dataclass
class Validation:
    """source_data/: the total (first row of data_layout.csv) and one series per camp, in layout order."""

    total: Series
    camps: dict[str, Series]

    def camp(self, name: str) -> Series:
        return self.camps[name]


@dataclass
class FleeCase:
    root: Path
    name: str
    locations: list[Location]
    routes: list[Route]
    closures: list[Closure]
    conflicts: Conflicts | None
    corrections: list[Correction]
    period: Period
    validation: Validation | None
    warnings: list[str] = field(default_factory=list)

    @property
    def home_country(self) -> str:
        country = self.locations[0].country if self.locations else ""
        return country or "unknown"

    def location(self, name: str) -> Location:
        for loc in self.locations:
            if loc.name == name:
                return loc
        raise KeyError(name)

    @property
    def camp_names(self) -> list[str]:
        return [loc.name for loc in self.locations if loc.is_camp]


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            yield from enumerate(csv.reader(fh), start=1)
    except UnicodeDecodeError as exc:
        raise FleeFormatError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise FleeFormatError(path, f"not a CSV file: {exc}") from None


def _is_comment(row: list[str]) -> bool:
    return len(row) == 0 or (len(row[0]) > 0 and row[0][0] == "#")


def _float(path: Path, row: int, column: str, text: str, default: float | None = None) -> float:
    text = text.strip()
    if not text:
        if default is not None:
            return default
        raise FleeFormatError(path, "a number is required, the cell is empty", row, column)
    try:
        value = float(text)
    except ValueError:
        raise FleeFormatError(path, f"{text!r} is not a number", row, column) from None
    if not math.isfinite(value):
        raise FleeFormatError(path, f"{text!r} is not a finite number", row, column)
    return value


def _int(path: Path, row: int, column: str, text: str, default: int | None = None) -> int:
    text = text.strip()
    if not text:
        if default is not None:
            return default
        raise FleeFormatError(path, "a whole number is required, the cell is empty", row, column)
    try:
        return int(text)
    except ValueError:
        raise FleeFormatError(path, f"{text!r} is not a whole number", row, column) from None


def _date(path: Path, row: int, column: str, text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise FleeFormatError(path, f"{text!r} is not a date (YYYY-MM-DD)", row, column) from None


def location_kind(location_type: str) -> str | None:
    """Flee's substring rules, in Flee's order: camp (idp camp), conflict, forward, marker, default/town."""
    t = location_type.lower()
    if "camp" in t:
        return "idpcamp" if "idp" in t else "camp"
    if "conflict" in t:
        return "conflict"
    if "forward" in t:
        return "forward"
    if "marker" in t:
        return "marker"
    if "default" in t or "town" in t:
        return "town"
    return None


def read_locations(path: Path) -> list[Location]:
    columns = list(LOCATION_COLUMNS)
    locations: list[Location] = []
    seen: dict[str, int] = {}
    for n, row in _rows(path):
        if _is_comment(row):
            if len(row) > len(LOCATION_COLUMNS):
                columns = list(LOCATION_COLUMNS) + [c.strip() for c in row[len(LOCATION_COLUMNS) :]]
            continue
        if len(row) < len(LOCATION_COLUMNS):
            raise FleeFormatError(path, f"{len(row)} cells, {len(LOCATION_COLUMNS)} are required", n)
        name = row[0]
        if not name.strip():
            raise FleeFormatError(path, "the name is empty", n, "name")
        if name in seen:
            raise FleeFormatError(path, f"{name!r} is already defined in row {seen[name]}", n, "name")
        seen[name] = n
        kind = location_kind(row[5])
        if kind is None:
            raise FleeFormatError(
                path, f"{row[5]!r} is not a location type ({', '.join(LOCATION_TYPES)})", n, "location_type"
            )
        conflict_date = _int(path, n, "conflict_date", row[6]) if kind == "conflict" else None
        population = _float(path, n, "population", row[7], default=0.0)
        if population < 0:
            raise FleeFormatError(path, f"{row[7]!r} is negative", n, "population")
        attributes = {columns[i] if i < len(columns) else f"column{i + 1}": row[i] for i in range(8, len(row))}
        locations.append(
            Location(
                name=name,
                region=row[1],
                country=row[2] or "unknown",
                latitude=_float(path, n, "latitude", row[3], default=0.0),
                longitude=_float(path, n, "longitude", row[4], default=0.0),
                location_type=row[5],
                kind=kind,
                conflict_date=conflict_date,
                population=int(population),
                attributes=attributes,
            )
        )
    if not locations:
        raise FleeFormatError(path, "no locations")
    return locations


def read_routes(path: Path, names: set[str]) -> list[Route]:
    columns = list(ROUTE_COLUMNS)
    routes: list[Route] = []
    for n, row in _rows(path):
        if _is_comment(row):
            if len(row) > len(ROUTE_COLUMNS):
                columns = list(ROUTE_COLUMNS) + [c.strip() for c in row[len(ROUTE_COLUMNS) :]]
            continue
        if len(row) < 3:
            raise FleeFormatError(path, f"{len(row)} cells, at least 3 (name1,name2,distance) are required", n)
        for col, name in (("name1", row[0]), ("name2", row[1])):
            if name not in names:
                raise FleeFormatError(path, f"{name!r} is not a location in locations.csv", n, col)
        if row[0] == row[1]:
            raise FleeFormatError(path, f"the route joins {row[0]!r} to itself", n, "name2")
        distance = _float(path, n, "distance", row[2])
        if distance < 0:
            raise FleeFormatError(path, f"{row[2]!r} is negative", n, "distance")
        forced = _int(path, n, "forced_redirection", row[3], default=0) if len(row) > 3 else 0
        if forced not in (0, 1, 2):
            raise FleeFormatError(path, f"{row[3]!r} is not 0, 1 or 2", n, "forced_redirection")
        attributes = {columns[i] if i < len(columns) else f"column{i + 1}": row[i] for i in range(4, len(row))}
        routes.append(Route(row[0], row[1], distance, forced, attributes, row=n))
    return routes


def read_closures(path: Path, locations: list[Location]) -> list[Closure]:
    names = {loc.name for loc in locations}
    countries = {loc.country for loc in locations}
    closures: list[Closure] = []
    if not path.exists():
        return closures
    for n, row in _rows(path):
        if _is_comment(row):
            continue
        if len(row) < 5:
            raise FleeFormatError(path, f"{len(row)} cells, 5 are required", n)
        kind = row[0].strip()
        if kind not in CLOSURE_TYPES:
            raise FleeFormatError(
                path, f"{kind!r} is not a closure type ({', '.join(CLOSURE_TYPES)})", n, "closure_type"
            )
        name1, name2 = row[1], row[2]
        if kind == "country":
            for col, c in (("name1", name1), ("name2", name2)):
                if c not in countries:
                    raise FleeFormatError(path, f"{c!r} is not the country of any location", n, col)
        elif kind in ("link", "remove_forced_redirection"):
            for col, c in (("name1", name1), ("name2", name2)):
                if c not in names:
                    raise FleeFormatError(path, f"{c!r} is not a location in locations.csv", n, col)
        elif name1 not in names:
            raise FleeFormatError(path, f"{name1!r} is not a location in locations.csv", n, "name1")
        start = _int(path, n, "closure_start", row[3])
        end = _int(path, n, "closure_end", row[4])
        closures.append(Closure(kind, name1, name2, start, end, row=n))
    return closures


def read_conflicts(path: Path, names: set[str], warnings: list[str]) -> Conflicts | None:
    if not path.exists():
        return None
    header: list[str] | None = None
    columns: list[str] = []
    values: list[list[float]] = []
    for n, row in _rows(path):
        if header is None:
            header = [c.strip() for c in row]
            columns = [c for c in header[1:] if c]
            if len(set(columns)) != len(columns):
                dup = next(c for c in columns if columns.count(c) > 1)
                raise FleeFormatError(path, f"{dup!r} appears twice in the header", n)
            for c in columns:
                if c not in names:
                    warnings.append(f"{path.name}: {c!r} is not a location; Flee ignores its column")
            continue
        if not row or all(not c.strip() for c in row):
            continue
        day = row[0].strip()
        if day and day.lstrip("-").isdigit() and int(day) != len(values):
            warnings.append(f"{path.name}, row {n}: day {day} read as day {len(values)} (Flee counts rows)")
        line = [0.0] * len(columns)
        for i in range(1, len(row)):
            col = header[i] if i < len(header) else ""
            if not col:
                if row[i].strip():
                    raise FleeFormatError(path, f"a value {row[i]!r} under an empty header", n, f"column {i + 1}")
                continue
            line[columns.index(col)] = _float(path, n, col, row[i])
        values.append(line)
    if header is None:
        return None
    arr = np.asarray(values, dtype=np.float64).reshape(len(values), len(columns))
    return Conflicts(names=columns, intensity=arr)


def read_period(input_dir: Path) -> Period:
    path = input_dir / "sim_period.csv"
    if not path.exists():
        path = input_dir / "conflict_period.csv"
    if not path.exists():
        raise FleeFormatError(input_dir / "sim_period.csv", "missing: the simulation period is required")
    start: dt.date | None = None
    length: int | None = None
    for n, row in _rows(path):
        if len(row) < 2:
            continue
        key = row[0].strip().lower()
        if key == "startdate":
            start = _date(path, n, "StartDate", row[1])
        elif key == "length":
            length = _int(path, n, "Length", row[1])
            if length < 1:
                raise FleeFormatError(path, f"{row[1]!r}: the length must be at least 1 day", n, "Length")
    if start is None:
        raise FleeFormatError(path, "no StartDate row")
    if length is None:
        raise FleeFormatError(path, "no Length row")
    return Period(start, length)


def read_corrections(path: Path) -> list[Correction]:
    out: list[Correction] = []
    if not path.exists():
        return out
    for n, row in _rows(path):
        if len(row) < 2 or _is_comment(row):
            continue
        out.append(Correction(row[0], _date(path, n, "date", row[1]), row[2].strip() if len(row) > 2 else "", row=n))
    return out


def read_series(path: Path, start: dt.date, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Flee's ``ConvertCsvFileToNumPyTable``: date,count rows as (day offset, count), comments and blanks skipped."""
    if not path.exists():
        raise FleeFormatError(path, f"missing (named for {name!r} in data_layout.csv)")
    days: list[float] = []
    values: list[float] = []
    for n, row in _rows(path):
        if n == 1 and len(row) > 1 and (not row[0] or row[0] in ("DateTime", "Date")):
            continue
        if len(row) < 2 or _is_comment(row) or row[1] == "":
            continue
        if not row[0]:
            raise FleeFormatError(path, "the date is empty", n, "date")
        day = (_date(path, n, "date", row[0]) - start).days
        text = row[1].strip()
        try:
            value = float(int(text))
        except ValueError:
            raise FleeFormatError(path, f"{text!r} is not a whole number", n, "count") from None
        days.append(float(day))
        values.append(value)
    return np.asarray(days, dtype=np.float64), np.asarray(values, dtype=np.float64)


def add_tables(t1: tuple[np.ndarray, np.ndarray], t2: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Flee's ``AddCSVTables`` (a series in data_layout.csv made of several files), quirks and all."""
    d1, v1 = t1
    out_d: list[float] = []
    out_v: list[float] = []
    if len(d1) == 0:
        return t2
    offset = 0
    last_c2 = 0.0
    for c2d, c2v in zip(*t2, strict=True):
        while c2d > d1[offset]:
            out_d.append(float(d1[offset]))
            out_v.append(float(last_c2 + v1[offset]))
            if offset < len(d1) - 1:
                offset += 1
            else:
                break
        if c2d == d1[offset]:
            out_d.append(float(c2d))
            out_v.append(float(c2v + v1[offset]))
            if offset < len(d1) - 1:
                offset += 1
            last_c2 = float(c2v)
            continue
        if c2d < d1[offset]:
            out_d.append(float(c2d))
            out_v.append(float(c2v + v1[offset]))
            last_c2 = float(c2v)
            continue
    return np.asarray(out_d, dtype=np.float64), np.asarray(out_v, dtype=np.float64)


def read_validation(source_dir: Path, start: dt.date) -> Validation:
    layout = source_dir / "data_layout.csv"
    if not layout.exists():
        raise FleeFormatError(layout, "missing: source_data needs data_layout.csv")
    series: list[Series] = []
    for n, row in _rows(layout):
        if len(row) < 2 or _is_comment(row):
            continue
        if not row[0]:
            raise FleeFormatError(layout, "the name is empty", n, "name")
        files = [f for f in row[1:] if f.strip()]
        table = read_series(source_dir / files[0], start, row[0])
        for extra in files[1:]:
            table = add_tables(table, read_series(source_dir / extra, start, row[0]))
        series.append(Series(row[0], files, table[0], table[1]))
    if not series:
        raise FleeFormatError(layout, "no series: the first row names the total (total,refugees.csv)")
    for s in series:
        if len(s.days) == 0:
            raise FleeFormatError(source_dir / s.files[0], f"no date,count rows for {s.name!r}")
    total = next((s for s in series if s.name == "total"), series[0])
    camps: dict[str, Series] = {}
    for s in series:
        if s is not total:
            camps.setdefault(s.name, s)
    return Validation(total=total, camps=camps)


def apply_corrections(validation: Validation, corrections: list[Correction], start: dt.date, path: Path) -> None:
    """Flee's ``correctLevel1Registrations``: scale a camp's values before the correction date."""
    for c in corrections:
        if c.name not in validation.camps:
            raise FleeFormatError(path, f"{c.name!r} has no series in data_layout.csv", c.row, "name")
        s = validation.camps[c.name]
        day = (c.date - start).days
        hits = [i for i in range(len(s.days)) if int(s.days[i]) == day]
        if not hits:
            raise FleeFormatError(path, f"{c.date} is not a date of {c.name!r}'s series ({s.files[0]})", c.row, "date")
        i = hits[-1]
        if i == 0:
            raise FleeFormatError(path, f"{c.date} is the first date of {c.name!r}'s series: nothing to scale", c.row)
        for i in hits:
            if i > 0 and s.values[i - 1] != 0:
                s.values[:i] *= s.values[i] / s.values[i - 1]


def case_dirs(case_dir: Path) -> tuple[Path, Path | None]:
    """(input_csv, source_data or None) for a case directory, or for its input_csv directory itself."""
    case_dir = Path(case_dir)
    if (case_dir / "input_csv").is_dir():
        inputs = case_dir / "input_csv"
        source = case_dir / "source_data"
    elif (case_dir / "locations.csv").exists():
        inputs = case_dir
        source = case_dir.parent / "source_data"
    else:
        raise FleeFormatError(case_dir, "not a Flee case: no input_csv/ directory and no locations.csv")
    return inputs, (source if (source / "data_layout.csv").exists() else None)


def read_case(case_dir: Path | str, validation: bool = True) -> FleeCase:
    """Read every file of a Flee case; validation data when ``source_data/`` is there (and asked for)."""
    root = Path(case_dir)
    inputs, source = case_dirs(root)
    warnings: list[str] = []
    locations = read_locations(inputs / "locations.csv")
    names = {loc.name for loc in locations}
    routes_path = inputs / "routes.csv"
    if not routes_path.exists():
        raise FleeFormatError(routes_path, "missing: routes are required")
    routes = read_routes(routes_path, names)
    closures = read_closures(inputs / "closures.csv", locations)
    conflicts = read_conflicts(inputs / "conflicts.csv", names, warnings)
    period = read_period(inputs)
    if conflicts is not None and conflicts.intensity.shape[0] < period.length:
        raise FleeFormatError(
            inputs / "conflicts.csv",
            f"{conflicts.intensity.shape[0]} days of conflicts for a period of {period.length} days",
        )
    corrections_path = inputs / "registration_corrections.csv"
    corrections = read_corrections(corrections_path)
    data: Validation | None = None
    if validation and source is not None:
        data = read_validation(source, period.start)
        apply_corrections(data, corrections, period.start, corrections_path)
        for loc in locations:
            if loc.is_camp and loc.name not in data.camps:
                raise FleeFormatError(
                    source / "data_layout.csv", f"camp {loc.name!r} has no series (Flee stops on this)"
                )
    for r in routes:
        for key in r.attributes:
            if key not in ("max_move_speed",):
                warnings.append(f"routes.csv, row {r.row}: attribute {key!r} is not used")
    name = root.name if root.name != "input_csv" else root.parent.name
    return FleeCase(root, name, locations, routes, closures, conflicts, corrections, period, data, warnings)
