"""The results-framework endpoints: the framework (objectives, enablers, cross-cutting priorities and the results
chain beneath), its indicators, and progress reports (JSON, XLSX, HTML) for a period, a place and a part.

The framework is read once per app, at start-up, from the default (IOM Strategic Plan 2024-2028) plus the files
of the setting ``results_framework`` (``serve --results-framework``); a wrong file stops the server. A report is
computed once per data version, query and place scope (the app's result cache) and redacted per answer.

Who sees what: results are aggregates, readable by everyone who may read aggregates. A partner (a user with a
place scope) gets reports for places inside the scope only, and their own area when they name none; a place
outside it is the same 404 as one that does not exist. Anonymous users and partners get the counts that could
single people out blanked: for indicators measured as counts (measure ``unit``), an actual or a data-based
baseline under the setting ``suppression_threshold``, every breakdown value and monthly value under it, and, where
exactly one value of a breakdown or of the months is blanked while the total is shown, the next smallest too, so
that it cannot be worked out as the total minus the others. Blanked values are null with ``suppressed: true``;
the reason of an indicator whose figures were blanked no longer quotes them. Shares, ratios and means are not
counts and are kept; targets are stated, not measured, and are kept.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from onthemove.access.policy import Principal
from onthemove.account import compute
from onthemove.account import framework as framework_module
from onthemove.account import report as report_module
from onthemove.account.framework import Framework, Indicator
from onthemove.account.periods import Period, PeriodError, parse_period
from onthemove.account.report import Line, Report, Section
from onthemove.account.values import Figure
from onthemove.analyse.query import within_sql
from onthemove.api.auth import permit
from onthemove.api.context import StoreContext
from onthemove.api.context import computed_once as cached
from onthemove.api.context import shared_reads as shared
from onthemove.api.errors import ApiError
from onthemove.api.results_models import (
    BreakdownRow,
    ElementOut,
    FigureOut,
    FrameworkNode,
    IndicatorDefinition,
    IndicatorDefinitions,
    IndicatorResult,
    MonthValue,
    NodeRef,
    ResultsFramework,
    ResultsReport,
    SdgGoal,
    SectionOut,
    StatusCounts,
    StatusRules,
    TargetOut,
)
from onthemove.api.routes import ERRORS, Ctx, Who
from onthemove.store import Store

router = APIRouter(prefix="/api/v1/results", tags=["results"], responses=ERRORS)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def load_results_framework(files: str | Sequence[str | Path] | None) -> Framework:
    """The framework the server shows: the default extended by ``files`` (comma-separated text, as the setting
    ``results_framework`` holds it, or a list), read and checked once; a wrong file raises ``FrameworkError``
    with the file and the place in it."""
    if isinstance(files, str):
        paths: list[str | Path] = [p.strip() for p in files.split(",") if p.strip()]
    else:
        paths = list(files or [])
    return framework_module.load(paths)


def _framework(request: Request) -> Framework:
    fw: Framework = request.app.state.results_framework
    return fw


Fw = Annotated[Framework, Depends(_framework)]

PeriodParam = Annotated[
    str,
    Query(
        min_length=1,
        max_length=40,
        description="YYYY, YYYY-Qn, YYYY-MM, YYYY-MM-DD or FROM..TO of any of these (e.g. 2026, 2026-Q3)",
    ),
]
PlaceParam = Annotated[
    str | None,
    Query(
        max_length=40,
        description="a P-code; default the whole programme (a partner: their own area, when their scope is one)",
    ),
]
PartParam = Annotated[
    str | None,
    Query(max_length=100, description="a framework node (e.g. O1, O1.4, E4): it and the results beneath it"),
]


# --- the framework -------------------------------------------------------------------------------------------


@router.get("/framework", response_model=ResultsFramework)
def framework(who: Who, fw: Fw) -> ResultsFramework:
    """The results framework as a flat list of nodes in framework order (each names its parent, depth and
    children, so a client can draw the tree), with the indicators measuring each node and the SDGs it
    contributes to."""
    permit(who, "read_aggregates")
    children: dict[str | None, list[str]] = {}
    for node in fw.nodes.values():
        children.setdefault(node.parent, []).append(node.id)
    measures: dict[str, list[str]] = {}
    for ind in fw.indicators.values():
        measures.setdefault(ind.node, []).append(ind.code)
    nodes = [
        FrameworkNode(
            id=n.id,
            kind=cast(Any, n.kind),
            parent=n.parent,
            depth=len(fw.path(n.id)) - 1,
            title=n.title,
            statement=n.statement,
            sdg=list(n.sdg),
            indicators=measures.get(n.id, []),
            children=children.get(n.id, []),
            source=Path(n.source).name,
        )
        for n in fw.nodes.values()
    ]
    sdg = [
        SdgGoal(
            id=str(g["id"]),
            goal=int(g["goal"]) if isinstance(g.get("goal"), int | float | str) and str(g["goal"]).isdigit() else None,
            target=str(g["target"]) if g.get("target") is not None else None,
            title=str(g.get("title", "")),
        )
        for g in fw.sdg.values()
    ]
    return ResultsFramework(
        name=fw.name,
        title=fw.title,
        vision=fw.vision,
        sources=[Path(s).name for s in fw.sources],
        summary=fw.summary(),
        sdg=sdg,
        nodes=nodes,
    )


def _part(fw: Framework, part: str | None) -> str | None:
    if part is None or part == "":
        return None
    if part not in fw.nodes:
        raise ApiError(404, f"no node {part!r} in the results framework")
    return part


def _definition(ind: Indicator) -> IndicatorDefinition:
    def element(e: Any) -> ElementOut | None:
        return None if e is None else ElementOut(table=e.table, value=e.value, where=dict(e.where))

    return IndicatorDefinition(
        code=ind.code,
        node=ind.node,
        name=ind.name,
        unit=ind.unit,
        measure=cast(Any, ind.measure),
        direction=cast(Any, ind.direction),
        aggregation=cast(Any, ind.aggregation),
        disaggregation=list(ind.disaggregation),
        source="computed" if ind.computed else ("children" if ind.children else "reported"),
        numerator=element(ind.numerator),
        denominator=element(ind.denominator),
        factor=ind.factor,
        children=list(ind.children),
        baseline=None
        if ind.baseline is None
        else TargetOut(period=ind.baseline.period, value=ind.baseline.value, place=ind.baseline.place),
        targets=[TargetOut(period=t.period, value=t.value, place=t.place) for t in ind.targets],
        status=StatusRules(on_track=ind.status.on_track, at_risk=ind.status.at_risk, tolerance=ind.status.tolerance),
        description=ind.description,
        file=Path(ind.source).name,
    )


@router.get("/indicators", response_model=IndicatorDefinitions)
def indicators(who: Who, fw: Fw, part: PartParam = None) -> IndicatorDefinitions:
    """The indicators' definitions: what each measures, how its value is found (computed from the store's
    tables, reported, or aggregated from child indicators), its disaggregations, baseline, targets and the
    rules that decide its status."""
    permit(who, "read_aggregates")
    node = _part(fw, part)
    if node is None:
        found = list(fw.indicators.values())
    else:
        keep = {n.id for n in fw.part(node)}
        found = [i for i in fw.indicators.values() if i.node in keep]
    return IndicatorDefinitions(framework=fw.name, indicators=[_definition(i) for i in found])


# --- reports -------------------------------------------------------------------------------------------------


def _period(text: str) -> Period:
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise ApiError(400, f"period: {exc}") from exc


def _place(store: Store, who: Principal, place: str | None) -> str | None:
    """The P-code to report on: the one asked for if it exists (and lies in the principal's scope: else the
    same 404), else the programme, or a partner's own area."""
    if place is None or place.strip() == "":
        if who.scope is None:
            return None
        if len(who.scope) == 1:
            return who.scope[0]
        raise ApiError(
            400, f"reports for a place scope are one area at a time: ask for place= one of {', '.join(who.scope)}"
        )
    code = place.strip().upper()
    scope_sql, params = "", cast(dict[str, Any], {"pcode": code})
    if who.scope is not None:
        scope_sql, params = " AND " + within_sql("scope"), {"pcode": code, "scope": list(who.scope)}
    if not store.fetch_dicts(f"SELECT p.pcode FROM places p WHERE p.pcode = $pcode{scope_sql}", params):
        raise ApiError(404, f"no place {place!r}")
    return code


