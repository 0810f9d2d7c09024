"""Scenario files: what changes, from when. A YAML file, every part optional::

    name: Niger border closes in May
    description: free text
    rules: {camp_weight: 3.0}              # rule parameters to change for this scenario (rules.py names)
    closures:                              # Flee's closure types: country, location, link, camp, idpcamp
      - {type: country, name1: Mali, name2: Niger, start: 2012-05-01, end: 2012-08-01}
      - {type: link, name1: Menaka, name2: Abala, start: 60}        # no end: closed to the end of the run
      - {type: location, name1: Lere, start: 30, end: 90}
    conflicts:                             # new or renewed conflict zones (a flare-up)
      - {location: Segou, start: 2012-06-15, intensity: 1.0, end: 2012-09-01}
    capacities:                            # a camp fills up, or is extended
      - {location: Mentao, capacity: 4000, start: 0}
    camps:                                 # a location opens (or closes) as a camp
      - {location: Bobo-Dioulasso, open: 2012-04-01}
      - {location: Mentao, close: 120}

A scenario's closure holds for its whole span: a reopening in the case's own closures.csv does not undo it.
Days are day numbers from the start of the period (0 is the first day) or ISO dates. A location or country
that is not in the graph, a date outside the period or an unknown key is an error naming the entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from onthemove.foresight.simulate.graph import Event, Graph, closure_events
from onthemove.foresight.simulate.rules import Rules

NEVER = 10**9


class ScenarioError(ValueError):
    pass


@dataclass
class Scenario:
    name: str
    description: str = ""
    rules: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    source: str = ""

    def apply_rules(self, rules: Rules) -> Rules:
        if not self.rules:
            return rules
        merged = {**rules.to_dict(), **self.rules, "source": f"{rules.source}; scenario {self.name}"}
        try:
            return Rules.from_dict(merged)
        except (TypeError, ValueError) as exc:
            raise ScenarioError(f"{self.source}: rules: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "rules": self.rules,
            "events": [
                {"day": e.day, "action": e.action, "nodes": list(e.nodes), "edges": list(e.edges), "value": e.value}
                for e in self.events
            ],
            "source": self.source,
        }


def _day(value: Any, start: dt.date, days: int, where: str, allow_never: bool = False) -> int:
    if value is None and allow_never:
        return NEVER
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        d = (value - start).days
    elif isinstance(value, str):
        try:
            d = (dt.date.fromisoformat(value.strip()) - start).days
        except ValueError:
            raise ScenarioError(f"{where}: {value!r} is neither a day number nor a date (YYYY-MM-DD)") from None
    elif isinstance(value, int) and not isinstance(value, bool):
        d = value
    else:
        raise ScenarioError(f"{where}: {value!r} is neither a day number nor a date (YYYY-MM-DD)")
    if d < 0 or d >= days:
        raise ScenarioError(f"{where}: day {d} is outside the period (days 0 to {days - 1}, from {start})")
    return d


def _keys(item: Any, allowed: set[str], required: set[str], where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ScenarioError(f"{where}: a mapping is expected, not {item!r}")
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
    missing = sorted(required - set(item))
    if missing:
        raise ScenarioError(f"{where}: missing {', '.join(missing)}")
    return item


def _location(graph: Graph, name: Any, where: str) -> int:
    if not isinstance(name, str) or name not in graph.index:
        raise ScenarioError(f"{where}: {name!r} is not a location of the graph")
    return graph.index[name]


def parse(data: Any, graph: Graph, start: dt.date, days: int, source: str = "scenario") -> Scenario:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a mapping is expected at the top")
    top = _keys(data, {"name", "description", "rules", "closures", "conflicts", "capacities", "camps"}, set(), source)
    events: list[Event] = []
    for i, item in enumerate(top.get("closures") or []):
        where = f"{source}: closures[{i}]"
        c = _keys(item, {"type", "name1", "name2", "start", "end"}, {"type", "name1", "start"}, where)
        kind = str(c["type"])
        if kind not in ("country", "location", "link", "camp", "idpcamp"):
            raise ScenarioError(f"{where}: type {kind!r} is not country, location, link, camp or idpcamp")
        n1, n2 = c["name1"], c.get("name2", "")
        if kind == "country":
            countries = set(graph.countries)
            for key, val in (("name1", n1), ("name2", n2)):
                if val not in countries:
                    raise ScenarioError(f"{where}: {key} {val!r} is not the country of any location")
        else:
            _location(graph, n1, where)
            if kind == "link":
                _location(graph, n2, where)
                if not graph.edges_between(graph.index[n1], graph.index[n2]):
                    raise ScenarioError(f"{where}: no route joins {n1!r} and {n2!r}")
        s = _day(c["start"], start, days, f"{where}.start")
        e = _day(c.get("end"), start, days, f"{where}.end", allow_never=True)
        if e <= s:
            raise ScenarioError(f"{where}: end (day {e}) must come after start (day {s})")
        events += closure_events(
            graph, kind, str(n1), str(n2 or ""), s, e, where, hold=kind in ("country", "location", "link")
        )
    for i, item in enumerate(top.get("conflicts") or []):
        where = f"{source}: conflicts[{i}]"
        c = _keys(item, {"location", "start", "end", "intensity"}, {"location", "start"}, where)
        v = _location(graph, c["location"], where)
        s = _day(c["start"], start, days, f"{where}.start")
        intensity = float(c.get("intensity", 1.0))
        if not intensity > 0:
            raise ScenarioError(f"{where}: intensity must be above 0")
        events.append(Event(s, 0, "conflict_on", nodes=(v,), value=intensity, source=where))
        if c.get("end") is not None:
            e = _day(c["end"], start, days, f"{where}.end")
            if e <= s:
                raise ScenarioError(f"{where}: end (day {e}) must come after start (day {s})")
            events.append(Event(e, 0, "conflict_off", nodes=(v,), source=where))
    for i, item in enumerate(top.get("capacities") or []):
        where = f"{source}: capacities[{i}]"
        c = _keys(item, {"location", "capacity", "start"}, {"location", "capacity"}, where)
        v = _location(graph, c["location"], where)
        try:
            cap = float(c["capacity"])
        except (TypeError, ValueError):
            raise ScenarioError(f"{where}: capacity {c['capacity']!r} is not a number") from None
        if cap < 0:
            raise ScenarioError(f"{where}: capacity must be 0 or more")
        s = _day(c.get("start", 0), start, days, f"{where}.start")
        events.append(Event(s, 1, "capacity", nodes=(v,), value=cap, source=where))
    for i, item in enumerate(top.get("camps") or []):
        where = f"{source}: camps[{i}]"
        c = _keys(item, {"location", "open", "close", "idp"}, {"location"}, where)
        v = _location(graph, c["location"], where)
        if "open" not in c and "close" not in c:
            raise ScenarioError(f"{where}: give open: or close: (a day or a date)")
        idp = bool(c.get("idp", False))
        if "open" in c:
            events.append(Event(_day(c["open"], start, days, f"{where}.open"), 1, "open_camp", nodes=(v,), idp=idp))
        if "close" in c:
            events.append(Event(_day(c["close"], start, days, f"{where}.close"), 1, "close_camp", nodes=(v,)))
    rules = top.get("rules") or {}
    if not isinstance(rules, dict):
        raise ScenarioError(f"{source}: rules: a mapping of rule parameters is expected")
    return Scenario(
        name=str(top.get("name") or Path(source).stem),
        description=str(top.get("description") or ""),
        rules=dict(rules),
        events=events,
        source=source,
    )


def load(path: Path | str, graph: Graph, start: dt.date, days: int) -> Scenario:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not YAML: {exc}") from None
    return parse(data, graph, start, days, str(path))
