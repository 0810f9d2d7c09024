"""Derive a mapping from HXL hashtags, so HXL files load without a mapping file.

Disaggregated count columns (``#affected+idps+f+children``) become rows of their own with the
population group, sex and age band taken from the attributes, whatever their order.
"""

from __future__ import annotations

import re
from typing import Any

from onthemove.ingest.hxl import TagSpec, parse_tagspec
from onthemove.ingest.kinds import GROUPS, Kind
from onthemove.ingest.mapping import Mapping, MappingError

_ADM = re.compile(r"^adm([0-9])$")
_AGE = re.compile(r"^age(\d+)(?:_(\d+)|plus)?$")
_SEX = {"f": "f", "female": "f", "women": "f", "girls": "f", "m": "m", "male": "m", "men": "m", "boys": "m"}
_AGES = {"infants": "0-4", "children": "0-17", "adults": "18-59", "elderly": "60+"}
_GROUP_ALIASES = {"idp": "idps", "returnee": "returnees", "refugee": "refugees", "asylum": "asylum_seekers"}
_MEASURE_TAGS = {"affected", "population", "inneed", "targeted", "reached"}


def _level(ts: TagSpec) -> int | None:
    if ts.tag == "country":
        return 0
    if ts.tag == "adm":  # a P-code of any level (#adm+code), as OCHA's P-code lists and our exports write
        return 9
    m = _ADM.match(ts.tag)
    return int(m.group(1)) if m else None


def _place_target(kind: Kind, ts: TagSpec) -> str | None:
    names = kind.names
    if "origin" in ts.attributes or "from" in ts.attributes:
        return "origin" if "origin" in names else ("from_place" if "from_place" in names else None)
    if "dest" in ts.attributes or "to" in ts.attributes:
        return "to_place" if "to_place" in names else None
    for candidate in ("place", "to_place"):
        if candidate in names:
            return candidate
    return None


def _disaggregation(ts: TagSpec) -> dict[str, str]:
    out: dict[str, str] = {}
    for a in ts.attributes:
        group = _GROUP_ALIASES.get(a, a)
        if group in GROUPS:
            out["population_group"] = group
        elif a in _SEX:
            out["sex"] = _SEX[a]
        elif a in _AGES:
            out["age_group"] = _AGES[a]
        elif m := _AGE.match(a):
            lo, hi = m.group(1), m.group(2)
            out["age_group"] = f"{lo}-{hi}" if hi else f"{lo}+"
    return out


def mapping_from_tags(kind: Kind, tags: list[str | None], source: str = "HXL tags") -> Mapping:
    specs = [parse_tagspec(t) for t in tags]
    columns: dict[str, str] = {}
    unpivot: list[dict[str, Any]] = []
    codes: dict[str, tuple[int, int]] = {}  # target -> (level, column)
    names: dict[str, list[tuple[int, int]]] = {}
    dates: list[tuple[int, int]] = []
    names_of_kind = set(kind.names)

    def put(field: str, col: int) -> None:
        if field in names_of_kind and field not in columns.values():
            columns[f"@{col}"] = field

    for col, ts in enumerate(specs):
        if ts is None:
            continue
        level = _level(ts)
        if level is not None:
            target = _place_target(kind, ts)
            if target is None:
                continue
            if "code" in ts.attributes or ts.tag == "country":
                if target not in codes or codes[target][0] < level:
                    codes[target] = (level, col)
            elif "name" in ts.attributes:
                names.setdefault(target, []).append((level, col))
            continue
        if ts.tag == "date" and "period_start" in names_of_kind and ts.attributes & {"start", "end"}:
            put("period_start" if "start" in ts.attributes else "period_end", col)
        elif ts.tag == "date":
            rank = 0 if ts.attributes & {"reported", "occurred", "assessed"} else (2 if ts.attributes else 1)
            dates.append((rank, col))
        elif ts.tag in ("round", "x_round"):
            put("round", col)
        elif ts.tag == "x_population":
            put("population_group", col)
        elif ts.tag == "x_sex":
            put("sex", col)
        elif ts.tag == "x_age":
            put("age_group", col)
        elif ts.tag in ("cause", "reason"):
            put("reason", col)
        elif ts.tag == "sector":
            put("sector", col)
        elif ts.tag == "loc":
            if "code" in ts.attributes:
                put("site_id", col)
            elif "type" in ts.attributes:
                put("site_type", col)
            elif "name" in ts.attributes:
                put("name", col)
        elif ts.tag == "geo" and ts.attributes & {"lat", "lon"}:
            put("latitude" if "lat" in ts.attributes else "longitude", col)
        elif ts.tag == "event":
            put("event_id" if ts.attributes & {"code", "id"} else "driver", col)
        elif ts.tag == "indicator" and "type" in ts.attributes:
            put("value_type", col)
        elif ts.tag == "indicator":
            put("value" if ts.attributes & {"value", "num"} else "indicator", col)
        elif ts.tag == "x_disability":
            put("disability", col)
        elif ts.tag == "description":
            put("comment", col)
        elif ts.tag in _MEASURE_TAGS:
            _measure(kind, ts, col, columns, unpivot)
    for target, (_, col) in codes.items():
        columns[f"@{col}"] = target
    for target, found in names.items():
        if target in codes:
            continue
        found.sort()
        deepest = found[-1]
        columns[f"@{deepest[1]}"] = f"{target}.name"
        if len(found) > 1:
            columns[f"@{found[-2][1]}"] = f"{target}.parent"
    if dates:
        columns[f"@{min(dates)[1]}"] = "date"
    mapping = Mapping(kind=kind.name, columns=columns, unpivot=unpivot, origin=source)
    try:
        mapping.check()
    except MappingError as exc:  # pragma: no cover - the rules above only emit known fields
        raise MappingError(f"{source}: {exc}") from exc
    return mapping


def _measure(kind: Kind, ts: TagSpec, col: int, columns: dict[str, str], unpivot: list[dict[str, Any]]) -> None:
    attrs = ts.attributes
    if kind.name == "sites":
        if attrs & {"hh", "households"}:
            columns.setdefault(f"@{col}", "households")
        elif "individuals" not in columns.values():
            columns[f"@{col}"] = "individuals"
        return
    if kind.name == "driver_events":
        if "killed" in attrs:
            unpivot.append({"column": f"@{col}", "field": "value", "set": {"indicator": "fatalities"}})
        return
    if "count" not in kind.names or attrs & {"hh", "households", "pct", "ratio"}:
        return
    unpivot.append({"column": f"@{col}", "field": "count", "set": _disaggregation(ts)})
