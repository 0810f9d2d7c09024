"""Our IATI validation against the IATI-Schemas 2.03 test files, and our codes against the official codelists.

The files live in ../shared/standards/iati (never copied into the repository; skipped when absent). IATI-Schemas
organises its tests by schema: ``should-pass``/``should-fail`` hold ``iati-activities`` and ``iati-organisations``
trees, ``activity-tests`` and ``organisation-tests`` each hold a ``should-pass`` and a ``should-fail`` folder, and
``registry-tests`` the same for registry records. Every file under ``should-pass`` must validate and every file
under ``should-fail`` must not, and our verdict must be plain lxml's on the same schema, file by file.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from lxml import etree
from tests.conftest import SHARED

from onthemove.share.iati.codes import CODELIST, SINGLE_CODES
from onthemove.share.iati.example import GENERATED, example_activities
from onthemove.share.iati.validate import check_codes, load_codelists, validate_bytes, validate_file
from onthemove.share.iati.write import to_bytes

pytestmark = pytest.mark.acceptance
IATI = SHARED / "standards/iati"
TESTS = IATI / "tests"
CODELISTS = IATI / "codelists-2.03"
XSD = {
    "activities": "iati-activities-schema.xsd",
    "organisations": "iati-organisations-schema.xsd",
    "registry-record": "iati-registry-record-schema.xsd",
}
GROUPS = ["should-pass", "should-fail", "activity-tests", "organisation-tests", "registry-tests"]


def _needs(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not present (IATI-Schemas 2.03 lives in ../shared/standards/iati)")
    return path


def _schema_for(rel: Path) -> str:
    """Which schema IATI-Schemas checks a test file against, from where it lies."""
    parts = rel.parts
    if parts[0] == "registry-tests":
        return "registry-record"
    if parts[0] == "organisation-tests" or "iati-organisations" in parts:
        return "organisations"
    return "activities"


def _plain_lxml(path: Path, schema: str, cache: dict[str, etree.XMLSchema]) -> bool:
    if schema not in cache:
        cache[schema] = etree.XMLSchema(etree.parse(str(IATI / XSD[schema])))
    try:
        doc = etree.parse(str(path))
    except etree.XMLSyntaxError:
        return False
    return bool(cache[schema].validate(doc))


@pytest.mark.parametrize("group", GROUPS)
def test_same_verdicts_as_lxml_and_as_the_folders_say(group: str) -> None:
    folder = _needs(TESTS / group)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("README"))
    assert files
    cache: dict[str, etree.XMLSchema] = {}
    counts: Counter[tuple[str, str]] = Counter()
    differ, wrong = [], []
    for path in files:
        rel = path.relative_to(TESTS)
        schema = _schema_for(rel)
        expected = "should-pass" in rel.parts
        lxml_says = _plain_lxml(path, schema, cache)
        ours = validate_file(path, IATI, check_codelists=False)
        assert ours.checked or ours.errors, ours.reason
        counts[("should-pass" if expected else "should-fail", ours.status)] += 1
        if ours.valid is not lxml_says or ours.document not in (schema, None):
            differ.append((str(rel), ours.status, lxml_says))
        if ours.valid is not expected:
            wrong.append((str(rel), ours.status, [p.message for p in ours.errors[:2]]))
    print(f"\n{group}: {len(files)} files, {dict(counts)}")
    assert differ == [], differ
    assert wrong == [], wrong


def test_worked_example_same_verdict_as_lxml() -> None:
    path = _needs(IATI / "worked-example.xml")
    ours = validate_file(path, IATI, check_codelists=False)
    assert ours.valid is _plain_lxml(path, "activities", {})
    # it is a 1.0x-era example (root iati-activity, other-identifier before reporting-org): not valid 2.03
    assert ours.status == "invalid"
    assert ours.errors[0].element == "other-identifier" and ours.errors[0].line == 9


def test_our_codes_are_on_the_official_codelists() -> None:
    lists = load_codelists(_needs(CODELISTS))
    missing, withdrawn = [], []
    for enum, name in CODELIST.items():
        cl = lists.get(name)
        assert cl is not None, f"codelist {name} not found in {CODELISTS}"
        for member in enum:
            if member.value not in cl.codes:
                missing.append(f"{enum.__name__}.{member.name}={member.value} ({name})")
            elif member.value in cl.withdrawn:
                withdrawn.append(f"{enum.__name__}.{member.name}={member.value} ({name})")
    for name, code in SINGLE_CODES.items():
        cl = lists.get(name)
        assert cl is not None and code in cl.codes, (name, code)
    assert missing == [] and withdrawn == []


def test_the_mapping_sends_our_attributes_to_our_codelists() -> None:
    """The official codelist-mapping names, for each attribute we fill from an enum, the codelist we took it from."""
    lists = load_codelists(_needs(CODELISTS))
    by_path = {m.path: m.codelist for m in lists.mappings}
    expected = {
        "//iati-activity/activity-status/@code": "ActivityStatus",
        "//iati-activity/activity-date/@type": "ActivityDateType",
        "//iati-activity/humanitarian-scope/@type": "HumanitarianScopeType",
        "//iati-activity/humanitarian-scope/@vocabulary": "HumanitarianScopeVocabulary",
        "//iati-activity/location/location-id/@vocabulary": "GeographicVocabulary",
        "//iati-activity/location/administrative/@vocabulary": "GeographicVocabulary",
        "//iati-activity/location/location-reach/@code": "GeographicLocationReach",
        "//iati-activity/result/@type": "ResultType",
        "//iati-activity/result/indicator/@measure": "IndicatorMeasure",
        "//iati-activity/participating-org/@role": "OrganisationRole",
        "//iati-activity/sector/@vocabulary": "SectorVocabulary",
    }
    assert {p: by_path.get(p) for p in expected} == expected


def test_codelist_check_passes_our_file_and_catches_bad_codes() -> None:
    lists = _needs(CODELISTS)
    data = to_bytes(example_activities(), generated=GENERATED)
    verdict = validate_bytes(data, "example.xml", IATI, codelists=lists)
    assert verdict.valid and verdict.codelists_checked and verdict.code_issues == ()
    bad = data.replace(b'<activity-status code="2"/>', b'<activity-status code="7"/>', 1)
    bad = bad.replace(b'code="72010"', b'code="72011"', 1)
    issues = check_codes(etree.ElementTree(etree.fromstring(bad)), lists)
    assert {(p.element, p.message) for p in issues} == {
        ("activity-status/@code", "code '7' is not in codelist ActivityStatus"),
        ("sector/@code", "code '72011' is not in codelist Sector"),
    }
    # codes are not part of the XSD verdict
    assert validate_bytes(bad, "bad.xml", IATI, codelists=lists).valid is True
