"""The results framework: objectives, enablers and cross-cutting priorities, the results chain users add beneath
them, and the indicators that measure it, read from YAML.

The default is the IOM Strategic Plan 2024-2028 (``frameworks/iom_srf_2024_2028.yaml``). Users extend it with
files of the same shape: new nodes name a ``parent``, new indicators a ``node``; an indicator with the code of
an existing one replaces it (the file that comes later wins), so a country office can adapt a default
indicator to its own assessment's scale. Every mistake is reported with the file, the path inside it and what
was expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT = Path(__file__).parent / "frameworks" / "iom_srf_2024_2028.yaml"

TOP = ("objective", "enabler", "cross_cutting")
# the results chain, top down; a child sits lower than its parent. Projects sit anywhere below the top and hold
# the chain beneath them (their results are what IATI publishes).
CHAIN = ("outcome_area", "long_term_outcome", "short_term_outcome", "output", "activity")
KINDS = (*TOP, *CHAIN, "project")
RANK = {**{k: 0 for k in TOP}, **{k: i + 1 for i, k in enumerate(CHAIN)}}

MEASURES = ("unit", "percentage", "ratio", "nominal", "ordinal", "qualitative")
DIRECTIONS = ("increase", "decrease", "maintain")
AGGREGATIONS = ("sum", "mean", "latest", "ratio", "none")
DIMENSIONS = ("place", "sex", "age_group", "population_group", "reason", "disability", "sector")
TABLES = {
    # table -> values it can give, and the columns ``where`` may filter on
    "movements": (("people", "records"), ("population_group", "reason", "sex", "age_group", "from_place")),
    "displacement": (("people", "records"), ("population_group", "reason", "sex", "age_group", "origin")),
    "sites": (("sites", "individuals", "households"), ("site_type",)),
    "site_assessments": (("sites", "records", "mean"), ("sector", "indicator", "value")),
    "driver_events": (("value", "records"), ("driver", "indicator")),
}


class FrameworkError(ValueError):
    """A framework file that cannot be used; the message names the file, the place in it and what was expected."""


@dataclass(frozen=True)
class Element:
    """One side of an indicator's formula: a value over a canonical table, filtered."""

    table: str
    value: str
    where: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Status:
    """When an indicator is on track: achieved share of the way from baseline to target, divided by the share of
    the time from baseline to target that has passed. At least ``on_track``: on track; at least ``at_risk``: at
    risk; below: off track. ``tolerance``: for ``maintain`` indicators, the relative distance from the target
    still on track."""

    on_track: float = 0.9
    at_risk: float = 0.6
    tolerance: float = 0.05


@dataclass(frozen=True)
class Target:
    period: str  # YYYY, YYYY-Qn or YYYY-MM
    value: float | None  # None for a baseline computed from the store over the period
    place: str | None = None


@dataclass(frozen=True)
class Indicator:
    code: str
    node: str
    name: str
    unit: str = ""
    measure: str = "unit"
    direction: str = "increase"
    aggregation: str = "sum"
    disaggregation: tuple[str, ...] = ()
    numerator: Element | None = None  # computed from the store when set, else reported
    denominator: Element | None = None
    factor: float = 1.0
    children: tuple[str, ...] = ()  # indicators of nodes below whose values this one aggregates
    baseline: Target | None = None
    targets: tuple[Target, ...] = ()
    status: Status = Status()
    description: str = ""
    source: str = ""  # the file that defined it

    @property
    def computed(self) -> bool:
        return self.numerator is not None

    @property
    def reported(self) -> bool:
        return self.numerator is None and not self.children


@dataclass(frozen=True)
class Node:
    id: str
    kind: str
    title: str
    statement: str = ""
    parent: str | None = None
    sdg: tuple[str, ...] = ()
    iati: dict[str, Any] = field(default_factory=dict)  # projects: what the IATI activity needs
    source: str = ""


