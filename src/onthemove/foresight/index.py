"""Composite indices from declarative definitions: INFORM Risk and indices built like it.

A definition (YAML, see ``docs/indices.md``) is a tree of nodes. An **input** node reads one column of the
input table and passes it through transforms (``log``, ``log10``, ``log1p``, ``cap``, ``floor``, ``scale`` to
0-10 with declared or data-derived bounds, ``invert``); its value must then lie in 0-10. An **aggregate** node
combines its children with a method:

- ``mean``: weighted arithmetic mean; the weights of the children present are renormalised to 1;
- ``geomean``: weighted geometric mean, missing children skipped the same way;
- ``max`` / ``min``: of the children, each multiplied by its optional ``factor`` (INFORM's human hazard is
  ``max(current conflict intensity, 0.7 x projected conflict risk)``);
- ``inform_hz``: INFORM's aggregation of hazards, HZ(x1..xn) = 10 - [(prod((10 - xi) * 0.9 + 1))^(1/n) - 1] / 0.9
  over the n children present. HZ(x, ..., x) = x, and HZ is never below the arithmetic mean: one high hazard
  keeps the result high.

With ``round: 1`` every aggregate is rounded to one decimal (half up, as Excel's ROUND) before the next level
uses it. INFORM does this: it is what reproduces the published INFORM GRI 2020 (every aggregate of all 191
countries), while exact arithmetic misses 186 of the 2,101 published aggregates by 0.1.

Everything is vectorised over the rows of the input table with numpy. ``compare`` checks computed values
against published columns of the same name and tells misses that rounding of the inputs can explain from
those it cannot. ``somalia_inputs`` builds the input table of the district displacement-risk index from a
store.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

if TYPE_CHECKING:
    import pandas as pd

    from onthemove.store.base import Store

Array = np.ndarray[Any, np.dtype[np.float64]]

METHODS = ("mean", "geomean", "max", "min", "inform_hz")
TRANSFORMS = ("log", "log10", "log1p", "cap", "floor", "scale", "invert")
DEFAULT_MISSING = ("", "x", "X", "NA", "N/A", "n/a", "NaN", "nan", "..")
TOP = 10.0  # every node value lies in 0-10
_TOLERANCE = 1e-9  # 7.15 computed as 7.1499999999 still rounds to 7.2
# the REACH DSA needs scores (0-2) that the Somalia case study loads; always columns of ``somalia_inputs``
DSA_NEEDS = tuple(f"{s}_need" for s in ("fs", "nutrition", "protection", "hlp", "health", "wash", "snfi", "education"))
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


class DefinitionError(ValueError):
    """A definition that cannot be used; the message names the file and the node."""


class IndexInputError(ValueError):
    """An input table that does not fit the definition; the message names the file, row and column."""


# --------------------------------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Transform:
    kind: str
    value: float | None = None  # cap, floor
    low: float | str | None = None  # scale: a number, "data" (the column's minimum) or "pNN" (a percentile)
    high: float | str | None = None

    @property
    def sign(self) -> int:
        """+1 where the transform never lowers a larger value, -1 where it reverses the order (invert)."""
        return -1 if self.kind == "invert" else 1

    def describe(self) -> str:
        if self.kind in ("cap", "floor"):
            return f"{self.kind} {_num(self.value)}"
        if self.kind == "scale":
            return f"scale {_num(self.low)}..{_num(self.high)} to 0-10"
        return self.kind


@dataclass(frozen=True)
class Child:
    node: str
    weight: float | None = None  # mean, geomean
    factor: float = 1.0  # max, min


@dataclass(frozen=True)
class Node:
    name: str
    method: str | None = None  # None: an input node
    column: str | None = None
    transforms: tuple[Transform, ...] = ()
    children: tuple[Child, ...] = ()
    round: int | None = None
    min_children: int = 1
    description: str = ""

    @property
    def is_input(self) -> bool:
        return self.method is None

    @property
    def sign(self) -> int:
        return math.prod(t.sign for t in self.transforms)


@dataclass(frozen=True)
class Definition:
    name: str
    nodes: dict[str, Node]  # children before their parents
    source: str = "<definition>"
    title: str = ""
    description: str = ""
    id_column: str | None = None
    keep: tuple[str, ...] = ()
    missing: tuple[str, ...] = DEFAULT_MISSING

    @property
    def inputs(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.is_input]

    @property
    def aggregates(self) -> list[Node]:
        return [n for n in self.nodes.values() if not n.is_input]

    @property
    def roots(self) -> list[str]:
        used = {c.node for n in self.nodes.values() for c in n.children}
        return [name for name in self.nodes if name not in used]

    def leaves(self, name: str) -> list[str]:
        """The input nodes below ``name`` (itself for an input node), in definition order."""
        seen: set[str] = set()
        todo = [name]
        while todo:
            n = self.nodes[todo.pop()]
            if n.name in seen:
                continue
            seen.add(n.name)
            todo.extend(c.node for c in n.children)
        return [n for n in self.nodes if n in seen and self.nodes[n].is_input]

    def columns(self) -> list[str]:
        """The input columns the definition reads, each once."""
        return list(dict.fromkeys(n.column or n.name for n in self.inputs))

    def without_rounding(self) -> Definition:
        """The same definition computed in exact arithmetic (no rounding between levels)."""
        return replace(self, nodes={k: replace(n, round=None) for k, n in self.nodes.items()})


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float | int) else str(value)


class _Parser:
    TOP_KEYS = frozenset({"name", "title", "description", "source", "id", "keep", "missing", "round", "nodes"})
    NODE_KEYS = frozenset({"name", "description", "column", "transforms", "method", "children", "round"})
    NODE_KEYS |= {"min_children", "weight", "factor"}

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes: dict[str, Node] = {}
        self.default_round: int | None = None

    def fail(self, message: str, node: str | None = None) -> DefinitionError:
        where = f"{self.source}: node {node!r}: " if node else f"{self.source}: "
        return DefinitionError(where + message)

    def parse(self, data: Any) -> Definition:
        if not isinstance(data, Mapping):
            raise self.fail("a definition is a mapping with at least `nodes:` (a list of nodes)")
        unknown = sorted(set(data) - self.TOP_KEYS)
        if unknown:
            raise self.fail(
                f"unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(self.TOP_KEYS))}"
            )
        self.default_round = self._round(data.get("round"), None)
        nodes = data.get("nodes")
        if not isinstance(nodes, list) or not nodes:
            raise self.fail("`nodes:` must be a non-empty list of nodes")
        for item in nodes:
            self._node(item, parent=None)
        self._check_references()
        order = self._topological()
        keep = data.get("keep") or []
        if isinstance(keep, str):
            keep = [keep]
        missing = data.get("missing", list(DEFAULT_MISSING))
        if not isinstance(missing, list) or not all(isinstance(m, str | int | float) for m in missing):
            raise self.fail("`missing:` must be a list of cell texts that mean 'no value', e.g. [x, '']")
        id_column = data.get("id")
        if id_column is not None and not isinstance(id_column, str):
            raise self.fail("`id:` must be the name of the column that identifies a row, e.g. ISO3")
        return Definition(
            name=str(data.get("name") or Path(self.source).stem),
            nodes={name: self.nodes[name] for name in order},
            source=self.source,
            title=str(data.get("title") or ""),
            description=str(data.get("description") or ""),
            id_column=id_column,
            keep=tuple(str(k) for k in keep),
            missing=tuple(str(m) for m in missing),
        )

    def _round(self, value: Any, node: str | None) -> int | None:
        if value is None or value is False:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
            raise self.fail(f"`round:` must be a number of decimals (0-6) or null, not {value!r}", node)
        return value

    def _number(self, value: Any, what: str, node: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(f"{what} must be a number, not {value!r}", node)
        return float(value)

    def _node(self, item: Any, parent: str | None) -> str:
        """Parse a node (and the nodes defined inline below it); returns its name."""
        context = f" (a child of {parent!r})" if parent else ""
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise self.fail(f"every node needs a `name:`{context}; got {item!r}")
        name = str(item["name"])
        unknown = sorted(set(item) - self.NODE_KEYS)
        if unknown:
            raise self.fail(f"unknown key(s) {', '.join(map(repr, unknown))}", name)
        if parent is None and ({"weight", "factor"} & set(item)):
            raise self.fail("`weight:` and `factor:` belong to a child entry under an aggregate's `children:`", name)
        if name in self.nodes:
            raise self.fail("defined twice; node names must be unique", name)
        method = item.get("method")
        rounding = self._round(item["round"], name) if "round" in item else None
        if method is None:
            if "children" in item:
                raise self.fail("has `children:` but no `method:` (one of " + ", ".join(METHODS) + ")", name)
            column = item.get("column", name)
            if not isinstance(column, str) or not column:
                raise self.fail(f"`column:` must be a column name, not {column!r}", name)
            if "min_children" in item:
                raise self.fail("`min_children:` belongs to an aggregate", name)
            node = Node(
                name=name,
                column=column,
                transforms=self._transforms(item.get("transforms") or [], name),
                round=rounding,
                description=str(item.get("description") or ""),
            )
            self.nodes[name] = node
            return name
        if method not in METHODS:
            raise self.fail(f"unknown method {method!r}; known: {', '.join(METHODS)}", name)
        for key in ("column", "transforms"):
            if key in item:
                raise self.fail(f"an aggregate ({method}) takes `children:`, not `{key}:`", name)
        children_raw = item.get("children")
        if not isinstance(children_raw, list) or not children_raw:
            raise self.fail(f"`children:` must be a non-empty list for method {method}", name)
        # reserve the name first: an inline child cannot reuse it
        self.nodes[name] = Node(name=name, method=method)
        children = [self._child(c, name, method) for c in children_raw]
        names = [c.node for c in children]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise self.fail(f"lists child {twice[0]!r} twice", name)
        weights = [c.weight for c in children]
        if any(w is not None for w in weights):
            if any(w is None for w in weights):
                lacking = [c.node for c in children if c.weight is None]
                raise self.fail(f"give every child a weight or none; {', '.join(map(repr, lacking))} has none", name)
            total = sum(w for w in weights if w is not None)
            if abs(total - 1) > 1e-6:
                raise self.fail(f"weights sum to {total:g}; they must sum to 1 (or leave them out: equal)", name)
        min_children = item.get("min_children", 1)
        if isinstance(min_children, bool) or not isinstance(min_children, int) or not 1 <= min_children <= len(names):
            raise self.fail(f"`min_children:` must be a whole number from 1 to {len(names)}", name)
        self.nodes[name] = Node(
            name=name,
            method=method,
            children=tuple(children),
            round=rounding if "round" in item else self.default_round,
            min_children=min_children,
            description=str(item.get("description") or ""),
        )
        return name

    def _child(self, entry: Any, parent: str, method: str) -> Child:
        weight: float | None = None
        factor = 1.0
        if isinstance(entry, str):
            target = entry
        elif isinstance(entry, Mapping):
            if "weight" in entry:
                if method not in ("mean", "geomean"):
                    raise self.fail(f"`weight:` needs method mean or geomean, not {method}", parent)
                weight = self._number(entry["weight"], "a child's weight", parent)
                if weight <= 0:
                    raise self.fail(f"weights must be above 0 (child weight {weight:g})", parent)
            if "factor" in entry:
                if method not in ("max", "min"):
                    raise self.fail(f"`factor:` needs method max or min, not {method}", parent)
                factor = self._number(entry["factor"], "a child's factor", parent)
                if factor <= 0:
                    raise self.fail(f"factors must be above 0 (child factor {factor:g})", parent)
            if "node" in entry:
                extra = sorted(set(entry) - {"node", "weight", "factor"})
                if extra:
                    raise self.fail(f"a child reference takes node/weight/factor, not {', '.join(extra)}", parent)
                if not isinstance(entry["node"], str):
                    raise self.fail(f"`node:` must name a node, not {entry['node']!r}", parent)
                target = entry["node"]
            else:
                target = self._node({k: v for k, v in entry.items() if k not in ("weight", "factor")}, parent)
        else:
            raise self.fail(f"a child is a node name, {{node: NAME, weight: W}} or a node; got {entry!r}", parent)
        return Child(node=target, weight=weight, factor=factor)

    def _transforms(self, items: Any, name: str) -> tuple[Transform, ...]:
        if not isinstance(items, list):
            raise self.fail("`transforms:` must be a list, e.g. [log1p, {scale: {min: 0, max: data}}]", name)
        out: list[Transform] = []
        for item in items:
            if isinstance(item, str):
                kind, arg = item, None
            elif isinstance(item, Mapping) and len(item) == 1:
                [(kind, arg)] = item.items()
            else:
                raise self.fail(f"a transform is a name or a one-key mapping, not {item!r}", name)
            if kind not in TRANSFORMS:
                raise self.fail(f"unknown transform {kind!r}; known: {', '.join(TRANSFORMS)}", name)
            if kind in ("log", "log10", "log1p", "invert"):
                if arg is not None:
                    raise self.fail(f"transform {kind} takes no argument", name)
                out.append(Transform(kind))
            elif kind in ("cap", "floor"):
                out.append(Transform(kind, value=self._number(arg, f"`{kind}:`", name)))
            else:
                out.append(self._scale(arg, name))
        return tuple(out)

    def _scale(self, arg: Any, name: str) -> Transform:
        if arg == "data":
            arg = {"min": "data", "max": "data"}
        elif isinstance(arg, list) and len(arg) == 2:
            arg = {"min": arg[0], "max": arg[1]}
        if not isinstance(arg, Mapping) or set(arg) != {"min", "max"}:
            raise self.fail("`scale:` takes {min: M, max: N} (numbers, `data` or a percentile like p95)", name)
        bounds: list[float | str] = []
        for key in ("min", "max"):
            value = arg[key]
            if isinstance(value, str):
                m = _PERCENTILE.match(value)
                if value != "data" and not (m and 0 <= float(m.group(1)) <= 100):
                    raise self.fail(f"scale {key} {value!r}: expected a number, `data` or a percentile like p95", name)
                bounds.append(value)
            else:
                bounds.append(self._number(value, f"scale {key}", name))
        low, high = bounds
        if isinstance(low, float) and isinstance(high, float) and not low < high:
            raise self.fail(f"scale min ({low:g}) must be below max ({high:g}); use `invert` to reverse", name)
        return Transform("scale", low=low, high=high)

    def _check_references(self) -> None:
        for node in self.nodes.values():
            for child in node.children:
                if child.node not in self.nodes:
                    raise self.fail(f"child {child.node!r} is not a node of this definition", node.name)

    def _topological(self) -> list[str]:
        """Children before parents (each parent right after its subtree); a cycle is an error naming it."""
        order: list[str] = []
        state: dict[str, int] = {}  # 1: on the current path, 2: done

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = [*path[path.index(name) :], name]
                raise self.fail("cycle: " + " -> ".join(cycle), name)
            state[name] = 1
            for child in self.nodes[name].children:
                visit(child.node, [*path, name])
            state[name] = 2
            order.append(name)

        for name in self.nodes:
            visit(name, [])
        return order


def parse_definition(data: Any, source: str = "<definition>") -> Definition:
    """A definition from parsed YAML (a mapping); ``DefinitionError`` names the node at fault."""
    return _Parser(source).parse(data)


def _shipped_dir() -> Any:
    return resources.files("onthemove.foresight").joinpath("indices")


def shipped_definitions() -> list[Definition]:
    """The definitions that come with onthemove (``onthemove index list``)."""
    files = sorted((f for f in _shipped_dir().iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    return [_parse_text(f.read_text(encoding="utf-8"), f.name) for f in files]


def _parse_text(text: str, source: str) -> Definition:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise DefinitionError(f"{source}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return parse_definition(data, source)


def load_definition(name_or_path: str | Path) -> Definition:
    """A definition file, or the name of a shipped definition (``inform_risk_2020``)."""
    path = Path(name_or_path)
    if path.is_file():
        return _parse_text(path.read_text(encoding="utf-8"), str(path))
    shipped = _shipped_dir().joinpath(f"{path.name.removesuffix('.yaml')}.yaml")
    if shipped.is_file():
        return _parse_text(shipped.read_text(encoding="utf-8"), shipped.name)
    names = ", ".join(d.name for d in shipped_definitions())
    raise DefinitionError(f"{name_or_path}: no such file, and no shipped definition of that name (shipped: {names})")


# --------------------------------------------------------------------------------------------- input tables


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV file as text cells: UTF-8 (with or without BOM), else Latin-1; the delimiter is sniffed.

    ``attrs`` keeps the file name, encoding and the spreadsheet row of the first data row (the header is 1),
    so that errors can name the cell.
    """
    import csv

    import pandas as pd

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise IndexInputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "latin-1"
    if not text.strip():
        raise IndexInputError(f"{path}: the file is empty")
    first = text.splitlines()[0]
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        table = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise IndexInputError(f"{path}: not a readable CSV file ({exc})") from None
    table.attrs.update(source=str(path), encoding=encoding, first_row=2)
    return table


