"""The daily step on tiny graphs, against values computed by hand from Flee 3.1's rules."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from onthemove.foresight.simulate.example import write_example_case
from onthemove.foresight.simulate.graph import CAMP, CONFLICT, TOWN, Event, Graph, closure_events, synthetic
from onthemove.foresight.simulate.model import Inputs, Simulation, build_routes, simulate
from onthemove.foresight.simulate.rules import FLEE3, Rules
from onthemove.foresight.simulate.run import prepare, run_case

BASIC = Rules(
    max_move_speed=200.0,
    camp_weight=2.0,
    default_movechance=0.5,
    conflict_movechance=1.0,
    camp_movechance=0.0,
)


def line_graph(kinds: list[int], distances: list[float], capacity: dict[int, float] | None = None) -> Graph:
    """Locations 0..n-1 in a line, joined in order by routes of the given lengths."""
    n = len(kinds)
    src, dst, dist = [], [], []
    for i, d in enumerate(distances):
        src += [i, i + 1]
        dst += [i + 1, i]
        dist += [d, d]
    cap = np.full(n, -1.0)
    for k, v in (capacity or {}).items():
        cap[k] = v
    return Graph(
        names=[f"N{i}" for i in range(n)],
        countries=["A"] * n,
        lat=np.zeros(n),
        lon=np.arange(n, dtype=float),
        kind=np.asarray(kinds, dtype=np.int8),
        population=np.where(np.asarray(kinds) == CONFLICT, 1000.0, 0.0),
        capacity=cap,
        foreign=np.zeros(n, dtype=bool),
        conflict=np.where(np.asarray(kinds) == CONFLICT, 1.0, -1.0),
        src=np.asarray(src, dtype=np.int64),
        dst=np.asarray(dst, dtype=np.int64),
        distance=np.asarray(dist, dtype=float),
        speed=np.full(len(src), math.nan),
    )


def star_graph() -> Graph:
    """A conflict zone (0) joined to a camp (1) 100 km away and a town (2) 50 km away."""
    return Graph(
        names=["Zone", "Camp", "Town"],
        countries=["A", "B", "A"],
        lat=np.zeros(3),
        lon=np.arange(3, dtype=float),
        kind=np.asarray([CONFLICT, CAMP, TOWN], dtype=np.int8),
        population=np.asarray([1000.0, 0.0, 500.0]),
        capacity=np.asarray([-1.0, 100.0, -1.0]),
        foreign=np.asarray([False, True, False]),
        conflict=np.asarray([1.0, -1.0, -1.0]),
        src=np.asarray([0, 1, 0, 2]),
        dst=np.asarray([1, 0, 2, 0]),
        distance=np.asarray([100.0, 100.0, 50.0, 50.0]),
        speed=np.full(4, math.nan),
    )


def test_route_weights_by_hand() -> None:
    g = star_graph()
    sim = Simulation(g, BASIC, Inputs(days=1))
    scores = sim._scores(0)
    assert scores.tolist() == pytest.approx([1 / 3.16227766017, 2.0, 1.0])
    assert sim.capped.tolist() == [1]  # capacity is read where there is one
    p_go, p_block = sim.route_choice(np.zeros(1), scores)
    w_camp, w_town = 2.0 / (10 + 100), 1.0 / (10 + 50)
    assert p_go[0] == pytest.approx(w_camp / (w_camp + w_town))
    assert p_go[2] == pytest.approx(w_town / (w_camp + w_town))
    assert p_block.sum() == 0
    # the camp is 95% full: its weight is halved and whoever picks it stays (capacity factor < 0.5 is "full")
    p_go, p_block = sim.route_choice(np.asarray([96.0]), scores)
    cap = 1.0 - (96.0 - 90.0) / (100.0 * 0.1)
    assert cap == pytest.approx(0.4)
    total = w_camp * cap + w_town
    assert p_block[0] == pytest.approx(w_camp * cap / total) and p_go[0] == 0.0
    assert p_go[2] == pytest.approx(w_town / total)
    # full: the camp's weight is 0
    p_go, p_block = sim.route_choice(np.asarray([100.0]), scores)
    assert p_go[2] == pytest.approx(1.0) and p_block[0] == 0.0


def test_capacity_multiplier() -> None:
    sim = Simulation(star_graph(), BASIC, Inputs(days=1))
    m = sim._cap_multiplier(np.asarray([10.0, 95.0, 1e9]))
    assert m.tolist() == pytest.approx([1.0, 0.5, 1.0])
    assert sim._cap_multiplier(np.asarray([0.0, 89.0, 0.0]))[1] == 1.0
    assert sim._cap_multiplier(np.asarray([0.0, 100.0, 0.0]))[1] == 0.0


def test_days_on_a_route() -> None:
    """450 km at 200 km/day: floor(450/200) + 1 = 3 days, the day of leaving included."""
    g = line_graph([CONFLICT, CAMP], [450.0])
    res = simulate(g, BASIC, Inputs(days=5, new_people=np.asarray([0.0, 100.0, 0.0, 0.0, 0.0])))
    # spawned on day 1, leaves the conflict zone on day 1 (move chance 1), arrives on day 3
    assert res.camps[:, 0].tolist() == [0.0, 0.0, 0.0, 100.0, 100.0]


def test_walking_the_first_route() -> None:
    """start_on_foot: 70 km at 35 km/day is 3 days (progress must pass the distance)."""
    g = line_graph([CONFLICT, CAMP], [70.0])
    rules = BASIC.replace(start_on_foot=True)
    res = simulate(g, rules, Inputs(days=6, new_people=np.asarray([0.0, 10.0, 0, 0, 0, 0])))
    # spawned on day 1 and leaves: 35 km on day 1, 70 on day 2 (not past 70), arrives on day 3
    assert res.camps[:, 0].tolist() == [0.0, 0.0, 0.0, 10.0, 10.0, 10.0]


def test_several_hops_a_day_while_under_the_speed() -> None:
    """Flee's finish_travel: after an arrival a person moves on while today's distance is under the speed, and
    each new route gets a full day's progress. Conflict zone, towns, camp; going back is unattractive."""
    rules = BASIC.replace(camp_weight=1e6, conflict_weight=1e-9, default_movechance=1.0)
    kinds = [CONFLICT, TOWN, TOWN, CAMP]
    new = np.asarray([0.0, 10.0, 0.0, 0.0])
    # 50 + 60 = 110 km < 200: on to the camp, 100 km further, the same day
    res = simulate(line_graph(kinds, [50.0, 60.0, 100.0]), rules, Inputs(days=4, new_people=new))
    assert res.camps[1, 0] == pytest.approx(10.0, rel=1e-4)
    # the last route is 250 km: two days
    res = simulate(line_graph(kinds, [50.0, 60.0, 250.0]), rules, Inputs(days=4, new_people=new))
    assert res.camps[1, 0] < 1e-3 and res.camps[2, 0] == pytest.approx(10.0, rel=1e-4)
    # 50 + 160 = 210 km: the day is over at the second town, although the camp is 30 km away
    res = simulate(line_graph(kinds, [50.0, 160.0, 30.0]), rules, Inputs(days=4, new_people=new))
    assert res.camps[1, 0] < 1e-3 and res.camps[2, 0] == pytest.approx(10.0, rel=1e-4)


