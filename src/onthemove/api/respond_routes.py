"""The respond endpoints: needs (severity per site, area and sector, ranked, with why), allocations (the plan that
covers the most severe needs for the money, against greedy plans), and assistance (who does what where, and the
gap between needs and assistance).

Needs are read with the packaged default rules (1-5 `severity` per sector, docs/needs.md), computed once per data
version and `as_of` date (the app's result cache), and filtered for the place asked and the principal's scope
afterwards, so that every answer is cut from the same figures: an area's figures are always the whole area's.

Who sees what:

* needs are aggregates, readable by everyone who may read aggregates. A partner (a place scope) sees the sites and
  areas inside the scope only. Anonymous users and partners get the people counts of sites whose population is
  under the setting ``suppression_threshold`` blanked (as ``/sites`` does), and of areas with a count under it;
  where a site (or an area) alone would be blanked in its district, region or the whole answer, the smallest
  other one there is blanked too, so that it cannot be worked out as the area's total minus the others. Blanked
  counts are null with ``suppressed: true``; the row's "why" then no longer quotes them. Severities are kept.
  This protects each answer against its own margins, not against differencing answers of other levels or of
  other endpoints (as with ``/sites`` and ``/totals``).
* allocations read unredacted site populations: analysts and up, without a place scope. Each request is
  time-limited (``ALLOCATION_LIMIT_S`` seconds of solving in all, shared by the budget sensitivity's solves), so
  that no request can hold a worker for long; the same request is answered from the cache while the data do not
  change.
* assistance figures are aggregates of the registry's distributions (``read_aggregates``), never personal data;
  anonymous users, viewers and partners get them after small-cell protection (``respond.registry.analysis``), as
  the CLI gives them.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, cast

import pandas as pd
import yaml
from fastapi import APIRouter, Query

from onthemove.access.policy import Principal, allowed
from onthemove.account.periods import Period, PeriodError, parse_period
from onthemove.analyse.query import within_sql
from onthemove.api.auth import permit
from onthemove.api.context import StoreContext
from onthemove.api.context import computed_once as cached
from onthemove.api.context import shared_reads as shared
from onthemove.api.errors import ApiError
from onthemove.api.respond_models import (
    Allocation,
    AllocationExample,
    AllocationRequest,
    AreaTotal,
    AssistanceGap,
    AssistancePeriod,
    GapRow,
    GreedyComparison,
    NeedsLevel,
    NeedsRanking,
    NeedsRow,
    NeedsRules,
    NeedsTotals,
    PackageTotal,
    PhaseCount,
    PlanRow,
    SectorOut,
    SensitivityRow,
    WhereLevel,
    WhoWhatWhere,
    WhoWhatWhereRow,
)
from onthemove.api.routes import ERRORS, Ctx, Who
from onthemove.respond.needs import Needs, NeedsError, Rules, area_names, assess, load_rules
from onthemove.respond.registry import analysis
from onthemove.store import Store

router = APIRouter(prefix="/api/v1", tags=["respond"], responses=ERRORS)

ALLOCATION_LIMIT_S = 20.0  # seconds of solving one allocation request may take, all its solves together
DEFAULT_GAP = 0.001  # stop within 0.1% of the best possible plan
SENSITIVITY_SOLVES = 4  # allocate's budget sensitivity: -20%, -10%, +10%, +20%
EXAMPLE_PLAN = Path(__file__).resolve().parents[3] / "examples" / "demoland" / "plan.yaml"
_NO_ASSESSMENTS = "holds no site assessments"

PlaceParam = Annotated[
    str | None,
    Query(max_length=40, description="a P-code: only what lies at or inside it (a partner: inside their scope)"),
]
AsOfParam = Annotated[dt.date | None, Query(description="assessments dated up to this day; default: the latest")]
PeriodParam = Annotated[
    str | None,
    Query(
        max_length=40,
        description="distributions in YYYY, YYYY-Qn, YYYY-MM, YYYY-MM-DD or FROM..TO of these; default: all",
    ),
]


@functools.lru_cache(maxsize=1)
def _rules() -> Rules:
    return load_rules()


# --- helpers -------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A plain Python value: None for NaN/NA, numpy scalars unwrapped."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _int(value: Any) -> int | None:
    v = _plain(value)
    return None if v is None else int(v)


def _place_code(store: Store, who: Principal, place: str | None) -> str | None:
    """The P-code asked for if it exists and lies in the principal's scope (else the same 404), or None."""
    if place is None or place.strip() == "":
        return None
    code = place.strip().upper()
    sql, params = "SELECT p.pcode FROM places p WHERE p.pcode = $pcode", cast(dict[str, Any], {"pcode": code})
    if who.scope is not None:
        sql, params = sql + " AND " + within_sql("scope"), {**params, "scope": list(who.scope)}
    if not store.fetch(sql, params):
        raise ApiError(404, f"no place {place!r}")
    return code