def _where(table: pd.DataFrame, position: int, ids: Sequence[str] | None, id_column: str | None) -> str:
    first = int(table.attrs.get("first_row", 1))
    label = f"row {position + first}"
    if ids is not None and id_column:
        label += f" ({id_column} {ids[position]})"
    return label


def _source(table: pd.DataFrame) -> str:
    return str(table.attrs.get("source", "input table"))


def _numeric(
    table: pd.DataFrame, column: str, missing: Collection[str], ids: Sequence[str] | None, id_column: str | None
) -> Array:
    import pandas as pd

    series = table[column]
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    text = series.astype("string").str.strip()
    absent = text.isna() | text.isin(list(missing))
    values = pd.to_numeric(text.where(~absent), errors="coerce")
    bad = np.flatnonzero((values.isna() & ~absent).to_numpy())
    if len(bad):
        cells = []
        for pos in bad[:3]:
            cell = str(text.iloc[pos])
            hint = " (a broken spreadsheet cell)" if cell.startswith("#") else ""
            cells.append(f"{_where(table, int(pos), ids, id_column)}: {cell!r}{hint}")
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        tokens = ", ".join(repr(m) for m in missing)
        raise IndexInputError(
            f"{_source(table)}: column {column!r}: {'; '.join(cells)}{more} is not a number "
            f"(expected a number, or one of {tokens} for a missing value)"
        )
    return values.to_numpy(dtype=float, na_value=np.nan)