def test_town_move_chance_and_avoiding_short_stints() -> None:
    """A town halfway: people stop there with chance 1 - 0.5; with avoid_short_stints, having travelled little
    recently, they move on for certain."""
    g = line_graph([CONFLICT, TOWN, CAMP], [20.0, 300.0])
    rules = BASIC.replace(camp_weight=1e6)
    res = simulate(g, rules, Inputs(days=2, new_people=np.asarray([0.0, 100.0])), record="full")
    assert res.nodes is not None
    assert res.nodes[1, 1] == pytest.approx(50.0, rel=1e-4)
    res = simulate(g, rules.replace(avoid_short_stints=True), Inputs(days=2, new_people=np.asarray([0.0, 100.0])),
                   record="full")  # fmt: skip
    assert res.nodes is not None and res.nodes[1, 1] == pytest.approx(0.0, abs=1e-3)


def test_spawn_by_population_and_decay() -> None:
    g = line_graph([CONFLICT, TOWN, CONFLICT], [100.0, 100.0])
    g.population[:] = [3000.0, 5000.0, 1000.0]
    rules = BASIC.replace(conflict_movechance=0.0, default_movechance=0.0)
    sim = Simulation(g, rules, Inputs(days=3))
    sim.step(400.0, [])
    sim.step(400.0, [])
    assert sim.node_totals().tolist() == pytest.approx([600.0, 0.0, 200.0])


def test_conservation_and_closures(tmp_path: Path) -> None:
    p = prepare(write_example_case(tmp_path / "case"))
    for mode, seed in (("expected", None), ("stochastic", 5)):
        run = run_case(p, FLEE3, mode=mode, seed=seed, record="full")
        res = run.result
        initial = sum(p.inputs(FLEE3).initial.values())
        assert res.total == pytest.approx(initial + np.cumsum(res.spawned), rel=1e-9)
        assert res.edges is not None
        closed = next(e for e in p.graph.events if e.action == "close_edges").edges
        assert res.edges[:3, list(closed)].sum() == 0  # the border is closed on days 0-2
        assert res.edges[3:, list(closed)].sum() > 0


def test_people_on_a_closing_route_come_back() -> None:
    g = line_graph([CONFLICT, TOWN, CAMP], [10.0, 450.0])
    rules = BASIC.replace(default_movechance=1.0, camp_weight=1e6)
    edges = tuple(g.edges_between(1, 2))
    g.events = [Event(2, 1, "close_edges", edges=edges), Event(5, 1, "open_edges", edges=edges)]
    res = simulate(g, rules, Inputs(days=8, new_people=np.asarray([0.0, 100.0, 0, 0, 0, 0, 0, 0])), record="full")
    assert res.nodes is not None
    # left on day 1 (450 km: 3 days), route closed on day 2: back at the town on day 3, not at the camp
    assert res.camps[3, 0] == 0.0 and res.nodes[3, 1] == pytest.approx(100.0)
    # reopened on day 5: they leave again and arrive on day 7
    assert res.camps[7, 0] == pytest.approx(100.0)