@dataclass
class Framework:
    name: str
    title: str
    nodes: dict[str, Node]
    indicators: dict[str, Indicator]
    sdg: dict[str, dict[str, Any]]
    sources: list[str]
    vision: str = ""

    def children(self, node_id: str | None) -> list[Node]:
        return [n for n in self.nodes.values() if n.parent == node_id]

    def descendants(self, node_id: str) -> list[Node]:
        out, todo = [], [node_id]
        while todo:
            for child in self.children(todo.pop(0)):
                out.append(child)
                todo.append(child.id)
        return out

    def path(self, node_id: str) -> list[Node]:
        """The node and its ancestors, top first."""
        out: list[Node] = []
        current: str | None = node_id
        while current is not None:
            node = self.nodes[current]
            out.append(node)
            current = node.parent
        return out[::-1]

    def top(self, kind: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == kind and n.parent is None]

    def indicators_of(self, node_id: str, below: bool = False) -> list[Indicator]:
        ids = {node_id} | ({n.id for n in self.descendants(node_id)} if below else set())
        return [i for i in self.indicators.values() if i.node in ids]

    def part(self, node_id: str | None) -> list[Node]:
        """The node and everything beneath it, in framework order (every node when None)."""
        if node_id is None:
            return list(self.nodes.values())
        if node_id not in self.nodes:
            raise FrameworkError(f"no node {node_id!r} in the framework; expected one of {_few(self.nodes)}")
        keep = {node_id} | {n.id for n in self.descendants(node_id)}
        return [n for n in self.nodes.values() if n.id in keep]

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for n in self.nodes.values():
            counts[n.kind] = counts.get(n.kind, 0) + 1
        counts["indicators"] = len(self.indicators)
        return counts


def _few(names: Iterable[str], n: int = 8) -> str:
    names = list(names)
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