def _visible(store: Store, who: Principal, code: str | None) -> set[str] | None:
    """P-codes at or inside ``code`` and the principal's scope; None when neither limits anything."""
    if code is None and who.scope is None:
        return None
    where, params = [], cast(dict[str, Any], {})
    if code is not None:
        where.append(within_sql("codes"))
        params["codes"] = [code]
    if who.scope is not None:
        where.append(within_sql("scope"))
        params["scope"] = list(who.scope)
    return {r[0] for r in store.fetch(f"SELECT p.pcode FROM places p WHERE {' AND '.join(where)}", params)}


def _complement(small: set[str], sizes: Mapping[str, float], groupings: Sequence[Mapping[str, Hashable]]) -> set[str]:
    """``small`` plus, in every group of every grouping where exactly one is blanked, the smallest other one that
    has a count, until no group has exactly one (else it is the group's total minus the rest)."""
    hidden = set(small)
    changed = True
    while changed:
        changed = False
        for grouping in groupings:
            members: dict[Hashable, list[str]] = defaultdict(list)
            for key, group in grouping.items():
                members[group].append(key)
            for keys in members.values():
                if sum(k in hidden for k in keys) != 1:
                    continue
                rest = [k for k in keys if k not in hidden and k in sizes]
                if rest:
                    hidden.add(min(rest, key=lambda k: (sizes[k], k)))
                    changed = True
    return hidden


def _area_key(sites: pd.DataFrame, level: str) -> pd.Series:
    """The area each site counts in at ``level``, as ``Needs.areas`` groups them."""
    area = sites["adm1"] if level == "adm1" else sites["adm2"].fillna(sites["adm1"])
    return area.fillna(sites["place"]).fillna("(no place)")


# --- needs, once per data version ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _SiteView:
    needs: Needs
    hidden: frozenset[str]  # site ids whose people counts redacted answers blank


@dataclass(frozen=True)
class _AreaView:
    areas: pd.DataFrame
    hidden: frozenset[str]  # area codes whose people counts redacted answers blank


def _needs(ctx: StoreContext, as_of: dt.date | None) -> _SiteView | None:
    """Needs at every site (None when the store holds no assessments the rules read), and the sites a redacted
    answer blanks; computed once per data version."""

    def compute() -> _SiteView | None:
        try:
            needs = assess(shared(ctx), _rules(), as_of=as_of)
        except NeedsError as exc:
            if _NO_ASSESSMENTS in str(exc):
                return None
            raise
        sites = needs.sites
        pop = pd.to_numeric(sites["population"], errors="coerce")
        ids = sites["site_id"].astype(str)
        small = set(ids[pop.notna() & (pop < ctx.threshold)])
        sizes = {k: float(v) for k, v in zip(ids, pop, strict=True) if not pd.isna(v)}
        groupings = [
            dict(zip(ids, _area_key(sites, "adm2"), strict=True)),
            dict(zip(ids, _area_key(sites, "adm1"), strict=True)),
            dict.fromkeys(ids, "*"),
        ]
        return _SiteView(needs, frozenset(_complement(small, sizes, groupings)))

    return cached(ctx, ("respond-needs", as_of, ctx.threshold), compute)