@dataclass
class _Inputs:
    """What a computation starts from: the raw value of every input node, ids and carried columns."""

    raw: dict[str, Array]
    ids: list[str]
    id_column: str
    keep: dict[str, list[Any]]
    bounds: dict[tuple[str, int], tuple[float, float]] = field(default_factory=dict)


def _prepare(definition: Definition, table: pd.DataFrame, id_column: str | None) -> _Inputs:
    id_column = id_column or definition.id_column
    source = _source(table)
    columns = [str(c) for c in table.columns]
    if not id_column:
        raise IndexInputError(f"{definition.source}: no `id:` column; name one (--id-column), e.g. ISO3 or pcode")
    lacking = [c for c in [id_column, *definition.columns(), *definition.keep] if c not in columns]
    if lacking:
        users = {c: [n.name for n in definition.inputs if (n.column or n.name) == c] for c in lacking}
        detail = "; ".join(
            f"{c!r}" + (f" (read by node {', '.join(map(repr, users[c]))})" if users[c] else "") for c in lacking
        )
        raise IndexInputError(f"{source} lacks column(s) {detail}; its columns are: {', '.join(columns)}")
    clash = [n for n in definition.nodes if n in (id_column, *definition.keep)]
    if clash:
        raise IndexInputError(f"{definition.source}: node {clash[0]!r} has the name of the id or a `keep:` column")
    ids = ["" if v is None or v != v else str(v).strip() for v in table[id_column].tolist()]
    seen: dict[str, int] = {}
    for pos, value in enumerate(ids):
        if not value:
            raise IndexInputError(f"{source}: {_where(table, pos, None, None)}: the id column {id_column!r} is empty")
        if value in seen:
            raise IndexInputError(
                f"{source}: id {value!r} (column {id_column!r}) appears twice: "
                f"{_where(table, seen[value], None, None)} and {_where(table, pos, None, None)}"
            )
        seen[value] = pos
    numbers: dict[str, Array] = {}
    for column in definition.columns():
        numbers[column] = _numeric(table, column, definition.missing, ids, id_column)
    raw = {n.name: numbers[n.column or n.name] for n in definition.inputs}
    keep = {k: table[k].tolist() for k in definition.keep if k != id_column}
    inputs = _Inputs(raw=raw, ids=ids, id_column=id_column, keep=keep)
    inputs.bounds = _bounds(definition, inputs, table)
    for node in definition.inputs:
        _transform(node, raw[node.name], inputs.bounds, strict=(table, inputs))
    return inputs


