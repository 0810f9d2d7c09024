"""The results framework as IATI 2.03 activities: every project node becomes an activity, and the indicators of
the project and of the results chain beneath it become its results, with baselines, targets, actuals per period,
their disaggregation as dimensions (sex, age, reason, ...) and as locations (the areas' P-codes).

What a project needs is declared under ``iati`` in the framework file: ``identifier`` (the IATI activity
identifier, prefixed by the publisher's organisation identifier), ``status`` (ActivityStatus code), ``start`` and
``end`` (planned dates), ``recipient_country`` (ISO 3166-1 alpha-2), ``sectors`` (DAC 5-digit codes with
percentages), ``humanitarian`` (true/false), ``scope`` (a humanitarian scope: ``type``, ``vocabulary``,
``code``), ``places`` (P-codes to list as locations; default: the areas the indicators have values for).

The file leaves the organisation: disaggregated counts of people below the suppression threshold are left out
(never rounded or altered), and the export says how many.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from onthemove.account import values
from onthemove.account.framework import Framework, Indicator, Node
from onthemove.account.periods import Period, parse_period
from onthemove.share.iati import codes
from onthemove.share.iati import model as iati
from onthemove.store.base import Store

RESULT_TYPES = {
    "output": codes.ResultType.OUTPUT,
    "activity": codes.ResultType.OUTPUT,
    "short_term_outcome": codes.ResultType.OUTCOME,
    "long_term_outcome": codes.ResultType.OUTCOME,
    "outcome_area": codes.ResultType.IMPACT,
}
MEASURES = {
    "unit": codes.IndicatorMeasure.UNIT,
    "ratio": codes.IndicatorMeasure.UNIT,
    "percentage": codes.IndicatorMeasure.PERCENTAGE,
    "nominal": codes.IndicatorMeasure.NOMINAL,
    "ordinal": codes.IndicatorMeasure.ORDINAL,
    "qualitative": codes.IndicatorMeasure.QUALITATIVE,
}
SEX = {"f": "female", "m": "male", "other": "other"}


class ExportError(ValueError):
    pass


@dataclass
class Export:
    activities: list[iati.Activity]
    suppressed: int = 0  # disaggregated values left out because they were below the threshold
    notes: list[str] = field(default_factory=list)


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ExportError(f"{where}: expected an ISO date (YYYY-MM-DD), got {value!r}") from None


def _places(store: Store, codes_: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not codes_:
        return {}
    rows = store.fetch_dicts(
        "SELECT p.pcode, p.name, p.admin_level, g.centroid_lat AS lat, g.centroid_lon AS lon FROM places p "
        "LEFT JOIN place_geometries g ON g.pcode = p.pcode WHERE list_contains($codes, p.pcode)",
        {"codes": list(codes_)},
    )
    return {r["pcode"]: r for r in rows}


def _location(info: dict[str, Any], country: str | None) -> iati.Location:
    level = int(info["admin_level"])
    admin = (iati.Administrative(codes.GeographicVocabulary.ISO_COUNTRY, country, 0),) if country else ()
    point = None
    if info.get("lat") is not None and info.get("lon") is not None:
        point = iati.Point(round(float(info["lat"]), 5), round(float(info["lon"]), 5))
    return iati.Location(
        ref=info["pcode"],
        name=str(info["name"]),
        reach=codes.GeographicLocationReach.INTENDED_BENEFICIARIES,
        administrative=admin,
        point=point,
        exactness=codes.GeographicExactness.APPROXIMATE if point else None,
        location_class=codes.GeographicLocationClass.ADMINISTRATIVE_REGION,
        feature_designation=f"ADM{level}" if level else "PCLI",
    )


class _Builder:
    def __init__(self, store: Store, fw: Framework, periods: Sequence[Period], threshold: int) -> None:
        self.store, self.fw, self.periods, self.threshold = store, fw, periods, threshold
        self.suppressed = 0
        self.places_used: set[str] = set()

    def _small(self, ind: Indicator, value: float) -> bool:
        """A disaggregated count of people too small to publish."""
        return (
            ind.measure == "unit"
            and ind.unit in ("people", "persons", "individuals", "households")
            and (0 < value < self.threshold)
        )

    def _breakdowns(self, ind: Indicator, period: Period) -> list[iati.PeriodValue]:
        out = []
        for dim in ind.disaggregation:
            for row in values.breakdown(self.store, ind, period, None, dim):
                value = row["value"]
                if value is None:
                    continue
                if self._small(ind, value):
                    self.suppressed += 1
                    continue
                if dim == "place":
                    self.places_used.add(str(row["key"]))
                    out.append(iati.PeriodValue(round(value, 4), locations=(str(row["key"]),)))
                else:
                    key = SEX.get(str(row["key"]), str(row["key"])) if dim == "sex" else str(row["key"])
                    out.append(iati.PeriodValue(round(value, 4), dimensions=(iati.Dimension(dim, key),)))
        return out

    def indicator(self, ind: Indicator) -> iati.Indicator:
        base = values.baseline(self.store, self.fw, ind, None)
        baselines: tuple[iati.Baseline, ...] = ()
        if base is not None:
            bp = parse_period(base.period)
            baselines = (iati.Baseline(bp.end.year, round(base.value, 4), iso_date=bp.end),)
        periods = []
        for p in self.periods:
            actual = values.actual(self.store, self.fw, ind, p, None)
            target = values.target(self.store, ind, None, p)
            targets = (iati.PeriodValue(round(target.value, 4)),) if target is not None else ()
            actuals: tuple[iati.PeriodValue, ...] = ()
            if actual is not None:
                actuals = (iati.PeriodValue(round(actual.value, 4)), *self._breakdowns(ind, p))
            if targets or actuals:
                periods.append(iati.Period(p.start, p.end, targets=targets, actuals=actuals))
        ascending = {"increase": True, "decrease": False}.get(ind.direction)
        return iati.Indicator(
            ind.name,
            MEASURES[ind.measure],
            description=ind.description or None,
            ascending=ascending,
            aggregation_status=ind.aggregation in ("sum", "ratio"),
            references=(iati.IndicatorReference(codes.IndicatorVocabulary.REPORTING_ORGANISATION, ind.code),),
            baselines=baselines,
            periods=tuple(periods),
        )

    def results(self, project: Node) -> list[iati.Result]:
        out = []
        for node in [project, *self.fw.descendants(project.id)]:
            inds = [i for i in self.fw.indicators.values() if i.node == node.id]
            if not inds:
                continue
            out.append(
                iati.Result(
                    RESULT_TYPES.get(node.kind, codes.ResultType.OTHER),
                    node.title,
                    tuple(self.indicator(i) for i in inds),
                    description=node.statement or None,
                    aggregation_status=True,
                )
            )
        return out


def activities(
    store: Store,
    fw: Framework,
    periods: Sequence[str | Period],
    publisher: iati.Organisation,
    threshold: int = 10,
    now: dt.datetime | None = None,
) -> Export:
    """Every project of the framework as an IATI activity with its results over ``periods``.

    Indicators carry their framework code as a reference (vocabulary 99, the reporting organisation's); IATI
    allows references on a result or on its indicators, not both, so results carry none."""
    ps = [parse_period(p) if isinstance(p, str) else p for p in periods]
    if not ps:
        raise ExportError("give at least one reporting period")
    projects = [n for n in fw.nodes.values() if n.kind == "project"]
    if not projects:
        raise ExportError(f"the framework {fw.name} has no project: IATI publishes projects (kind: project)")
    export = Export([])
    for node in projects:
        b = _Builder(store, fw, ps, threshold)
        info = dict(node.iati)
        where = f"{node.source}: node {node.id}: iati"
        ident = str(info.get("identifier") or f"{publisher.ref}-{node.id}")
        if publisher.ref and not ident.startswith(publisher.ref):
            export.notes.append(f"{node.id}: identifier {ident} does not start with the publisher's {publisher.ref}")
        results = b.results(node)
        country = info.get("recipient_country")
        chosen = [str(p).upper() for p in info.get("places") or sorted(b.places_used)]
        found = _places(store, chosen)
        missing = [p for p in chosen if p not in found]
        if missing:
            raise ExportError(f"{where}.places: no place {missing[0]!r} in the gazetteer")
        dates = []
        if info.get("start"):
            dates.append(
                iati.ActivityDate(codes.ActivityDateType.PLANNED_START, _date(info["start"], f"{where}.start"))
            )
        if info.get("end"):
            dates.append(iati.ActivityDate(codes.ActivityDateType.PLANNED_END, _date(info["end"], f"{where}.end")))
        if not dates:
            dates.append(iati.ActivityDate(codes.ActivityDateType.PLANNED_START, ps[0].start))
        sectors = tuple(iati.Sector(str(s["code"]), percentage=s.get("percentage")) for s in info.get("sectors") or [])
        scopes: tuple[iati.HumanitarianScope, ...] = ()
        if info.get("scope"):
            sc = info["scope"]
            scopes = (
                iati.HumanitarianScope(
                    codes.HumanitarianScopeType(str(sc["type"])),
                    codes.HumanitarianScopeVocabulary(str(sc["vocabulary"])),
                    str(sc["code"]),
                ),
            )
        try:
            activity = iati.Activity(
                identifier=ident,
                reporting_org=publisher,
                title=node.title,
                description=node.statement or node.title,
                status=codes.ActivityStatus(str(info.get("status", "2"))),
                dates=tuple(dates),
                participating_orgs=(iati.ParticipatingOrg(publisher, codes.OrganisationRole.IMPLEMENTING),),
                recipient_countries=(iati.RecipientCountry(str(country)),) if country else (),
                locations=tuple(_location(found[p], str(country) if country else None) for p in chosen),
                sectors=sectors,
                humanitarian=bool(info["humanitarian"]) if "humanitarian" in info else None,
                humanitarian_scopes=scopes,
                results=tuple(results),
                last_updated=now,
            )
        except (ValueError, KeyError) as exc:
            raise ExportError(f"{where}: {exc}") from None
        export.activities.append(activity)
        export.suppressed += b.suppressed
    return export