def _areas(ctx: StoreContext, view: _SiteView, as_of: dt.date | None, level: str) -> _AreaView:
    def compute() -> _AreaView:
        needs = view.needs
        sites = needs.sites
        codes = sorted({c for col in ("adm1", "adm2", "place") for c in sites[col].dropna()})
        table = needs.areas(level, area_names(shared(ctx), codes))
        counts = ["population", "people_in_need", *[f"pin_{s}" for s in needs.sectors]]
        values = table[counts].apply(pd.to_numeric, errors="coerce")
        is_small = ((values > 0) & (values < ctx.threshold)).any(axis=1)
        areas = table["area"].astype(str)
        small = set(areas[is_small])
        sizes = dict(zip(areas, values["population"].fillna(0).astype(float), strict=True))
        groupings: list[Mapping[str, Hashable]] = [dict.fromkeys(areas, "*")]
        if level == "adm2":
            parent = dict(zip(_area_key(sites, "adm2"), _area_key(sites, "adm1"), strict=True))
            groupings.insert(0, {a: parent.get(a, "*") for a in areas})
        return _AreaView(table, frozenset(_complement(small, sizes, groupings)))

    return cached(ctx, ("respond-areas", as_of, level, ctx.threshold), compute)


_PEOPLE = re.compile(r"; (?:[\d,]+ (?:people|households) in need|population unknown)$")


def _why_blanked(why: str) -> str:
    return _PEOPLE.sub("; people in need not shown (small counts are suppressed)", str(why))


def _site_row(r: Mapping[Any, Any], sectors: list[str], blank: bool) -> NeedsRow:
    pins = {s: None if blank else _int(r[f"pin_{s}"]) for s in sectors}
    return NeedsRow(
        rank=int(r["rank"]),
        code=str(r["site_id"]),
        name=_plain(r["name"]),
        level="site",
        place=_plain(r["place"]),
        adm1=_plain(r["adm1"]),
        adm2=_plain(r["adm2"]),
        site_type=_plain(r["site_type"]),
        latitude=_plain(r["latitude"]),
        longitude=_plain(r["longitude"]),
        severity=float(r["severity"]),
        sectors={s: _plain(r[s]) for s in sectors},
        sectors_in_need=int(r["sectors_in_need"]),
        population=None if blank else _int(r["population"]),
        people_in_need=None if blank else _int(r["people_in_need"]),
        people_in_need_by_sector=pins,
        why=_why_blanked(r["why"]) if blank else str(r["why"]),
        suppressed=blank,
    )


def _area_row(r: Mapping[Any, Any], sectors: list[str], blank: bool) -> NeedsRow:
    return NeedsRow(
        rank=int(r["rank"]),
        code=str(r["area"]),
        name=_plain(r["name"]),
        level=str(r["area_level"]),
        sites=int(r["sites"]),
        severity=float(r["severity"]),
        sectors={s: _plain(r[s]) for s in sectors},
        sectors_in_need=int(r["sectors_in_need"]),
        population=None if blank else _int(r["population"]),
        people_in_need=None if blank else _int(r["people_in_need"]),
        people_in_need_by_sector={s: None if blank else _int(r[f"pin_{s}"]) for s in sectors},
        share_in_need=None if blank else _plain(r["share_in_need"]),
        why=_why_blanked(r["why"]) if blank else str(r["why"]),
        suppressed=blank,
    )


def _phases(needs: Needs, sites: pd.DataFrame) -> list[PhaseCount]:
    counts = replace(needs, sites=sites).severity_counts()
    return [
        PhaseCount(
            severity=int(cast(int, phase)),
            overall=int(row["overall"]),
            sectors={s: int(row[s]) for s in needs.sectors},
        )
        for phase, row in counts.iterrows()
    ]