def _bounds(definition: Definition, inputs: _Inputs, table: pd.DataFrame) -> dict[tuple[str, int], tuple[float, float]]:
    """Resolve data-derived scale bounds once, from the unperturbed data."""
    out: dict[tuple[str, int], tuple[float, float]] = {}
    for node in definition.inputs:
        values = inputs.raw[node.name]
        for i, t in enumerate(node.transforms):
            if t.kind == "scale":
                present = values[np.isfinite(values)]
                low, high = _bound(t.low, present, node, "min"), _bound(t.high, present, node, "max")
                if not low < high:
                    raise IndexInputError(
                        f"{_source(table)}: node {node.name!r}: scale bounds from the data are {low:g} and {high:g}; "
                        "the column needs different values, or declare scale min and max"
                    )
                out[(node.name, i)] = (low, high)
            values = _apply(t, values, out.get((node.name, i)), node, None)
    return out


def _bound(bound: float | str | None, present: Array, node: Node, which: str) -> float:
    if isinstance(bound, float | int):
        return float(bound)
    if not len(present):
        raise IndexInputError(f"node {node.name!r}: no values to derive the scale {which} from")
    if bound == "data":
        return float(present.min() if which == "min" else present.max())
    m = _PERCENTILE.match(str(bound))
    assert m is not None
    return float(np.percentile(present, float(m.group(1))))


