"""A simulation of any country in the store: its admin areas and sites as the graph, people from conflict zones.

Shared by ``onthemove simulate --from-store`` and the API's ``/simulations``, so that both run the same thing:

* the graph is :func:`graph.from_store` (areas of one admin level as towns, sites with coordinates as camps whose
  capacity is their latest count of individuals, each joined to its nearest neighbours);
* locations are named in requests and scenarios by P-code or site id (or by the graph's own ``"<id> <name>"``);
* new people come from conflict zones, Flee's conflict-driven spawning (``displaced_per_conflict_day`` x
  intensity a day per zone). Unless the caller names them, the conflict zones are the areas people left because
  of conflict in the latest month of movement data in the store (``movements.from_place``, reason ``conflict``),
  each with an intensity of its share of the largest, and the daily rate is that month's departures from them a
  day: the run continues the latest month observed. The first day is the day after the latest data;
* camps start empty: the people counted are the newly displaced of the run, the site populations are capacities.

There is no observed daily camp series in the store, so these runs have no ARD (``ard`` null, and the summary
says why).
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from onthemove.foresight.simulate import scenario as scen
from onthemove.foresight.simulate.graph import KIND_NAMES, TOWN, Event, Graph, from_store
from onthemove.foresight.simulate.model import Inputs, Result, simulate
from onthemove.foresight.simulate.rules import Rules, load_rules

if TYPE_CHECKING:
    from onthemove.store import Store

MAX_ORIGINS = 8  # default conflict zones: at most this many areas ...
MIN_ORIGIN_SHARE = 0.05  # ... each with at least this share of the largest area's departures
NO_ARD = "the store holds no daily camp counts to compare with: no ARD"


class StoreSimulationError(ValueError):
    """A request the store cannot answer (no country, no boundaries, a bad location or parameter)."""


class UnknownCountry(StoreSimulationError):
    """The country P-code is not an admin level 0 place of the store."""


@dataclass
class StoreGraph:
    """One country's graph with what the store says about it: node ids, default start and conflict zones."""

    country: str
    admin_level: int
    graph: Graph
    ids: list[str]  # P-code (areas) or site id (camps), per node
    labels: list[str]  # the place's or site's own name, per node
    areas: list[str | None]  # the area each node lies in (its own P-code for areas, the site's place for camps)
    start: dt.date
    start_source: str
    origins: list[tuple[str, float]]  # default conflict zones: node id, intensity
    displaced_per_day: float | None  # the default zones' conflict departures a day in the latest month
    origins_source: str
    lookup: dict[str, int] = field(default_factory=dict)

    def node(self, ref: Any, where: str = "") -> int:
        """A node by P-code or site id (any case), by the graph's name, or by its own name when unique."""
        if isinstance(ref, str):
            for key in (ref, ref.upper(), ref.strip(), ref.strip().upper()):
                if key in self.lookup:
                    return self.lookup[key]
        prefix = f"{where}: " if where else ""
        raise StoreSimulationError(
            f"{prefix}{ref!r} is not a location of {self.country}'s graph (P-codes of admin level "
            f"{self.admin_level} or site ids)"
        )


def countries(store: Store) -> list[str]:
    return [str(r[0]) for r in store.fetch("SELECT pcode FROM places WHERE admin_level = 0 ORDER BY pcode")]


def resolve_country(store: Store, country: str | None) -> str:
    """The P-code asked for, or the store's only country."""
    held = countries(store)
    if country is None or not str(country).strip():
        if len(held) == 1:
            return held[0]
        if not held:
            raise StoreSimulationError("the store holds no country (no place of admin level 0): load P-codes first")
        raise StoreSimulationError(f"the store holds several countries ({', '.join(held)}): name one")
    code = str(country).strip().upper()
    if code not in held:
        raise UnknownCountry(f"no country {country!r} in the store (it holds: {', '.join(held) or 'none'})")
    return code