def test_closed_camp_is_a_town() -> None:
    g = line_graph([CONFLICT, CAMP], [10.0])
    g.events = closure_events(g, "camp", "N1", "", 0, 3, "test")
    rules = BASIC.replace(default_movechance=1.0)
    sim = Simulation(g, rules, Inputs(days=5))
    for ev in g.events_by_day(5)[0]:
        sim.apply(ev)
    assert not sim.camp[1] and sim.town[1] and sim.movechance[1] == 1.0


def test_seeds_reproduce(tmp_path: Path) -> None:
    p = prepare(write_example_case(tmp_path / "case"))
    a = run_case(p, FLEE3, mode="stochastic", seed=11).result.camps
    b = run_case(p, FLEE3, mode="stochastic", seed=11).result.camps
    c = run_case(p, FLEE3, mode="stochastic", seed=12).result.camps
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.all(a == np.round(a))  # counts of people


def test_stochastic_mean_is_near_the_expected_value() -> None:
    g = line_graph([CONFLICT, TOWN, CAMP, TOWN], [100.0, 150.0, 80.0])
    new = np.full(30, 2000.0)
    new[0] = 0.0
    exp = simulate(g, BASIC, Inputs(days=30, new_people=new)).camps[-1, 0]
    draws = [
        simulate(g, BASIC, Inputs(days=30, new_people=new), mode="stochastic", seed=s).camps[-1, 0] for s in range(8)
    ]
    assert np.mean(draws) == pytest.approx(exp, rel=0.02)


def test_routes_with_look_ahead() -> None:
    g = line_graph([CONFLICT, TOWN, CAMP], [10.0, 20.0])
    open_ = np.ones(g.n_edges, dtype=bool)
    rt = build_routes(g, open_, 2, np.zeros(3, dtype=bool))
    routes = sorted((int(o), int(e), float(d)) for o, e, d in zip(rt.origin, rt.end, rt.dist, strict=True))
    # from 0: [1] 10 km, [1, 2] 30 km; from 1: [0], [2]; from 2: [1], [1, 0] 30 km
    assert routes == [(0, 1, 10.0), (0, 2, 30.0), (1, 0, 10.0), (1, 2, 20.0), (2, 0, 30.0), (2, 1, 20.0)]


def test_synthetic_graph_runs_and_conserves() -> None:
    g = synthetic(300, seed=3)
    new = np.full(10, 1000.0)
    res = simulate(g, FLEE3.replace(insert_day0=False), Inputs(days=10, new_people=new))
    assert res.total[-1] == pytest.approx(10_000.0)
    assert res.camps.shape == (10, len(g.camp_names))


def test_conflict_driven_spawning() -> None:
    g = line_graph([CONFLICT, TOWN, CAMP], [100.0, 100.0])
    rules = BASIC.replace(conflict_driven_spawning=True, displaced_per_conflict_day=250.0)
    res = simulate(g, rules, Inputs(days=4))
    assert res.spawned.tolist() == [250.0] * 4
    ratio = rules.replace(conflict_spawn_mode="pop_ratio", displaced_per_conflict_day=0.01)
    assert simulate(g, ratio, Inputs(days=2)).spawned.tolist() == [10.0, 10.0]
    poisson = rules.replace(conflict_spawn_mode="poisson")
    drawn = simulate(g, poisson, Inputs(days=50), mode="stochastic", seed=1).spawned
    assert 200 < drawn.mean() < 300 and np.all(drawn == np.round(drawn))


def test_graph_from_the_store(tmp_path: Path) -> None:
    """Demoland's districts (centroids) as towns and its sites as camps, joined to their nearest neighbours."""
    from onthemove.demo import load_demo
    from onthemove.foresight.simulate.graph import from_store
    from onthemove.foresight.simulate.scenario import parse
    from onthemove.store import open_store

    store = open_store(tmp_path / "store")
    try:
        load_demo(store, directory=tmp_path / "files")
        country = store.fetch("SELECT DISTINCT adm0 FROM places WHERE adm0 IS NOT NULL")[0][0]
        g = from_store(store, country, admin_level=2)
    finally:
        store.close()
    assert len(g.camp_names) > 0 and g.n_nodes > len(g.camp_names)
    assert np.all(g.distance > 0) and g.n_edges % 2 == 0
    import datetime as dt

    town = next(n for n, k in zip(g.names, g.kind.tolist(), strict=True) if k == TOWN)
    sc = parse({"conflicts": [{"location": town, "start": 0}]}, g, dt.date(2024, 1, 1), 20)
    rules = FLEE3.replace(conflict_driven_spawning=True, displaced_per_conflict_day=100.0)
    res = simulate(g, rules, Inputs(days=20), extra_events=sc.events)
    assert res.total[-1] == pytest.approx(2000.0)
    assert res.in_camps[-1] > 0
