"""Bodies of the respond endpoints (needs, allocations, assistance), precise for the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NeedsLevel = Literal["site", "adm1", "adm2"]
WhereLevel = Literal["site", "adm1", "adm2"]


# --- needs ---------------------------------------------------------------------------------------------------


class NeedsRules(BaseModel):
    name: str = Field(description="the needs rules applied (the server's: phases from 1-5 `severity` indicators)")
    in_need: int = Field(description="the phase from which a sector is in need (JIAF: 3)")
    population: Literal["individuals", "households"] = Field(description="what people in need are counted in")
    area_severity: Literal["max", "weighted"] = Field(
        description="an area's severity: the highest of its sites, or population-weighted"
    )


class SectorOut(BaseModel):
    sector: str = Field(description="the sector as recorded in the assessments")
    label: str = Field(description="its name for people (WASH, food security, ...)")


class PhaseCount(BaseModel):
    severity: int = Field(description="the phase, 1 (minimal) to 5 (catastrophic)")
    overall: int = Field(description="sites whose overall severity is this phase")
    sectors: dict[str, int] = Field(description="sector -> sites whose severity in that sector is this phase")


class NeedsRow(BaseModel):
    rank: int = Field(description="1 is the most severe: by severity, then sectors in need, then people in need")
    code: str = Field(description="the site's id, or the area's P-code")
    name: str | None
    level: str = Field(description="site, or the area's admin level (adm1, adm2; coarser when the site lacks one)")
    place: str | None = Field(default=None, description="sites: the P-code the site is recorded at")
    adm1: str | None = None
    adm2: str | None = None
    site_type: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    sites: int | None = Field(default=None, description="areas: sites assessed in the area")
    severity: float = Field(
        description="overall severity: the highest over sectors (sites: a whole phase; areas: per the rules)"
    )
    sectors: dict[str, float | None] = Field(description="sector -> severity (null: not assessed)")
    sectors_in_need: int
    population: int | None = Field(description="individuals (or households, per the rules); null where suppressed")
    people_in_need: int | None = Field(description="null where suppressed")
    people_in_need_by_sector: dict[str, int | None] = Field(description="sector -> people in need; null: suppressed")
    share_in_need: float | None = Field(default=None, description="areas: people in need / population")
    why: str = Field(description="a sentence that says why the row ranks where it does")
    suppressed: bool = Field(
        default=False, description="true: its people counts are blanked (under the threshold, or to protect one)"
    )


class NeedsTotals(BaseModel):
    sites: int = Field(description="sites assessed (in the place and scope asked)")
    population: int | None = Field(description="null for redacted answers where any count was blanked")
    people_in_need: int | None = Field(description="null for redacted answers where any count was blanked")


class NeedsRanking(BaseModel):
    """The needs ranking of sites or areas, with severity per sector."""

    level: NeedsLevel
    place: str | None = Field(description="the P-code asked for; null: everywhere the principal may see")
    as_of: dt.date | None = Field(description="assessments dated up to this day; null: the latest of each")
    rules: NeedsRules
    sectors: list[SectorOut] = Field(description="the sectors scored, in the rules' order")
    phases: list[PhaseCount] = Field(description="sites per phase, overall and per sector (rows: 1 to 5)")
    totals: NeedsTotals
    rows: list[NeedsRow] = Field(description="ranked, first `limit` rows")
    total_rows: int
    limit: int
    notes: list[str] = Field(description="what the rules could not score, and why")
    redacted: bool = Field(description="true when people counts under `threshold` were blanked")
    threshold: int | None = Field(description="the suppression threshold applied; null when nothing was redacted")
    suppressed: int = Field(description="how many rows had their people counts blanked")


# --- allocations ---------------------------------------------------------------------------------------------


class PackageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="unique in the plan")
    sector: str = Field(description="the sector whose need it covers, as the assessments name it")
    unit_cost: float = Field(description="money per unit, above 0")
    people_per_unit: float = Field(default=1, description="people one unit covers, above 0")
    stock: float | None = Field(default=None, description="units available; null: no limit")
    max_per_site: float | None = Field(default=None, description="units one site can receive; null: no limit")
    unit: str | None = Field(default=None, description="what a unit is (household kit, transfer, ...)")
    description: str | None = None


class SiteCapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: float | None = Field(default=None, description="units of all packages a site can receive")
    sites: dict[str, float] | None = Field(default=None, description="site id -> its own capacity")


class UnreachableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sites: list[str] | None = Field(default=None, max_length=100_000, description="site ids left out")
    places: list[str] | None = Field(
        default=None, max_length=10_000, description="P-codes: every site at or inside them is left out"
    )


class MinCoverageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    severity: int = Field(description="the phase (1-5) from which the rule applies")
    share: float = Field(description="the share of each such need that must be covered, 0 to 1")
    packages: list[str] | None = Field(default=None, description="the packages it applies to; null: every one")


class MinBudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    share: float = Field(description="the least share of the budget, 0 to 1")
    per: Literal["adm1", "adm2"] | None = Field(default=None, description="in each area at this level, or")
    place: str | None = Field(default=None, description="at or inside this P-code")


class PlanRuleIn(BaseModel):
    """Exactly one of `min_coverage` and `min_budget`."""

    model_config = ConfigDict(extra="forbid")

    min_coverage: MinCoverageIn | None = None
    min_budget: MinBudgetIn | None = None


class SolverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    integer: bool | None = Field(default=None, description="true: MIP (whole units); false: LP. `method` wins")
    mip_gap: float | None = Field(default=None, description="relative MIP gap; `gap` wins")
    time_limit: float | None = Field(default=None, description="seconds; capped by the server's limit")


class AllocationRequest(BaseModel):
    """A plan spec in the shape of the plan YAML (docs/needs.md), and how to solve it. The plan is checked by the
    same reader as `onthemove allocate`: a bad plan is a 422 whose message names the key and what was expected."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    currency: str | None = Field(default=None, max_length=10, description="default USD")
    budget: float = Field(description="the money to allocate, 0 or more")
    weights: dict[str, float] | None = Field(
        default=None, description="phase (1-5) -> weight per person covered; default: the phase itself"
    )
    packages: list[PackageIn] = Field(min_length=1, max_length=100)
    site_capacity: SiteCapacityIn | None = None
    unreachable: UnreachableIn | None = None
    rules: list[PlanRuleIn] | None = Field(default=None, max_length=1000)
    solver: SolverIn | None = Field(default=None, description="as in the plan YAML; `method` and `gap` win")
    method: Literal["mip", "lp"] | None = Field(
        default=None, description="mip: whole units (default); lp: fractional units, faster, an upper bound"
    )
    gap: float | None = Field(
        default=None, description="relative MIP gap at which the solver stops (default 0.001: within 0.1%)"
    )
    sensitivity: bool = Field(default=False, description="also solve with the budget -20%, -10%, +10%, +20%")
    as_of: dt.date | None = Field(default=None, description="needs as assessed up to this day; default: the latest")