def _node_ids(store: Store, country: str, level: int, graph: Graph) -> tuple[list[str], list[str], list[str | None]]:
    """Each node's id, own name and area, read with the queries ``from_store`` builds its names from."""
    known: dict[str, tuple[str, str, str | None]] = {}
    for pcode, name in store.fetch(
        "SELECT p.pcode, p.name FROM places p JOIN place_geometries g ON g.pcode = p.pcode "
        "WHERE p.admin_level = $level AND (p.adm0 = $country OR p.country = $country) ",
        {"level": level, "country": country},
    ):
        known[f"{pcode} {name}"] = (str(pcode), str(name), str(pcode))
    for site_id, name, place in store.fetch(
        "SELECT s.site_id, max(s.name), max(s.place) FROM sites s JOIN places p ON p.pcode = s.place "
        "WHERE (p.adm0 = $country OR p.country = $country) GROUP BY s.site_id",
        {"country": country},
    ):
        known[f"{site_id} {name or ''}".strip()] = (str(site_id), str(name or site_id), place)
    ids, labels, areas = [], [], []
    for n in graph.names:
        found = known.get(n)
        if found is None:  # not expected; the first word of the name is the id
            first, _, rest = n.partition(" ")
            found = (first, rest or first, None)
        ids.append(found[0])
        labels.append(found[1])
        areas.append(found[2])
    if level > 0:
        parent = {
            str(r[0]): r[1]
            for r in store.fetch(
                f"SELECT pcode, adm{level} FROM places WHERE (adm0 = $country OR country = $country)",
                {"country": country},
            )
        }
        areas = [parent.get(a, a) if a is not None else None for a in areas]
    return ids, labels, areas


def _latest_conflict_month(
    store: Store, country: str, level: int
) -> tuple[list[tuple[str, float]], int, dt.date | None]:
    """The areas (at ``level``) people left because of conflict in the latest month of movements: (P-code,
    people) largest first, the month's days, and the latest date."""
    found = store.fetch(
        "SELECT max(m.date) FROM movements m JOIN places p ON p.pcode = m.from_place "
        "WHERE (p.adm0 = $country OR p.country = $country) AND lower(m.reason) = 'conflict'",
        {"country": country},
    )
    last = found[0][0] if found else None
    if last is None:
        return [], 0, None
    first = last.replace(day=1)
    rows = store.fetch(
        f"SELECT p.adm{level}, sum(m.count) FROM movements m JOIN places p ON p.pcode = m.from_place "
        "WHERE (p.adm0 = $country OR p.country = $country) AND lower(m.reason) = 'conflict' "
        f"AND m.date >= $first AND m.date <= $last AND p.adm{level} IS NOT NULL "
        f"GROUP BY p.adm{level} ORDER BY sum(m.count) DESC, p.adm{level}",
        {"country": country, "first": first, "last": last},
    )
    days = calendar.monthrange(last.year, last.month)[1]
    return [(str(r[0]), float(r[1] or 0)) for r in rows if (r[1] or 0) > 0], days, last


def _latest_date(store: Store, country: str) -> dt.date | None:
    rows = store.fetch(
        "SELECT max(d) FROM ("
        "SELECT max(s.date) AS d FROM sites s JOIN places p ON p.pcode = s.place "
        "WHERE (p.adm0 = $country OR p.country = $country) "
        "UNION ALL SELECT max(m.date) AS d FROM movements m JOIN places p ON p.pcode = m.to_place "
        "WHERE (p.adm0 = $country OR p.country = $country)) AS latest",
        {"country": country},
    )
    value = rows[0][0] if rows else None
    return value if isinstance(value, dt.date) else None