def _build(
    ctx: StoreContext, who: Principal, fw: Framework, period: str, place: str | None, part: str | None
) -> Report:
    """The report for the principal's place scope (unredacted), from the cache while the data have not changed."""
    permit(who, "read_aggregates")
    p = _period(period)
    node = _part(fw, part)
    try:
        with ctx.store() as store:
            code = _place(store, who, place)
        key = ("results-report", id(fw), tuple(fw.sources), p.start, p.end, p.label, code, node, who.scope)
        # computed once per data version (the app's result cache), taking the store's lock per query rather than
        # for the whole report (seconds on a large store), so that other requests are answered meanwhile
        return cached(ctx, key, lambda: report_module.build(shared(ctx), fw, p, code, node, scope=who.scope))
    except compute.ComputeError as exc:
        raise ApiError(400, str(exc)) from exc


def _counts(ind: Indicator) -> bool:
    """Indicators whose values count something (people, sites): small values could single people out."""
    return ind.measure == "unit"


def _protect(values: list[float | None], threshold: int, total_shown: bool) -> list[bool]:
    """Which values to blank: those under ``threshold``, and, where exactly one is and the total is shown, the
    smallest other one too (else the blanked one is the total minus the rest)."""
    hide = [v is not None and v < threshold for v in values]
    if total_shown and sum(hide) == 1:
        rest = [i for i, h in enumerate(hide) if not h and values[i] is not None]
        if rest:
            hide[min(rest, key=lambda i: cast(float, values[i]))] = True
    return hide


