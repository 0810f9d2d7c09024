"""Request and response bodies of the simulation endpoints, precise for the OpenAPI document.

A scenario has the shape of a scenario file (docs/simulate.md, "Scenarios"): closures, conflicts (flare-ups),
capacities and camps, each with a start (and maybe an end) given as a day number from the first day of the run
(0 is the first day) or an ISO date; locations are named by P-code (areas) or site id (camps).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PCODE = r"^[A-Za-z0-9_-]{1,40}$"
Day = int | str
DAY_HELP = "a day number from the first day of the run (0 is the first day) or an ISO date, YYYY-MM-DD"
LOCATION_HELP = "a P-code (an area of the graph's admin level) or a site id (a camp)"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ---------------------------------------------------------------------------------------------------


class ClosureIn(_Strict):
    type: Literal["link", "location", "country", "camp", "idpcamp"] = Field(
        description="link: the route between name1 and name2 (both directions); location: every route of name1; "
        "country: every route between two countries; camp, idpcamp: the camp name1 becomes a town meanwhile"
    )
    name1: str = Field(max_length=200, description=LOCATION_HELP + " (a country code for type country)")
    name2: str | None = Field(default=None, max_length=200, description="the other end (link, country)")
    start: Day = Field(description=DAY_HELP)
    end: Day | None = Field(default=None, description=DAY_HELP + "; none: closed to the end of the run")


class ConflictIn(_Strict):
    location: str = Field(max_length=200, description=LOCATION_HELP)
    start: Day = Field(description=DAY_HELP)
    end: Day | None = Field(default=None, description=DAY_HELP + "; none: to the end of the run")
    intensity: float = Field(default=1.0, gt=0, le=100, description="new people a day: intensity x the rate")


class CapacityIn(_Strict):
    location: str = Field(max_length=200, description=LOCATION_HELP)
    capacity: float = Field(
        ge=1, le=1e9, description="people the camp can hold from `start` (to shut a camp, close it: `camps`)"
    )
    start: Day = Field(default=0, description=DAY_HELP)


class CampIn(_Strict):
    location: str = Field(max_length=200, description=LOCATION_HELP)
    open: Day | None = Field(default=None, description="the location becomes a camp on this day")
    close: Day | None = Field(default=None, description="the camp becomes a town on this day")
    idp: bool = Field(default=False, description="an IDP camp (people leave it more readily)")


class ScenarioIn(_Strict):
    """What changes, from when: the shape of a scenario YAML file."""

    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    rules: dict[str, Any] | None = Field(
        default=None, description='rule parameters to change (docs/simulate.md), e.g. {"camp_weight": 3.0}'
    )
    closures: list[ClosureIn] = Field(default=[], max_length=100)
    conflicts: list[ConflictIn] = Field(default=[], max_length=100, description="new or renewed conflict zones")
    capacities: list[CapacityIn] = Field(default=[], max_length=100, description="a camp fills up or is extended")
    camps: list[CampIn] = Field(default=[], max_length=100, description="a location opens or closes as a camp")


class OriginIn(_Strict):
    location: str = Field(max_length=200, description="an area (P-code) in conflict from the first day")
    intensity: float = Field(default=1.0, gt=0, le=100)


class SimulationRequest(_Strict):
    country: str | None = Field(
        default=None, pattern=PCODE, description="the country's P-code; default the store's only country"
    )
    admin_level: int = Field(default=2, ge=1, le=3, description="the admin areas that are the graph's towns")
    days: int = Field(default=60, ge=1, le=730, description="days to simulate")
    start: dt.date | None = Field(default=None, description="the first day; default the day after the latest data")
    origins: list[OriginIn] | None = Field(
        default=None,
        max_length=200,
        description="conflict zones from the first day; default the areas people left because of conflict in the "
        "latest month of movement data, with intensities by their share",
    )
    displaced_per_conflict_day: float | None = Field(
        default=None,
        ge=0,
        le=1e7,
        description="people newly displaced a day in a conflict zone of intensity 1; default: with the default "
        "origins, the latest month's conflict departures a day; else the rule set's",
    )
    scenario: ScenarioIn | None = None
    rules: Literal["onthemove", "flee3", "flee-defaults"] = Field(default="onthemove", description="the rule set")
    mode: Literal["expected", "stochastic"] = Field(
        default="expected", description="expected: shares of people (deterministic); stochastic: counts drawn"
    )
    seed: int = Field(default=1, ge=0, le=2**31 - 1, description="the stochastic mode's seed")
    every: int | None = Field(
        default=None,
        ge=1,
        le=730,
        description="report every k-th day (and the last); default: every day up to 90 days, then thinned to "
        "about 90 days",
    )
    at: list[int] | None = Field(
        default=None, max_length=730, description="report these day numbers only (overrides `every`)"
    )


# --- responses --------------------------------------------------------------------------------------------------


class SimLocation(BaseModel):
    id: str = Field(description="P-code (area) or site id (camp)")
    name: str
    kind: Literal["town", "conflict", "camp", "idpcamp", "forward", "marker"] = Field(
        description="on the first day, before any conflict or scenario change: areas are towns, sites are camps"
    )
    area: str | None = Field(description="the area (at the graph's admin level) the location lies in")
    lat: float
    lon: float
    capacity: float | None = Field(
        description="camps: people the camp holds (its latest count of individuals); null for towns, or redacted"
    )


class SimRoute(BaseModel):
    source: str = Field(description="the location the route leaves from (id)")
    target: str = Field(description="the location it leads to (id)")
    distance_km: float = Field(description="great-circle distance x 1.3 (the store holds no roads)")


class SimOrigin(BaseModel):
    location: str
    intensity: float


class SimDefaults(BaseModel):
    start: dt.date = Field(description="the default first day")
    start_source: str
    origins: list[SimOrigin] = Field(description="the default conflict zones")
    origins_source: str
    displaced_per_conflict_day: float | None = Field(description="the default rate with the default origins")


class SimulationGraph(BaseModel):
    country: str
    admin_level: int
    locations: list[SimLocation]
    routes: list[SimRoute] = Field(description="directed: every road appears once each way")
    defaults: SimDefaults
    redacted: bool = Field(description="true when capacities below `threshold` were blanked")
    threshold: int | None


class SimParameters(BaseModel):
    rules: dict[str, Any] = Field(description="every rule parameter of the run, with `source`")
    mode: Literal["expected", "stochastic"]
    seed: int | None = Field(description="the stochastic mode's seed; null in the expected-value mode")
    start_source: str
    origins: list[SimOrigin] = Field(description="the conflict zones from the first day")
    origins_source: str
    displaced_per_conflict_day: float
    displaced_source: str
    every: int | None = Field(description="the reporting step; null when `at` chose the days")
    graph: str = Field(description="how the graph was built")


class SimProvenance(BaseModel):
    data_version: str = Field(description="the store's data version (batches); a change invalidates cached runs")
    engine: str
    store_engine: str


class Simulation(BaseModel):
    country: str
    admin_level: int
    start: dt.date
    days: int = Field(description="days simulated")
    day_numbers: list[int] = Field(description="the days reported (0 is the first day), in order")
    dates: list[dt.date] = Field(description="their dates")
    locations: list[SimLocation]
    routes: list[SimRoute]
    people: list[list[float]] = Field(
        description="[reported day][location]: people at each location at the end of the day (newly displaced "
        "people only: camps start empty)"
    )
    flows: list[list[float]] = Field(description="[reported day][route]: people who set out on each route that day")
    in_camps: list[float] = Field(description="people in camps at the end of each reported day")
    in_transit: list[float] = Field(description="people on routes at the end of each reported day")
    total: list[float] = Field(description="people in the simulation (at locations and on routes)")
    displaced: list[float] = Field(description="people newly displaced up to and including each reported day")
    parameters: SimParameters
    scenario: dict[str, Any] | None = Field(description="the scenario as asked")
    scenario_events: int = Field(description="changes the scenario made (closures count twice: close, reopen)")
    provenance: SimProvenance
    warnings: list[str]
    seconds: float = Field(description="time the computation took (graph and run), seconds")
