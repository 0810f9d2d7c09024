"""Write ``model.Activity`` objects as an IATI 2.03 activity file with lxml.

Elements come in the order the sequences of ``iati-activities-schema.xsd`` require; attributes in a fixed order;
dates as ISO 8601; numbers without exponents. The same activities and the same ``generated`` time give the same
bytes. Plain-string text is written as one ``narrative`` in the activity's language (``xml:lang`` on
``iati-activity``); a ``Narrative`` in another language carries its own ``xml:lang``.

``write_activities`` writes a file (atomically when given a path); ``to_bytes`` returns the document.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from lxml import etree

from onthemove.share.iati.codes import VERSION, DescriptionType
from onthemove.share.iati.model import (
    Activity,
    Baseline,
    Budget,
    Dimension,
    Indicator,
    Location,
    Organisation,
    Period,
    PeriodValue,
    Result,
    Text,
    format_number,
    narratives,
)

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
WGS84 = "http://www.opengis.net/def/crs/EPSG/0/4326"


def write_activities(
    activities: Sequence[Activity],
    destination: str | os.PathLike[str] | IO[bytes],
    *,
    generated: dt.datetime | None = None,
    linked_data_default: str | None = None,
) -> int:
    """Write ``activities`` as one ``iati-activities`` file; return the number of bytes written.

    ``destination`` is a path (written to a temporary file next to it, then renamed, so a reader never sees half
    a file) or a binary file object. ``generated`` is the file's ``generated-datetime`` (naive times are UTC);
    by default the current time, or ``SOURCE_DATE_EPOCH`` when that is set, for reproducible builds. Validate
    the file afterwards with ``validate.validate_file``.
    """
    data = to_bytes(activities, generated=generated, linked_data_default=linked_data_default)
    if isinstance(destination, str | os.PathLike):
        path = Path(destination)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    else:
        destination.write(data)
    return len(data)


def to_bytes(
    activities: Sequence[Activity], *, generated: dt.datetime | None = None, linked_data_default: str | None = None
) -> bytes:
    """The IATI 2.03 document for ``activities`` as UTF-8 bytes with an XML declaration."""
    root = build(activities, generated=generated, linked_data_default=linked_data_default)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def build(
    activities: Sequence[Activity], *, generated: dt.datetime | None = None, linked_data_default: str | None = None
) -> Any:
    """The ``iati-activities`` element (an lxml element) for ``activities``."""
    activities = list(activities)
    if not activities:
        raise ValueError("an IATI activity file needs at least one activity")
    ids = [a.identifier for a in activities]
    if len(ids) != len(set(ids)):
        raise ValueError("two activities have the same iati-identifier")
    root = etree.Element("iati-activities")
    root.set("version", VERSION)
    root.set("generated-datetime", _datetime(generated if generated is not None else _now()))
    if linked_data_default is not None:
        root.set("linked-data-default", linked_data_default)
    for activity in activities:
        _activity(root, activity)
    return root


def _now() -> dt.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    seconds = int(epoch) if epoch and epoch.isdigit() else int(time.time())
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _datetime(value: dt.datetime) -> str:
    """xsd:dateTime in UTC to the second: ``2024-05-01T12:00:00Z``."""
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _bool(value: bool) -> str:
    return "1" if value else "0"


def _el(parent: Any, tag: str, attrs: Iterable[tuple[str, object | None]] = ()) -> Any:
    """A child element; attributes in the order given, ``None`` values left out."""
    el = etree.SubElement(parent, tag)
    for name, value in attrs:
        if value is None:
            continue
        if isinstance(value, bool):
            value = _bool(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        el.set(name, str(value))
    return el


def _narratives(parent: Any, text: Text, lang: str) -> None:
    for n in narratives(text):
        el = etree.SubElement(parent, "narrative")
        if n.lang is not None and n.lang != lang:
            el.set(XML_LANG, n.lang)
        el.text = n.text


def _text_el(parent: Any, tag: str, text: Text | None, lang: str, attrs: Iterable[tuple[str, object | None]] = ()):
    if text is None:
        return None
    el = _el(parent, tag, attrs)
    _narratives(el, text, lang)
    return el


def _org(parent: Any, tag: str, org: Organisation, lang: str, extra: Iterable[tuple[str, object | None]] = ()):
    el = _el(parent, tag, [("ref", org.ref), ("type", org.type), *extra])
    _narratives(el, org.name, lang)
    return el


def _activity(root: Any, a: Activity) -> None:
    lang = a.lang
    el = _el(
        root,
        "iati-activity",
        [
            ("last-updated-datetime", _datetime(a.last_updated) if a.last_updated else None),
            (XML_LANG, lang),
            ("default-currency", a.default_currency),
            ("humanitarian", True if a.humanitarian is None and a.humanitarian_scopes else a.humanitarian),
        ],
    )
    _el(el, "iati-identifier").text = a.identifier
    _org(el, "reporting-org", a.reporting_org, lang)
    _text_el(el, "title", a.title, lang)
    _text_el(el, "description", a.description, lang, [("type", DescriptionType.GENERAL)])
    _text_el(el, "description", a.objectives, lang, [("type", DescriptionType.OBJECTIVES)])
    _text_el(el, "description", a.target_groups, lang, [("type", DescriptionType.TARGET_GROUPS)])
    for p in a.participating_orgs:
        _org(el, "participating-org", p.org, lang, [("role", p.role), ("activity-id", p.activity_id)])
    _el(el, "activity-status", [("code", a.status)])
    for d in sorted(a.dates, key=lambda d: d.type):
        _el(el, "activity-date", [("type", d.type), ("iso-date", d.iso_date)])
    if a.scope is not None:
        _el(el, "activity-scope", [("code", a.scope)])
    for c in a.recipient_countries:
        pct = None if c.percentage is None else format_number(c.percentage)
        _text_or_empty(el, "recipient-country", c.name, lang, [("code", c.code), ("percentage", pct)])
    for region in a.recipient_regions:
        pct = None if region.percentage is None else format_number(region.percentage)
        attrs = [("code", region.code), ("vocabulary", region.vocabulary), ("percentage", pct)]
        _text_or_empty(el, "recipient-region", region.name, lang, attrs)
    for loc in a.locations:
        _location(el, loc, lang)
    for s in a.sectors:
        pct = None if s.percentage is None else format_number(s.percentage)
        attrs = [("vocabulary", s.vocabulary), ("vocabulary-uri", s.vocabulary_uri), ("code", s.code)]
        _text_or_empty(el, "sector", s.name, lang, [*attrs, ("percentage", pct)])
    for h in a.humanitarian_scopes:
        attrs = [("type", h.type), ("vocabulary", h.vocabulary), ("vocabulary-uri", h.vocabulary_uri)]
        _text_or_empty(el, "humanitarian-scope", h.narrative, lang, [*attrs, ("code", h.code)])
    for b in a.budgets:
        _budget(el, b)
    for result in a.results:
        _result(el, result, lang)


def _text_or_empty(parent: Any, tag: str, text: Text | None, lang: str, attrs: Iterable[tuple[str, object | None]]):
    el = _el(parent, tag, attrs)
    if text is not None:
        _narratives(el, text, lang)
    return el


def _location(parent: Any, loc: Location, lang: str) -> None:
    el = _el(parent, "location", [("ref", loc.ref)])
    if loc.reach is not None:
        _el(el, "location-reach", [("code", loc.reach)])
    for i in loc.ids:
        _el(el, "location-id", [("vocabulary", i.vocabulary), ("code", i.code)])
    _text_el(el, "name", loc.name, lang)
    _text_el(el, "description", loc.description, lang)
    _text_el(el, "activity-description", loc.activity_description, lang)
    for adm in loc.administrative:
        _el(el, "administrative", [("vocabulary", adm.vocabulary), ("level", adm.level), ("code", adm.code)])
    if loc.point is not None:
        point = _el(el, "point", [("srsName", WGS84)])
        _el(point, "pos").text = f"{format_number(loc.point.lat)} {format_number(loc.point.lon)}"
    if loc.exactness is not None:
        _el(el, "exactness", [("code", loc.exactness)])
    if loc.location_class is not None:
        _el(el, "location-class", [("code", loc.location_class)])
    if loc.feature_designation is not None:
        _el(el, "feature-designation", [("code", loc.feature_designation)])


def _budget(parent: Any, b: Budget) -> None:
    el = _el(parent, "budget", [("type", b.type), ("status", b.status)])
    _el(el, "period-start", [("iso-date", b.period_start)])
    _el(el, "period-end", [("iso-date", b.period_end)])
    value = _el(el, "value", [("currency", b.currency), ("value-date", b.value_date)])
    value.text = format_number(b.value)


def _result(parent: Any, r: Result, lang: str) -> None:
    el = _el(parent, "result", [("type", r.type), ("aggregation-status", r.aggregation_status)])
    _text_el(el, "title", r.title, lang)
    _text_el(el, "description", r.description, lang)
    for ref in r.references:
        _el(
            el,
            "reference",
            [("vocabulary", ref.vocabulary), ("code", ref.code), ("vocabulary-uri", ref.vocabulary_uri)],
        )
    for i in r.indicators:
        _indicator(el, i, lang)


def _indicator(parent: Any, i: Indicator, lang: str) -> None:
    attrs = [("measure", i.measure), ("ascending", i.ascending), ("aggregation-status", i.aggregation_status)]
    el = _el(parent, "indicator", attrs)
    _text_el(el, "title", i.title, lang)
    _text_el(el, "description", i.description, lang)
    for ref in i.references:
        _el(el, "reference", [("vocabulary", ref.vocabulary), ("code", ref.code), ("indicator-uri", ref.indicator_uri)])
    for b in i.baselines:
        _baseline(el, b, lang)
    for p in i.periods:
        _period(el, p, lang)


def _value(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return format_number(value)  # type: ignore[arg-type]


def _locations_and_dimensions(el: Any, locations: tuple[str, ...], dimensions: tuple[Dimension, ...]) -> None:
    for ref in locations:
        _el(el, "location", [("ref", ref)])
    for d in dimensions:
        _el(el, "dimension", [("name", d.name), ("value", d.value)])


def _baseline(parent: Any, b: Baseline, lang: str) -> None:
    el = _el(parent, "baseline", [("year", b.year), ("iso-date", b.iso_date), ("value", _value(b.value))])
    _locations_and_dimensions(el, b.locations, b.dimensions)
    # baseline: location, dimension, document-link, comment (target and actual put comment before document-link)
    _text_el(el, "comment", b.comment, lang)


def _period(parent: Any, p: Period, lang: str) -> None:
    el = _el(parent, "period")
    _el(el, "period-start", [("iso-date", p.start)])
    _el(el, "period-end", [("iso-date", p.end)])
    for tag, values in (("target", p.targets), ("actual", p.actuals)):
        for v in values:
            _period_value(el, tag, v, lang)


def _period_value(parent: Any, tag: str, v: PeriodValue, lang: str) -> None:
    el = _el(parent, tag, [("value", _value(v.value))])
    _locations_and_dimensions(el, v.locations, v.dimensions)
    _text_el(el, "comment", v.comment, lang)


__all__ = ["build", "to_bytes", "write_activities"]
