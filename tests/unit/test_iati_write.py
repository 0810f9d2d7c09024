"""The IATI 2.03 writer: valid against the official XSD, elements in the XSD's order, the same bytes every time.

XSD checks need the schemas from ../shared/standards/iati (never copied into the repository) and are skipped
without them; the order and determinism tests run everywhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from onthemove.share.iati import codes as c
from onthemove.share.iati import model as m
from onthemove.share.iati.example import GENERATED, example_activities
from onthemove.share.iati.validate import SchemasMissing, find_schemas, validate_bytes, validate_file
from onthemove.share.iati.write import to_bytes, write_activities

# the sequence of iati-activity in iati-activities-schema.xsd 2.03, in order
ACTIVITY_ORDER = [
    "iati-identifier", "reporting-org", "title", "description", "participating-org", "other-identifier",
    "activity-status", "activity-date", "contact-info", "activity-scope", "recipient-country", "recipient-region",
    "location", "sector", "tag", "country-budget-items", "humanitarian-scope", "policy-marker", "collaboration-type",
    "default-flow-type", "default-finance-type", "default-aid-type", "default-tied-status", "budget",
    "planned-disbursement", "capital-spend", "transaction", "document-link", "related-activity", "legacy-data",
    "conditions", "result", "crs-add", "fss",
]  # fmt: skip
LOCATION_ORDER = [
    "location-reach", "location-id", "name", "description", "activity-description", "administrative", "point",
    "exactness", "location-class", "feature-designation",
]  # fmt: skip
RESULT_ORDER = ["title", "description", "document-link", "reference", "indicator"]
INDICATOR_ORDER = ["title", "description", "document-link", "reference", "baseline", "period"]
BASELINE_ORDER = ["location", "dimension", "document-link", "comment"]
PERIOD_ORDER = ["period-start", "period-end", "target", "actual"]
VALUE_ORDER = ["location", "dimension", "comment", "document-link"]


def schemas_or_skip() -> Path:
    try:
        return find_schemas()
    except SchemasMissing as exc:
        pytest.skip(f"IATI 2.03 schemas not present: {str(exc)[:120]}")


def example_bytes() -> bytes:
    return to_bytes(example_activities(), generated=GENERATED)


def assert_order(el: etree._Element, order: list[str]) -> None:
    names = [child.tag for child in el if isinstance(child.tag, str)]
    assert all(n in order for n in names), (el.tag, names)
    positions = [order.index(n) for n in names]
    assert positions == sorted(positions), (el.tag, names)


def test_example_validates_against_the_xsd_and_the_codelists() -> None:
    schemas = schemas_or_skip()
    verdict = validate_bytes(example_bytes(), "example.xml", schemas)
    assert verdict.status == "valid", verdict.errors
    assert verdict.document == "activities"
    if verdict.codelists_checked:
        assert verdict.code_issues == ()


def test_written_file_validates(tmp_path: Path) -> None:
    schemas = schemas_or_skip()
    path = tmp_path / "activities.xml"
    size = write_activities(example_activities(), path, generated=GENERATED)
    assert size == path.stat().st_size
    assert validate_file(path, schemas).valid is True
    assert [p.name for p in tmp_path.iterdir()] == ["activities.xml"]  # no temporary file left behind


def test_what_is_written() -> None:
    root = etree.fromstring(example_bytes())
    assert root.tag == "iati-activities"
    assert root.get("version") == "2.03"
    assert root.get("generated-datetime") == "2024-07-01T09:30:00Z"
    first, second = root.findall("iati-activity")
    assert first.get("humanitarian") == "1"
    assert first.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert second.get("humanitarian") == "1"  # a humanitarian scope makes the activity humanitarian
    assert [h.get("vocabulary") for h in first.findall("humanitarian-scope")] == ["1-2", "2-1"]
    loc = first.find("location")
    assert loc.get("ref") == "SO2401"
    assert loc.findtext("point/pos") == "3.1136 43.6498"
    assert loc.find("point").get("srsName") == "http://www.opengis.net/def/crs/EPSG/0/4326"
    indicator = first.find("result/indicator")
    assert indicator.get("measure") == "1" and indicator.get("ascending") == "1"
    assert indicator.find("baseline").get("year") == "2023"
    actuals = indicator.findall("period/actual")
    assert [a.get("value") for a in actuals] == ["5412", "2950", "2462"]
    assert [(d.get("name"), d.get("value")) for d in actuals[2].findall("dimension")] == [
        ("sex", "male"),
        ("age", "18+"),
    ]
    assert actuals[0].find("location").get("ref") == "SO2401"
    assert first.findall("result/indicator")[1].find("period/actual").get("value") == "57.25"
    # a narrative in the activity's language has no xml:lang; another language has one
    title = second.find("title").findall("narrative")
    assert title[0].get("{http://www.w3.org/XML/1998/namespace}lang") is None
    assert title[1].get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    qualitative = second.findall("result/indicator")[1]
    assert qualitative.get("measure") == "5" and qualitative.find("period/actual").get("value") is None


def test_elements_come_in_the_xsd_order() -> None:
    root = etree.fromstring(example_bytes())
    for activity in root.iter("iati-activity"):
        assert_order(activity, ACTIVITY_ORDER)
    for el in root.iter("location"):
        if el.getparent().tag == "iati-activity":
            assert_order(el, LOCATION_ORDER)
    for el in root.iter("result"):
        assert_order(el, RESULT_ORDER)
    for el in root.iter("indicator"):
        assert_order(el, INDICATOR_ORDER)
    for el in root.iter("baseline"):
        assert_order(el, BASELINE_ORDER)
    for el in root.iter("period"):
        assert_order(el, PERIOD_ORDER)
    for el in [*root.iter("target"), *root.iter("actual")]:
        assert_order(el, VALUE_ORDER)


def test_xsd_order_list_matches_the_schema() -> None:
    schemas = schemas_or_skip()
    xsd = etree.parse(str(schemas / "iati-activities-schema.xsd"))
    ns = {"xsd": "http://www.w3.org/2001/XMLSchema"}
    seq = xsd.xpath(
        "/xsd:schema/xsd:element[@name='iati-activity']/xsd:complexType/xsd:sequence/xsd:element", namespaces=ns
    )
    assert [e.get("ref") or e.get("name") for e in seq] == ACTIVITY_ORDER


def test_same_input_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert example_bytes() == example_bytes()
    buffer = io.BytesIO()
    write_activities(example_activities(), buffer, generated=GENERATED)
    path = tmp_path / "a.xml"
    write_activities(example_activities(), path, generated=GENERATED)
    assert buffer.getvalue() == path.read_bytes() == example_bytes()
    # no generated time given: SOURCE_DATE_EPOCH, for reproducible builds
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719826200")
    assert to_bytes(example_activities()) == example_bytes()
    # a naive time is UTC; another zone is converted
    naive = to_bytes(example_activities(), generated=dt.datetime(2024, 7, 1, 9, 30))
    zoned = dt.datetime(2024, 7, 1, 11, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert naive == to_bytes(example_activities(), generated=zoned) == example_bytes()


def test_not_validated_without_schemas(tmp_path: Path) -> None:
    path = tmp_path / "a.xml"
    write_activities(example_activities(), path, generated=GENERATED)
    verdict = validate_file(path, tmp_path)
    assert verdict.status == "not validated" and verdict.valid is None
    assert verdict.reason is not None and "IATI-Schemas" in verdict.reason and "version-2.03" in verdict.reason
    with pytest.raises(SchemasMissing, match="iati_schemas"):
        find_schemas(tmp_path)
    broken = tmp_path / "broken.xml"
    broken.write_text("<iati-activities>")
    assert validate_file(broken, tmp_path).status == "invalid"  # not well-formed needs no schema


def test_find_schemas_without_a_shared_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from onthemove.share.iati import validate

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(validate, "_REPO", tmp_path)
    with pytest.raises(SchemasMissing, match="schema folder is missing"):
        find_schemas("")


def test_numbers_are_plain_decimals() -> None:
    assert m.format_number(1250000) == "1250000"
    assert m.format_number(57.25) == "57.25"
    assert m.format_number(1e-7) == "0.0000001"
    assert m.format_number(Decimal("1E+3")) == "1000"
    assert m.format_number(-0.0) == "0.0"
    with pytest.raises(ValueError, match="finite"):
        m.format_number(float("nan"))


def _first() -> m.Activity:
    return example_activities()[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"identifier": "XM-OTHER-1"}, "must start with the reporting organisation's ref"),
        ({"identifier": "XM-EXAMPLE-NGO/1"}, "must not contain"),
        ({"sectors": ()}, "at least one sector"),
        ({"participating_orgs": ()}, "participating organisation"),
        ({"dates": (m.ActivityDate(c.ActivityDateType.PLANNED_END, dt.date(2024, 1, 1)),)}, "start date"),
        ({"recipient_countries": (m.RecipientCountry("SO", 60), m.RecipientCountry("KE", 30))}, "not 100"),
        ({"recipient_countries": (m.RecipientCountry("SO", 60), m.RecipientCountry("KE"))}, "every item"),
        ({"humanitarian": False}, "humanitarian is False"),
        ({"locations": ()}, "is not a location of the activity"),
        ({"default_currency": None}, "default_currency"),
        ({"title": "bad \x01 text"}, "cannot be written in XML"),
        ({"title": "   "}, "must not be empty"),
    ],
)
def test_broken_models_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(_first(), **change)


def test_parts_check_themselves() -> None:
    with pytest.raises(ValueError, match="use type EMERGENCY"):
        m.HumanitarianScope(c.HumanitarianScopeType.APPEAL, c.HumanitarianScopeVocabulary.GLIDE, "FL-2023-1-SOM")
    with pytest.raises(ValueError, match="ResultType"):
        m.Result("1", "t", (m.Indicator("i", c.IndicatorMeasure.UNIT),))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one indicator"):
        m.Result(c.ResultType.OUTPUT, "t", ())
    with pytest.raises(ValueError, match="needs a value"):
        m.Indicator("i", c.IndicatorMeasure.UNIT, baselines=(m.Baseline(2020),))
    with pytest.raises(ValueError, match="must be a number"):
        m.Indicator(
            "i",
            c.IndicatorMeasure.PERCENTAGE,
            periods=(m.Period(dt.date(2024, 1, 1), dt.date(2024, 2, 1), (m.PeriodValue("most"),)),),
        )
    with pytest.raises(ValueError, match="before it starts"):
        m.Period(dt.date(2024, 2, 1), dt.date(2024, 1, 1))
    with pytest.raises(ValueError, match="alpha-2"):
        m.RecipientCountry("SOM")
    with pytest.raises(ValueError, match="five digits"):
        m.Sector("720")
    with pytest.raises(ValueError, match="outside"):
        m.Point(91, 0)
    assert m.Indicator("i", c.IndicatorMeasure.NOMINAL, baselines=[m.Baseline(2020, "low")]).baselines[0].value == "low"
    with pytest.raises(ValueError, match="at least one activity"):
        to_bytes([])
    with pytest.raises(ValueError, match="same iati-identifier"):
        to_bytes([_first(), _first()])


# -- property: every model the classes accept is written as a valid file ---------------------------------------

REPORTER = m.Organisation("XM-TEST", "Test", c.OrganisationType.NATIONAL_NGO)
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() != "")
langs = st.sampled_from(["en", "fr", "so", "ar"])
text_values = texts | st.lists(st.builds(m.Narrative, texts, st.none() | langs), min_size=1, max_size=2).map(tuple)
dates = st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31))
numbers = (
    st.integers(-(10**9), 10**12)
    | st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)
    | st.decimals(-(10**6), 10**6, allow_nan=False, allow_infinity=False, places=3)
)
refs = st.from_regex(r"[A-Z0-9][A-Z0-9\-]{0,7}", fullmatch=True)
dimensions = st.lists(st.builds(m.Dimension, texts, texts), max_size=2).map(tuple)


@st.composite
def periods(draw: st.DrawFn, measure: c.IndicatorMeasure, locs: tuple[str, ...]) -> m.Period:
    start = draw(dates)
    end = start + dt.timedelta(days=draw(st.integers(0, 400)))
    numeric = measure in (c.IndicatorMeasure.UNIT, c.IndicatorMeasure.PERCENTAGE)
    value = numbers if numeric else (numbers | texts)
    if measure == c.IndicatorMeasure.QUALITATIVE:
        value = st.none() | value
    ref_lists = st.lists(st.sampled_from(locs), max_size=2, unique=True).map(tuple) if locs else st.just(())
    pv = st.builds(m.PeriodValue, value, ref_lists, dimensions, st.none() | text_values)
    return m.Period(start, end, tuple(draw(st.lists(pv, max_size=2))), tuple(draw(st.lists(pv, max_size=2))))


@st.composite
def indicators(draw: st.DrawFn, locs: tuple[str, ...]) -> m.Indicator:
    measure = draw(st.sampled_from(list(c.IndicatorMeasure)))
    numeric = measure in (c.IndicatorMeasure.UNIT, c.IndicatorMeasure.PERCENTAGE)
    value = numbers if numeric else (numbers | texts)
    if measure == c.IndicatorMeasure.QUALITATIVE:
        value = st.none() | value
    ref_lists = st.lists(st.sampled_from(locs), max_size=2, unique=True).map(tuple) if locs else st.just(())
    baseline = st.builds(m.Baseline, st.integers(1990, 2040), value, st.none() | dates, ref_lists, dimensions)
    refs_ = st.lists(st.builds(m.IndicatorReference, st.sampled_from(list(c.IndicatorVocabulary)), texts), max_size=1)
    return m.Indicator(
        draw(text_values),
        measure,
        draw(st.none() | text_values),
        draw(st.none() | st.booleans()),
        draw(st.none() | st.booleans()),
        tuple(draw(refs_)),
        tuple(draw(st.lists(baseline, max_size=2))),
        tuple(draw(st.lists(periods(measure, locs), max_size=2))),
    )


@st.composite
def activities(draw: st.DrawFn, number: int) -> m.Activity:
    point = st.builds(m.Point, st.floats(-90, 90), st.floats(-180, 180))
    ids = st.lists(st.builds(m.LocationId, st.sampled_from(list(c.GeographicVocabulary)), refs), max_size=2)
    adms = st.lists(
        st.builds(m.Administrative, st.sampled_from(list(c.GeographicVocabulary)), refs, st.none() | st.integers(0, 5)),
        max_size=2,
    )
    loc_refs = draw(st.lists(st.from_regex(r"SO[0-9]{2,6}", fullmatch=True), max_size=3, unique=True))
    locations = tuple(
        m.Location(
            ref,
            draw(st.none() | text_values),
            reach=draw(st.none() | st.sampled_from(list(c.GeographicLocationReach))),
            ids=tuple(draw(ids)),
            administrative=tuple(draw(adms)),
            point=draw(st.none() | point),
            exactness=draw(st.none() | st.sampled_from(list(c.GeographicExactness))),
            location_class=draw(st.none() | st.sampled_from(list(c.GeographicLocationClass))),
        )
        for ref in loc_refs
    )
    locs = tuple(loc_refs)
    results = draw(
        st.lists(
            st.builds(
                m.Result,
                st.sampled_from(list(c.ResultType)),
                text_values,
                st.lists(indicators(locs), min_size=1, max_size=2).map(tuple),
                st.none() | text_values,
                st.none() | st.booleans(),
            ),
            max_size=2,
        )
    )
    start = draw(dates)
    scopes = st.lists(
        st.sampled_from(
            [
                (c.HumanitarianScopeType.EMERGENCY, c.HumanitarianScopeVocabulary.GLIDE),
                (c.HumanitarianScopeType.APPEAL, c.HumanitarianScopeVocabulary.HUMANITARIAN_PLAN),
                (c.HumanitarianScopeType.APPEAL, c.HumanitarianScopeVocabulary.REPORTING_ORGANISATION),
            ]
        ).flatmap(lambda tv: st.builds(m.HumanitarianScope, st.just(tv[0]), st.just(tv[1]), refs, st.none() | texts)),
        max_size=2,
    )
    budget = st.builds(
        m.Budget,
        st.just(start),
        st.just(start + dt.timedelta(days=364)),
        numbers,
        dates,
        st.none() | st.sampled_from(["USD", "EUR"]),
        st.sampled_from(list(c.BudgetType)),
        st.sampled_from(list(c.BudgetStatus)),
    )
    humanitarian_scopes = tuple(draw(scopes))
    return m.Activity(
        identifier=f"XM-TEST-{number}",
        reporting_org=REPORTER,
        title=draw(text_values),
        description=draw(text_values),
        status=draw(st.sampled_from(list(c.ActivityStatus))),
        dates=(m.ActivityDate(c.ActivityDateType.PLANNED_START, start),),
        participating_orgs=(m.ParticipatingOrg(REPORTER, draw(st.sampled_from(list(c.OrganisationRole)))),),
        objectives=draw(st.none() | text_values),
        scope=draw(st.none() | st.sampled_from(list(c.ActivityScope))),
        recipient_countries=tuple(
            draw(st.lists(st.builds(m.RecipientCountry, st.sampled_from(["SO", "KE"])), max_size=1))
        ),
        locations=locations,
        sectors=(m.Sector(draw(st.sampled_from(list(c.DacSector)))),),
        humanitarian=draw(st.none() | st.just(True)) if humanitarian_scopes else draw(st.none() | st.booleans()),
        humanitarian_scopes=humanitarian_scopes,
        budgets=tuple(draw(st.lists(budget, max_size=2))),
        results=tuple(results),
        lang=draw(langs),
        default_currency="USD",
        last_updated=draw(st.none() | st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2040, 1, 1))),
    )


@st.composite
def files(draw: st.DrawFn) -> list[m.Activity]:
    return [draw(activities(i)) for i in range(draw(st.integers(1, 2)))]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files())
def test_any_valid_model_is_written_as_a_valid_file(acts: list[m.Activity]) -> None:
    schemas = schemas_or_skip()
    data = to_bytes(acts, generated=GENERATED)
    verdict = validate_bytes(data, "random.xml", schemas, check_codelists=False)
    assert verdict.status == "valid", (verdict.errors, data.decode()[:2000])
    assert data == to_bytes(acts, generated=GENERATED)
