"""The foresight endpoints: forecasts per area (for fan charts and a map of change) and early-warning triggers.

Forecasts take seconds (the statistical models compile on first use), so each one is computed once per data
version and kept in the app's result cache: the forecast table itself (shared by ``/forecasts`` and the forecast
conditions of ``/triggers``) and each response built on it. While one is computed the store's lock is taken per
query, not for the whole computation, so other requests are answered in the meantime; two requests for the same
forecast wait for one computation. What is cached is everything the store holds; a partner's place scope and the
redaction of small values for anonymous users and partners are applied to each answer.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, cast

from fastapi import APIRouter, Query, Request

from onthemove.access.policy import Principal
from onthemove.analyse import query as query_module
from onthemove.api.auth import permit
from onthemove.api.context import StoreContext, computed_once, shared_reads
from onthemove.api.errors import ApiError
from onthemove.api.foresight_models import (
    ForecastChange,
    ForecastPoint,
    Forecasts,
    HistoryPoint,
    PlaceForecast,
    TriggerArea,
    TriggerStatuses,
    TriggerStatusOut,
)
from onthemove.api.models import ErrorBody
from onthemove.api.routes import ERRORS, Ctx, Who
from onthemove.foresight.forecast import ENSEMBLE, ForecastError, data_months, parse_origin
from onthemove.foresight.series import month_end
from onthemove.foresight.triggers import (
    Forecaster,
    Trigger,
    TriggerError,
    explain_text,
    load_triggers,
    status,
    store_forecaster,
)
from onthemove.ingest.gazetteer import list_places
from onthemove.store import Store

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")
MONTH = r"^\d{4}-\d{2}$"
LEVEL_NUMBER = {"adm0": 0, "adm1": 1, "adm2": 2}

router = APIRouter(prefix="/api/v1", tags=["foresight"], responses=ERRORS)


def forecaster(ctx: StoreContext) -> Forecaster:
    """``triggers.store_forecaster`` over the app's store, each forecast table computed once per data version."""
    run = store_forecaster(shared_reads(ctx))

    def cached(kind: str, level: str, origin: str, horizon: int, interval: float) -> pd.DataFrame:
        key = ("forecast-table", kind, level, origin, int(horizon), float(interval))
        return computed_once(ctx, key, lambda: run(kind, level, origin, horizon, interval))

    return cached


# --- forecasts -------------------------------------------------------------------------------------------------


def _month_start(origin: dt.date, back: int) -> dt.date:
    index = origin.year * 12 + origin.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _months(first: dt.date, last: dt.date) -> list[str]:
    out = []
    month = first
    while month <= last:
        out.append(f"{month:%Y-%m}")
        month = _month_start(month, -1)
    return out


def _change(observed: float | None, mean: float | None) -> tuple[float | None, float | None]:
    if observed is None or mean is None:
        return None, None
    absolute = mean - observed
    return absolute, (100.0 * absolute / observed if observed else None)