def _blank(fig: Figure | None, threshold: int) -> tuple[Figure | None, bool]:
    if fig is None or fig.source == "framework" or fig.value >= threshold:
        return fig, False
    return replace(fig, value=cast(float, None)), True


def redact_report(built: Report, threshold: int) -> tuple[Report, int]:
    """A copy of the report with the counts that could single people out blanked (see the module's docstring),
    and how many values were blanked. The cached report is left as it was."""
    blanked = 0
    sections = []
    for section in built.sections:
        lines = []
        for line in section.lines:
            ev, ind = line.evaluation, line.evaluation.indicator
            if not _counts(ind):
                lines.append(line)
                continue
            actual, small_actual = _blank(ev.actual, threshold)
            baseline, small_baseline = _blank(ev.baseline, threshold)
            if small_actual or small_baseline:
                blanked += small_actual + small_baseline
                shown = "the actual" if small_actual else "the baseline"
                if small_actual and small_baseline:
                    shown = "the actual and the baseline"
                ev = replace(
                    ev,
                    actual=actual,
                    baseline=baseline,
                    progress=None,
                    reason=f"{ev.status}: {shown} of {ind.code} for {ev.period.label} are under the suppression "
                    f"threshold of {threshold} and are not shown",
                )
            total_shown = ev.actual is not None and not small_actual
            breakdowns = {}
            for dim, rows in line.breakdowns.items():
                hide = _protect([r["value"] for r in rows], threshold, total_shown)
                blanked += sum(hide)
                breakdowns[dim] = [{**r, "value": None} if h else dict(r) for r, h in zip(rows, hide, strict=True)]
            hide = _protect([v for _, v in line.months], threshold, total_shown)
            blanked += sum(hide)
            months = [(m, cast(float, None) if h else v) for (m, v), h in zip(line.months, hide, strict=True)]
            lines.append(Line(ev, breakdowns, months))
        sections.append(Section(section.node, section.path, lines))
    return replace(built, sections=sections), blanked


def _figure(fig: dict[str, Any] | None) -> FigureOut | None:
    if fig is None:
        return None
    return FigureOut(value=fig["value"], period=fig["period"], source=fig["source"], suppressed=fig["value"] is None)


def _model(built: Report, redacted: bool, threshold: int | None, suppressed: int) -> ResultsReport:
    body = built.as_dict()
    sections = [
        SectionOut(
            node=s["node"],
            kind=s["kind"],
            title=s["title"],
            path=[NodeRef(**n) for n in s["path"]],
            indicators=[
                IndicatorResult(
                    **{
                        k: v
                        for k, v in i.items()
                        if k not in ("actual", "baseline", "target", "disaggregation", "months")
                    },
                    actual=_figure(i["actual"]),
                    baseline=_figure(i["baseline"]),
                    target=_figure(i["target"]),
                    disaggregation={
                        dim: [
                            BreakdownRow(key=str(r["key"]), value=r["value"], suppressed=r["value"] is None)
                            for r in rows
                        ]
                        for dim, rows in i["disaggregation"].items()
                    },
                    months=[
                        MonthValue(month=m["month"], value=m["value"], suppressed=m["value"] is None)
                        for m in i["months"]
                    ],
                )
                for i in s["indicators"]
            ],
        )
        for s in body["sections"]
    ]
    return ResultsReport(
        framework=body["framework"],
        title=body["title"],
        period=body["period"],
        period_start=built.period.start,
        period_end=built.period.end,
        place=body["place"],
        place_name=body["place_name"],
        part=body["part"],
        generated=body["generated"],
        status_counts=StatusCounts.model_validate(body["status_counts"]),
        sections=sections,
        redacted=redacted,
        threshold=threshold,
        suppressed=suppressed,
    )