class _Reader:
    """Reads one file into the framework being built, failing with the file and the path of the problem."""

    def __init__(self, path: Path, fw: Framework) -> None:
        self.path, self.fw = path, fw

    def fail(self, where: str, expected: str, got: Any = None) -> FrameworkError:
        shown = "" if got is None else f", got {got!r}"
        return FrameworkError(f"{self.path}: {where}: expected {expected}{shown}")

    def text(self, data: dict[str, Any], key: str, where: str, required: bool = True) -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(f"{where}.{key}", "a value (it is required)")
            return ""
        if not isinstance(value, str | int | float):
            raise self.fail(f"{where}.{key}", "text", value)
        return str(value).strip()

    def choice(self, data: dict[str, Any], key: str, where: str, choices: Sequence[str], default: str) -> str:
        value = str(data.get(key, default)).strip().lower()
        if value not in choices:
            raise self.fail(f"{where}.{key}", f"one of {', '.join(choices)}", data.get(key))
        return value

    def read(self, doc: Any) -> None:
        if not isinstance(doc, dict):
            raise self.fail("top level", "a mapping with nodes and/or indicators")
        unknown = set(doc) - {"framework", "title", "source", "vision", "sdg", "nodes", "indicators"}
        if unknown:
            raise self.fail(
                f"top level key {sorted(unknown)[0]!r}", "framework, title, source, vision, sdg, nodes, indicators"
            )
        if not self.fw.name:
            self.fw.name = str(doc.get("framework", self.path.stem))
            self.fw.title = str(doc.get("title", self.fw.name))
            self.fw.vision = str(doc.get("vision", ""))
        for i, goal in enumerate(doc.get("sdg") or []):
            if not isinstance(goal, dict) or "id" not in goal:
                raise self.fail(f"sdg[{i}]", "a mapping with id, goal and title")
            self.fw.sdg[str(goal["id"])] = dict(goal)
        nodes = doc.get("nodes") or []
        if not isinstance(nodes, list):
            raise self.fail("nodes", "a list")
        for i, node in enumerate(nodes):
            self.node(node, f"nodes[{i}]", None)
        indicators = doc.get("indicators") or []
        if not isinstance(indicators, list):
            raise self.fail("indicators", "a list")
        for i, ind in enumerate(indicators):
            self.indicator(ind, f"indicators[{i}]")

    def node(self, data: Any, where: str, parent: str | None) -> None:
        if not isinstance(data, dict):
            raise self.fail(where, "a mapping with id, kind and title")
        known = {"id", "kind", "title", "statement", "parent", "sdg", "children", "iati"}
        extra = set(data) - known
        if extra:
            raise self.fail(f"{where}.{sorted(extra)[0]}", f"one of the keys {', '.join(sorted(known))}")
        node_id = self.text(data, "id", where)
        where = f"{where} ({node_id})"
        kind = self.choice(data, "kind", where, KINDS, "")
        if parent is None and data.get("parent") is not None:
            parent = self.text(data, "parent", where)
        if node_id in self.fw.nodes:
            raise self.fail(
                f"{where}.id", f"an id not used before (already in {self.fw.nodes[node_id].source})", node_id
            )
        if parent is None:
            if kind not in TOP:
                raise self.fail(
                    f"{where}.parent", f"the id of the node above a {kind} (only {', '.join(TOP)} sit on top)"
                )
        else:
            above = self.fw.nodes.get(parent)
            if above is None:
                raise self.fail(
                    f"{where}.parent", f"the id of a node defined before it ({_few(self.fw.nodes)})", parent
                )
            if kind in TOP:
                raise self.fail(f"{where}.kind", f"a kind that can sit below a {above.kind}, not {kind}")
            if above.kind == "activity":
                raise self.fail(
                    f"{where}.parent", "a node that is not an activity (activities are the last link)", parent
                )
            if kind != "project" and above.kind != "project" and RANK[kind] <= RANK[above.kind]:
                lower = ", ".join(k for k in CHAIN if RANK[k] > RANK[above.kind])
                raise self.fail(f"{where}.kind", f"a kind below {above.kind} ({lower} or project)", kind)
        sdg = data.get("sdg") or []
        for s in sdg:
            if str(s) not in self.fw.sdg:
                raise self.fail(f"{where}.sdg", f"SDG ids declared under sdg ({_few(self.fw.sdg)})", s)
        iati = data.get("iati") or {}
        if not isinstance(iati, dict):
            raise self.fail(f"{where}.iati", "a mapping of IATI activity fields")
        self.fw.nodes[node_id] = Node(
            node_id,
            kind,
            self.text(data, "title", where),
            self.text(data, "statement", where, required=False),
            parent,
            tuple(str(s) for s in sdg),
            dict(iati),
            str(self.path),
        )
        children = data.get("children") or []
        if not isinstance(children, list):
            raise self.fail(f"{where}.children", "a list of nodes")
        for i, child in enumerate(children):
            self.node(child, f"{where}.children[{i}]", node_id)

    def element(self, data: Any, where: str) -> Element | None:
        if data is None:
            return None
        if not isinstance(data, dict):
            raise self.fail(where, "a mapping with table, value and where")
        table = self.choice(data, "table", where, tuple(TABLES), "")
        values, columns = TABLES[table]
        value = self.choice(data, "value", where, values, values[0])
        cond = data.get("where") or {}
        if not isinstance(cond, dict):
            raise self.fail(f"{where}.where", "a mapping of column: value, [values] or {'>=': number}")
        for column, test in cond.items():
            if column not in columns:
                raise self.fail(f"{where}.where.{column}", f"a column of {table}: {', '.join(columns)}")
            if isinstance(test, dict):
                for op, bound in test.items():
                    if op not in OPERATORS or not isinstance(bound, int | float):
                        raise self.fail(
                            f"{where}.where.{column}", f"{{op: number}} with op one of {', '.join(OPERATORS)}", test
                        )
            elif not isinstance(test, str | int | float | list):
                raise self.fail(f"{where}.where.{column}", "a value, a list of values or {op: number}", test)
        return Element(table, value, dict(cond))

    def target(self, data: Any, where: str, value_required: bool) -> Target:
        if not isinstance(data, dict):
            raise self.fail(where, "a mapping with period and value")
        period = self.text(data, "period", where)
        from onthemove.account.periods import PeriodError, parse_period

        try:
            parse_period(period)
        except PeriodError as exc:
            raise self.fail(f"{where}.period", str(exc)) from None
        value = data.get("value")
        if value is not None and not isinstance(value, int | float):
            raise self.fail(f"{where}.value", "a number", value)
        if value is None and value_required:
            raise self.fail(f"{where}.value", "a number (targets are stated, not computed)")
        place = data.get("place")
        return Target(period, None if value is None else float(value), str(place).upper() if place else None)

    def indicator(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise self.fail(where, "a mapping with code, node and name")
        known = {
            "code", "node", "name", "unit", "measure", "direction", "aggregation", "disaggregation", "numerator",
            "denominator", "factor", "children", "baseline", "targets", "status", "description",
        }  # fmt: skip
        extra = set(data) - known
        if extra:
            raise self.fail(f"{where}.{sorted(extra)[0]}", f"one of the keys {', '.join(sorted(known))}")
        code = self.text(data, "code", where)
        where = f"{where} ({code})"
        node = self.text(data, "node", where)
        if node not in self.fw.nodes:
            raise self.fail(f"{where}.node", f"the id of a framework node ({_few(self.fw.nodes)})", node)
        dims = data.get("disaggregation") or []
        if not isinstance(dims, list) or any(d not in DIMENSIONS for d in dims):
            raise self.fail(f"{where}.disaggregation", f"a list of {', '.join(DIMENSIONS)}", dims)
        numerator = self.element(data.get("numerator"), f"{where}.numerator")
        denominator = self.element(data.get("denominator"), f"{where}.denominator")
        if denominator is not None and numerator is None:
            raise self.fail(f"{where}.numerator", "a numerator where a denominator is given")
        aggregation = self.choice(data, "aggregation", where, AGGREGATIONS, "ratio" if denominator else "sum")
        if denominator is not None and aggregation != "ratio":
            raise self.fail(
                f"{where}.aggregation", "ratio (a numerator over a denominator is aggregated as one)", aggregation
            )
        children = tuple(str(c) for c in data.get("children") or [])
        if children and numerator is not None:
            raise self.fail(f"{where}.children", "either a numerator or children, not both")
        if children and aggregation in ("none", "ratio"):
            raise self.fail(f"{where}.aggregation", "sum, mean or latest for an indicator that aggregates children")
        factor = data.get("factor", 1)
        if not isinstance(factor, int | float) or factor == 0:
            raise self.fail(f"{where}.factor", "a number other than 0", factor)
        base = data.get("baseline")
        baseline = None if base is None else self.target(base, f"{where}.baseline", value_required=numerator is None)
        raw_targets = data.get("targets") or []
        if not isinstance(raw_targets, list):
            raise self.fail(f"{where}.targets", "a list of {period, value}")
        targets = tuple(self.target(t, f"{where}.targets[{i}]", True) for i, t in enumerate(raw_targets))
        rules = data.get("status") or {}
        if not isinstance(rules, dict) or set(rules) - {"on_track", "at_risk", "tolerance"}:
            raise self.fail(f"{where}.status", "a mapping with on_track, at_risk and/or tolerance", rules)
        status = Status(**{k: float(v) for k, v in rules.items()})
        if not 0 <= status.at_risk <= status.on_track:
            raise self.fail(f"{where}.status", "0 <= at_risk <= on_track", rules)
        self.fw.indicators[code] = Indicator(
            code=code,
            node=node,
            name=self.text(data, "name", where),
            unit=self.text(data, "unit", where, required=False),
            measure=self.choice(data, "measure", where, MEASURES, "unit"),
            direction=self.choice(data, "direction", where, DIRECTIONS, "increase"),
            aggregation=aggregation,
            disaggregation=tuple(dims),
            numerator=numerator,
            denominator=denominator,
            factor=float(factor),
            children=children,
            baseline=baseline,
            targets=targets,
            status=status,
            description=self.text(data, "description", where, required=False),
            source=str(self.path),
        )


OPERATORS = {">=": ">=", ">": ">", "<=": "<=", "<": "<", "=": "=", "!=": "<>"}


def load(paths: Sequence[str | Path] = (), default: bool = True) -> Framework:
    """The framework: the default (unless ``default`` is False) extended by ``paths`` in order."""
    fw = Framework("", "", {}, {}, {}, [])
    files = ([DEFAULT] if default else []) + [Path(p) for p in paths]
    if not files:
        raise FrameworkError("no framework file given")
    for path in files:
        if not path.exists():
            raise FrameworkError(f"{path}: no such framework file")
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise FrameworkError(f"{path}: not valid YAML: {exc}") from None
        _Reader(path, fw).read(doc)
        fw.sources.append(str(path))
    for ind in fw.indicators.values():
        for child in ind.children:
            if child not in fw.indicators:
                raise FrameworkError(f"{ind.source}: indicator {ind.code}: children: no indicator {child!r}")
    _check_cycles(fw)
    return fw


def _check_cycles(fw: Framework) -> None:
    state: dict[str, int] = {}

    def visit(code: str, trail: list[str]) -> None:
        if state.get(code) == 2:
            return
        if state.get(code) == 1:
            raise FrameworkError(f"indicators aggregate each other in a circle: {' -> '.join([*trail, code])}")
        state[code] = 1
        for child in fw.indicators[code].children:
            visit(child, [*trail, code])
        state[code] = 2

    for code in fw.indicators:
        visit(code, [])
