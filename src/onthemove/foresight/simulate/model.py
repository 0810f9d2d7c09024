"""The daily step: Flee 3's movement rules on populations, vectorised.

People are counted, never represented one by one: per location (split into *fresh* people who have not moved
since they appeared, and people who have), and per directed route in a pipeline of days until arrival. The
expected-value mode moves shares (floats); the stochastic mode draws binomial and multinomial counts from a
seeded generator, so the same seed gives the same run.

Flee 3.1's rules, as its code has them (``flee/flee.py``, ``flee/moving.py``, ``flee/scoring.py``):

* **Move chance** by location kind: conflict zone ``conflict_movechance``, town ``default_movechance``, camp
  ``camp_movechance`` (IDP camp ``idpcamp_movechance``), forwarding hub and marker 1.
* **Route choice**: every route of up to ``awareness_level`` links (markers do not count) from the location is
  weighted (weight_softening + score(end)) / (softening + distance)^distance_power x capacity(end), to the power
  weight_power; score = camp_weight (camps) x foreign_weight (other countries) x
  conflict_weight^(decay x intensity) (conflict zones). capacity(end) is 1 up to capacity_buffer x capacity, 0
  at capacity, linear in between. All weights 0: equal chances. A person whose chosen route ends at a camp with
  capacity factor under 0.5 does not leave that day.
* **Speed**: the first route ever taken is walked at ``max_walk_speed`` (``start_on_foot``), later ones go at
  ``max_move_speed`` (or the route's own ``max_move_speed``). A route of d km taken at s km/day is travelled in
  floor(d/s) + 1 days, counting the day it is entered.
* **More than one hop a day**: on arrival the person may move on the same day while the distance covered today is
  under the speed. ``avoid_short_stints``: at a town a person who has recently travelled little (recent travel,
  an average halved every day, plus today's share of ``max_move_speed`` below 1) moves on for certain.
* **Closures**: closed routes are not taken; people already on a route when it closes arrive back where they
  started. A closed camp is a town until it reopens. Conflict onsets change a location into a conflict zone.

Differences from Flee, all deliberate and listed in docs/simulate.md: route choice with ``awareness_level`` > 1
chooses the first link by the summed weight of the routes it starts (a person does not keep a planned route);
recent travel is averaged per group of people who arrive together; capacity is read at the start of each hop of
the day, not after each person. Flee 3.1 bugs not reproduced: ``link`` closures close nothing in Flee, and
``awareness_level`` 0 stops everyone; here they close the link and choose uniformly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from onthemove.foresight.simulate.graph import CAMP, CONFLICT, FORWARD, IDPCAMP, MARKER, TOWN, Event, Graph
from onthemove.foresight.simulate.rules import Rules
from onthemove.foresight.simulate.spawn import conflict_decay, conflict_driven, distribute, spawn_weights

MAX_HOPS = 64
EPS = 1e-6  # groups smaller than this (people) stop where they are, in expected-value mode
TINY_SHARE = 1e-7  # ... or smaller than this share of everyone in the simulation
KM_BIN = 10.0  # groups moving within a day are joined when at one location having covered the same km today, to this
MERGE_CAP = 2  # groups still moving within a day: at most this many per location (else km are binned coarser)


@dataclass
class Inputs:
    """What drives a run besides the graph: people to add per day, and the camps' day-0 populations."""

    days: int
    new_people: np.ndarray | None = None  # [days]: observed-total spawning (None: conflict-driven)
    initial: dict[str, float] = field(default_factory=dict)  # location name -> people on day 0


@dataclass
class Result:
    days: int
    camp_names: list[str]
    camps: np.ndarray  # [days, camps] people in each camp after each day
    total: np.ndarray  # [days] people in the simulation (in places and on routes)
    spawned: np.ndarray  # [days]
    nodes: np.ndarray | None = None  # [days, nodes] people at each location (record="full")
    edges: np.ndarray | None = None  # [days, edges] people entering each directed route that day (record="full")
    seconds: float = 0.0
    mode: str = "expected"
    seed: int | None = None

    @property
    def in_camps(self) -> np.ndarray:
        return self.camps.sum(axis=1)


@dataclass
class RouteTable:
    """Routes of up to ``awareness_level`` links from every location: first link, end, total distance."""

    first: np.ndarray
    origin: np.ndarray
    end: np.ndarray
    dist: np.ndarray
    n_routes_by_first: np.ndarray  # [edges] routes starting with each link


