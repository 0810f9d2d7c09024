"""The simulation endpoints: the location graph of a country in the store, and simulations on it.

``GET /simulation/graph`` gives the locations (admin areas at one level as towns, sites with coordinates as
camps), the routes joining them and the defaults a run would use; ``POST /simulations`` runs Flee 3's rules on
that graph (``foresight.simulate.store_run``) with a scenario of closures, flare-ups and capacity changes, and
answers people per location and people setting out on each route per day, camp totals, and the run's
parameters with their provenance. docs/simulate.md describes the model.

Who may do what (``access.policy``):

* the graph is ``read_aggregates`` (anyone), as ``/sites`` is: for anonymous users and partners the camp
  capacities below the suppression threshold are blank (null);
* running a simulation is ``read_unredacted`` (analysts and up): the run uses every site's population,
  unredacted, as its capacity, and a camp that fills up shows it;
* a partner (a user with a place scope) may use neither: a graph and a simulation span the whole country,
  beyond any scope.

Simulations are deterministic for a request (the stochastic mode is seeded), so each answer is kept in the
app's result cache by its request body and data version; a change to the data drops them. The store's lock is
held while the graph is read, not while the simulation runs.
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Any, Literal, cast

import numpy as np
from fastapi import APIRouter, Query

from onthemove.access.policy import Principal
from onthemove.api.auth import permit
from onthemove.api.context import StoreContext
from onthemove.api.errors import ApiError
from onthemove.api.routes import ERRORS, Ctx, Who
from onthemove.api.simulate_models import (
    PCODE,
    SimDefaults,
    SimLocation,
    SimOrigin,
    SimParameters,
    SimProvenance,
    SimRoute,
    Simulation,
    SimulationGraph,
    SimulationRequest,
)
from onthemove.foresight.simulate.scenario import ScenarioError
from onthemove.foresight.simulate.store_run import (
    StoreGraph,
    StoreSimulationError,
    UnknownCountry,
    kind_names,
    run_store,
    store_graph,
)
from onthemove.store.batches import data_version

router = APIRouter(prefix="/api/v1", tags=["foresight"], responses=ERRORS)

ENGINE = "onthemove.foresight.simulate: Flee 3's rules on populations (docs/simulate.md)"
GRAPH = (
    "graph.from_store: admin areas (boundary centroids) as towns, sites with coordinates as camps (capacity: "
    "latest count of individuals), each joined to its 4 nearest by great-circle distance x 1.3"
)
MAX_REPORTED = 90  # reported days when `every` is not given
SimKind = Literal["town", "conflict", "camp", "idpcamp", "forward", "marker"]


def _not_partner(who: Principal) -> None:
    if who.scope is not None:
        raise ApiError(
            403,
            f"{who.label()} has a place scope ({', '.join(who.scope)}); a simulation spans the whole country",
            code="forbidden",
        )


def _graph(ctx: StoreContext, country: str | None, level: int) -> StoreGraph:
    """The country's graph and defaults, once per data version."""
    try:
        with ctx.store() as store:
            key = ("simulation-graph", (country or "").upper(), level)
            return ctx.cached(store, key, lambda: store_graph(store, country, level))
    except UnknownCountry as exc:
        raise ApiError(404, str(exc)) from exc
    except StoreSimulationError as exc:
        raise ApiError(422, str(exc), code="simulation_error") from exc


def _locations(base: StoreGraph, threshold: int | None) -> list[SimLocation]:
    g = base.graph
    kinds = kind_names(g)
    out = []
    for i in range(g.n_nodes):
        cap = float(g.capacity[i])
        capacity: float | None = cap if cap >= 1 else None
        if capacity is not None and threshold is not None and capacity < threshold:
            capacity = None
        out.append(
            SimLocation(
                id=base.ids[i],
                name=base.labels[i],
                kind=cast(SimKind, kinds[i]),
                area=base.areas[i],
                lat=round(float(g.lat[i]), 6),
                lon=round(float(g.lon[i]), 6),
                capacity=capacity,
            )
        )
    return out


def _routes(base: StoreGraph) -> list[SimRoute]:
    g = base.graph
    return [
        SimRoute(source=base.ids[int(a)], target=base.ids[int(b)], distance_km=float(d))
        for a, b, d in zip(g.src.tolist(), g.dst.tolist(), g.distance.tolist(), strict=True)
    ]


@router.get("/simulation/graph", response_model=SimulationGraph)
def simulation_graph(
    ctx: Ctx,
    who: Who,
    country: Annotated[
        str | None, Query(pattern=PCODE, description="the country's P-code; default the store's only country")
    ] = None,
    level: Annotated[int, Query(ge=1, le=3, description="the admin level whose areas are the towns")] = 2,
) -> SimulationGraph:
    """The location graph a simulation of `country` runs on: areas and camps with their coordinates, kind and
    capacity, the routes joining them (both ways), and the defaults of a run (first day, conflict zones and the
    rate of new people, with where each comes from). Anonymous users get capacities under the suppression
    threshold as null."""
    permit(who, "read_aggregates")
    _not_partner(who)
    base = _graph(ctx, country, level)
    threshold = ctx.threshold if who.redacted else None
    return SimulationGraph(
        country=base.country,
        admin_level=base.admin_level,
        locations=_locations(base, threshold),
        routes=_routes(base),
        defaults=SimDefaults(
            start=base.start,
            start_source=base.start_source,
            origins=[SimOrigin(location=o, intensity=i) for o, i in base.origins],
            origins_source=base.origins_source,
            displaced_per_conflict_day=base.displaced_per_day,
        ),
        redacted=who.redacted,
        threshold=threshold,
    )


