"""Response bodies of the foresight endpoints (forecasts and trigger status), precise for the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ForecastPoint(BaseModel):
    period: str = Field(description="the forecast month, YYYY-MM")
    mean: float | None = Field(description="the forecast (reconciled over the admin hierarchy); null: redacted")
    lo: float | None = Field(description="lower end of the central prediction interval; null: redacted")
    hi: float | None = Field(description="upper end of the central prediction interval; null: redacted")


class HistoryPoint(BaseModel):
    period: str = Field(description="an observed month, YYYY-MM")
    value: float | None = Field(
        description="the observed monthly total (arrivals in the month; people displaced: the latest report); "
        "null where nothing was reported (people displaced) or where it was redacted"
    )


class ForecastChange(BaseModel):
    """The forecast of the last month of the horizon against the last observed month: what the map shows."""

    observed_period: str = Field(description="the last observed month (the origin)")
    observed: float | None = Field(description="its observed total; null: not reported or redacted")
    period: str = Field(description="the last forecast month")
    mean: float | None = Field(description="its forecast; null: redacted")
    absolute: float | None = Field(description="mean - observed; null when either is unknown")
    percent: float | None = Field(description="100 * (mean - observed) / observed; null when observed is 0 or unknown")


class PlaceForecast(BaseModel):
    place: str = Field(description="the area's P-code")
    name: str
    admin_level: int
    parent_pcode: str | None
    forecast: list[ForecastPoint] = Field(description="one point per month after the origin, in order")
    history: list[HistoryPoint] = Field(description="the observed months up to the origin, in order")
    change: ForecastChange


class Forecasts(BaseModel):
    kind: Literal["movements", "displacement"]
    level: Literal["adm0", "adm1", "adm2"]
    origin: str = Field(description="the last month of data the forecast uses, YYYY-MM")
    horizon: int = Field(description="months forecast after the origin")
    interval: int = Field(description="coverage of the prediction intervals, percent")
    model: str = Field(description="the model whose forecast this is (the ensemble, reconciled)")
    periods: list[str] = Field(description="the forecast months, YYYY-MM")
    places: list[PlaceForecast] = Field(description="the areas at `level` with data, that the principal may see")
    redacted: bool = Field(description="true when values below `threshold` were blanked")
    threshold: int | None
    suppressed: int = Field(description="how many values (forecasts, history, changes) were blanked")


class TriggerArea(BaseModel):
    area: str = Field(description="the area's P-code")
    name: str
    fires: bool | None = Field(description="true: the trigger fires here; null: undetermined (missing data)")
    explanation: str = Field(description="the decision and the figures behind it, in one line")
    evidence: dict[str, Any] = Field(
        description="the figures behind the decision: driver values and their normal by month, or the "
        "forecast's probability of exceeding the threshold with its mean and interval; `parts` for all/any"
    )


class TriggerStatusOut(BaseModel):
    name: str
    description: str
    condition: str = Field(description="when the trigger fires, in words")
    event: str = Field(description="what the trigger is meant to anticipate, in words")
    uses_forecasts: bool
    firing: bool | None = Field(
        description="true when it fires in any area shown, false when it fires in none and every area is decided, "
        "null otherwise (undetermined, or it could not be evaluated)"
    )
    as_of: str | None = Field(description="the month tested, YYYY-MM")
    areas: list[TriggerArea]
    error: str | None = Field(description="why the trigger could not be evaluated on this store, if it could not")


class TriggerStatuses(BaseModel):
    configured: bool = Field(description="false when the server has no triggers file (setting `triggers`)")
    file: str | None = Field(description="the triggers file's name")
    triggers: list[TriggerStatusOut]
    redacted: bool = Field(description="true when forecast figures below `threshold` were blanked")
    threshold: int | None