def store_graph(store: Store, country: str | None = None, admin_level: int = 2) -> StoreGraph:
    """The graph of ``country`` (default: the store's only one) at ``admin_level``, with its defaults."""
    if admin_level not in (1, 2, 3):
        raise StoreSimulationError(f"the admin level must be 1, 2 or 3, not {admin_level}")
    code = resolve_country(store, country)
    try:
        graph = from_store(store, code, admin_level=admin_level)
    except ValueError as exc:
        raise StoreSimulationError(str(exc)) from None
    ids, labels, areas = _node_ids(store, code, admin_level, graph)
    lookup: dict[str, int] = {}
    label_count: dict[str, int] = {}
    for label in labels:
        label_count[label] = label_count.get(label, 0) + 1
    for i, (name, ident, label) in enumerate(zip(graph.names, ids, labels, strict=True)):
        if label_count[label] == 1:
            lookup.setdefault(label, i)
        lookup[name] = i
        lookup[ident] = i
        lookup.setdefault(ident.upper(), i)
    left, month_days, last = _latest_conflict_month(store, code, admin_level)
    area_nodes = {ids[i] for i in range(graph.n_nodes) if graph.kind[i] == TOWN}
    left = [(pcode, people) for pcode, people in left if pcode in area_nodes]
    origins: list[tuple[str, float]] = []
    rate: float | None = None
    if left and last is not None:
        top = left[0][1]
        kept = [(p, n) for p, n in left[:MAX_ORIGINS] if n >= MIN_ORIGIN_SHARE * top]
        origins = [(p, round(n / top, 4)) for p, n in kept]
        rate = round(sum(n for _, n in kept) / month_days / sum(i for _, i in origins), 3)
        source = (
            f"movements for reason conflict in {last:%Y-%m} by area of departure: the {len(origins)} largest "
            f"(intensity: share of the largest), {sum(n for _, n in kept):,.0f} people in {month_days} days"
        )
    else:
        source = "the store holds no movements for reason conflict from this country: name the conflict zones"
    latest = _latest_date(store, code)
    if latest is not None:
        start, start_source = latest + dt.timedelta(days=1), f"the day after the latest data ({latest})"
    else:
        start, start_source = dt.date.today(), "today (the store holds no dated movements or sites)"
    return StoreGraph(
        country=code,
        admin_level=admin_level,
        graph=graph,
        ids=ids,
        labels=labels,
        areas=areas,
        start=start,
        start_source=start_source,
        origins=origins,
        displaced_per_day=rate,
        origins_source=source,
        lookup=lookup,
    )


# --- a run ------------------------------------------------------------------------------------------------------

LOCATION_KEYS = {"closures": ("name1", "name2"), "conflicts": ("location",), "capacities": ("location",)}


def translate_scenario(base: StoreGraph, data: dict[str, Any] | None) -> dict[str, Any]:
    """The scenario with locations named by id (or own name) turned into the graph's names; unknown ones are
    left as they are, for ``scenario.parse`` to report with the entry they are in."""
    if not data:
        return {}
    out = dict(data)
    for section, keys in (*LOCATION_KEYS.items(), ("camps", ("location",))):
        items = out.get(section)
        if not isinstance(items, list):
            continue
        translated = []
        for item in items:
            if isinstance(item, dict):
                item = dict(item)
                if section == "closures" and item.get("type") == "country":
                    translated.append(item)
                    continue
                for key in keys:
                    ref = item.get(key)
                    if isinstance(ref, str) and ref:
                        with contextlib.suppress(StoreSimulationError):
                            item[key] = base.graph.names[base.node(ref)]
            translated.append(item)
        out[section] = translated
    return out


@dataclass
class StoreRun:
    base: StoreGraph
    start: dt.date
    rules: Rules
    scenario: scen.Scenario | None
    origins: list[tuple[str, float]]
    origins_source: str
    displaced_per_day: float
    displaced_source: str
    result: Result
    warnings: list[str]

    @property
    def days(self) -> int:
        return self.result.days

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=t) for t in range(self.result.days)]

    def summary(self) -> dict[str, Any]:
        """The shape of ``CaseRun.summary`` (no observed camp counts, so no ARD), plus the graph and origins."""
        res = self.result
        g = self.base.graph
        last = res.days - 1
        return {
            "case": f"store:{self.base.country}",
            "start": self.start.isoformat(),
            "days": res.days,
            "people": round(float(res.total[last]), 3) if res.days else 0.0,
            "in_camps": round(float(res.in_camps[last]), 3) if res.days else 0.0,
            "seconds": round(res.seconds, 4),
            "mode": res.mode,
            "seed": res.seed,
            "ard": None,
            "ard_unscaled": None,
            "mase": None,
            "ard_note": NO_ARD,
            "camps": [
                {
                    "name": name,
                    "simulated": round(float(res.camps[last, i]), 3) if res.days else 0.0,
                    "observed": None,
                    "ard_share": None,
                }
                for i, name in enumerate(res.camp_names)
            ],
            "rules": self.rules.to_dict(),
            "warnings": list(self.warnings),
            "graph": {
                "country": self.base.country,
                "admin_level": self.base.admin_level,
                "locations": g.n_nodes,
                "routes": g.n_edges // 2,
                "camps": len(g.camp_names),
            },
            "start_source": self.base.start_source if self.start == self.base.start else "asked",
            "origins": [{"location": o, "intensity": i} for o, i in self.origins],
            "origins_source": self.origins_source,
            "displaced_per_conflict_day": self.displaced_per_day,
            "displaced_source": self.displaced_source,
        }


