"""Response bodies, declared as pydantic models so that the OpenAPI document is precise."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field


def _as_utc(value: dt.datetime) -> dt.datetime:
    """The store keeps UTC without a zone; the API says so (RFC 3339 date-times carry an offset)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


UtcDateTime = Annotated[dt.datetime, AfterValidator(_as_utc)]


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable: bad_request, unauthorized, forbidden, not_found, ...")
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Ready(BaseModel):
    status: Literal["ready"]
    engine: str
    schema_version: int


class PlaceProperties(BaseModel):
    pcode: str
    name: str
    admin_level: int
    parent_pcode: str | None


class PlaceFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    properties: PlaceProperties
    geometry: dict[str, Any] | None


class PlaceCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[PlaceFeature]


class PlaceRef(BaseModel):
    pcode: str
    name: str
    admin_level: int


class PlaceDetailProperties(PlaceProperties):
    ancestors: list[PlaceRef] = Field(
        description="the areas this place lies in, country first; only those the principal may see"
    )


class PlaceDetail(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    properties: PlaceDetailProperties
    geometry: dict[str, Any] | None


class Totals(BaseModel):
    rows: list[dict[str, Any]] = Field(description="one row per group; `count` is null where it was suppressed")
    total_rows: int
    limit: int
    offset: int
    redacted: bool = Field(description="true when counts below `threshold` were blanked")
    threshold: int | None
    suppressed: int = Field(description="how many cells (of all rows, not only this page) were blanked")


class BatchSummary(BaseModel):
    batch_id: str
    kind: str
    source_file: str
    sha256: str
    attribution: str | None
    licence: str | None
    loaded_by: str | None
    loaded_at: UtcDateTime
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    status: str


class BatchDetail(BatchSummary):
    mapping: str | None
    report: dict[str, Any] | None


class Rejection(BaseModel):
    row_number: int | None
    column_name: str | None
    value: str | None
    expected: str | None


class Rejections(BaseModel):
    batch_id: str
    rows: list[Rejection]
    total_rows: int
    limit: int
    offset: int


class BatchReportOut(BaseModel):
    batch_id: str
    kind: str
    source_file: str
    sha256: str
    status: str = Field(description="loaded | unchanged | refused")
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    records_loaded: int
    rejections: list[dict[str, Any]]
    rejection_summary: list[dict[str, Any]]
    unmatched_places: list[dict[str, Any]]
    notes: list[str]
    mapping: str | None
    attribution: str | None
    licence: str | None
    seconds: float


class RollbackOut(BaseModel):
    batch_id: str
    removed: dict[str, int]
    total: int


class SiteOut(BaseModel):
    site_id: str
    name: str | None
    place: str | None
    adm1: str | None
    adm2: str | None
    site_type: str | None
    households: int | None
    individuals: int | None
    latitude: float | None
    longitude: float | None
    needs: dict[str, float] = Field(
        description="`sector.indicator` (or the indicator alone when no sector was recorded) -> its latest value"
    )
    assessed: dt.date | None


class Sites(BaseModel):
    rows: list[SiteOut]
    total_rows: int
    limit: int
    offset: int
    redacted: bool
