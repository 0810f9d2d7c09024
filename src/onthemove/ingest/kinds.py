"""The canonical kinds of record, declared once: fields, types, required fields and ranges.

Validation, the mapping files, the HXL tag table and the exports all read these declarations,
so a new field is added here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # text | int | float | date | pcode
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    default: str | None = None
    hxl: str | None = None  # the tag used on exports
    help: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    fields: tuple[Field, ...]
    help: str
    # at least one of these must be present on a row (e.g. a movement needs an origin or a destination)
    one_of: tuple[str, ...] = field(default=())

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


SEX = ("total", "f", "m", "other")
GROUPS = ("idps", "returnees", "refugees", "asylum_seekers", "migrants", "host", "stateless", "other")

# Text fields: #population and #affected are numeric hashtags, so "idps", "f" or "18-59" under them
# fail libhxl's default schema. HXL 1.1 has no core text hashtag for these (1.0 removed #sex and #age in
# favour of +f/+m/+children attributes on counts); its rule for that case is an x_ extension hashtag.
_disagg = (
    Field("sex", "text", default="total", choices=SEX, hxl="#x_sex", help="total, f, m or other"),
    Field("age_group", "text", default="total", hxl="#x_age", help="total or an age band such as 0-4, 18-59, 60+"),
)

DISPLACEMENT = Kind(
    "displacement",
    "displacement",
    (
        Field("place", "pcode", required=True, hxl="#adm+code", help="P-code of the area where people are"),
        Field("date", "date", required=True, hxl="#date+reported", help="reporting date (ISO)"),
        Field("round", "int", minimum=0, hxl="#round+code", help="assessment round number"),
        Field("population_group", "text", default="idps", choices=GROUPS, hxl="#x_population+type"),
        Field("reason", "text", hxl="#cause+type", help="displacement reason (conflict, drought, flood, ...)"),
        Field("origin", "pcode", hxl="#adm+code+origin", help="P-code of the area of origin"),
        *_disagg,
        Field("count", "int", required=True, minimum=0, hxl="#affected+num", help="number of individuals"),
    ),
    "displacement stocks: people present in an area at a date (DTM baseline / mobility tracking)",
)

MOVEMENTS = Kind(
    "movements",
    "movements",
    (
        Field("from_place", "pcode", hxl="#adm+code+origin", help="P-code of origin"),
        Field("to_place", "pcode", hxl="#adm+code+dest", help="P-code of arrival"),
        Field("date", "date", required=True, hxl="#date+reported", help="end of the period the movement counts"),
        Field("population_group", "text", default="idps", choices=GROUPS, hxl="#x_population+type"),
        Field("reason", "text", hxl="#cause+type"),
        *_disagg,
        Field("count", "int", required=True, minimum=0, hxl="#affected+num"),
    ),
    "movements (flows) from an origin to a destination during a period (PRMN, flow monitoring)",
    one_of=("from_place", "to_place"),
)

SITES = Kind(
    "sites",
    "sites",
    (
        Field("site_id", "text", required=True, hxl="#loc+code", help="site code, e.g. CCCM-SO1101-0001"),
        Field("name", "text", hxl="#loc+name"),
        Field("place", "pcode", hxl="#adm+code", help="P-code of the admin area that holds the site"),
        Field("site_type", "text", hxl="#loc+type"),
        Field("households", "int", minimum=0, hxl="#population+hh"),
        Field("individuals", "int", minimum=0, hxl="#population+ind"),
        Field("latitude", "float", minimum=-90, maximum=90, hxl="#geo+lat"),
        Field("longitude", "float", minimum=-180, maximum=180, hxl="#geo+lon"),
        Field("date", "date", hxl="#date+updated"),
    ),
    "site registry: camps, collective centres, informal settlements (CCCM master list)",
)

SITE_ASSESSMENTS = Kind(
    "site_assessments",
    "site_assessments",
    (
        Field("site_id", "text", required=True, hxl="#loc+code"),
        Field("date", "date", required=True, hxl="#date+assessed"),
        Field("sector", "text", hxl="#sector"),
        Field("indicator", "text", required=True, hxl="#indicator+code"),
        Field("value", "float", required=True, hxl="#indicator+value+num"),
    ),
    "site assessments in long form: site, date, indicator, value (DTM SA, REACH DSA)",
)

DRIVER_EVENTS = Kind(
    "driver_events",
    "driver_events",
    (
        Field("place", "pcode", hxl="#adm+code"),
        Field("date", "date", required=True, hxl="#date+occurred"),
        Field("driver", "text", required=True, hxl="#event+type", help="conflict, rainfall, hazard, price, ..."),
        Field("indicator", "text", required=True, hxl="#indicator+code", help="events, fatalities, rainfall_mm"),
        Field("value", "float", required=True, hxl="#indicator+value+num"),
        Field("event_id", "text", hxl="#event+code"),
        Field("latitude", "float", minimum=-90, maximum=90, hxl="#geo+lat"),
        Field("longitude", "float", minimum=-180, maximum=180, hxl="#geo+lon"),
    ),
    "drivers of displacement: conflict events, rainfall, hazards, prices",
)

VALUE_TYPES = ("baseline", "target", "actual")

INDICATOR_VALUES = Kind(
    "indicator_values",
    "indicator_values",
    (
        Field(
            "indicator", "text", required=True, hxl="#indicator+code", help="indicator code in the results framework"
        ),
        Field(
            "value_type",
            "text",
            required=True,
            choices=VALUE_TYPES,
            hxl="#indicator+type",
            help="baseline, target or actual",
        ),
        Field(
            "period_start", "date", required=True, hxl="#date+start", help="first day of the period the value is for"
        ),
        Field("period_end", "date", hxl="#date+end", help="last day of the period (default: end of the start's month)"),
        Field("place", "pcode", hxl="#adm+code", help="P-code the value is for (empty: the whole programme)"),
        *_disagg,
        Field("population_group", "text", default="all", choices=("all", *GROUPS), hxl="#x_population+type"),
        Field("disability", "text", default="all", choices=("all", "with", "without"), hxl="#x_disability"),
        Field("value", "float", required=True, hxl="#indicator+value+num", help="the value, in the indicator's unit"),
        Field("comment", "text", hxl="#description", help="where the figure comes from, caveats"),
    ),
    "reported indicator values: baselines, targets and actuals per period, place and disaggregation",
)

KINDS: dict[str, Kind] = {
    k.name: k for k in (DISPLACEMENT, MOVEMENTS, SITES, SITE_ASSESSMENTS, DRIVER_EVENTS, INDICATOR_VALUES)
}


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind {name!r}; expected one of: {', '.join(KINDS)}") from None