def build_routes(graph: Graph, open_: np.ndarray, level: int, marker: np.ndarray) -> RouteTable:
    """Flee's ``calculateLinkWeight`` recursion: routes never revisit a location of the path; a marker is not a
    destination and does not count towards the awareness level. Level 0 and 1 without markers: one route per
    open link."""
    n_e = graph.n_edges
    if level <= 1 and not marker.any():
        edges = np.flatnonzero(open_)
        first = edges
        return RouteTable(
            first=first,
            origin=graph.src[edges],
            end=graph.dst[edges],
            dist=graph.distance[edges],
            n_routes_by_first=np.bincount(first, minlength=n_e).astype(np.float64),
        )
    out: dict[int, list[int]] = {}
    for edge in np.flatnonzero(open_).tolist():
        out.setdefault(int(graph.src[edge]), []).append(int(edge))
    first_l: list[int] = []
    origin_l: list[int] = []
    end_l: list[int] = []
    dist_l: list[float] = []
    limit = max(level, 1)

    def visit(v0: int, e0: int, e: int, prior: float, path: list[int], step: int) -> None:
        b = int(graph.dst[e])
        d = prior + float(graph.distance[e])
        if not marker[b]:
            first_l.append(e0)
            origin_l.append(v0)
            end_l.append(b)
            dist_l.append(d)
        else:
            step -= 1
        if limit > step:
            for nxt in out.get(b, ()):
                if int(graph.dst[nxt]) in path:
                    continue
                visit(v0, e0, nxt, d, [*path, b], step + 1)

    for v, edges_v in out.items():
        for e in edges_v:
            visit(v, e, e, 0.0, [v], 1)
    first = np.asarray(first_l, dtype=np.int64)
    return RouteTable(
        first=first,
        origin=np.asarray(origin_l, dtype=np.int64),
        end=np.asarray(end_l, dtype=np.int64),
        dist=np.asarray(dist_l, dtype=np.float64),
        n_routes_by_first=np.bincount(first, minlength=n_e).astype(np.float64),
    )


