"""What an IATI 2.03 activity file says, as plain frozen dataclasses: the writer's only input.

The classes follow the IATI elements they become (``docs/iati.md`` has the mapping). Each checks itself when it
is made, so that a model that can be built can also be written as a file that passes the 2.03 XSD and the
standard's own rules: required parts present, codes from ``codes`` enums, refs without ``/ & | ?``, dates in
order, percentages that add up to 100, numeric values where the indicator measure is a unit or a percentage,
result locations that name a location of the activity. A broken model raises ``ValueError`` saying what and where.

Text is a plain ``str`` (written in the activity's language) or a tuple of ``Narrative`` (one per language).
Sequences may be given as lists; they are stored as tuples.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation

from onthemove.share.iati.codes import (
    DEFAULT_LANGUAGE,
    ActivityDateType,
    ActivityScope,
    ActivityStatus,
    BudgetStatus,
    BudgetType,
    GeographicExactness,
    GeographicLocationClass,
    GeographicLocationReach,
    GeographicVocabulary,
    HumanitarianScopeType,
    HumanitarianScopeVocabulary,
    IndicatorMeasure,
    IndicatorVocabulary,
    OrganisationRole,
    OrganisationType,
    RegionVocabulary,
    ResultType,
    ResultVocabulary,
    SectorVocabulary,
)

Number = int | float | Decimal
# XML 1.0 characters (no control characters other than tab and newlines, no lone surrogates, no U+FFFE/U+FFFF)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BAD_REF = re.compile(r"[/&|?]")
_LANG = re.compile(r"^[a-z]{2,3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Narrative:
    """One text in one language (``lang`` None: the activity's language)."""

    text: str
    lang: str | None = None

    def __post_init__(self) -> None:
        _check_text(self.text, "narrative")
        if self.lang is not None and not _LANG.match(self.lang):
            raise ValueError(f"narrative language must be an ISO 639-1 code such as 'en', not {self.lang!r}")


Text = str | tuple[Narrative, ...]


def narratives(text: Text) -> tuple[Narrative, ...]:
    """The narratives of a text: a plain string is one narrative in the activity's language."""
    return (Narrative(text),) if isinstance(text, str) else text


def _text(obj: object, name: str, *, optional: bool = False) -> None:
    value = getattr(obj, name)
    if value is None and optional:
        return
    if isinstance(value, str):
        _check_text(value, f"{type(obj).__name__}.{name}")
        return
    if isinstance(value, list | tuple) and value and all(isinstance(n, Narrative) for n in value):
        object.__setattr__(obj, name, tuple(value))
        return
    raise ValueError(f"{type(obj).__name__}.{name} must be a non-empty string or narratives, not {value!r}")


def _check_text(text: str, where: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: text must not be empty")
    bad = _NOT_XML.search(text)
    if bad:
        raise ValueError(f"{where}: character {bad.group()!r} cannot be written in XML")


def _tuples(obj: object) -> None:
    """Lists given for sequence fields become tuples (the classes are frozen and hashable)."""
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, list):
            object.__setattr__(obj, f.name, tuple(value))


def _ref(value: str | None, where: str, *, required: bool = False) -> None:
    if value is None:
        if required:
            raise ValueError(f"{where} is required")
        return
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where} must be a non-empty string")
    _check_text(value, where)
    if _BAD_REF.search(value):
        raise ValueError(f"{where} {value!r} must not contain / & | or ? (IATI rule)")


def _code(value: object, enum: type, where: str) -> None:
    if not isinstance(value, enum):
        raise ValueError(f"{where} must be a {enum.__name__} (codes.{enum.__name__}), not {value!r}")