class AllocationExample(BaseModel):
    plan: AllocationRequest = Field(description="the example plan, ready to post to /allocations")
    source: str = Field(description="the file it was read from")
    may_run: bool = Field(description="whether this principal may run an allocation (analysts and up, no scope)")
    reason: str | None = Field(description="why not, when `may_run` is false")


class PackageTotal(BaseModel):
    package: str
    sector: str
    unit_cost: float
    units: float
    stock: float | None
    people_covered: float = Field(description="people covered by this package")
    people_in_need: int = Field(description="people in need of its sector at the reachable sites")
    sites: int = Field(description="sites that receive it")
    cost: float


class AreaTotal(BaseModel):
    area: str | None = Field(description="the region's P-code (adm1); null for sites without one")
    name: str | None
    sites: int = Field(description="sites served")
    units: dict[str, float] = Field(description="package -> units")
    people_covered: float = Field(description="people covered, counted once per package they receive")
    cost: float


class PlanRow(BaseModel):
    rank: int = Field(description="the site's rank in the needs ranking")
    site_id: str
    name: str | None
    adm1: str | None
    adm2: str | None
    latitude: float | None
    longitude: float | None
    package: str
    sector: str
    severity: int = Field(description="the severity of the package's sector at the site")
    people_in_need: int
    units: float
    people_covered: float
    coverage: float = Field(description="people covered / people in need")
    cost: float


class GreedyComparison(BaseModel):
    baseline: Literal["greedy-ratio", "greedy-rank"] = Field(
        description="greedy-ratio: best severity-weighted people per money first; greedy-rank: down the ranking"
    )
    status: str
    objective: float = Field(description="the baseline's severity-weighted people covered")
    people_covered: float
    cost: float
    gain: float | None = Field(description="the optimum's objective / the baseline's - 1; null if it is 0")
    extra_weighted_people: float
    extra_people: float