def _shown(ctx: StoreContext, who: Principal, built: Report) -> tuple[Report, int]:
    """The report as this principal may see it, and how many values were blanked."""
    if not who.redacted:
        return built, 0
    return redact_report(built, ctx.threshold)


@router.get("/report", response_model=ResultsReport)
def report(
    ctx: Ctx, who: Who, fw: Fw, period: PeriodParam, place: PlaceParam = None, part: PartParam = None
) -> ResultsReport:
    """A progress report: for every indicator of the framework (or of `part` and the results beneath it), its
    baseline, target and actual for `place` over `period`, its status (on track, at risk, off track, no target,
    no data) and the reason, its breakdowns by each of its disaggregation dimensions, and (computed
    indicators) its months.

    Partners get their own area (or a place inside it); anonymous users and partners get the counts that could
    single people out (under the suppression threshold, and one more where one alone would be given away by the
    total) as null with `suppressed: true`. A bad period is a 400; an unknown node or place a 404."""
    built = _build(ctx, who, fw, period, place, part)
    shown, suppressed = _shown(ctx, who, built)
    return _model(shown, who.redacted, ctx.threshold if who.redacted else None, suppressed)


def _filename(built: Report, suffix: str) -> str:
    parts = ["results", built.period.label, built.place or "", built.part or ""]
    name = "-".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) + suffix


def _for_file(ctx: StoreContext, who: Principal, built: Report) -> Report:
    """The report for a file: redacted as the JSON is, and the title says so (the file travels on its own)."""
    shown, _ = _shown(ctx, who, built)
    if not who.redacted:
        return shown
    title = f"{shown.framework.title} (counts under {ctx.threshold} are not shown)"
    shown = replace(shown, framework=replace(shown.framework, title=title))
    return shown


XLSX: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLSX_TYPE: {}}, "description": "The report as an XLSX workbook (Summary, Status, ...)"}
}
HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "The report as one self-contained HTML page with charts"}
}


@router.get("/report.xlsx", response_class=Response, responses=XLSX)
def report_xlsx(
    ctx: Ctx, who: Who, fw: Fw, period: PeriodParam, place: PlaceParam = None, part: PartParam = None
) -> Response:
    """The report as a workbook: Summary (one row per indicator), Status, Disaggregation and Months (long
    tables), Framework (every node). Redacted as `/report` is."""
    built = _for_file(ctx, who, _build(ctx, who, fw, period, place, part))
    with tempfile.TemporaryDirectory(prefix="onthemove-results-") as work:
        path = report_module.to_xlsx(built, Path(work) / "report.xlsx")
        content = path.read_bytes()
    name = _filename(built, ".xlsx")
    return Response(content, media_type=XLSX_TYPE, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/report.html", response_class=Response, responses=HTML)
def report_html(
    ctx: Ctx, who: Who, fw: Fw, period: PeriodParam, place: PlaceParam = None, part: PartParam = None
) -> Response:
    """The report as one self-contained HTML page (charts as inline SVG, each with its figures as a table), to
    save, print or send. Redacted as `/report` is; blanked months are left out of the month charts."""
    built = _for_file(ctx, who, _build(ctx, who, fw, period, place, part))
    if who.redacted:  # the page's month charts draw numbers only
        built = replace(
            built,
            sections=[
                Section(
                    s.node,
                    s.path,
                    [Line(x.evaluation, x.breakdowns, [(m, v) for m, v in x.months if v is not None]) for x in s.lines],
                )
                for s in built.sections
            ],
        )
    name = _filename(built, ".html")
    return Response(
        report_module.to_html(built),
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