def _decimal(value: Number | str, where: str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{where} must be a number, not {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} must be a finite number, not {value!r}")
        return Decimal(repr(value))
    try:
        d = Decimal(value) if isinstance(value, int | str) else value
    except InvalidOperation:
        raise ValueError(f"{where} must be a number, not {value!r}") from None
    if not isinstance(d, Decimal) or not d.is_finite():
        raise ValueError(f"{where} must be a finite number, not {value!r}")
    return d


def format_number(value: Number | str) -> str:
    """A number as an XSD decimal: no exponent, no sign on zero, the digits it was given with."""
    d = _decimal(value, "value")
    return format(d.copy_abs() if d.is_zero() else d, "f")


def _percentages(items: Iterable[object], where: str) -> None:
    """If any item has a percentage, every item has one, each within 0..100, and they add up to 100."""
    given = [getattr(i, "percentage", None) for i in items]
    if all(p is None for p in given):
        return
    if any(p is None for p in given):
        raise ValueError(f"{where}: give a percentage for every item or for none")
    values = [_decimal(p, f"{where} percentage") for p in given if p is not None]
    if any(v < 0 or v > 100 for v in values):
        raise ValueError(f"{where}: percentages must lie between 0 and 100")
    if sum(values, Decimal(0)) != 100:
        raise ValueError(f"{where}: percentages add up to {sum(values, Decimal(0))}, not 100")


@dataclass(frozen=True)
class Organisation:
    """An organisation: ``ref`` is its IATI organisation identifier (e.g. ``XM-DAC-41121``)."""

    ref: str | None
    name: Text
    type: OrganisationType | None = None

    def __post_init__(self) -> None:
        _ref(self.ref, "organisation ref")
        _text(self, "name")
        if self.type is not None:
            _code(self.type, OrganisationType, "organisation type")


@dataclass(frozen=True)
class ParticipatingOrg:
    org: Organisation
    role: OrganisationRole
    activity_id: str | None = None  # the organisation's own IATI activity for this work

    def __post_init__(self) -> None:
        _code(self.role, OrganisationRole, "participating-org role")
        _ref(self.activity_id, "participating-org activity-id")


@dataclass(frozen=True)
class ActivityDate:
    type: ActivityDateType
    iso_date: dt.date

    def __post_init__(self) -> None:
        _code(self.type, ActivityDateType, "activity-date type")
        _date(self.iso_date, "activity-date iso-date")


def _date(value: object, where: str) -> None:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValueError(f"{where} must be a datetime.date, not {value!r}")


@dataclass(frozen=True)
class RecipientCountry:
    code: str  # ISO 3166-1 alpha-2 (codelist Country)
    percentage: Number | None = None
    name: Text | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _COUNTRY.match(self.code):
            raise ValueError(f"recipient-country code must be ISO 3166-1 alpha-2 such as 'SO', not {self.code!r}")
        _text(self, "name", optional=True)


@dataclass(frozen=True)
class RecipientRegion:
    code: str  # codelist Region for vocabulary 1
    vocabulary: RegionVocabulary = RegionVocabulary.OECD_DAC
    percentage: Number | None = None
    name: Text | None = None

    def __post_init__(self) -> None:
        _ref(self.code, "recipient-region code", required=True)
        _code(self.vocabulary, RegionVocabulary, "recipient-region vocabulary")
        _text(self, "name", optional=True)


@dataclass(frozen=True)
class Sector:
    """A sector: a DAC 5-digit purpose code (``codes.DacSector``) unless another vocabulary is named."""

    code: str
    vocabulary: SectorVocabulary = SectorVocabulary.DAC_5
    percentage: Number | None = None
    name: Text | None = None
    vocabulary_uri: str | None = None

    def __post_init__(self) -> None:
        _ref(str(self.code) if self.code is not None else None, "sector code", required=True)
        object.__setattr__(self, "code", str(self.code))
        _code(self.vocabulary, SectorVocabulary, "sector vocabulary")
        if self.vocabulary == SectorVocabulary.DAC_5 and not re.fullmatch(r"\d{5}", self.code):
            raise ValueError(f"a DAC 5-digit sector code has five digits, not {self.code!r}")
        _text(self, "name", optional=True)
        _uri(self.vocabulary_uri, "sector vocabulary-uri")


def _uri(value: str | None, where: str) -> None:
    if value is not None and (not isinstance(value, str) or not re.match(r"^https?://\S+$", value)):
        raise ValueError(f"{where} must be an http(s) URL without spaces, not {value!r}")


@dataclass(frozen=True)
class HumanitarianScope:
    """The emergency (a GLIDE number) or appeal (an OCHA humanitarian plan code) an activity responds to."""

    type: HumanitarianScopeType
    vocabulary: HumanitarianScopeVocabulary
    code: str
    narrative: Text | None = None
    vocabulary_uri: str | None = None

    def __post_init__(self) -> None:
        _code(self.type, HumanitarianScopeType, "humanitarian-scope type")
        _code(self.vocabulary, HumanitarianScopeVocabulary, "humanitarian-scope vocabulary")
        _ref(self.code, "humanitarian-scope code", required=True)
        if self.vocabulary == HumanitarianScopeVocabulary.GLIDE and self.type != HumanitarianScopeType.EMERGENCY:
            raise ValueError("a GLIDE number names an emergency: use type EMERGENCY")
        if (
            self.vocabulary == HumanitarianScopeVocabulary.HUMANITARIAN_PLAN
            and self.type != HumanitarianScopeType.APPEAL
        ):
            raise ValueError("a humanitarian plan code names an appeal: use type APPEAL")
        _text(self, "narrative", optional=True)
        _uri(self.vocabulary_uri, "humanitarian-scope vocabulary-uri")


@dataclass(frozen=True)
class LocationId:
    """A code from a gazetteer that IATI knows (``GeographicVocabulary``)."""

    vocabulary: GeographicVocabulary
    code: str

    def __post_init__(self) -> None:
        _code(self.vocabulary, GeographicVocabulary, "location-id vocabulary")
        _ref(self.code, "location-id code", required=True)


@dataclass(frozen=True)
class Administrative:
    """The administrative area a location lies in; ``level`` 0 is the country."""

    vocabulary: GeographicVocabulary
    code: str
    level: int | None = None

    def __post_init__(self) -> None:
        _code(self.vocabulary, GeographicVocabulary, "administrative vocabulary")
        _ref(self.code, "administrative code", required=True)
        if self.level is not None and (isinstance(self.level, bool) or not isinstance(self.level, int)):
            raise ValueError(f"administrative level must be an integer, not {self.level!r}")
        if self.level is not None and self.level < 0:
            raise ValueError(f"administrative level must not be negative, not {self.level}")


@dataclass(frozen=True)
class Point:
    """WGS 84 latitude and longitude in degrees."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        for name, value, bound in (("lat", self.lat, 90), ("lon", self.lon, 180)):
            d = _decimal(value, f"point {name}")
            if abs(d) > bound:
                raise ValueError(f"point {name} {value} lies outside -{bound}..{bound}")


@dataclass(frozen=True)
class Location:
    """A place the activity works in or for.

    ``ref`` is the activity's own reference for the place: we use the OCHA P-code, because IATI 2.03 has no
    gazetteer vocabulary for P-codes. Results point at a location by this ref. ``ids`` and ``administrative``
    carry codes from the gazetteers IATI does know (GAUL, GADM, Geonames, ISO country ...).
    """

    ref: str | None = None
    name: Text | None = None
    description: Text | None = None
    activity_description: Text | None = None
    reach: GeographicLocationReach | None = None
    ids: tuple[LocationId, ...] = ()
    administrative: tuple[Administrative, ...] = ()
    point: Point | None = None
    exactness: GeographicExactness | None = None
    location_class: GeographicLocationClass | None = None
    feature_designation: str | None = None  # a Geonames feature code such as "ADM2" or "PPL"

    def __post_init__(self) -> None:
        _tuples(self)
        _ref(self.ref, "location ref")
        for name in ("name", "description", "activity_description"):
            _text(self, name, optional=True)
        if self.reach is not None:
            _code(self.reach, GeographicLocationReach, "location-reach code")
        if self.exactness is not None:
            _code(self.exactness, GeographicExactness, "exactness code")
        if self.location_class is not None:
            _code(self.location_class, GeographicLocationClass, "location-class code")
        if self.feature_designation is not None and not re.fullmatch(r"[A-Z0-9]{1,10}", self.feature_designation):
            raise ValueError(f"feature-designation must be a Geonames feature code, not {self.feature_designation!r}")
        if self.ref is None and self.name is None and self.point is None and not self.ids and not self.administrative:
            raise ValueError("a location needs at least a ref, a name, a point, an id or an administrative code")


@dataclass(frozen=True)
class Budget:
    period_start: dt.date
    period_end: dt.date
    value: Number
    value_date: dt.date
    currency: str | None = None  # None: the activity's default currency
    type: BudgetType = BudgetType.ORIGINAL
    status: BudgetStatus = BudgetStatus.INDICATIVE

    def __post_init__(self) -> None:
        _date(self.period_start, "budget period-start")
        _date(self.period_end, "budget period-end")
        _date(self.value_date, "budget value-date")
        if self.period_end < self.period_start:
            raise ValueError(f"budget period ends ({self.period_end}) before it starts ({self.period_start})")
        _decimal(self.value, "budget value")
        if self.currency is not None and not _CURRENCY.match(str(self.currency)):
            raise ValueError(f"budget currency must be an ISO 4217 code such as 'USD', not {self.currency!r}")
        _code(self.type, BudgetType, "budget type")
        _code(self.status, BudgetStatus, "budget status")


@dataclass(frozen=True)
class Dimension:
    """One category of a disaggregation, such as ``Dimension("sex", "female")`` or ``Dimension("age", "0-17")``."""

    name: str
    value: str

    def __post_init__(self) -> None:
        _check_text(self.name, "dimension name")
        _check_text(self.value, "dimension value")


@dataclass(frozen=True)
class Baseline:
    year: int
    value: Number | str | None = None
    iso_date: dt.date | None = None
    locations: tuple[str, ...] = ()  # refs of the activity's locations
    dimensions: tuple[Dimension, ...] = ()
    comment: Text | None = None

    def __post_init__(self) -> None:
        _tuples(self)
        if isinstance(self.year, bool) or not isinstance(self.year, int) or self.year < 1:
            raise ValueError(f"baseline year must be a positive integer, not {self.year!r}")
        if self.iso_date is not None:
            _date(self.iso_date, "baseline iso-date")
        _values(self, "baseline")


@dataclass(frozen=True)
class PeriodValue:
    """A target or an actual of a period: a value, for some locations and one cell of a disaggregation."""

    value: Number | str | None = None
    locations: tuple[str, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    comment: Text | None = None

    def __post_init__(self) -> None:
        _tuples(self)
        _values(self, "target/actual")


def _values(obj: Baseline | PeriodValue, where: str) -> None:
    if isinstance(obj.value, str):
        _check_text(obj.value, f"{where} value")
    elif obj.value is not None:
        _decimal(obj.value, f"{where} value")
    for ref in obj.locations:
        _ref(ref, f"{where} location ref", required=True)
    for d in obj.dimensions:
        if not isinstance(d, Dimension):
            raise ValueError(f"{where} dimensions must be Dimension objects, not {d!r}")
    _text(obj, "comment", optional=True)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    targets: tuple[PeriodValue, ...] = ()
    actuals: tuple[PeriodValue, ...] = ()

    def __post_init__(self) -> None:
        _tuples(self)
        _date(self.start, "period-start")
        _date(self.end, "period-end")
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")


@dataclass(frozen=True)
class IndicatorReference:
    vocabulary: IndicatorVocabulary
    code: str
    indicator_uri: str | None = None

    def __post_init__(self) -> None:
        _code(self.vocabulary, IndicatorVocabulary, "indicator reference vocabulary")
        _check_text(self.code, "indicator reference code")
        _uri(self.indicator_uri, "indicator-uri")


@dataclass(frozen=True)
class ResultReference:
    vocabulary: ResultVocabulary
    code: str
    vocabulary_uri: str | None = None

    def __post_init__(self) -> None:
        _code(self.vocabulary, ResultVocabulary, "result reference vocabulary")
        _check_text(self.code, "result reference code")
        _uri(self.vocabulary_uri, "result reference vocabulary-uri")


@dataclass(frozen=True)
class Indicator:
    title: Text
    measure: IndicatorMeasure
    description: Text | None = None
    ascending: bool | None = None
    aggregation_status: bool | None = None
    references: tuple[IndicatorReference, ...] = ()
    baselines: tuple[Baseline, ...] = ()
    periods: tuple[Period, ...] = ()

    def __post_init__(self) -> None:
        _tuples(self)
        _text(self, "title")
        _text(self, "description", optional=True)
        _code(self.measure, IndicatorMeasure, "indicator measure")
        numeric = self.measure in (IndicatorMeasure.UNIT, IndicatorMeasure.PERCENTAGE)
        values: list[tuple[str, Baseline | PeriodValue]] = [("baseline", b) for b in self.baselines]
        for p in self.periods:
            values += [("target", t) for t in p.targets] + [("actual", a) for a in p.actuals]
        for kind, v in values:
            if v.value is None and self.measure != IndicatorMeasure.QUALITATIVE:
                raise ValueError(f"indicator {_first(self.title)!r}: a {kind} needs a value (measure {self.measure})")
            if numeric and v.value is not None:
                _decimal(v.value, f"indicator {_first(self.title)!r} {kind} value")


def _first(text: Text) -> str:
    return narratives(text)[0].text


@dataclass(frozen=True)
class Result:
    type: ResultType
    title: Text
    indicators: tuple[Indicator, ...]
    description: Text | None = None
    aggregation_status: bool | None = None
    references: tuple[ResultReference, ...] = ()

    def __post_init__(self) -> None:
        _tuples(self)
        _code(self.type, ResultType, "result type")
        _text(self, "title")
        _text(self, "description", optional=True)
        if not self.indicators:
            raise ValueError(f"result {_first(self.title)!r} needs at least one indicator")
        if self.references and any(i.references for i in self.indicators):
            raise ValueError(f"result {_first(self.title)!r}: references on the result or its indicators, not both")


@dataclass(frozen=True)
class Activity:
    """One IATI activity. ``identifier`` starts with the reporting organisation's ref (``XM-DAC-41121-...``)."""

    identifier: str
    reporting_org: Organisation
    title: Text
    description: Text
    status: ActivityStatus
    dates: tuple[ActivityDate, ...]
    participating_orgs: tuple[ParticipatingOrg, ...]
    objectives: Text | None = None
    target_groups: Text | None = None
    scope: ActivityScope | None = None
    recipient_countries: tuple[RecipientCountry, ...] = ()
    recipient_regions: tuple[RecipientRegion, ...] = ()
    locations: tuple[Location, ...] = ()
    sectors: tuple[Sector, ...] = ()
    humanitarian: bool | None = None
    humanitarian_scopes: tuple[HumanitarianScope, ...] = ()
    budgets: tuple[Budget, ...] = ()
    results: tuple[Result, ...] = ()
    lang: str = DEFAULT_LANGUAGE
    default_currency: str | None = None
    last_updated: dt.datetime | None = None

    def __post_init__(self) -> None:
        _tuples(self)
        where = f"activity {self.identifier!r}"
        _ref(self.identifier, "iati-identifier", required=True)
        org = self.reporting_org
        if org.ref is None or org.type is None:
            raise ValueError(f"{where}: the reporting organisation needs a ref and a type")
        if not self.identifier.startswith(org.ref):
            raise ValueError(f"{where}: the identifier must start with the reporting organisation's ref {org.ref!r}")
        for name in ("title", "description"):
            _text(self, name)
        for name in ("objectives", "target_groups"):
            _text(self, name, optional=True)
        _code(self.status, ActivityStatus, f"{where}: status")
        if self.scope is not None:
            _code(self.scope, ActivityScope, f"{where}: scope")
        if not _LANG.match(str(self.lang)):
            raise ValueError(f"{where}: lang must be an ISO 639-1 code such as 'en', not {self.lang!r}")
        if self.default_currency is not None and not _CURRENCY.match(str(self.default_currency)):
            raise ValueError(f"{where}: default_currency must be an ISO 4217 code, not {self.default_currency!r}")
        if self.last_updated is not None and not isinstance(self.last_updated, dt.datetime):
            raise ValueError(f"{where}: last_updated must be a datetime")
        self._check_dates(where)
        if not self.participating_orgs:
            raise ValueError(f"{where}: needs at least one participating organisation")
        if not self.sectors:
            raise ValueError(f"{where}: needs at least one sector (IATI rule)")
        _percentages([*self.recipient_countries, *self.recipient_regions], f"{where}: recipient countries and regions")
        for vocabulary in {s.vocabulary for s in self.sectors}:
            _percentages([s for s in self.sectors if s.vocabulary == vocabulary], f"{where}: sectors ({vocabulary})")
        if self.humanitarian_scopes and self.humanitarian is False:
            raise ValueError(f"{where}: has a humanitarian scope but humanitarian is False")
        if any(b.currency is None for b in self.budgets) and self.default_currency is None:
            raise ValueError(f"{where}: a budget without a currency needs the activity's default_currency")
        self._check_location_refs(where)

    def _check_dates(self, where: str) -> None:
        if not self.dates:
            raise ValueError(f"{where}: needs at least one activity date")
        by_type: dict[ActivityDateType, dt.date] = {}
        for d in self.dates:
            if d.type in by_type:
                raise ValueError(f"{where}: more than one activity date of type {d.type.name}")
            by_type[d.type] = d.iso_date
        if ActivityDateType.PLANNED_START not in by_type and ActivityDateType.ACTUAL_START not in by_type:
            raise ValueError(f"{where}: needs a planned or an actual start date (IATI rule)")
        for start, end in (
            (ActivityDateType.PLANNED_START, ActivityDateType.PLANNED_END),
            (ActivityDateType.ACTUAL_START, ActivityDateType.ACTUAL_END),
        ):
            if start in by_type and end in by_type and by_type[end] < by_type[start]:
                raise ValueError(f"{where}: {end.name.lower()} {by_type[end]} is before {start.name.lower()}")

    def _check_location_refs(self, where: str) -> None:
        refs = [loc.ref for loc in self.locations if loc.ref is not None]
        if len(refs) != len(set(refs)):
            raise ValueError(f"{where}: two locations have the same ref")
        known = set(refs)
        for result in self.results:
            for indicator in result.indicators:
                values: list[Baseline | PeriodValue] = list(indicator.baselines)
                for p in indicator.periods:
                    values += [*p.targets, *p.actuals]
                for v in values:
                    missing = [r for r in v.locations if r not in known]
                    if missing:
                        raise ValueError(f"{where}: result location {missing[0]!r} is not a location of the activity")
