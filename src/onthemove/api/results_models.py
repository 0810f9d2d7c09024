"""Response bodies of the results-framework endpoints (the framework, its indicators and progress reports),
precise for the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

NodeKind = Literal[
    "objective",
    "enabler",
    "cross_cutting",
    "outcome_area",
    "long_term_outcome",
    "short_term_outcome",
    "output",
    "activity",
    "project",
]
Status = Literal["on track", "at risk", "off track", "no target", "no data"]
FigureSource = Literal["computed", "reported", "framework", "children"]


# --- the framework -----------------------------------------------------------------------------------------


class SdgGoal(BaseModel):
    id: str = Field(description="the id nodes link with, e.g. SDG10.7")
    goal: int | None = Field(description="the goal's number")
    target: str | None = Field(default=None, description="the SDG target, e.g. 10.7, when the link is to one")
    title: str


class FrameworkNode(BaseModel):
    id: str = Field(description="e.g. O1, O1.4, E4, or a user's node such as a project's output")
    kind: NodeKind = Field(description="objective, enabler or cross_cutting on top; the results chain beneath")
    parent: str | None = Field(description="the node above; null for objectives, enablers and cross-cutting")
    depth: int = Field(description="0 on top, one more per link below")
    title: str
    statement: str = Field(description="the result statement; empty when the framework gives none")
    sdg: list[str] = Field(description="ids of the SDGs (see `sdg`) the node contributes to")
    indicators: list[str] = Field(description="codes of the indicators that measure this node itself")
    children: list[str] = Field(description="ids of the nodes directly below, in framework order")
    source: str = Field(description="the name of the framework file that defined the node")


class ResultsFramework(BaseModel):
    name: str
    title: str
    vision: str
    sources: list[str] = Field(description="the framework files, the default first, by name")
    summary: dict[str, int] = Field(description="nodes per kind, and `indicators`: how many indicators")
    sdg: list[SdgGoal]
    nodes: list[FrameworkNode] = Field(description="every node in framework order (a parent before its children)")


class ElementOut(BaseModel):
    table: str = Field(description="the canonical table the value is computed over")
    value: str = Field(description="what is counted or summed (people, records, sites, ...)")
    where: dict[str, Any] = Field(description="column filters: a value, a list of values, or {operator: number}")


class TargetOut(BaseModel):
    period: str = Field(description="YYYY, YYYY-Qn, YYYY-MM or a range")
    value: float | None = Field(description="null for a baseline computed from the store over its period")
    place: str | None = Field(description="the P-code it holds for; null: the programme as a whole")


class StatusRules(BaseModel):
    on_track: float = Field(description="on track from this share of the expected progress")
    at_risk: float = Field(description="at risk from this share of the expected progress (below: off track)")
    tolerance: float = Field(description="maintain indicators: the relative distance from the target still on track")


class IndicatorDefinition(BaseModel):
    code: str
    node: str = Field(description="the id of the framework node it measures")
    name: str
    unit: str
    measure: Literal["unit", "percentage", "ratio", "nominal", "ordinal", "qualitative"]
    direction: Literal["increase", "decrease", "maintain"]
    aggregation: Literal["sum", "mean", "latest", "ratio", "none"]
    disaggregation: list[str] = Field(description="the dimensions the report breaks its actual down by")
    source: Literal["computed", "reported", "children"] = Field(
        description="computed from the store's tables, reported (imported values), or the sum/mean of `children`"
    )
    numerator: ElementOut | None
    denominator: ElementOut | None
    factor: float
    children: list[str] = Field(description="codes of the indicators whose values it aggregates")
    baseline: TargetOut | None
    targets: list[TargetOut]
    status: StatusRules
    description: str
    file: str = Field(description="the name of the framework file that defined it (a later file wins)")


class IndicatorDefinitions(BaseModel):
    framework: str
    indicators: list[IndicatorDefinition]


# --- the report --------------------------------------------------------------------------------------------


class FigureOut(BaseModel):
    value: float | None = Field(description="null only where it was suppressed")
    period: str = Field(description="the period the figure is for")
    source: FigureSource = Field(
        description="computed from the store, reported (imported), stated in the framework, or from child indicators"
    )
    suppressed: bool = Field(default=False, description="true: a count under the suppression threshold, blanked")


class BreakdownRow(BaseModel):
    key: str = Field(description="the category: a P-code for `place`, else the dimension's value (f, m, conflict...)")
    value: float | None = Field(description="null where suppressed")
    suppressed: bool = Field(
        default=False, description="true: blanked (under the threshold, or to protect one that is)"
    )


class MonthValue(BaseModel):
    month: str = Field(description="YYYY-MM")
    value: float | None = Field(description="null where suppressed")
    suppressed: bool = False


class NodeRef(BaseModel):
    id: str
    kind: NodeKind
    title: str


class IndicatorResult(BaseModel):
    indicator: str = Field(description="the indicator's code")
    name: str
    node: str
    unit: str
    measure: str
    direction: str
    place: str | None = Field(description="the P-code reported on; null: the whole programme")
    period: str
    actual: FigureOut | None = Field(description="null: no value for the period (status `no data`)")
    baseline: FigureOut | None
    target: FigureOut | None
    status: Status = Field(description="written out, never told by colour alone")
    reason: str = Field(description="why the status is what it is, with the figures behind it")
    progress: float | None = Field(description="share of the way from baseline to target achieved")
    expected: float | None = Field(description="share of the time from baseline to target passed")
    disaggregation: dict[str, list[BreakdownRow]] = Field(
        description="the actual broken down by each dimension with values (`place`: the areas one level down)"
    )
    months: list[MonthValue] = Field(description="computed indicators month by month (empty for reported ones)")


class SectionOut(BaseModel):
    node: str
    kind: NodeKind
    title: str
    path: list[NodeRef] = Field(description="the node and the nodes above it, top first")
    indicators: list[IndicatorResult]


class StatusCounts(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    on_track: int = Field(alias="on track")
    at_risk: int = Field(alias="at risk")
    off_track: int = Field(alias="off track")
    no_target: int = Field(alias="no target")
    no_data: int = Field(alias="no data")


class ResultsReport(BaseModel):
    """A progress report: every indicator of a part of the framework for a period and a place."""

    framework: str
    title: str
    period: str = Field(description="the period as parsed: YYYY, YYYY-Qn, YYYY-MM, a date or FROM..TO")
    period_start: dt.date
    period_end: dt.date = Field(description="inclusive")
    place: str | None = Field(description="the P-code reported on; null: the whole programme")
    place_name: str
    part: str | None = Field(description="the node whose part of the framework is reported; null: all of it")
    generated: str = Field(description="when the report was computed (UTC, ISO 8601)")
    status_counts: StatusCounts
    sections: list[SectionOut] = Field(description="one per node with indicators, in framework order")
    redacted: bool = Field(description="true when counts under `threshold` were blanked (anonymous users, partners)")
    threshold: int | None = Field(description="the suppression threshold applied; null when nothing was redacted")
    suppressed: int = Field(description="how many values were blanked")