class Simulation:
    """One run: state arrays and the daily step. ``rng`` None: expected values; else counts drawn from it."""

    def __init__(self, graph: Graph, rules: Rules, inputs: Inputs, rng: np.random.Generator | None = None) -> None:
        self.g = graph
        self.rules = rules
        self.inputs = inputs
        self.rng = rng
        n, n_e = graph.n_nodes, graph.n_edges
        r = rules
        self.ms = float(r.max_move_speed)
        self.speed = np.where(np.isnan(graph.speed), self.ms, graph.speed)
        d = graph.distance
        self.k_ride = (np.floor(d / self.speed) + 1).astype(np.int64)
        self.m_ride = d - (self.k_ride - 1) * self.speed
        self._m_bins = int(np.ceil(self.speed.max())) + 1 if n_e else 1  # km covered today < speed
        self.on_foot = bool(r.start_on_foot)
        walk = float(r.max_walk_speed)
        self.k_foot = (np.floor(d / walk) + 1).astype(np.int64)
        self.m_foot = d - (self.k_foot - 1) * walk
        self.r_foot = (walk / self.ms) * (1.0 - 0.5 ** (self.k_foot - 1).astype(np.float64))
        kr = int(self.k_ride.max()) if n_e else 1
        kf = int(self.k_foot.max()) if n_e and self.on_foot else 1
        self.ride = np.zeros((n_e, kr))
        self.ride_r = np.zeros((n_e, kr))
        self.foot = np.zeros((n_e, kf))
        self.bride = np.zeros((n_e, kr))
        self.bride_r = np.zeros((n_e, kr))
        self.bfoot = np.zeros((n_e, kf))
        # location state (Flee's Location flags)
        k = graph.kind
        self.camp = np.isin(k, (CAMP, IDPCAMP))
        self.idp = k == IDPCAMP
        self.town = k == TOWN
        self.forward = k == FORWARD
        self.marker = k == MARKER
        self.conflict = np.where(k == CONFLICT, np.where(graph.conflict > 0, graph.conflict, 1.0), -1.0)
        self.onset = np.full(n, -1.0)
        self.capacity = graph.capacity.astype(np.float64).copy()
        self.population = graph.population.astype(np.float64).copy()
        mc = np.full(n, r.default_movechance)
        mc[k == CONFLICT] = r.conflict_movechance
        mc[self.camp] = r.camp_movechance
        mc[self.idp] = r.idpcamp_movechance
        mc[self.forward | self.marker] = 1.0
        auto_camp = (mc < 0.005) & ~self.camp  # Flee: a location people hardly leave is a camp
        self.camp |= auto_camp
        self.town &= ~auto_camp
        self.movechance = mc
        self.flee_open = np.ones(n_e, dtype=bool)  # Flee's state: the last closure or reopening wins
        self.hold = np.zeros(n_e, dtype=np.int64)  # scenario closures in force: closed whatever else reopens
        self.open = np.ones(n_e, dtype=bool)  # usable: flee_open and no scenario hold
        self.fresh = np.zeros(n)
        self.moved = np.zeros(n)
        self.moved_r = np.zeros(n)
        self.t = 0
        self._routes: RouteTable | None = None
        self._choice_key: tuple[Any, ...] | None = None
        self.capped = np.flatnonzero(self.capacity >= 1)
        self._p_ext = np.zeros(n_e + 1)
        deg = np.diff(graph.out_ptr)
        width = int(deg.max()) if n and n_e else 0
        pad = np.full((n, max(width, 1)), n_e, dtype=np.int64)  # out-links per location, padded with a dummy
        if n_e:
            local = np.arange(n_e) - np.repeat(graph.out_ptr[:-1], deg)
            pad[graph.src[graph.out_edges], local] = graph.out_edges
        self._out_pad = pad
        self._weights_time = 0
        self._spawn_w = np.zeros(n)
        self.edge_in = np.zeros(n_e)
        for name, count in inputs.initial.items():
            self._add_fresh(np.asarray([graph.node(name)]), np.asarray([float(count)]))
        self._refresh_spawn_weights(0)

    # -- helpers --------------------------------------------------------------------------------------------
    def _add_fresh(self, nodes: np.ndarray, counts: np.ndarray) -> None:
        target = self.fresh if self.on_foot else self.moved
        np.add.at(target, nodes, counts)

    def _refresh_spawn_weights(self, t: int) -> None:
        self._spawn_w = spawn_weights(self.rules, self.population, self.conflict, self.onset, t)

    def node_totals(self) -> np.ndarray:
        return self.fresh + self.moved

    def in_transit(self) -> float:
        return float(self.ride.sum() + self.foot.sum() + self.bride.sum() + self.bfoot.sum())

    def total(self) -> float:
        return float(self.fresh.sum() + self.moved.sum()) + self.in_transit()

    def _effective_movechance(self) -> np.ndarray:
        f = self.rules.movechance_pop_scale_factor
        if f == 0:
            return self.movechance
        size = np.maximum(self.population, self.capacity)
        return self.movechance * (size / self.rules.movechance_pop_base) ** f

    def _scores(self, t: int) -> np.ndarray:
        r = self.rules
        s = np.ones(self.g.n_nodes)
        s = np.where(self.g.foreign, s * r.foreign_weight, s)
        s = np.where(self.camp, s * r.camp_weight, s)
        active = self.conflict > 0
        if active.any():
            decay = conflict_decay(r, t - self.onset[active])
            s[active] = s[active] * r.conflict_weight ** (decay * self.conflict[active])
        return s

    def _cap_multiplier(self, occupancy: np.ndarray, cap: np.ndarray | None = None) -> np.ndarray:
        """Flee's ``getCapMultiplier``: 1 up to capacity_buffer x capacity, 0 at capacity, linear in between."""
        cap = self.capacity if cap is None else cap
        buf = self.rules.capacity_buffer
        span = cap * (1.0 - buf)
        w = 1.0 - (occupancy - buf * cap) / np.where(span > 0, span, 1.0)
        w = np.minimum(np.maximum(w, 0.0), 1.0)
        w[(occupancy <= buf * cap) | (cap < 1)] = 1.0
        return w

    def routes(self) -> RouteTable:
        if self._routes is None:
            self._routes = build_routes(self.g, self.open, self.rules.awareness_level, self.marker)
        return self._routes

    def route_choice(self, occupancy: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per directed link: the chance that a person leaving its source takes it (p_go), and the chance that
        they pick it but stay because the route ends at a (nearly) full camp (p_block). ``occupancy``: people at
        the locations with a capacity (``self.capped``). Cached while the routes, the scores and the capacity
        factors are unchanged."""
        capped = self.capped
        cm = self._cap_multiplier(occupancy, self.capacity[capped])
        key = self._choice_key
        if key is not None and key[0] is self._routes and key[1] is scores and np.array_equal(key[2], cm):
            return key[3], key[4]
        capm = np.ones(self.g.n_nodes)
        capm[capped] = cm
        p_go, p_block = self._route_choice(capm, scores)
        self._choice_key = (self._routes, scores, cm, p_go, p_block)
        self._p_ext = np.append(p_go, 0.0)
        return p_go, p_block

    def occupancy(self, extra: np.ndarray | None = None) -> np.ndarray:
        c = self.capped
        occ = self.fresh[c] + self.moved[c]
        return occ if extra is None else occ + extra[c]

    def _route_choice(self, capm: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = self.rules
        g = self.g
        n_e = g.n_edges
        rt = self.routes()
        if r.awareness_level == 0:
            w = np.ones(len(rt.first))
        else:
            w = (r.weight_softening + scores[rt.end]) / (r.softening + rt.dist) ** r.distance_power * capm[rt.end]
            if r.weight_power != 1.0:
                w = w**r.weight_power
        blocked = self.camp[rt.end] & (capm[rt.end] < 0.5)
        w_e = np.bincount(rt.first, weights=w, minlength=n_e)
        b_e = np.bincount(rt.first, weights=w * blocked, minlength=n_e)
        tot = np.bincount(rt.origin, weights=w, minlength=g.n_nodes)
        zero = tot[g.src] <= 0
        if zero.any():  # Flee: all weights 0 -> every route equally likely
            n_routes = np.bincount(rt.origin, minlength=g.n_nodes).astype(np.float64)
            b_cnt = np.bincount(rt.first, weights=blocked.astype(np.float64), minlength=n_e)
            w_e = np.where(zero, rt.n_routes_by_first, w_e)
            b_e = np.where(zero, b_cnt, b_e)
            tot = np.where(tot <= 0, n_routes, tot)
        denom = tot[g.src]
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(denom > 0, w_e / denom, 0.0)
            pb = np.where(denom > 0, b_e / denom, 0.0)
        return p - pb, pb

    def _around_closed(self, weights: np.ndarray) -> np.ndarray:
        """Spawn weight of a location nobody can leave (every route out closed) moved to its neighbours, in
        proportion to 1 / (softening + distance)."""
        g = self.g
        can_leave = np.bincount(g.src, weights=self.open.astype(np.float64), minlength=g.n_nodes) > 0
        stuck = (weights > 0) & ~can_leave
        if not stuck.any():
            return weights
        w = weights.copy()
        e = np.flatnonzero(stuck[g.src])
        share = 1.0 / (self.rules.softening + g.distance[e])
        tot = np.bincount(g.src[e], weights=share, minlength=g.n_nodes)
        moved = weights[g.src[e]] * share / tot[g.src[e]]
        w[stuck] = 0.0
        w += np.bincount(g.dst[e], weights=moved, minlength=g.n_nodes)
        return w

    # -- events -------------------------------------------------------------------------------------------
    def apply(self, ev: Event) -> None:
        r = self.rules
        if ev.action == "conflict_on":
            for v in ev.nodes:
                self.movechance[v] = r.conflict_movechance
                self.conflict[v] = ev.value
                self.town[v] = False
                self.onset[v] = self.t
            self._refresh_spawn_weights(self.t)
        elif ev.action == "conflict_off":
            for v in ev.nodes:
                self.movechance[v] = r.default_movechance
                self.conflict[v] = -1.0
                self.town[v] = True
            self._refresh_spawn_weights(self.t)
        elif ev.action in ("close_edges", "open_edges", "hold_edges", "release_edges"):
            e = np.asarray(ev.edges, dtype=np.int64)
            if len(e):
                if ev.action == "close_edges":
                    self.flee_open[e] = False
                elif ev.action == "open_edges":
                    self.flee_open[e] = True
                elif ev.action == "hold_edges":
                    np.add.at(self.hold, e, 1)
                else:
                    np.add.at(self.hold, e, -1)
                self._set_open(self.flee_open & (self.hold <= 0))
        elif ev.action == "close_camp":
            for v in ev.nodes:
                self.movechance[v] = r.default_movechance
                self.camp[v] = self.idp[v] = self.forward[v] = self.marker[v] = False
                self.conflict[v] = -1.0
                self.town[v] = True
        elif ev.action == "open_camp":
            for v in ev.nodes:
                self.movechance[v] = r.idpcamp_movechance if ev.idp else r.camp_movechance
                self.camp[v] = True
                self.idp[v] = ev.idp
                self.conflict[v] = -1.0
                self.town[v] = self.forward[v] = self.marker[v] = False
        elif ev.action == "capacity":
            for v in ev.nodes:
                self.capacity[v] = ev.value
            self.capped = np.flatnonzero(self.capacity >= 1)
            self._choice_key = None
        else:
            raise ValueError(f"unknown event {ev.action!r}")

    def _set_open(self, usable: np.ndarray) -> None:
        closing = np.flatnonzero(self.open & ~usable)
        if len(closing):
            # people on a route when it closes come back (Flee marks the link they are on as closed)
            self.bride[closing] += self.ride[closing]
            self.bride_r[closing] += self.ride_r[closing]
            self.bfoot[closing] += self.foot[closing]
            self.ride[closing] = 0.0
            self.ride_r[closing] = 0.0
            self.foot[closing] = 0.0
        if not np.array_equal(usable, self.open):
            self.open = usable
            self._routes = None

    # -- random or expected splits ------------------------------------------------------------------------
    def _binomial(self, n: np.ndarray, p: np.ndarray) -> np.ndarray:
        if self.rng is None:
            return n * p
        return self.rng.binomial(n.astype(np.int64), np.clip(p, 0.0, 1.0)).astype(np.float64)

    def _split(self, n: np.ndarray, node: np.ndarray, p_go: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Split ``n`` people leaving ``node`` over its links: (row index, edge, people) for every pair with
        people, expected shares or a multinomial draw (conditional binomials, link by link)."""
        g = self.g
        if self.rng is None:
            pad = self._out_pad[node]
            flows = n[:, None] * self._p_ext[pad]
            rows, cols = np.nonzero(flows > 0)
            return rows, pad[rows, cols], flows[rows, cols]
        deg = g.out_ptr[node + 1] - g.out_ptr[node]
        total = int(deg.sum())
        if total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        row = np.repeat(np.arange(len(node)), deg)
        starts = np.repeat(np.cumsum(deg) - deg, deg)
        local = np.arange(total) - starts
        edge = g.out_edges[g.out_ptr[node][row] + local]
        p = p_go[edge]
        if self.rng is None:
            flow = n[row] * p
        else:
            flow = np.zeros(total)
            rem_n = n.astype(np.int64).copy()
            rem_p = np.ones(len(node))
            for j in range(int(deg.max())):
                sel = np.flatnonzero(local == j)
                rr = row[sel]
                with np.errstate(divide="ignore", invalid="ignore"):
                    q = np.where(rem_p[rr] > 0, p[sel] / rem_p[rr], 0.0)
                x = self.rng.binomial(rem_n[rr], np.clip(q, 0.0, 1.0))
                flow[sel] = x
                rem_n[rr] -= x
                rem_p[rr] -= p[sel]
        keep = flow > 0
        return row[keep], edge[keep], flow[keep]

    # -- the day ------------------------------------------------------------------------------------------
    def step(self, new_people: float | None, events: list[Event]) -> float:
        """One day in Flee's order: conflict onsets, spawning, closures, then everyone's move. Returns the
        number of people added."""
        t = self.t
        rules = self.rules
        before = [ev for ev in events if ev.phase == 0]
        after = [ev for ev in events if ev.phase != 0]
        for ev in before:
            self.apply(ev)
        if not before and t > 0:
            weights = self._spawn_w  # Flee spawns with the weights refreshed on the previous day
        else:
            weights = spawn_weights(rules, self.population, self.conflict, self.onset, t)
        added = 0.0
        if rules.conflict_driven_spawning:
            counts = conflict_driven(rules, self.population, self.conflict, self.rng)
            idx = np.flatnonzero(counts > 0)
            self._add_fresh(idx, counts[idx])
            added = float(counts.sum())
        elif new_people:
            if rules.spawn_around_closed:
                weights = self._around_closed(weights)
            counts = distribute(new_people, weights, self.rng)
            idx = np.flatnonzero(counts > 0)
            self._add_fresh(idx, counts[idx])
            added = float(counts.sum())
        if rules.take_from_population and added:
            self.population = np.maximum(self.population - np.where(self.conflict > 0, counts, 0.0), 0.0)
        for ev in after:
            self.apply(ev)
        self._refresh_spawn_weights(t)
        self._evolve(t)
        self.t += 1
        return added

    def _evolve(self, t: int) -> None:
        g = self.g
        n = g.n_nodes
        ms = self.ms
        scores = self._scores(t)
        mc = self._effective_movechance()
        p_go, _ = self.route_choice(self.occupancy(), scores)

        # 1. people at locations decide (Flee's first loop over agents)
        movers_m = self._binomial(self.moved, mc)
        r_mean = np.divide(self.moved_r, self.moved, out=np.zeros(n), where=self.moved > 0)
        nodes_m = np.flatnonzero(movers_m > 0)
        row_m, edge_m, flow_m = self._split(movers_m[nodes_m], nodes_m, p_go)
        out_m = np.bincount(nodes_m[row_m], weights=flow_m, minlength=n)
        self.moved -= out_m
        self.moved_r = (self.moved_r - out_m * r_mean) * 0.5  # the ones who stay travelled 0 km today
        self.moved_r[self.moved <= EPS] = 0.0
        if self.on_foot:
            movers_f = self._binomial(self.fresh, mc)
            nodes_f = np.flatnonzero(movers_f > 0)
            row_f, edge_f, flow_f = self._split(movers_f[nodes_f], nodes_f, p_go)
            self.fresh -= np.bincount(nodes_f[row_f], weights=flow_f, minlength=n)

        # 2. people on routes advance; arrivals today
        arr_ride = self.ride[:, 0].copy()
        arr_ride_r = self.ride_r[:, 0].copy()
        arr_foot = self.foot[:, 0].copy()
        arr_bride = self.bride[:, 0].copy()
        arr_bride_r = self.bride_r[:, 0].copy()
        arr_bfoot = self.bfoot[:, 0].copy()
        for a in (self.ride, self.ride_r, self.foot, self.bride, self.bride_r, self.bfoot):
            a[:, :-1] = a[:, 1:]
            a[:, -1] = 0.0
        # whoever stays on a route all day covers its full speed today
        full_day = (self.speed / ms)[:, None]
        self.ride_r = 0.5 * (self.ride_r + self.ride * full_day)
        self.bride_r = 0.5 * (self.bride_r + self.bride * full_day)

        # bounced people arrive back at the start, and stop
        settle_n = np.zeros(n)
        settle_r = np.zeros(n)
        if arr_bride.any() or arr_bfoot.any():
            mb = arr_bride + arr_bfoot
            rb = np.divide(arr_bride_r, arr_bride, out=np.zeros_like(arr_bride), where=arr_bride > 0)
            r_end = np.where(
                mb > 0,
                (arr_bride * 0.5 * (rb + self.m_ride / ms) + arr_bfoot * 0.5 * (self.r_foot + self.m_foot / ms))
                / np.where(mb > 0, mb, 1.0),
                0.0,
            )
            settle_n += np.bincount(g.src, weights=mb, minlength=n)
            settle_r += np.bincount(g.src, weights=mb * r_end, minlength=n)

        # groups arriving somewhere today: (location, km covered today, recent travel, people)
        p_node: list[np.ndarray] = []
        p_m: list[np.ndarray] = []
        p_r: list[np.ndarray] = []
        p_n: list[np.ndarray] = []
        sel = np.flatnonzero(arr_ride > 0)
        if len(sel):
            p_node.append(g.dst[sel])
            p_m.append(self.m_ride[sel])
            p_r.append(arr_ride_r[sel] / arr_ride[sel])
            p_n.append(arr_ride[sel])
        sel = np.flatnonzero(arr_foot > 0)
        if len(sel):
            p_node.append(g.dst[sel])
            p_m.append(self.m_foot[sel])
            p_r.append(self.r_foot[sel])
            p_n.append(arr_foot[sel])
        # today's leavers enter their route
        if len(edge_m):
            self.edge_in += np.bincount(edge_m, weights=flow_m, minlength=g.n_edges)
            r_src = r_mean[g.src[edge_m]]
            same = self.k_ride[edge_m] == 1
            if same.any():
                e = edge_m[same]
                p_node.append(g.dst[e])
                p_m.append(g.distance[e])
                p_r.append(r_src[same])
                p_n.append(flow_m[same])
            self._enter_ride(edge_m[~same], flow_m[~same], r_src[~same], 0.0)
        if self.on_foot and len(edge_f):
            self.edge_in += np.bincount(edge_f, weights=flow_f, minlength=g.n_edges)
            same = self.k_foot[edge_f] == 1
            if same.any():
                e = edge_f[same]
                p_node.append(g.dst[e])
                p_m.append(g.distance[e])
                p_r.append(np.zeros(int(same.sum())))
                p_n.append(flow_f[same])
            e = edge_f[~same]
            if len(e):
                slot = self.k_foot[e] - 2
                np.add.at(self.foot, (e, slot), flow_f[~same])

        # 3. hops within the day (Flee's finish_travel -> evolve -> finish_travel recursion)
        if p_node:
            node = np.concatenate(p_node)
            m = np.concatenate(p_m)
            rr = np.concatenate(p_r)
            cnt = np.concatenate(p_n)
            self._hops(node, m, rr, cnt, scores, mc, settle_n, settle_r)
        self.moved += settle_n
        self.moved_r += settle_r

    def _enter_ride(self, edges: np.ndarray, people: np.ndarray, r: np.ndarray, m_before: np.ndarray | float) -> None:
        if len(edges) == 0:
            return
        slot = self.k_ride[edges] - 2
        r_end = 0.5 * (r + (m_before + self.speed[edges]) / self.ms)
        flat = edges * self.ride.shape[1] + slot
        size = self.ride.size
        self.ride += np.bincount(flat, weights=people, minlength=size).reshape(self.ride.shape)
        self.ride_r += np.bincount(flat, weights=people * r_end, minlength=size).reshape(self.ride.shape)

    def _hops(
        self,
        node: np.ndarray,
        m: np.ndarray,
        r: np.ndarray,
        cnt: np.ndarray,
        scores: np.ndarray,
        mc: np.ndarray,
        settle_n: np.ndarray,
        settle_r: np.ndarray,
    ) -> None:
        g = self.g
        n = g.n_nodes
        ms = self.ms
        avoid = self.rules.avoid_short_stints
        tiny_limit = max(EPS, TINY_SHARE * self.total())
        for _hop in range(MAX_HOPS):
            if len(node) == 0:
                return
            force = avoid & (0.5 * (r + m / ms) < 0.5)
            chance = np.where(self.town[node] & force, 1.0, mc[node])
            movers = self._binomial(cnt, chance)
            p_go, _ = self.route_choice(self.occupancy(settle_n), scores)
            row, edge, flow = self._split(movers, node, p_go)
            left = np.bincount(row, weights=flow, minlength=len(node))
            stay = cnt - left
            r_end = 0.5 * (r + m / ms)
            settle_n += np.bincount(node, weights=stay, minlength=n)
            settle_r += np.bincount(node, weights=stay * r_end, minlength=n)
            if len(edge) == 0:
                return
            self.edge_in += np.bincount(edge, weights=flow, minlength=g.n_edges)
            m0 = m[row]
            r0 = r[row]
            arrive = self.k_ride[edge] == 1
            ride = ~arrive
            self._enter_ride(edge[ride], flow[ride], r0[ride], m0[ride])
            e = edge[arrive]
            m1 = m0[arrive] + g.distance[e]
            r1 = r0[arrive]
            f1 = flow[arrive]
            dst = g.dst[e]
            cont = m1 < self.speed[e]
            stop = ~cont
            if stop.any():
                settle_n += np.bincount(dst[stop], weights=f1[stop], minlength=n)
                settle_r += np.bincount(dst[stop], weights=f1[stop] * 0.5 * (r1[stop] + m1[stop] / ms), minlength=n)
            if not cont.any():
                return
            node, m, r, cnt = _merge(dst[cont], m1[cont], r1[cont], f1[cont], max(2000, MERGE_CAP * n), self._m_bins)
            tiny = cnt <= (tiny_limit if self.rng is None else 0.5)
            if tiny.any():
                settle_n += np.bincount(node[tiny], weights=cnt[tiny], minlength=n)
                settle_r += np.bincount(node[tiny], weights=cnt[tiny] * 0.5 * (r[tiny] + m[tiny] / ms), minlength=n)
                keep = ~tiny
                node, m, r, cnt = node[keep], m[keep], r[keep], cnt[keep]
        if len(node):  # a cycle of zero-length routes: stop them here
            settle_n += np.bincount(node, weights=cnt, minlength=n)
            settle_r += np.bincount(node, weights=cnt * 0.5 * (r + m / ms), minlength=n)


def _merge(
    node: np.ndarray, m: np.ndarray, r: np.ndarray, cnt: np.ndarray, cap: int, m_bins: int
) -> tuple[np.ndarray, ...]:
    """Join groups at the same location whose distance covered today falls in the same ``KM_BIN`` km (their
    distance and recent travel are averaged by people: on the three Flee conflicts this moves the ARD by less than
    0.0002). More than ``cap`` groups (large graphs with very short routes): the bins are doubled until there are
    at most ``cap``."""
    if len(node) < 2:
        return node, m, r, cnt
    n_nodes = int(node.max()) + 1
    width = KM_BIN
    bins = np.floor(m / KM_BIN).astype(np.int64)
    if n_nodes * m_bins <= 4_000_000 and bins.max() < m_bins:
        key = node.astype(np.int64) * m_bins + bins
        c = np.bincount(key, weights=cnt, minlength=n_nodes * m_bins)
        cells = np.flatnonzero(c)
        if len(cells) <= cap:
            c = c[cells]
            ms = np.bincount(key, weights=cnt * m, minlength=n_nodes * m_bins)[cells] / c
            rs = np.bincount(key, weights=cnt * r, minlength=n_nodes * m_bins)[cells] / c
            return cells // m_bins, ms, rs, c
        width = 2.0 * KM_BIN
    while True:
        key = node.astype(np.int64) * 1_000_000_000 + np.floor(m / width).astype(np.int64)
        uniq, inv = np.unique(key, return_inverse=True)
        if len(uniq) <= cap or width >= 256:
            break
        width *= 2
    c = np.bincount(inv, weights=cnt)
    safe = np.where(c > 0, c, 1.0)
    ms = np.bincount(inv, weights=cnt * m) / safe
    rs = np.bincount(inv, weights=cnt * r) / safe
    return uniq // 1_000_000_000, ms, rs, c


def simulate(
    graph: Graph,
    rules: Rules,
    inputs: Inputs,
    mode: str = "expected",
    seed: int | None = None,
    record: str = "camps",
    extra_events: list[Event] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Run ``inputs.days`` days. ``mode``: expected (shares) or stochastic (counts drawn with ``seed``).
    ``record``: camps (per-camp counts) or full (also every location and route, per day)."""
    if mode not in ("expected", "stochastic"):
        raise ValueError(f"mode must be expected or stochastic, not {mode!r}")
    started = time.perf_counter()
    rng = np.random.default_rng(seed) if mode == "stochastic" else None
    g = graph.with_events(extra_events) if extra_events else graph
    sim = Simulation(g, rules, inputs, rng)
    days = inputs.days
    camps_idx = g.camp_index
    camps = np.zeros((days, len(camps_idx)))
    total = np.zeros(days)
    spawned = np.zeros(days)
    nodes = np.zeros((days, g.n_nodes)) if record == "full" else None
    edges = np.zeros((days, g.n_edges)) if record == "full" else None
    by_day = g.events_by_day(days)
    new = inputs.new_people
    for t in range(days):
        before = sim.edge_in.copy() if edges is not None else None
        spawned[t] = sim.step(float(new[t]) if new is not None else None, by_day[t])
        tot = sim.node_totals()
        camps[t] = tot[camps_idx]
        total[t] = sim.total()
        if nodes is not None:
            nodes[t] = tot
        if edges is not None and before is not None:
            edges[t] = sim.edge_in - before
        if progress is not None:
            progress(t + 1, days)
    return Result(
        days=days,
        camp_names=list(g.camp_names),
        camps=camps,
        total=total,
        spawned=spawned,
        nodes=nodes,
        edges=edges,
        seconds=time.perf_counter() - started,
        mode=mode,
        seed=seed,
    )


def describe(result: Result) -> dict[str, Any]:
    return {
        "days": result.days,
        "people": float(result.total[-1]) if result.days else 0.0,
        "in_camps": float(result.in_camps[-1]) if result.days else 0.0,
        "seconds": round(result.seconds, 4),
        "mode": result.mode,
        "seed": result.seed,
        "camps": {n: float(result.camps[-1, i]) for i, n in enumerate(result.camp_names)} if result.days else {},
    }