def _apply(
    t: Transform,
    values: Array,
    bounds: tuple[float, float] | None,
    node: Node,
    strict: tuple[pd.DataFrame, _Inputs] | None,
) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        if t.kind in ("log", "log10", "log1p"):
            floor = -1.0 if t.kind == "log1p" else 0.0
            bad = np.flatnonzero(values <= floor)
            if strict is not None and len(bad):
                table, inputs = strict
                where = _where(table, int(bad[0]), inputs.ids, inputs.id_column)
                raise IndexInputError(
                    f"{_source(table)}: node {node.name!r} (column {node.column!r}), {where}: {t.kind} needs values "
                    f"above {floor:g}, got {values[bad[0]]:g}" + (" (log1p takes zeros)" if t.kind == "log" else "")
                )
            fn = {"log": np.log, "log10": np.log10, "log1p": np.log1p}[t.kind]
            return np.asarray(fn(np.where(values <= floor, np.nan, values)), dtype=float)
        if t.kind in ("cap", "floor"):
            assert t.value is not None
            return np.minimum(values, t.value) if t.kind == "cap" else np.maximum(values, t.value)
        if t.kind == "invert":
            return TOP - values
        assert bounds is not None
        low, high = bounds
        return np.clip((values - low) / (high - low) * TOP, 0.0, TOP)


def _transform(
    node: Node,
    values: Array,
    bounds: Mapping[tuple[str, int], tuple[float, float]],
    strict: tuple[pd.DataFrame, _Inputs] | None,
) -> Array:
    for i, t in enumerate(node.transforms):
        values = _apply(t, values, bounds.get((node.name, i)), node, strict)
    if strict is not None:
        outside = np.flatnonzero((values < -_TOLERANCE) | (values > TOP + _TOLERANCE))
        if len(outside):
            table, inputs = strict
            steps = ", ".join(t.describe() for t in node.transforms) or "no transforms"
            raise IndexInputError(
                f"{_source(table)}: node {node.name!r} (column {node.column!r}, {steps}), "
                f"{_where(table, int(outside[0]), inputs.ids, inputs.id_column)}: {values[outside[0]]:g} is outside "
                "0-10; an input must lie in 0-10 after its transforms (add `scale:` or `cap:`)"
            )
    else:
        values = np.clip(values, 0.0, TOP)  # a perturbed input stays in the domain its true value had
    return values


# --------------------------------------------------------------------------------------------- arithmetic


def round_half_up(values: Array | float, decimals: int = 1) -> Array:
    """Round half away from zero (Excel's ROUND) for values >= 0, with a 1e-9 tolerance for binary fractions."""
    scale = 10.0**decimals
    return np.asarray(np.floor(np.asarray(values, dtype=float) * scale + 0.5 + _TOLERANCE) / scale, dtype=float)


def inform_hz(values: Array) -> Array:
    """INFORM's aggregation over the first axis (children x rows), skipping missing values:
    HZ = 10 - [(prod((10 - x) * 0.9 + 1))^(1/n) - 1] / 0.9."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    present = np.isfinite(values)
    n = present.sum(axis=0)
    logs = np.where(present, np.log(np.where(present, (TOP - values) * 0.9 + 1.0, 1.0)), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_log = logs.sum(axis=0) / n
    return np.where(n > 0, np.clip(TOP - (np.exp(mean_log) - 1.0) / 0.9, 0.0, TOP), np.nan)


def weighted_mean(values: Array, weights: Sequence[float] | None = None) -> Array:
    """Weighted mean over the first axis; the weights of the values present are renormalised."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    w = np.ones(values.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    present = np.isfinite(values)
    wp = np.where(present, w[:, None], 0.0)
    total = wp.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (np.where(present, values, 0.0) * wp).sum(axis=0) / total
    return np.where(total > 0, _within(out, values, present), np.nan)


