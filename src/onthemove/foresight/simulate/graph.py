"""The location graph as arrays: nodes, directed edges, and what changes over time (closures, conflicts).

Every undirected route becomes two directed edges (Flee's ``linkUp``). Node kinds follow Flee: a conflict zone
whose conflict date is after day 0 starts as a town and becomes a conflict zone on its onset day. Events are kept
per day in Flee's order within a day: conflict onsets first (``AddNewConflictZones``), then spawning, then
closures (``enact_border_closures``, file order, each closure's start before its end).

Graphs come from a Flee case (:func:`from_flee_case`), from the store's places and sites
(:func:`from_store`), or are drawn at random for benchmarks (:func:`synthetic`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from onthemove.foresight.simulate.flee_io import FleeCase
    from onthemove.store import Store

TOWN, CONFLICT, CAMP, IDPCAMP, FORWARD, MARKER = range(6)
KIND_CODES = {
    "town": TOWN,
    "conflict": CONFLICT,
    "camp": CAMP,
    "idpcamp": IDPCAMP,
    "forward": FORWARD,
    "marker": MARKER,
}
KIND_NAMES = {v: k for k, v in KIND_CODES.items()}


@dataclass(frozen=True)
class Event:
    """One change on one day. ``action``: conflict_on, conflict_off, close_edges, open_edges (Flee's closures:
    the last one wins), hold_edges, release_edges (a scenario's closures: closed while any holds), close_camp,
    open_camp, capacity; ``nodes``/``edges`` the targets; ``value`` an intensity or a capacity."""

    day: int
    phase: int  # 0: before spawning (conflicts), 1: after spawning (closures, scenario changes)
    action: str
    nodes: tuple[int, ...] = ()
    edges: tuple[int, ...] = ()
    value: float = 0.0
    idp: bool = False
    source: str = ""


@dataclass
class Graph:
    names: list[str]
    countries: list[str]
    lat: np.ndarray
    lon: np.ndarray
    kind: np.ndarray  # int8, the kind on day 0 (before any event)
    population: np.ndarray  # float64, residents (0 for camps)
    capacity: np.ndarray  # float64, camp capacity; < 1 means none
    foreign: np.ndarray  # bool
    conflict: np.ndarray  # float64, intensity on day 0 (> 0: a conflict zone)
    src: np.ndarray  # int64 [E]
    dst: np.ndarray  # int64 [E]
    distance: np.ndarray  # float64 [E]
    speed: np.ndarray  # float64 [E], NaN: the rules' max_move_speed
    events: list[Event] = field(default_factory=list)
    camp_names: list[str] = field(default_factory=list)  # the camps reported (Flee: camps on day 0)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.index = {n: i for i, n in enumerate(self.names)}
        order = np.argsort(self.src, kind="stable")
        self.out_edges = order  # edge ids grouped by source
        counts = np.bincount(self.src, minlength=self.n_nodes)
        self.out_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        if not self.camp_names:
            self.camp_names = [self.names[i] for i in np.flatnonzero(np.isin(self.kind, (CAMP, IDPCAMP)))]

    @property
    def n_nodes(self) -> int:
        return len(self.names)

    @property
    def n_edges(self) -> int:
        return len(self.src)

    @property
    def camp_index(self) -> np.ndarray:
        return np.asarray([self.index[n] for n in self.camp_names], dtype=np.int64)

    def node(self, name: str) -> int:
        try:
            return self.index[name]
        except KeyError:
            raise ValueError(f"{name!r} is not a location of this graph") from None

    def edges_between(self, a: int, b: int) -> list[int]:
        """Directed edges a->b and b->a."""
        return [
            int(e) for e in np.flatnonzero(((self.src == a) & (self.dst == b)) | ((self.src == b) & (self.dst == a)))
        ]

    def edges_touching(self, v: int) -> list[int]:
        return [int(e) for e in np.flatnonzero((self.src == v) | (self.dst == v))]

    def border_edges(self, country1: str, country2: str) -> list[int]:
        c = np.asarray(self.countries, dtype=object)
        a = c[self.src]
        b = c[self.dst]
        return [
            int(e) for e in np.flatnonzero(((a == country1) & (b == country2)) | ((a == country2) & (b == country1)))
        ]

    def events_by_day(self, days: int) -> list[list[Event]]:
        out: list[list[Event]] = [[] for _ in range(days)]
        for ev in sorted(self.events, key=lambda e: (e.day, e.phase)):
            if 0 <= ev.day < days:
                out[ev.day].append(ev)
        return out

    def with_events(self, extra: list[Event]) -> Graph:
        """A copy whose events include ``extra`` (scenarios); arrays are shared."""
        g = Graph(
            self.names,
            self.countries,
            self.lat,
            self.lon,
            self.kind,
            self.population,
            self.capacity.copy(),
            self.foreign,
            self.conflict,
            self.src,
            self.dst,
            self.distance,
            self.speed,
            list(self.events) + list(extra),
            list(self.camp_names),
            list(self.warnings),
        )
        return g

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [
                {
                    "name": n,
                    "country": self.countries[i],
                    "lat": float(self.lat[i]),
                    "lon": float(self.lon[i]),
                    "kind": KIND_NAMES[int(self.kind[i])],
                    "population": float(self.population[i]),
                    "capacity": float(self.capacity[i]),
                }
                for i, n in enumerate(self.names)
            ],
            "edges": [
                {"from": self.names[int(a)], "to": self.names[int(b)], "distance": float(d)}
                for a, b, d in zip(self.src, self.dst, self.distance, strict=True)
            ],
        }


def closure_events(
    graph: Graph, kind: str, name1: str, name2: str, start: int, end: int, source: str, hold: bool = False
) -> list[Event]:
    """Flee's closures as events: country (both directions), location (every edge in and out), link (both
    directions: Flee 3.1's ``close_link`` compares names with ``is`` and closes nothing; the intent is kept), camp
    and idpcamp (the camp becomes a town, then a camp again). remove_forced_redirection changes no movement.
    ``hold``: a scenario's closure, which no reopening by another closure undoes."""
    out: list[Event] = []
    close, reopen = ("hold_edges", "release_edges") if hold else ("close_edges", "open_edges")
    if kind == "country":
        edges = tuple(graph.border_edges(name1, name2))
        if not edges:
            graph.warnings.append(f"{source}: no route joins {name1} and {name2}; the closure changes nothing")
        out.append(Event(start, 1, close, edges=edges, source=source))
        out.append(Event(end, 1, reopen, edges=edges, source=source))
    elif kind == "location":
        edges = tuple(graph.edges_touching(graph.node(name1)))
        out.append(Event(start, 1, close, edges=edges, source=source))
        out.append(Event(end, 1, reopen, edges=edges, source=source))
    elif kind == "link":
        edges = tuple(graph.edges_between(graph.node(name1), graph.node(name2)))
        out.append(Event(start, 1, close, edges=edges, source=source))
        out.append(Event(end, 1, reopen, edges=edges, source=source))
    elif kind in ("camp", "idpcamp"):
        v = graph.node(name1)
        out.append(Event(start, 1, "close_camp", nodes=(v,), idp=kind == "idpcamp", source=source))
        out.append(Event(end, 1, "open_camp", nodes=(v,), idp=kind == "idpcamp", source=source))
    return out


def conflict_events(names: list[str], intensity: np.ndarray, graph: Graph, source: str) -> list[Event]:
    """Flee's ``AddNewConflictZones``: an onset where the value rises above 1e-6 (or is above it on day 0), with
    that day's intensity; an end where it falls below 1e-6 after a day at exactly 1. Later changes of intensity
    while a zone is active are not applied (Flee does not apply them)."""
    out: list[Event] = []
    for j, name in enumerate(names):
        if name not in graph.index:
            continue
        v = graph.index[name]
        col = intensity[:, j]
        for t in range(len(col)):
            if col[t] > 0.000001:
                if t == 0 or col[t - 1] < 0.000001:
                    out.append(Event(t, 0, "conflict_on", nodes=(v,), value=float(col[t]), source=source))
            elif col[t] < 0.000001 and t > 0 and col[t - 1] == 1:
                out.append(Event(t, 0, "conflict_off", nodes=(v,), source=source))
    return out


def from_flee_case(case: FleeCase) -> Graph:
    """The graph Flee's ``StoreInputGeographyInEcosystem`` builds, with its closures and conflicts as events."""
    home = case.home_country
    names = [loc.name for loc in case.locations]
    n = len(names)
    kind = np.empty(n, dtype=np.int8)
    population = np.zeros(n)
    capacity = np.full(n, -1.0)
    conflict = np.full(n, -1.0)
    for i, loc in enumerate(case.locations):
        k = loc.kind
        if k == "conflict" and (loc.conflict_date or 0) > 0:
            k = "town"
        kind[i] = KIND_CODES[k]
        if loc.is_camp:
            capacity[i] = float(loc.population)
        else:
            population[i] = float(loc.population)
        if k == "conflict":
            conflict[i] = float(loc.attributes.get("conflict_intensity", 1.0) or 1.0)
    src: list[int] = []
    dst: list[int] = []
    dist: list[float] = []
    speed: list[float] = []
    index = {nm: i for i, nm in enumerate(names)}
    for r in case.routes:
        a, b = index[r.name1], index[r.name2]
        s = float(r.attributes["max_move_speed"]) if r.attributes.get("max_move_speed", "").strip() else math.nan
        # forced_redirection 1 links the pair twice in Flee (linkUp in two branches); 2 links name2->name1 once
        pairs = [(a, b), (a, b)] if r.forced_redirection == 1 else [(b, a)] if r.forced_redirection == 2 else [(a, b)]
        for x, y in pairs:
            src += [x, y]
            dst += [y, x]
            dist += [r.distance, r.distance]
            speed += [s, s]
    graph = Graph(
        names=names,
        countries=[loc.country for loc in case.locations],
        lat=np.asarray([loc.latitude for loc in case.locations]),
        lon=np.asarray([loc.longitude for loc in case.locations]),
        kind=kind,
        population=population,
        capacity=capacity,
        foreign=np.asarray([loc.country != home for loc in case.locations]),
        conflict=conflict,
        src=np.asarray(src, dtype=np.int64),
        dst=np.asarray(dst, dtype=np.int64),
        distance=np.asarray(dist, dtype=np.float64),
        speed=np.asarray(speed, dtype=np.float64),
        camp_names=case.camp_names,
        warnings=list(case.warnings),
    )
    events: list[Event] = []
    if case.conflicts is not None:
        events += conflict_events(case.conflicts.names, case.conflicts.intensity, graph, "conflicts.csv")
    else:
        for i, loc in enumerate(case.locations):
            if loc.kind == "conflict" and (loc.conflict_date or 0) > 0:
                events.append(Event(int(loc.conflict_date or 0), 0, "conflict_on", nodes=(i,), value=1.0))
    for c in case.closures:
        events += closure_events(graph, c.kind, c.name1, c.name2, c.start, c.end, f"closures.csv row {c.row}")
    graph.events = events
    return graph


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance with Flee's earth radius (6373 km)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 6373.0 * 2 * np.arctan2(np.sqrt(a), np.sqrt(1 - a))


def _nearest(lat: np.ndarray, lon: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``rows``, the nearest of ``cols`` (index into cols) and its distance, in blocks."""
    best = np.empty(len(rows), dtype=np.int64)
    dist = np.empty(len(rows))
    block = max(1, 4_000_000 // max(len(cols), 1))
    for s in range(0, len(rows), block):
        r = rows[s : s + block]
        d = haversine_km(lat[r, None], lon[r, None], lat[None, cols], lon[None, cols])
        best[s : s + block] = np.argmin(d, axis=1)
        dist[s : s + block] = d[np.arange(len(r)), best[s : s + block]]
    return best, dist


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    parent = np.arange(n)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = int(parent[root])
        while parent[x] != root:
            parent[x], x = root, int(parent[x])
        return root

    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[rx] = ry
    return np.asarray([find(i) for i in range(n)])


def knn_edges(lat: np.ndarray, lon: np.ndarray, k: int, detour: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected edges joining every node to its k nearest (great circle x ``detour`` as the road distance),
    then every other component to the largest by its nearest pair. Returned as directed pairs."""
    n = len(lat)
    pairs = np.zeros((0, 2), dtype=np.int64)
    if n > 1:
        kk = min(k, n - 1)
        near = np.empty((n, kk), dtype=np.int64)
        block = max(1, 4_000_000 // n)
        # nearest by a local flat projection (cheap); the distances kept are great-circle ones
        y = lat
        x = lon * np.cos(np.radians(lat.mean()))
        for s in range(0, n, block):
            e = min(n, s + block)
            d = (y[s:e, None] - y[None, :]) ** 2 + (x[s:e, None] - x[None, :]) ** 2
            d[np.arange(e - s), np.arange(s, e)] = np.inf
            near[s:e] = np.argpartition(d, kk - 1, axis=1)[:, :kk]
        a = np.repeat(np.arange(n), kk)
        b = near.ravel()
        pairs = np.unique(np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1), axis=0)
        for _ in range(n):
            comp = _components(n, pairs[:, 0], pairs[:, 1])
            labels, counts = np.unique(comp, return_counts=True)
            if len(labels) == 1:
                break
            main = labels[np.argmax(counts)]
            inside = np.flatnonzero(comp == main)
            outside = np.flatnonzero(comp != main)
            best, dist = _nearest(lat, lon, outside, inside)
            extra = []
            for c in np.unique(comp[outside]):
                members = np.flatnonzero(comp[outside] == c)
                pick = int(members[np.argmin(dist[members])])
                u, v = int(outside[pick]), int(inside[best[pick]])
                extra.append((min(u, v), max(u, v)))
            pairs = np.unique(np.concatenate([pairs, np.asarray(extra, dtype=np.int64)]), axis=0)
    und = pairs
    dist = haversine_km(lat[und[:, 0]], lon[und[:, 0]], lat[und[:, 1]], lon[und[:, 1]]) * detour
    src = np.concatenate([und[:, 0], und[:, 1]])
    dst = np.concatenate([und[:, 1], und[:, 0]])
    return src, dst, np.round(np.concatenate([dist, dist]), 1)


def from_store(
    store: Store,
    country: str,
    admin_level: int = 2,
    neighbours: int = 4,
    detour: float = 1.3,
    camp_min_individuals: int = 1,
) -> Graph:
    """A graph for any country in the store: the admin areas of one level (centroids of their boundaries) as
    towns, and the sites with coordinates as camps whose capacity is their latest count of individuals. Roads
    are not in the store, so each location is joined to its ``neighbours`` nearest by great-circle distance times
    ``detour`` (a typical road/straight-line ratio), and components are joined by their nearest pair. Nor are
    populations: every area weighs 1 when new people are spread over conflict zones. Conflict zones come from a
    scenario (``conflicts:``); people from observed totals or from conflict-driven spawning."""
    areas = store.fetch(
        "SELECT p.pcode, p.name, g.centroid_lat, g.centroid_lon FROM places p "
        "JOIN place_geometries g ON g.pcode = p.pcode "
        "WHERE p.admin_level = $level AND (p.adm0 = $country OR p.country = $country) "
        "AND g.centroid_lat IS NOT NULL ORDER BY p.pcode",
        {"level": admin_level, "country": country},
    )
    if not areas:
        raise ValueError(f"no admin areas of level {admin_level} with boundaries for {country!r} in the store")
    sites = store.fetch(
        # each site's latest registry row (a window, not arg_max: the same SQL runs on PostgreSQL)
        "SELECT site_id, name, latitude, longitude, individuals FROM (SELECT s.site_id, s.name, s.latitude, "
        "s.longitude, s.individuals, row_number() OVER (PARTITION BY s.site_id ORDER BY s.date DESC NULLS LAST, "
        "s.row_number DESC) AS rn FROM sites s JOIN places p ON p.pcode = s.place "
        "WHERE (p.adm0 = $country OR p.country = $country) AND s.latitude IS NOT NULL AND s.longitude IS NOT NULL) "
        "x WHERE x.rn = 1 ORDER BY site_id",
        {"country": country},
    )
    names = [f"{r[0]} {r[1]}" for r in areas]
    lat = [float(r[2]) for r in areas]
    lon = [float(r[3]) for r in areas]
    kinds = [TOWN] * len(areas)
    cap = [-1.0] * len(areas)
    for s in sites:
        ind = int(s[4] or 0)
        if ind < camp_min_individuals:
            continue
        names.append(f"{s[0]} {s[1] or ''}".strip())
        lat.append(float(s[2]))
        lon.append(float(s[3]))
        kinds.append(CAMP)
        cap.append(float(ind))
    la, lo = np.asarray(lat), np.asarray(lon)
    src, dst, dist = knn_edges(la, lo, neighbours, detour)
    n = len(names)
    return Graph(
        names=names,
        countries=[country] * n,
        lat=la,
        lon=lo,
        kind=np.asarray(kinds, dtype=np.int8),
        population=np.where(np.asarray(kinds) == TOWN, 1.0, 0.0),
        capacity=np.asarray(cap),
        foreign=np.zeros(n, dtype=bool),
        conflict=np.full(n, -1.0),
        src=src,
        dst=dst,
        distance=dist,
        speed=np.full(len(src), math.nan),
    )


def synthetic(
    n_locations: int,
    seed: int = 0,
    camp_share: float = 0.02,
    conflict_share: float = 0.05,
    neighbours: int = 3,
    min_km: float = 10.0,
) -> Graph:
    """A random country for benchmarks: locations scattered over a 20x20 degree square, roads to the k nearest
    (1.3 x the great-circle distance, at least ``min_km``: random points can fall a few hundred metres apart,
    towns on a road map do not), some camps on the eastern edge (foreign), some conflict zones from day 0;
    populations log-normal."""
    rng = np.random.default_rng(seed)
    lat = rng.uniform(0.0, 20.0, n_locations)
    lon = rng.uniform(0.0, 20.0, n_locations)
    kind = np.full(n_locations, TOWN, dtype=np.int8)
    order = np.argsort(lon)
    n_camps = max(1, int(n_locations * camp_share))
    camps = order[-n_camps:]
    kind[camps] = CAMP
    rest = order[: n_locations - n_camps]
    n_conf = max(1, int(n_locations * conflict_share))
    conf = rng.choice(rest, size=n_conf, replace=False)
    kind[conf] = CONFLICT
    population = np.where(kind == CAMP, 0.0, np.round(rng.lognormal(9.0, 1.0, n_locations)))
    capacity = np.where(kind == CAMP, np.round(rng.uniform(2e4, 2e5, n_locations)), -1.0)
    src, dst, dist = knn_edges(lat, lon, neighbours, 1.3)
    dist = np.maximum(dist, min_km)
    return Graph(
        names=[f"L{i:05d}" for i in range(n_locations)],
        countries=["Foreignland" if k == CAMP else "Synthland" for k in kind],
        lat=lat,
        lon=lon,
        kind=kind,
        population=population,
        capacity=capacity,
        foreign=kind == CAMP,
        conflict=np.where(kind == CONFLICT, 1.0, -1.0),
        src=src,
        dst=dst,
        distance=dist,
        speed=np.full(len(src), math.nan),
    )
