"""Declarative mapping files: which source column feeds which canonical field.

A mapping is a small YAML file a person can read and keep beside the data::

    kind: movements
    sheet: OutputsArrivals            # spreadsheets only; default the first sheet
    columns:                          # source column (header text, HXL tag spec or Kobo path) -> field
      Month End: date
      Current (Arrival) District: to_place.name     # a place name, matched to a P-code
      Current (Arrival) Region: to_place.parent     # its parent area, used as context
      Number of Individuals: count
    date_formats: ["%d/%m/%Y"]
    values: {reason: {Drought related: drought, Conflict/Insecurity: conflict}}
    constants: {population_group: idps}
    places: {to_place: {level: 2, country: SOM, fallback: parent}}   # unknown names: keep at the parent area
    unpivot:                           # wide columns that become rows of their own
      - {column: numberFemales, field: count, set: {sex: f}}
    attribution: UNHCR PRMN
    licence: CC BY

Columns not named are ignored. ``field.name`` and ``field.parent`` (for P-code fields) ask for
place-name matching instead of a code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from onthemove.ingest.kinds import Kind, get_kind

ALLOWED_KEYS = {
    "kind",
    "sheet",
    "header_row",
    "columns",
    "date_formats",
    "values",
    "constants",
    "places",
    "unpivot",
    "attribution",
    "licence",
    "description",
    "repeat",
    "explode",
}


class MappingError(ValueError):
    """The mapping file itself is wrong; the message names the key."""


@dataclass
class Mapping:
    kind: str
    columns: dict[str, str] = field(default_factory=dict)
    date_formats: list[str] = field(default_factory=list)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    places: dict[str, dict[str, Any]] = field(default_factory=dict)
    unpivot: list[dict[str, Any]] = field(default_factory=list)
    sheet: str | None = None
    header_row: int | None = None
    attribution: str | None = None
    licence: str | None = None
    repeat: str | None = None  # Kobo: load this repeat group, one record per repeat instance
    explode: list[str] = field(default_factory=list)  # Kobo: select_multiple columns, one record per choice
    origin: str = "inline"

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "inline") -> Mapping:
        unknown = set(data) - ALLOWED_KEYS
        if unknown:
            raise MappingError(f"{origin}: unknown key(s) {sorted(map(str, unknown))}; allowed: {sorted(ALLOWED_KEYS)}")
        if "kind" not in data:
            raise MappingError(f"{origin}: the mapping must say which `kind` it loads")
        for key in ("columns", "values", "constants", "places"):
            if not isinstance(data.get(key) or {}, dict):
                raise MappingError(
                    f"{origin}: `{key}` must be a mapping of name: value, not {type(data[key]).__name__}"
                )
        for key in ("values", "places"):
            for name, inner in (data.get(key) or {}).items():
                if not isinstance(inner, dict):
                    raise MappingError(f"{origin}: `{key}.{name}` must be a mapping, not {type(inner).__name__}")
        header_row = data.get("header_row")
        if header_row is not None and (
            not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1
        ):
            raise MappingError(f"{origin}: `header_row` must be a row number (1 or more), not {header_row!r}")
        if data.get("sheet") is not None and not isinstance(data["sheet"], str):
            raise MappingError(f"{origin}: `sheet` must be a sheet name")
        for key in ("unpivot", "date_formats", "explode"):
            if not isinstance(data.get(key) or [], list):
                raise MappingError(f"{origin}: `{key}` must be a list")
        if not all(isinstance(u, dict) for u in data.get("unpivot") or []):
            raise MappingError(f"{origin}: each `unpivot` entry must be a mapping with `column` and `field`")
        m = cls(
            kind=str(data["kind"]),
            columns={str(k): str(v) for k, v in (data.get("columns") or {}).items()},
            date_formats=list(data.get("date_formats") or []),
            values={str(k): dict(v) for k, v in (data.get("values") or {}).items()},
            constants=dict(data.get("constants") or {}),
            places={str(k): dict(v) for k, v in (data.get("places") or {}).items()},
            unpivot=list(data.get("unpivot") or []),
            sheet=data.get("sheet"),
            header_row=data.get("header_row"),
            attribution=data.get("attribution"),
            licence=data.get("licence"),
            repeat=data.get("repeat"),
            explode=list(data.get("explode") or []),
            origin=origin,
        )
        m.check()
        return m

    @classmethod
    def load(cls, path: str | Path) -> Mapping:
        p = Path(path)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MappingError(f"mapping file {p} not found") from None
        except yaml.YAMLError as exc:
            raise MappingError(f"{p}: not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise MappingError(f"{p}: expected a YAML mapping with `kind` and `columns`")
        return cls.from_dict(data, origin=str(p))

    @property
    def kind_spec(self) -> Kind:
        return get_kind(self.kind)

    def check(self) -> None:
        try:
            kind = self.kind_spec
        except ValueError as exc:
            raise MappingError(f"{self.origin}: {exc}") from None
        for source, target in self.columns.items():
            base, _, part = target.partition(".")
            if base not in kind.names:
                raise MappingError(
                    f"{self.origin}: column {source!r} maps to {target!r}, which is not a field of "
                    f"{kind.name} ({', '.join(kind.names)})"
                )
            if part and (part not in ("name", "parent") or kind.field(base).type != "pcode"):
                raise MappingError(f"{self.origin}: {target!r}: only P-code fields take .name or .parent")
        for name in [*self.constants, *self.values, *self.places]:
            if name not in kind.names:
                raise MappingError(f"{self.origin}: {name!r} is not a field of {kind.name}")
        for i, u in enumerate(self.unpivot):
            if "column" not in u or "field" not in u:
                raise MappingError(f"{self.origin}: unpivot entry {i + 1} needs `column` and `field`")
            for name in [u["field"], *(u.get("set") or {})]:
                if name not in kind.names:
                    raise MappingError(f"{self.origin}: unpivot entry {i + 1}: {name!r} is not a field")

    def fingerprint(self) -> str:
        """Stable hash: the same file loaded with the same mapping is the same batch."""
        body = {
            "kind": self.kind,
            "columns": self.columns,
            "date_formats": self.date_formats,
            "values": self.values,
            "constants": self.constants,
            "places": self.places,
            "unpivot": self.unpivot,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "repeat": self.repeat,
            "explode": self.explode,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
