"""Resolve a mapping against one file's columns: which column (or constant) feeds each field.

The result, a list of projections, is what validation turns into SQL. A projection is one output
record per source row; unpivoted wide columns give one projection each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from onthemove.ingest.hxl import parse_tagspec
from onthemove.ingest.kinds import Kind
from onthemove.ingest.mapping import Mapping, MappingError


@dataclass
class FieldSource:
    column: int | None = None  # index into c0..cN
    constant: Any = None
    name_column: int | None = None  # place name to match (P-code fields)
    parent_column: int | None = None  # parent area name or code, as matching context
    template: list[str | int] | None = None  # "{year}-{month}-01": text pieces and column indexes


@dataclass
class Projection:
    fields: dict[str, FieldSource]
    measure: int | None = None  # unpivot: rows where this column is empty yield no record
    label: str = "base"


@dataclass
class Plan:
    kind: Kind
    mapping: Mapping
    headers: list[str]
    projections: list[Projection] = field(default_factory=list)

    def column_label(self, index: int | None) -> str | None:
        if index is None:
            return None
        return self.headers[index] or f"column {index + 1}"


def resolve_column(key: str, headers: list[str], tags: list[str | None] | None, origin: str) -> int:
    """A column reference: ``@N`` (0-based index), exact header text, a Kobo path's last part, or an HXL tag."""
    if key.startswith("@") and key[1:].isdigit():
        return int(key[1:])
    for i, h in enumerate(headers):
        if h == key:
            return i
    lowered = [h.strip().lower() for h in headers]
    if key.strip().lower() in lowered:
        return lowered.index(key.strip().lower())
    short = [h.split("/")[-1] for h in headers]
    if short.count(key) == 1:
        return short.index(key)
    spec = parse_tagspec(key)
    if spec and tags:
        specs = [parse_tagspec(t) for t in tags]
        exact = [i for i, s in enumerate(specs) if s == spec]
        if len(exact) == 1:
            return exact[0]
        loose = [i for i, s in enumerate(specs) if s is not None and s.matches(spec)]
        if len(loose) == 1:
            return loose[0]
        if len(loose) > 1:
            raise MappingError(f"{origin}: tag {key!r} matches several columns; add attributes to pick one")
    shown = ", ".join(repr(h) for h in headers[:30])
    raise MappingError(f"{origin}: no column {key!r} in the file; its columns are: {shown}")


_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def constant_source(value: Any, headers: list[str], tags: list[str | None] | None, origin: str) -> FieldSource:
    """A constant, or a template such as ``"{Year}-03-01"`` that splices in other columns of the row."""
    if not isinstance(value, str) or not _PLACEHOLDER.search(value):
        return FieldSource(constant=value)
    parts: list[str | int] = []
    last = 0
    for m in _PLACEHOLDER.finditer(value):
        if m.start() > last:
            parts.append(value[last : m.start()])
        parts.append(resolve_column(m.group(1), headers, tags, origin))
        last = m.end()
    if last < len(value):
        parts.append(value[last:])
    return FieldSource(template=parts)


def build_plan(mapping: Mapping, headers: list[str], tags: list[str | None] | None) -> Plan:
    kind = mapping.kind_spec
    base: dict[str, FieldSource] = {}
    for key, target in mapping.columns.items():
        col = resolve_column(key, headers, tags, mapping.origin)
        name, _, part = target.partition(".")
        src = base.setdefault(name, FieldSource())
        if part == "name":
            src.name_column = col
        elif part == "parent":
            src.parent_column = col
        else:
            src.column = col
    for name, value in mapping.constants.items():
        base.setdefault(name, constant_source(value, headers, tags, mapping.origin))
    plan = Plan(kind=kind, mapping=mapping, headers=headers)
    if not mapping.unpivot:
        plan.projections.append(Projection(fields=base))
        return plan
    if any(base.get(u["field"]) for u in mapping.unpivot):
        plan.projections.append(Projection(fields=base, label="base"))
    for u in mapping.unpivot:
        col = resolve_column(str(u["column"]), headers, tags, mapping.origin)
        fields = dict(base)
        fields[u["field"]] = FieldSource(column=col)
        for name, value in (u.get("set") or {}).items():
            fields[name] = constant_source(value, headers, tags, mapping.origin)
        plan.projections.append(Projection(fields=fields, measure=col, label=headers[col] or f"@{col}"))
    return plan