def _number(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _compute_forecasts(
    ctx: StoreContext, kind: str, level: str, origin: str, horizon: int, interval: int, history: int
) -> Forecasts:
    """Every area's forecast at ``level`` with its recent history, unredacted (what the cache keeps)."""
    table = forecaster(ctx)(kind, level, origin, horizon, interval)
    start = parse_origin(origin)
    first = _month_start(start, history - 1)
    q = query_module.Query(kind=kind, by=["month", level], start=first, end=month_end(start))
    with ctx.store() as store:
        observed_rows = query_module.run(store, q).to_pylist()
        names = {r["pcode"]: r for r in _places_at(store, LEVEL_NUMBER[level])}
        span = data_months(store, kind)
    observed: dict[tuple[str, str], float | None] = {
        (str(r[level]), str(r["month"])): _number(r["count"]) for r in observed_rows
    }
    months = _months(first, start)
    data_start = f"{span[0]:%Y-%m}" if span else months[0]
    periods = sorted({str(p) for p in table["period"]})
    places = []
    for pcode, rows in table.groupby("place", sort=True):
        code = str(pcode)
        info = names.get(code, {})
        points = [
            ForecastPoint(period=str(r.period), mean=_number(r.mean), lo=_number(r.lo), hi=_number(r.hi))
            for r in rows.sort_values("period").itertuples()
        ]
        # a month without a movement recorded is a zero (within the data's span); a stock not reported, unknown
        past = [
            HistoryPoint(
                period=m,
                value=observed.get((code, m), 0.0 if kind == "movements" and m >= data_start else None),
            )
            for m in months
        ]
        last_observed = past[-1].value
        last_forecast = points[-1] if points else None
        mean = last_forecast.mean if last_forecast else None
        absolute, percent = _change(last_observed, mean)
        places.append(
            PlaceForecast(
                place=code,
                name=str(info.get("name") or ""),
                admin_level=int(info.get("admin_level", LEVEL_NUMBER[level])),
                parent_pcode=info.get("parent_pcode"),
                forecast=points,
                history=past,
                change=ForecastChange(
                    observed_period=origin,
                    observed=last_observed,
                    period=last_forecast.period if last_forecast else origin,
                    mean=mean,
                    absolute=absolute,
                    percent=percent,
                ),
            )
        )
    return Forecasts(
        kind=cast(Literal["movements", "displacement"], kind),
        level=cast(Literal["adm0", "adm1", "adm2"], level),
        origin=origin,
        horizon=horizon,
        interval=interval,
        model=ENSEMBLE,
        periods=periods,
        places=places,
        redacted=False,
        threshold=None,
        suppressed=0,
    )


def _places_at(store: Store, level: int, place: str | None = None, scope: tuple[str, ...] | None = None) -> list[Any]:
    """The places at ``level`` (inside ``place`` and the scope, when given), as ``list_places`` rows."""
    if scope is not None and not scope:
        return []
    where: list[str] = ["p.admin_level = $level"]
    params: dict[str, Any] = {"level": level}
    for name, codes in (("place", [place.upper()] if place else None), ("scope", list(scope) if scope else None)):
        if codes is not None:
            where.append(query_module.within_sql(name))
            params[name] = codes
    return store.fetch_dicts(
        f"SELECT p.pcode, p.name, p.admin_level, p.parent_pcode FROM places p WHERE {' AND '.join(where)} "
        "ORDER BY p.pcode",
        params,
    )


def redact_forecasts(body: Forecasts, threshold: int) -> Forecasts:
    """A copy with every forecast value and observed count below ``threshold`` blanked (null), and the changes
    computed from blanked values blanked too (a difference would give the small value back)."""
    out = body.model_copy(deep=True)
    blanked = 0

    def keep(value: float | None) -> float | None:
        nonlocal blanked
        if value is not None and value < threshold:
            blanked += 1
            return None
        return value

    for place in out.places:
        for point in place.forecast:
            point.mean, point.lo, point.hi = keep(point.mean), keep(point.lo), keep(point.hi)
        for month in place.history:
            month.value = keep(month.value)
        change = place.change
        change.observed, change.mean = keep(change.observed), keep(change.mean)
        absolute, percent = _change(change.observed, change.mean)
        blanked += (change.absolute is not None and absolute is None) + (change.percent is not None and percent is None)
        change.absolute, change.percent = absolute, percent
    out.redacted, out.threshold, out.suppressed = True, threshold, blanked
    return out


@router.get("/forecasts/{kind}", response_model=Forecasts)
def forecasts(
    ctx: Ctx,
    who: Who,
    kind: Literal["movements", "displacement"],
    level: Annotated[Literal["adm0", "adm1", "adm2"], Query(description="the areas forecast")] = "adm1",
    origin: Annotated[
        str | None, Query(pattern=MONTH, description="the last month of data used, YYYY-MM; default the latest")
    ] = None,
    horizon: Annotated[int, Query(ge=1, le=12, description="months to forecast after the origin")] = 3,
    interval: Annotated[int, Query(ge=50, le=99, description="coverage of the prediction intervals, %")] = 80,
    place: Annotated[str | None, Query(description="only this P-code and the areas at `level` inside it")] = None,
    history: Annotated[int, Query(ge=1, le=120, description="observed months up to the origin to include")] = 24,
) -> Forecasts:
    """Forecasts per area: the ensemble's mean and central prediction interval for each month after the origin,
    reconciled so that districts add up to regions and regions to the country, with each area's recent history
    (for a fan chart) and the change from the last observed month to the last forecast month (for a map).

    The first forecast after the data changed takes seconds; repeats are answered from the cache. Partners see
    the areas in their scope only; anonymous users and partners get values below the suppression threshold as
    null.
    """
    permit(who, "read_aggregates")
    try:
        with ctx.store() as store:
            if origin is None:
                span = data_months(store, kind)
                if span is None:
                    raise ForecastError(f"the store holds no {kind}")
                month = f"{span[1]:%Y-%m}"
            else:
                month = f"{parse_origin(origin):%Y-%m}"
            visible = _visible(store, who, LEVEL_NUMBER[level], place)
        key = ("forecasts", kind, level, month, horizon, interval, history)
        body = computed_once(ctx, key, lambda: _compute_forecasts(ctx, kind, level, month, horizon, interval, history))
    except ForecastError as exc:
        raise ApiError(422, str(exc), code="forecast_error") from exc
    if visible is not None:
        body = body.model_copy(update={"places": [p for p in body.places if p.place in visible]})
    return redact_forecasts(body, ctx.threshold) if who.redacted else body


def _visible(store: Store, who: Principal, level: int, place: str | None) -> set[str] | None:
    """The areas at ``level`` the answer may hold (None: all): inside ``place`` and the principal's scope."""
    if place is None and who.scope is None:
        return None
    if place is not None:
        exists = store.fetch_dicts(
            "SELECT p.pcode FROM places p WHERE p.pcode = $pcode"
            + (" AND " + query_module.within_sql("scope") if who.scope is not None else ""),
            {"pcode": place.upper(), **({"scope": list(who.scope)} if who.scope is not None else {})},
        )
        if not exists:
            raise ApiError(404, f"no place {place!r}")
    return {r["pcode"] for r in _places_at(store, level, place, who.scope)}


# --- triggers --------------------------------------------------------------------------------------------------


def check_triggers_file(path: str | Path | None) -> str:
    """The triggers file the server shows, read and checked once at start-up ("" when there is none): a wrong
    file stops the server with a message that names the trigger and the field."""
    if not path:
        return ""
    load_triggers(path)
    return str(path)


def _any_fires(areas: list[TriggerArea]) -> bool | None:
    """Kleene's OR over the areas: true if any fires, false if all are decided and none fires, else null."""
    if any(a.fires for a in areas):
        return True
    if areas and all(a.fires is False for a in areas):
        return False
    return None


def _evaluate(ctx: StoreContext, declared: list[Trigger], as_of: str | None) -> list[TriggerStatusOut]:
    store = shared_reads(ctx)
    out = []
    for trig in declared:
        try:
            found = status(store, [trig], as_of=as_of, forecaster=forecaster(ctx) if trig.uses_forecasts else None)
            error = None
        except ValueError as exc:  # TriggerError, ForecastError: this trigger cannot be evaluated on this store
            found, error = [], str(exc)
        areas = [
            TriggerArea(
                area=s.area, name=s.name, fires=s.fires, explanation=explain_text(s.evidence), evidence=s.evidence
            )
            for s in found
        ]
        out.append(
            TriggerStatusOut(
                name=trig.name,
                description=trig.description,
                condition=trig.when.describe(),
                event=trig.event.describe(),
                uses_forecasts=trig.uses_forecasts,
                firing=_any_fires(areas),
                as_of=found[0].month if found else as_of,
                areas=areas,
                error=error,
            )
        )
    return out


def redact_evidence(evidence: dict[str, Any], threshold: int) -> dict[str, Any]:
    """Forecast figures (people) below ``threshold`` blanked; driver readings (rainfall, events) are kept."""
    out = dict(evidence)
    if "parts" in out:
        out["parts"] = [redact_evidence(p, threshold) for p in out["parts"]]
    elif "values" not in out:
        for key in ("mean", "lo", "hi", "threshold"):
            value = out.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool) and value < threshold:
                out[key] = None
    return out