@router.get("/needs", response_model=NeedsRanking)
def needs(
    ctx: Ctx,
    who: Who,
    level: Annotated[NeedsLevel, Query(description="rank sites, or regions (adm1) or districts (adm2)")] = "site",
    place: PlaceParam = None,
    as_of: AsOfParam = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> NeedsRanking:
    """Needs ranked, most severe first: per site (or area) its severity in each sector on the 1-5 scale, its
    overall severity (the highest over sectors, as the MSNI), sectors in need (phases 3-5), people in need, and
    a sentence that says why it ranks where it does; sites with their coordinates.

    A partner sees what lies inside their scope; anonymous users and partners get small people counts blanked
    (null with `suppressed: true`). A store without site assessments answers no rows and says so in `notes`."""
    permit(who, "read_aggregates")
    rules = _rules()
    with ctx.store() as store:
        code = _place_code(store, who, place)
        visible = _visible(store, who, code)
    view = _needs(ctx, as_of)
    rule_out = NeedsRules(
        name=rules.name,
        in_need=rules.in_need,
        population=cast(Any, rules.population),
        area_severity=cast(Any, rules.area_severity),
    )
    redacted = who.redacted
    empty = NeedsRanking(
        level=level,
        place=code,
        as_of=as_of,
        rules=rule_out,
        sectors=[],
        phases=[],
        totals=NeedsTotals(sites=0, population=0, people_in_need=0),
        rows=[],
        total_rows=0,
        limit=limit,
        notes=[],
        redacted=redacted,
        threshold=ctx.threshold if redacted else None,
        suppressed=0,
    )
    if view is None:
        return empty.model_copy(
            update={"notes": [f"the store holds no site assessments with the indicators the rules read ({rules.name})"]}
        )
    full = view.needs
    sites = full.sites
    if visible is not None:
        sites = sites[sites["place"].isin(visible)]
    sites = sites.assign(rank=range(1, len(sites) + 1))
    sectors = list(full.sectors)
    if level == "site":
        records = sites.to_dict("records")
        hidden = [redacted and str(r["site_id"]) in view.hidden for r in records]
        rows = [_site_row(r, sectors, h) for r, h in zip(records, hidden, strict=True)]
    else:
        area_view = _areas(ctx, view, as_of, level)
        table = area_view.areas
        if visible is not None:
            table = table[table["area"].isin(visible)]
        table = table.assign(rank=range(1, len(table) + 1))
        records = table.to_dict("records")
        hidden = [redacted and str(r["area"]) in area_view.hidden for r in records]
        rows = [_area_row(r, sectors, h) for r, h in zip(records, hidden, strict=True)]
    site_hidden = redacted and bool(set(sites["site_id"].astype(str)) & view.hidden)
    any_hidden = any(hidden) or site_hidden
    pop = pd.to_numeric(sites["population"], errors="coerce").fillna(0)
    return empty.model_copy(
        update={
            "sectors": [SectorOut(sector=s, label=full.rules.label(s)) for s in sectors],
            "phases": _phases(full, sites),
            "totals": NeedsTotals(
                sites=len(sites),
                population=None if any_hidden else int(pop.sum()),
                people_in_need=None if any_hidden else int(sites["people_in_need"].sum()),
            ),
            "rows": rows[:limit],
            "total_rows": len(rows),
            "notes": list(full.notes),
            "suppressed": sum(hidden),
        }
    )


# --- allocations ---------------------------------------------------------------------------------------------


def _may_run(who: Principal) -> str | None:
    """Why this principal may not run an allocation, or None."""
    if not allowed(who, "read_unredacted"):
        return (
            f"{who.label()} ({who.kind}) may not run an allocation: it uses unredacted site populations; "
            "needs an analyst (or higher) login"
        )
    if who.scope is not None:
        return f"{who.label()} has a place scope; an allocation weighs every site against every other"
    return None


def _solver(body: AllocationRequest) -> tuple[dict[str, Any], float]:
    """The plan's solver settings as the request's method and gap, the plan's solver block and the server's
    limits make them; and the time each solve may take."""
    given = body.solver
    integer = True
    if body.method is not None:
        integer = body.method == "mip"
    elif given is not None and given.integer is not None:
        integer = given.integer
    gap = DEFAULT_GAP
    if body.gap is not None:
        gap = body.gap
    elif given is not None and given.mip_gap is not None:
        gap = given.mip_gap
    if not 0 <= gap < 1:
        raise ApiError(422, f"gap: expected a relative gap of at least 0 and below 1 (0.001 = 0.1%), got {gap:g}")
    solves = 1 + (SENSITIVITY_SOLVES if body.sensitivity else 0)
    limit = ALLOCATION_LIMIT_S / solves
    if given is not None and given.time_limit is not None:
        if given.time_limit <= 0:
            raise ApiError(422, f"solver.time_limit: expected a number above 0, got {given.time_limit:g}")
        limit = min(limit, given.time_limit)
    return {"integer": integer, "mip_gap": gap, "time_limit": limit}, limit


def _spec(body: AllocationRequest) -> tuple[Any, float]:
    from onthemove.respond.plan_spec import PlanError, parse_plan

    solver, limit = _solver(body)
    data = body.model_dump(mode="json", exclude_none=True, exclude={"method", "gap", "sensitivity", "as_of", "solver"})
    data["solver"] = solver
    try:
        return parse_plan(data), limit
    except PlanError as exc:
        raise ApiError(422, str(exc), code="invalid_plan") from exc


def _allocation_model(result: Any, names: Mapping[str, str], limit: float, as_of: dt.date | None) -> Allocation:
    summary = result.summary()
    plan = result.plan()
    rows = [
        PlanRow(
            rank=int(r["rank"]),
            site_id=str(r["site_id"]),
            name=_plain(r["name"]),
            adm1=_plain(r["adm1"]),
            adm2=_plain(r["adm2"]),
            latitude=_plain(r["latitude"]),
            longitude=_plain(r["longitude"]),
            package=str(r["package"]),
            sector=str(r["sector"]),
            severity=int(r["severity"]),
            people_in_need=int(r["people_in_need"]),
            units=float(r["units"]),
            people_covered=float(r["people_covered"]),
            coverage=float(r["coverage"]),
            cost=float(r["cost"]),
        )
        for r in plan.to_dict("records")
    ]
    areas: list[AreaTotal] = []
    if not plan.empty:
        key = plan["adm1"].fillna("")
        for code, part in plan.groupby(key, sort=False):
            areas.append(
                AreaTotal(
                    area=str(code) or None,
                    name=names.get(str(code)),
                    sites=int(part["site_id"].nunique()),
                    units={str(p): float(u) for p, u in part.groupby("package")["units"].sum().items()},
                    people_covered=round(float(part["people_covered"].sum()), 1),
                    cost=round(float(part["cost"].sum()), 2),
                )
            )
        areas.sort(key=lambda a: (-a.people_covered, a.area or ""))
    packages = [PackageTotal(**{k: _plain(v) for k, v in r.items()}) for r in result.by_package().to_dict("records")]
    greedy = [
        GreedyComparison(
            baseline=g["baseline"],
            status=b["status"],
            objective=g["baseline_objective"],
            people_covered=b["people_covered"],
            cost=b["cost"],
            gain=g["gain"],
            extra_weighted_people=g["extra_weighted_people"],
            extra_people=g["extra_people"],
        )
        for g, b in zip(summary["gains"], summary["baselines"], strict=True)
    ]
    notes = list(summary["notes"])
    if "time limit" in str(summary["status"]).lower():
        notes.insert(
            0,
            f"the solver stopped at its time limit of {limit:g} s: the plan is feasible and within the gap "
            "shown of the best possible",
        )
    return Allocation(
        plan=summary["plan"],
        currency=summary["currency"],
        budget=summary["budget"],
        method=summary["method"],
        status=summary["status"],
        objective=summary["objective"],
        bound=summary["bound"],
        gap=summary["gap"],
        seconds=summary["seconds"],
        time_limit=round(limit, 3),
        people_covered=summary["people_covered"],
        cost=summary["cost"],
        candidates=summary["candidates"],
        sites_eligible=summary["sites_eligible"],
        sites_served=summary["sites_served"],
        packages=packages,
        areas=areas,
        rows=rows,
        served=sorted(result.best.served_sites(result.problem)),
        unreachable=list(result.problem.unreachable),
        greedy=greedy,
        sensitivity=[SensitivityRow(**r) for r in result.sensitivity],
        notes=notes,
        as_of=as_of,
    )


@router.post("/allocations", response_model=Allocation)
def allocations(ctx: Ctx, who: Who, body: AllocationRequest) -> Allocation:
    """The distribution plan that maximises severity-weighted people covered for the budget (HiGHS: a MIP in
    whole units, or the LP), over the needs of every site, with its totals per package and region, the plan's
    rows, the greedy plans it is compared with and, on request, what changes when the budget moves by 10% and 20%.

    The body is a plan spec in the shape of the plan YAML (docs/needs.md) with `method`, `gap` and
    `sensitivity`; a plan the reader refuses, or that cannot be met, is a 422 that says why. Each request solves
    for at most 20 seconds in all. Needs an analyst (or higher) role without a place scope: the plan uses
    unredacted site populations. The same request is answered from the cache while the data do not change."""
    permit(who, "read_aggregates")
    refused = _may_run(who)
    if refused is not None:
        raise ApiError(403, refused, code="forbidden")
    from onthemove.respond.allocate import allocate
    from onthemove.respond.plan_spec import PlanError

    spec, limit = _spec(body)
    view = _needs(ctx, body.as_of)
    if view is None:
        raise ApiError(422, f"the store holds no site assessments the needs rules ({_rules().name}) read")
    needs_now = view.needs

    def compute() -> Allocation:
        result = allocate(needs_now, spec, with_sensitivity=body.sensitivity)  # the budget -20%, -10%, +10%, +20%
        sites = needs_now.sites
        codes = sorted({c for c in sites["adm1"].dropna()})
        return _allocation_model(result, area_names(shared(ctx), codes), limit, body.as_of)

    try:
        return cached(ctx, ("respond-allocation", body.model_dump_json()), compute)
    except PlanError as exc:
        raise ApiError(422, str(exc), code="invalid_plan") from exc


@router.get("/allocations/example", response_model=AllocationExample)
def allocation_example(who: Who) -> AllocationExample:
    """The Demoland example plan (examples/demoland/plan.yaml) as a request body for `POST /allocations`, and
    whether this principal may run it. 404 where the server was installed without the examples."""
    permit(who, "read_aggregates")
    if not EXAMPLE_PLAN.is_file():
        raise ApiError(404, "no example plan: the server was installed without the examples")
    data = yaml.safe_load(EXAMPLE_PLAN.read_text(encoding="utf-8"))
    data.pop("needs_rules", None)
    if isinstance(data.get("weights"), dict):  # YAML's keys are numbers, JSON's text
        data["weights"] = {str(k): v for k, v in data["weights"].items()}
    solver = data.pop("solver", None) or {}
    data["method"] = "lp" if solver.get("integer") is False else "mip"
    data["gap"] = DEFAULT_GAP
    reason = _may_run(who)
    return AllocationExample(
        plan=AllocationRequest.model_validate(data),
        source=f"examples/demoland/{EXAMPLE_PLAN.name}",
        may_run=reason is None,
        reason=reason,
    )


# --- assistance ----------------------------------------------------------------------------------------------


def _period(text: str | None) -> tuple[AssistancePeriod, Period | None]:
    if text is None or text.strip() == "":
        return AssistancePeriod(period=None, start=None, end=None), None
    try:
        p = parse_period(text)
    except PeriodError as exc:
        raise ApiError(400, f"period: {exc}") from exc
    return AssistancePeriod(period=p.label, start=p.start, end=p.end), p


@router.get("/assistance/who-what-where", response_model=WhoWhatWhere)
def who_what_where(
    ctx: Ctx,
    who: Who,
    period: PeriodParam = None,
    place: PlaceParam = None,
    where: Annotated[WhereLevel, Query(description="per site, or per region (adm1) or district (adm2)")] = "site",
) -> WhoWhatWhere:
    """3W/4W from the registry's distributions: per month, organisation and programme, sector and package, and
    site or area, the households reached, the people in them, the quantity and value. Aggregates only.

    Anonymous users, viewers and partners get small cells (fewer households than the suppression threshold, and
    the cells that would give them away through the table's margins) blanked; partners see their scope only."""
    permit(who, "read_aggregates")
    shown, p = _period(period)
    start, end = (p.start, p.end) if p else (None, None)
    with ctx.store() as store:
        code = _place_code(store, who, place)
        key = ("respond-3w", where, start, end, code, who.scope, who.redacted, ctx.threshold)
        table = ctx.cached(
            store,
            key,
            lambda: analysis.who_what_where(
                store, who, where=where, start=start, end=end, threshold=ctx.threshold, place=code
            ),
        )
    return WhoWhatWhere(
        where=where,
        period=shown,
        place=code,
        rows=[WhoWhatWhereRow(**r) for r in table.rows],
        redacted=table.redacted,
        threshold=ctx.threshold if table.redacted else None,
        suppressed=table.suppressed,
        distributions=bool(table.rows),
        notes=list(table.notes),
    )


@router.get("/assistance/gap", response_model=AssistanceGap)
def assistance_gap(
    ctx: Ctx,
    who: Who,
    period: PeriodParam = None,
    place: PlaceParam = None,
    sector: Annotated[str | None, Query(max_length=100, description="only this sector")] = None,
    as_of: AsOfParam = None,
) -> AssistanceGap:
    """People in need (the needs rules over the site assessments) against people reached by distributions in
    the period, per site and sector: the gap (need minus reached, not below 0) and the coverage; the largest gap
    first. Aggregates only; small cells protected as in `who-what-where`, and the people in need of sites
    whose population `/needs` blanks are blanked too."""
    permit(who, "read_aggregates")
    shown, p = _period(period)
    start, end = (p.start, p.end) if p else (None, None)
    view = _needs(ctx, as_of) if who.redacted else None  # before taking the store: it takes it itself
    with ctx.store() as store:
        code = _place_code(store, who, place)
        key = ("respond-gap", start, end, as_of, code, who.scope, who.redacted, ctx.threshold)
        table = ctx.cached(
            store,
            key,
            lambda: analysis.gap(
                store, who, start=start, end=end, as_of=as_of, threshold=ctx.threshold, rules=_rules(), place=code
            ),
        )
    wanted = re.sub(r"[^a-z0-9]+", "_", sector.strip().lower()).strip("_") if sector else None
    hidden = view.hidden if view is not None else frozenset()
    rows = []
    for r in table.rows:
        if wanted and r["sector"] != wanted:
            continue
        row = dict(r)
        if who.redacted and str(row["site_id"]) in hidden and row["people_in_need"]:
            row["people_in_need"] = None
            row["gap"] = None
            row["coverage"] = None
            row["suppressed"] = True
        rows.append(GapRow(**row))
    return AssistanceGap(
        period=shown,
        place=code,
        sector=wanted,
        rows=rows,
        redacted=table.redacted,
        threshold=ctx.threshold if table.redacted else None,
        suppressed=sum(r.suppressed for r in rows),
        distributions=any(r.households is None or r.households > 0 for r in rows),
        notes=list(table.notes),
    )