def run_store(
    base: StoreGraph,
    days: int,
    *,
    start: dt.date | None = None,
    origins: list[tuple[str, float]] | None = None,
    displaced_per_conflict_day: float | None = None,
    scenario: dict[str, Any] | None = None,
    scenario_source: str = "scenario",
    rules: Rules | str | None = None,
    mode: str = "expected",
    seed: int | None = None,
    record: str = "full",
) -> StoreRun:
    """Simulate ``days`` days of ``base`` from ``start`` (default the day after the latest data).

    ``origins``: conflict zones from day 0 as (location, intensity), default the store's (see the module);
    ``scenario``: a scenario as scenario files have it (closures, conflicts, capacities, camps, rules), its
    locations by id or name. Errors (a location not in the graph, a date outside the period) are
    ``StoreSimulationError`` or ``scenario.ScenarioError``, both ``ValueError``.
    """
    if not 1 <= int(days) <= 3650:
        raise StoreSimulationError(f"days must be 1 to 3650, not {days}")
    begin = start or base.start
    base_rules = rules if isinstance(rules, Rules) else load_rules(rules)
    if origins is None:
        chosen, origins_source = list(base.origins), base.origins_source
    else:
        chosen, origins_source = [(str(o), float(i)) for o, i in origins], "asked"
    events: list[Event] = []
    resolved: list[tuple[str, float]] = []
    for k, (ref, intensity) in enumerate(chosen):
        where = f"origins[{k}]"
        if not intensity > 0:
            raise StoreSimulationError(f"{where}: intensity must be above 0")
        v = base.node(ref, where)
        resolved.append((base.ids[v], intensity))
        events.append(Event(0, 0, "conflict_on", nodes=(v,), value=float(intensity), source=where))
    if displaced_per_conflict_day is not None:
        if not displaced_per_conflict_day >= 0:
            raise StoreSimulationError("displaced_per_conflict_day must be 0 or more")
        rate, rate_source = float(displaced_per_conflict_day), "asked"
    elif origins is None and base.displaced_per_day is not None:
        rate, rate_source = base.displaced_per_day, "the latest month's conflict departures a day (see origins)"
    else:
        rate, rate_source = float(base_rules.displaced_per_conflict_day), f"the rule set's ({base_rules.source})"
    run_rules = base_rules.replace(
        conflict_driven_spawning=True, conflict_spawn_mode="constant", displaced_per_conflict_day=rate
    )
    graph = base.graph.with_events([])  # a copy: parsing a scenario adds warnings, and ``base`` is shared
    sc = None
    if scenario:
        sc = scen.parse(translate_scenario(base, scenario), graph, begin, int(days), scenario_source)
        run_rules = sc.apply_rules(run_rules)
        events += sc.events
    warnings = list(graph.warnings)
    if not any(e.action == "conflict_on" for e in events):
        warnings.append("no conflict zone: nobody is displaced (name origins, or conflicts in the scenario)")
    result = simulate(
        graph, run_rules, Inputs(days=int(days)), mode=mode, seed=seed, record=record, extra_events=events
    )
    return StoreRun(
        base=base,
        start=begin,
        rules=run_rules,
        scenario=sc,
        origins=resolved,
        origins_source=origins_source,
        displaced_per_day=rate,
        displaced_source=rate_source,
        result=result,
        warnings=warnings,
    )


def kind_names(graph: Graph) -> list[str]:
    return [KIND_NAMES[int(k)] for k in np.asarray(graph.kind).tolist()]