def _redact_area(area: TriggerArea, threshold: int) -> TriggerArea:
    evidence = redact_evidence(area.evidence, threshold)
    return area.model_copy(update={"evidence": evidence, "explanation": explain_text(evidence)})


@router.get("/triggers", response_model=TriggerStatuses, responses={500: {"model": ErrorBody}})
def triggers(
    request: Request,
    ctx: Ctx,
    who: Who,
    as_of: Annotated[
        str | None, Query(pattern=MONTH, description="the month to test, YYYY-MM; default each trigger's latest")
    ] = None,
) -> TriggerStatuses:
    """The early-warning triggers of the server's triggers file (setting `triggers`): whether each fires, area
    by area, with the figures behind each decision. Triggers on forecasts take seconds the first time."""
    permit(who, "read_aggregates")
    threshold = ctx.threshold if who.redacted else None
    path = getattr(request.app.state, "triggers_file", "")
    if not path:
        return TriggerStatuses(configured=False, file=None, triggers=[], redacted=who.redacted, threshold=threshold)
    try:
        stat = Path(path).stat()
        declared = load_triggers(path)
    except (OSError, TriggerError) as exc:
        raise ApiError(500, f"the server's triggers file cannot be used: {exc}", code="triggers_file") from exc
    key = ("triggers", str(path), stat.st_mtime_ns, stat.st_size, as_of)
    found = computed_once(ctx, key, lambda: _evaluate(ctx, declared, as_of))
    visible: set[str] | None = None
    if who.scope is not None:
        with ctx.store() as store:
            visible = {r["pcode"] for r in list_places(store, scope=who.scope)}
    shown = []
    for trig in found:
        areas = trig.areas if visible is None else [a for a in trig.areas if a.area in visible]
        if who.redacted:
            areas = [_redact_area(a, ctx.threshold) for a in areas]
        shown.append(trig.model_copy(update={"areas": areas, "firing": _any_fires(areas) if not trig.error else None}))
    return TriggerStatuses(
        configured=True, file=Path(path).name, triggers=shown, redacted=who.redacted, threshold=threshold
    )