def _reported_days(body: SimulationRequest) -> tuple[list[int], int | None]:
    days = body.days
    if body.at is not None:
        wrong = [d for d in body.at if not 0 <= d < days]
        if wrong or not body.at:
            raise ApiError(
                422,
                f"at: day numbers must be 0 to {days - 1} (the run has {days} days), not {wrong or body.at}",
                code="simulation_error",
            )
        return sorted(set(body.at)), None
    every = body.every or max(1, math.ceil(days / MAX_REPORTED))
    out = list(range(0, days, every))
    if out[-1] != days - 1:
        out.append(days - 1)
    return out, every


def _version_text(version: tuple[Any, ...]) -> str:
    if len(version) == 3:
        count, latest, loaded = version
        stamp = latest.isoformat() if hasattr(latest, "isoformat") else latest
        return f"{count} batches ({loaded} loaded), latest loaded at {stamp}"
    return repr(version)


def _compute(ctx: StoreContext, body: SimulationRequest, version: tuple[Any, ...]) -> Simulation:
    started = time.perf_counter()
    reported, every = _reported_days(body)
    base = _graph(ctx, body.country, body.admin_level)
    with ctx.store() as store:
        engine = store.engine
    scenario = body.scenario.model_dump(exclude_none=True) if body.scenario is not None else None
    try:
        run = run_store(
            base,
            body.days,
            start=body.start,
            origins=[(o.location, o.intensity) for o in body.origins] if body.origins is not None else None,
            displaced_per_conflict_day=body.displaced_per_conflict_day,
            scenario=scenario,
            rules=body.rules,
            mode=body.mode,
            seed=body.seed if body.mode == "stochastic" else None,
        )
    except ScenarioError as exc:
        raise ApiError(422, str(exc), code="scenario_error") from exc
    except StoreSimulationError as exc:
        raise ApiError(422, str(exc), code="simulation_error") from exc
    res = run.result
    assert res.nodes is not None and res.edges is not None
    idx = np.asarray(reported, dtype=np.int64)
    in_camps = res.in_camps
    at_places = res.nodes.sum(axis=1)
    displaced = np.cumsum(res.spawned)
    dates = run.dates()
    return Simulation(
        country=base.country,
        admin_level=base.admin_level,
        start=run.start,
        days=res.days,
        day_numbers=reported,
        dates=[dates[d] for d in reported],
        locations=_locations(base, None),
        routes=_routes(base),
        people=np.round(res.nodes[idx], 1).tolist(),
        flows=np.round(res.edges[idx], 1).tolist(),
        in_camps=np.round(in_camps[idx], 3).tolist(),
        in_transit=np.round(np.maximum(res.total - at_places, 0.0)[idx], 3).tolist(),
        total=np.round(res.total[idx], 3).tolist(),
        displaced=np.round(displaced[idx], 3).tolist(),
        parameters=SimParameters(
            rules=run.rules.to_dict(),
            mode=body.mode,
            seed=res.seed,
            start_source="asked" if body.start is not None else base.start_source,
            origins=[SimOrigin(location=o, intensity=i) for o, i in run.origins],
            origins_source=run.origins_source,
            displaced_per_conflict_day=run.displaced_per_day,
            displaced_source=run.displaced_source,
            every=every,
            graph=GRAPH,
        ),
        scenario=body.scenario.model_dump(mode="json", exclude_none=True) if body.scenario is not None else None,
        scenario_events=len(run.scenario.events) if run.scenario is not None else 0,
        provenance=SimProvenance(data_version=_version_text(version), engine=ENGINE, store_engine=engine),
        warnings=run.warnings,
        seconds=round(time.perf_counter() - started, 4),
    )


@router.post("/simulations", response_model=Simulation)
def simulations(ctx: Ctx, who: Who, body: SimulationRequest) -> Simulation:
    """Simulate where people go, day by day, on a country's graph (see `GET /simulation/graph`): new people
    appear in conflict zones (by default where people fled conflict in the latest month of data, at that
    month's rate) and move by Flee 3's rules; a scenario closes routes, flares up areas, changes capacities.

    Answers people per location and people setting out on each route for the days reported (every day up to 90,
    else thinned; `every` or `at` choose), people in camps, on routes and in all per day, and the parameters
    with their provenance. Needs an analyst (or higher) role: the run uses unredacted site populations. The same
    request is answered from the cache while the data do not change.
    """
    try:
        permit(who, "read_unredacted")
    except ApiError as exc:
        raise ApiError(
            403, f"running a simulation uses unredacted site populations: {exc.message}", code="forbidden"
        ) from exc
    _not_partner(who)
    with ctx.store() as store:
        version = data_version(store)
    key = ("simulation", body.model_dump_json())
    return ctx.cache.get(version, key, lambda: _compute(ctx, body, version))