def geometric_mean(values: Array, weights: Sequence[float] | None = None) -> Array:
    """Weighted geometric mean over the first axis (a zero gives zero), missing values skipped."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    w = np.ones(values.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    present = np.isfinite(values)
    wp = np.where(present, w[:, None], 0.0)
    total = wp.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = np.where(present, np.log(np.where(present, values, 1.0)), 0.0)
        out = np.exp((logs * wp).sum(axis=0) / total)
    return np.where(total > 0, _within(out, values, present), np.nan)


def _within(out: Array, values: Array, present: Array) -> Array:
    """A mean lies between its smallest and largest value: keep float noise (exp(log(10))) from leaving it."""
    low = np.where(present, values, np.inf).min(axis=0)
    high = np.where(present, values, -np.inf).max(axis=0)
    return np.asarray(np.minimum(np.maximum(out, low), high), dtype=float)


def _aggregate(node: Node, children: list[Array]) -> Array:
    stack = np.vstack(children)
    present = np.isfinite(stack).sum(axis=0)
    if node.method == "mean" or node.method == "geomean":
        weights = [c.weight if c.weight is not None else 1.0 for c in node.children]
        fn = weighted_mean if node.method == "mean" else geometric_mean
        out = fn(stack, weights)
    elif node.method in ("max", "min"):
        scaled = stack * np.array([c.factor for c in node.children])[:, None]
        fill = -np.inf if node.method == "max" else np.inf
        filled = np.where(np.isfinite(scaled), scaled, fill)
        out = filled.max(axis=0) if node.method == "max" else filled.min(axis=0)
        out = np.where(present > 0, out, np.nan)
    else:
        out = inform_hz(stack)
    out = np.where(present >= node.min_children, out, np.nan)
    return round_half_up(out, node.round) if node.round is not None else out


def _evaluate(
    definition: Definition,
    raw: Mapping[str, Array],
    bounds: Mapping[tuple[str, int], tuple[float, float]],
    *,
    published: Mapping[str, Array] | None = None,
) -> dict[str, Array]:
    """Every node's value (inputs already checked by ``_prepare``). With ``published``, an aggregate's children
    that have a published value are taken from it (step by step) instead of from their own computation."""
    steps = published or {}
    values: dict[str, Array] = {}
    for node in definition.nodes.values():
        if node.is_input:
            out = _transform(node, raw[node.name], bounds, None)
            values[node.name] = round_half_up(out, node.round) if node.round is not None else out
            continue
        children = [
            steps[c.node] if c.node in steps and not definition.nodes[c.node].is_input else values[c.node]
            for c in node.children
        ]
        values[node.name] = _aggregate(node, children)
    return values


def compute(definition: Definition, table: pd.DataFrame, *, id_column: str | None = None) -> pd.DataFrame:
    """Every node's value for every row of ``table``: the id column, the ``keep`` columns, then the nodes
    (children before parents). Cells may be text (as read by ``read_table``) or numbers."""
    import pandas as pd

    inputs = _prepare(definition, table, id_column)
    values = _evaluate(definition, inputs.raw, inputs.bounds)
    return pd.DataFrame({inputs.id_column: inputs.ids, **inputs.keep, **values})


# --------------------------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Miss:
    """One aggregate of one row whose computed value differs from the published one at ``decimals``."""

    id: str
    node: str
    computed: float | None
    published: float | None
    low: float | None  # the lowest and highest value the node takes with its inputs moved by up to
    high: float | None  # half a unit of the last published decimal
    explained: bool
    inputs: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "node": self.node,
            "computed": self.computed,
            "published": self.published,
            "reachable": None if self.low is None or self.high is None else f"{self.low:.3f}..{self.high:.3f}",
            "explained": "by input rounding" if self.explained else "no",
            "inputs": "; ".join(f"{k}={'' if v is None else _num(v)}" for k, v in self.inputs.items()),
        }


@dataclass(frozen=True)
class NodeSummary:
    node: str
    compared: int
    matched: int
    explained: int
    unexplained: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "compared": self.compared,
            "matched": self.matched,
            "missed": self.explained + self.unexplained,
            "explained by input rounding": self.explained,
            "unexplained": self.unexplained,
        }


@dataclass(frozen=True)
class Comparison:
    definition: str
    decimals: int
    stepwise: bool
    nodes: list[NodeSummary]
    misses: list[Miss]

    @property
    def compared(self) -> int:
        return sum(n.compared for n in self.nodes)

    @property
    def matched(self) -> int:
        return sum(n.matched for n in self.nodes)

    @property
    def unexplained(self) -> list[Miss]:
        return [m for m in self.misses if not m.explained]

    def to_dict(self) -> dict[str, Any]:
        return {
            "definition": self.definition,
            "decimals": self.decimals,
            "mode": "stepwise" if self.stepwise else "from inputs",
            "compared": self.compared,
            "matched": self.matched,
            "explained": len(self.misses) - len(self.unexplained),
            "unexplained": len(self.unexplained),
            "nodes": [n.to_dict() for n in self.nodes],
            "misses": [m.to_dict() for m in self.misses],
        }


def _value(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def compare(
    definition: Definition,
    table: pd.DataFrame,
    *,
    id_column: str | None = None,
    decimals: int = 1,
    stepwise: bool = False,
    nodes: Iterable[str] | None = None,
) -> Comparison:
    """Computed against published values: the table's columns named like the definition's aggregates.

    A node matches where the computed value, rounded half up to ``decimals``, equals the published value, or
    both are missing. A miss is **explained by input rounding** when the published value is within reach of
    inputs that were themselves published at ``decimals``: every input the node depends on may truly lie up to
    half a unit of the last decimal (0.05 for one decimal) either side of its published value. Every method and
    transform is monotone in each input (``invert`` reverses the direction), so over that box of true inputs
    the node's lowest value is at the corner where each input is moved down (up where inverted) and its highest
    at the opposite corner; the miss is explained when the published value lies between those two values once
    rounded. In exact arithmetic the node is continuous, so every value between the corners is reached and the
    test is exact; with rounding between levels it is the necessary condition (the node takes steps).

    ``stepwise``: each aggregate is computed from the published values of its children (which are themselves
    perturbed) rather than all the way from the inputs, so each level's method is checked on its own.
    Data-derived scale bounds stay those of the unperturbed data. An input node stands for its own variable
    even if another node reads the same column.
    """
    inputs = _prepare(definition, table, id_column)
    if nodes is None:
        names = [n.name for n in definition.aggregates if n.name in table.columns]
    else:
        names = list(nodes)
        unknown = [n for n in names if n not in definition.nodes or definition.nodes[n].is_input]
        unknown += [n for n in names if n not in table.columns and n not in unknown]
        if unknown:
            raise IndexInputError(f"cannot compare {', '.join(map(repr, unknown))}: not both an aggregate and a column")
    published = {
        name: round_half_up(_numeric(table, name, definition.missing, inputs.ids, inputs.id_column), decimals)
        for name in names
    }
    values = _evaluate(definition, inputs.raw, inputs.bounds, published=published if stepwise else None)
    half = 0.5 * 10.0**-decimals
    corners = []
    for direction in (-1, 1):
        raw = {n.name: inputs.raw[n.name] + direction * n.sign * half for n in definition.inputs}
        shifted = {k: np.clip(v + direction * half, 0.0, TOP) for k, v in published.items()}
        corners.append(_evaluate(definition, raw, inputs.bounds, published=shifted if stepwise else None))
    summaries: list[NodeSummary] = []
    misses: list[Miss] = []
    for name in names:
        node = definition.nodes[name]
        target = published[name]
        got = round_half_up(values[name], decimals)
        both_missing = np.isnan(got) & np.isnan(target)
        equal = np.isclose(got, target, rtol=0, atol=_TOLERANCE) | both_missing
        low = np.fmin(corners[0][name], corners[1][name])
        high = np.fmax(corners[0][name], corners[1][name])
        reach = (round_half_up(low, decimals) <= target + _TOLERANCE) & (
            target <= round_half_up(high, decimals) + _TOLERANCE
        )
        explained = ~equal & np.isfinite(target) & np.isfinite(got) & reach
        involved = [c.node for c in node.children] if stepwise else definition.leaves(name)
        for pos in np.flatnonzero(~equal):
            detail: dict[str, float | None] = {}
            for v in involved:
                child = definition.nodes[v]
                if child.is_input:
                    detail[child.column or v] = _value(inputs.raw[v][pos])
                else:
                    detail[v] = _value(published[v][pos]) if v in published else _value(values[v][pos])
            misses.append(
                Miss(
                    id=inputs.ids[pos],
                    node=name,
                    computed=_value(values[name][pos]),
                    published=_value(target[pos]),
                    low=_value(low[pos]),
                    high=_value(high[pos]),
                    explained=bool(explained[pos]),
                    inputs=detail,
                )
            )
        summaries.append(
            NodeSummary(
                node=name,
                compared=len(target),
                matched=int(equal.sum()),
                explained=int(explained.sum()),
                unexplained=int((~equal & ~explained).sum()),
            )
        )
    return Comparison(definition.name, decimals, stepwise, summaries, misses)


# --------------------------------------------------------------------------------------------- Somalia


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(day: dt.date) -> dt.date:
    return _month_start(day, -1) - dt.timedelta(days=1)


def somalia_inputs(
    store: Store, *, as_of: dt.date | None = None, country: str = "SOM", months: int = 12
) -> pd.DataFrame:
    """The input table of the district displacement-risk index (``somalia_displacement_risk``), from a store.

    One row per district (admin level 2 of ``country``) that the store holds arrivals or IDP sites for:

    - ``arrivals``, ``conflict_arrivals``, ``climate_arrivals`` (drought and flood): PRMN arrivals (movements
      to the district) in the ``months`` months up to ``as_of`` (default: the latest month with arrivals);
    - ``rainfall_deficit_pct``: the country's rainfall (driver ``rainfall`` at the admin-0 place) over the same
      months, as a percentage below the mean of the same calendar months in the years before (negative: wetter
      than usual); the same value for every district;
    - ``idp_sites``, ``idp_site_individuals``: sites of the registry in the district (latest record of each
      site). A site kept at region level is placed in a district of that region whose P-code its site code
      embeds (CCCM codes do: CCCM-SO2201-0001);
    - ``sites_assessed`` and one column per assessment indicator (``fs_need``, ``health_need``, ...): the
      latest value of each site's assessment, averaged over the district's assessed sites weighted by their
      individuals (DSA needs scores run 0-2).

    ``attrs["notes"]`` says what could not be placed and which months were used.
    """
    import pandas as pd

    country = country.upper()
    notes: list[str] = []
    districts = pd.DataFrame(
        store.fetch(
            "SELECT pcode, name, parent_pcode FROM places WHERE admin_level = 2 AND country = $c ORDER BY pcode",
            {"c": country},
        ),
        columns=["pcode", "name", "region"],
    )
    if districts.empty:
        raise ValueError(f"the store holds no districts (admin level 2 places) of {country}: load its P-codes first")
    if as_of is None:
        latest = store.fetch_one(
            "SELECT max(m.date) FROM movements m JOIN places p ON p.pcode = m.to_place WHERE p.country = $c",
            {"c": country},
        )
        if not latest or latest[0] is None:
            raise ValueError(f"the store holds no arrivals (movements) to places of {country}; nothing to compute")
        as_of = latest[0]
    assert as_of is not None
    start, end = _month_start(as_of, months - 1), _month_end(as_of)
    notes.append(f"arrivals and rainfall over {start:%Y-%m} to {end:%Y-%m} ({months} months)")

    flows = pd.DataFrame(
        store.fetch(
            "SELECT m.to_place, p.admin_level, m.reason, sum(m.count) FROM movements m "
            "JOIN places p ON p.pcode = m.to_place WHERE p.country = $c AND m.date >= $start AND m.date <= $end "
            "GROUP BY m.to_place, p.admin_level, m.reason",
            {"c": country, "start": start, "end": end},
        ),
        columns=["pcode", "level", "reason", "count"],
    )
    flows["count"] = flows["count"].astype(float)
    elsewhere = flows.loc[flows["level"] != 2, "count"].sum()
    if elsewhere:
        notes.append(f"{elsewhere:,.0f} arrivals recorded above district level are left out")
    flows = flows[flows["level"] == 2]
    ever = {
        r[0]
        for r in store.fetch(
            "SELECT DISTINCT m.to_place FROM movements m JOIN places p ON p.pcode = m.to_place "
            "WHERE p.country = $c AND p.admin_level = 2",
            {"c": country},
        )
    }

    sites = _somalia_sites(store, country, end, districts, notes)
    out = districts.copy()
    by_reason = flows.pivot_table(index="pcode", columns="reason", values="count", aggfunc="sum", fill_value=0.0)
    total = by_reason.sum(axis=1)

    def reasons(*names: str) -> pd.Series:
        cols = [n for n in names if n in by_reason.columns]
        return by_reason[cols].sum(axis=1) if cols else pd.Series(0.0, index=by_reason.index)

    out["arrivals"] = out["pcode"].map(total).fillna(0.0)
    out["conflict_arrivals"] = out["pcode"].map(reasons("conflict")).fillna(0.0)
    out["climate_arrivals"] = out["pcode"].map(reasons("drought", "flood")).fillna(0.0)
    out["rainfall_deficit_pct"] = _rainfall_deficit(store, country, start, months, notes)
    placed = sites.groupby("district")
    out["idp_sites"] = out["pcode"].map(placed.size()).fillna(0).astype(int)
    out["idp_site_individuals"] = out["pcode"].map(placed["weight_individuals"].sum()).fillna(0.0)
    needs = _somalia_needs(store, end, sites)
    out["sites_assessed"] = out["pcode"].map(needs.attrs.get("assessed", {})).fillna(0).astype(int)
    for indicator in dict.fromkeys([*DSA_NEEDS, *needs.columns]):
        out[indicator] = out["pcode"].map(needs[indicator]) if indicator in needs.columns else np.nan
    keep = out["pcode"].isin(ever) | (out["idp_sites"] > 0)
    dropped = int((~keep).sum())
    if dropped:
        notes.append(f"{dropped} districts of {country} without arrivals or sites in the store are left out")
    out = out[keep].reset_index(drop=True)
    out.attrs.update(notes=notes, as_of=str(as_of), start=str(start), end=str(end), source="store")
    return out


def _somalia_sites(store: Store, country: str, end: dt.date, districts: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    import pandas as pd

    rows = store.fetch(
        "SELECT site_id, place, admin_level, parent_pcode, individuals FROM (SELECT s.site_id, s.place, "
        "p.admin_level, p.parent_pcode, s.individuals, row_number() OVER (PARTITION BY s.site_id "
        "ORDER BY s.date DESC NULLS LAST, s.batch_id DESC) AS rn FROM sites s JOIN places p ON p.pcode = s.place "
        "WHERE p.country = $c AND (s.date IS NULL OR s.date <= $end)) latest WHERE rn = 1",
        {"c": country, "end": end},
    )
    sites = pd.DataFrame(rows, columns=["site_id", "place", "level", "parent", "individuals"])
    by_region: dict[str, list[str]] = {}
    for pcode, region in zip(districts["pcode"], districts["region"], strict=True):
        by_region.setdefault(str(region), []).append(str(pcode))

    def district(site_id: str, place: str, level: int) -> str | None:
        if level == 2:
            return place
        if level == 1:
            found = [d for d in by_region.get(place, []) if d in site_id]
            return found[0] if len(found) == 1 else None
        return None

    sites["district"] = [
        district(str(s), str(p), int(lv))
        for s, p, lv in zip(sites["site_id"], sites["place"], sites["level"], strict=True)
    ]
    moved = int(((sites["level"] != 2) & sites["district"].notna()).sum())
    if moved:
        notes.append(f"{moved} sites kept at region level are placed by the district P-code in their site code")
    lost = sites["district"].isna()
    if lost.any():
        notes.append(f"{int(lost.sum())} sites could not be placed in a district and are left out")
    sites = sites[~lost].copy()
    people = pd.to_numeric(sites["individuals"], errors="coerce")
    sites["weight_individuals"] = people.fillna(0.0).astype(float)
    return sites


def _somalia_needs(store: Store, end: dt.date, sites: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    rows = store.fetch(
        "SELECT site_id, indicator, value FROM (SELECT a.site_id, a.indicator, a.value, row_number() OVER "
        "(PARTITION BY a.site_id, a.indicator ORDER BY a.date DESC, a.batch_id DESC) AS rn "
        "FROM site_assessments a WHERE a.date <= $end) latest WHERE rn = 1",
        {"end": end},
    )
    values = pd.DataFrame(rows, columns=["site_id", "indicator", "value"])
    values = values.merge(sites[["site_id", "district", "weight_individuals"]], on="site_id", how="inner")
    if values.empty:
        empty = pd.DataFrame()
        empty.attrs["assessed"] = {}
        return empty
    # weight: the site's individuals; a site without a count weighs as much as the district's median site
    weight = values["weight_individuals"].where(values["weight_individuals"] > 0)
    weight = weight.fillna(values.groupby("district")["weight_individuals"].transform("median")).fillna(1.0)
    values["wv"] = values["value"].astype(float) * weight
    values["w"] = weight
    sums = values.groupby(["district", "indicator"])[["wv", "w"]].sum()
    means = (sums["wv"] / sums["w"]).unstack("indicator")
    means.attrs["assessed"] = values.groupby("district")["site_id"].nunique().to_dict()
    return means


def _rainfall_deficit(store: Store, country: str, start: dt.date, months: int, notes: list[str]) -> float:
    rows = store.fetch(
        "SELECT d.date, d.value FROM driver_events d JOIN places p ON p.pcode = d.place "
        "WHERE p.admin_level = 0 AND p.country = $c AND d.driver = 'rainfall' AND d.indicator = 'rainfall_mm'",
        {"c": country},
    )
    series: dict[tuple[int, int], float] = {}
    for day, value in rows:
        key = (day.year, day.month)
        series[key] = series.get(key, 0.0) + float(value)

    def window(years_back: int) -> float | None:
        keys = []
        for i in range(months):
            m = _month_start(start, -i)
            keys.append((m.year - years_back, m.month))
        if not all(k in series for k in keys):
            return None
        return sum(series[k] for k in keys)

    recent = window(0)
    history = [w for w in (window(k) for k in range(1, 200)) if w is not None]
    if recent is None or not history:
        notes.append("no complete national rainfall series for the window and the years before: deficit missing")
        return float("nan")
    normal = sum(history) / len(history)
    notes.append(f"rainfall {recent:.0f} mm against a mean of {normal:.0f} mm over {len(history)} earlier years")
    return 100.0 * (1.0 - recent / normal) if normal > 0 else float("nan")