class SensitivityRow(BaseModel):
    change: float = Field(description="the budget's change: -0.2 is 20% less")
    budget: float
    status: str
    objective: float | None = None
    people_covered: float | None = None
    cost: float | None = None
    sites: int | None = Field(default=None, description="sites served")
    enter: list[str] = Field(default_factory=list, description="sites served with this budget and not the plan's")
    leave: list[str] = Field(default_factory=list, description="sites the plan serves and this budget does not")
    marginal: float | None = Field(default=None, description="extra severity-weighted people per extra money")
    greedy_objective: float | None = None
    seconds: float | None = None


class Allocation(BaseModel):
    """The plan that maximises severity-weighted people covered for the budget, and how it compares."""

    plan: str
    currency: str
    budget: float
    method: Literal["mip", "lp"]
    status: str = Field(description="the solver's: Optimal, Time limit reached, ...")
    objective: float = Field(description="severity-weighted people covered (the weights of the plan)")
    bound: float | None = Field(description="no plan can do better than this")
    gap: float | None = Field(description="(bound - objective) / bound")
    seconds: float = Field(description="the solver's time for the plan itself")
    time_limit: float = Field(description="seconds each solve was allowed")
    people_covered: float = Field(description="people covered, counted once per package they receive")
    cost: float
    candidates: int = Field(description="(site, package) pairs that could receive something")
    sites_eligible: int
    sites_served: int
    packages: list[PackageTotal]
    areas: list[AreaTotal] = Field(description="per region (adm1), most people covered first")
    rows: list[PlanRow] = Field(description="one per site and package that receives something, down the ranking")
    served: list[str] = Field(description="the ids of the sites served")
    unreachable: list[str] = Field(description="the ids of the sites left out as unreachable")
    greedy: list[GreedyComparison]
    sensitivity: list[SensitivityRow] = Field(description="empty unless asked for")
    notes: list[str]
    as_of: dt.date | None


# --- assistance (3W/4W, gap) -----------------------------------------------------------------------------------


class WhoWhatWhereRow(BaseModel):
    month: str = Field(description="YYYY-MM")
    organisation: str
    programme: str | None
    sector: str
    package: str
    unit: str | None
    currency: str | None
    site_id: str | None = Field(default=None, description="where=site")
    place: str | None = Field(default=None, description="where=site: the P-code the distribution was recorded at")
    area: str | None = Field(default=None, description="where=adm1|adm2: the area's P-code")
    households: int | None = Field(description="households reached, each once per row; null: suppressed")
    people: int | None = Field(description="people in them; null: suppressed")
    quantity: float | None
    value: float | None
    suppressed: bool = Field(default=False, description="true: blanked (a small cell, or to protect one)")


class AssistancePeriod(BaseModel):
    period: str | None = Field(description="as asked; null: all distributions")
    start: dt.date | None
    end: dt.date | None = Field(description="inclusive")


class WhoWhatWhere(BaseModel):
    """Who (organisation) delivered what (sector, package) where (site or area) and when (month)."""

    where: WhereLevel
    period: AssistancePeriod
    place: str | None
    rows: list[WhoWhatWhereRow]
    redacted: bool = Field(description="true: small cells protected (anonymous users, viewers, partners)")
    threshold: int | None = Field(description="the least households a shown cell has; null when not redacted")
    suppressed: int
    distributions: bool = Field(description="false when no distribution is recorded where and when asked")
    notes: list[str]


class GapRow(BaseModel):
    site_id: str
    place: str | None
    sector: str
    severity: int | None = Field(description="the sector's severity at the site; null: not assessed")
    people_in_need: int | None = Field(description="null: not assessed, or suppressed")
    households: int | None = Field(description="households reached; null: suppressed")
    people_reached: int | None
    gap: int | None = Field(description="people in need - people reached, not below 0")
    coverage: float | None = Field(description="people reached / people in need")
    suppressed: bool = False


class AssistanceGap(BaseModel):
    """People in need against people reached, per site and sector, largest gap first."""

    period: AssistancePeriod
    place: str | None
    sector: str | None
    rows: list[GapRow]
    redacted: bool
    threshold: int | None
    suppressed: int
    distributions: bool = Field(description="false when no distribution is recorded where and when asked")
    notes: list[str]
