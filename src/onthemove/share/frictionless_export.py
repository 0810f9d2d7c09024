"""Frictionless Data Package export: plain CSV files and a ``datapackage.json`` that describes them.

A package travels with its own types, constraints, keys, licences and sources, so whoever
receives it can check it (``frictionless validate datapackage.json``) without onthemove. Types and
constraints come from ``ingest.kinds``, the same declarations that validated the data on the way
in. P-code fields point at a ``places`` resource and ``batch_id`` at a ``batches`` resource, so
every record keeps its provenance (source file, checksum, attribution, licence).

The CSV files have no hashtag row (Frictionless would read it as data); each field's HXL tag sits
in a custom ``hxl`` property instead. The JSON is written with a fixed key order and no volatile
values other than ``created``, so it can serve as a golden file.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from onthemove.access import audit
from onthemove.analyse.query import Query, run
from onthemove.ingest.kinds import KINDS, Field, Kind, get_kind
from onthemove.ingest.pipeline import whoami
from onthemove.share.hxl_export import hxl_tags_for, records_sql, write_csv
from onthemove.store.base import Store

TYPES = {"text": "string", "int": "integer", "float": "number", "date": "date", "pcode": "string"}

# Open Definition identifiers for the licences sources usually state. "CC BY" without a version is
# what HDX labels "Creative Commons Attribution International", i.e. 4.0. CC BY-IGO has no Open
# Definition identifier, so it is given by its URL.
_LICENCES = {
    "CC BY": ("CC-BY-4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "CC BY 4.0": ("CC-BY-4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "CC BY SA": ("CC-BY-SA-4.0", "https://creativecommons.org/licenses/by-sa/4.0/"),
    "CC BY SA 4.0": ("CC-BY-SA-4.0", "https://creativecommons.org/licenses/by-sa/4.0/"),
    "CC BY IGO": (None, "https://creativecommons.org/licenses/by/3.0/igo/"),
    "CC BY IGO 3.0": (None, "https://creativecommons.org/licenses/by/3.0/igo/"),
    "CC0": ("CC0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "CC0 1.0": ("CC0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODBL": ("ODbL-1.0", "https://opendatacommons.org/licenses/odbl/1-0/"),
    "ODBL 1.0": ("ODbL-1.0", "https://opendatacommons.org/licenses/odbl/1-0/"),
    "PDDL": ("PDDL-1.0", "https://opendatacommons.org/licenses/pddl/1-0/"),
}

PROVENANCE: list[dict[str, Any]] = [
    {"name": "batch_id", "type": "string", "constraints": {"required": True}, "hxl": "#meta+batch"},
    {"name": "row_number", "type": "integer", "hxl": "#meta+row", "description": "row in the source file"},
]
PLACE_FIELDS: list[dict[str, Any]] = [
    {"name": "pcode", "type": "string", "constraints": {"required": True, "unique": True}, "hxl": "#adm+code"},
    {"name": "name", "type": "string", "constraints": {"required": True}, "hxl": "#adm+name"},
    {
        "name": "admin_level",
        "type": "integer",
        "constraints": {"required": True, "minimum": 0},
        "hxl": "#geo+admin_level",
    },
    {"name": "parent_pcode", "type": "string", "hxl": "#adm+code+parent"},
]
BATCH_FIELDS: list[dict[str, Any]] = [
    {"name": "batch_id", "type": "string", "constraints": {"required": True, "unique": True}, "hxl": "#meta+batch"},
    {"name": "kind", "type": "string", "constraints": {"required": True}},
    {"name": "source_file", "type": "string", "description": "file name as loaded (no directory)"},
    {"name": "sha256", "type": "string", "constraints": {"required": True}},
    {"name": "attribution", "type": "string", "hxl": "#meta+source"},
    {"name": "licence", "type": "string"},
    {"name": "loaded_at", "type": "datetime", "constraints": {"required": True}},
    {"name": "rows_loaded", "type": "integer", "constraints": {"minimum": 0}},
]
AGGREGATE = "movements-monthly-adm1-reason"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def field_schema(kind: Kind, f: Field) -> dict[str, Any]:
    """One Table Schema field from a kinds.py declaration."""
    out: dict[str, Any] = {"name": f.name, "type": TYPES[f.type]}
    if f.help:
        out["description"] = f.help
    constraints: dict[str, Any] = {}
    if f.required or f.default is not None:  # the store fills defaults, so the column is never empty
        constraints["required"] = True
    if f.minimum is not None:
        constraints["minimum"] = _number(f.minimum)
    if f.maximum is not None:
        constraints["maximum"] = _number(f.maximum)
    if f.choices:
        constraints["enum"] = list(f.choices)
    if constraints:
        out["constraints"] = constraints
    tag = hxl_tags_for([f.name], kind.name)[0]
    if tag:
        out["hxl"] = tag
    return out


def table_schema(kind: Kind) -> dict[str, Any]:
    """The Table Schema of a canonical table: provenance, then the kind's fields; no primary key."""
    fields = [dict(p) for p in PROVENANCE] + [field_schema(kind, f) for f in kind.fields]
    keys = [{"fields": "batch_id", "reference": {"resource": "batches", "fields": "batch_id"}}]
    keys += [
        {"fields": f.name, "reference": {"resource": "places", "fields": "pcode"}}
        for f in kind.fields
        if f.type == "pcode"
    ]
    return {"fields": fields, "missingValues": [""], "foreignKeys": keys}


def _resource(name: str, title: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "path": f"{name.replace('-', '_')}.csv",
        "profile": "tabular-data-resource",
        "title": title,
    }
    if description:
        out["description"] = description
    out.update({"format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "schema": schema})
    return out


def licence_entry(text: str) -> dict[str, str]:
    """A Data Package licence: an Open Definition id and URL where known, the stated text as title."""
    key = re.sub(r"[\s_-]+", " ", text.replace("CC-BY", "CC BY")).strip().upper()
    name, path = _LICENCES.get(key, (re.sub(r"[^-a-zA-Z0-9._]+", "-", text).strip("-") or "unknown", None))
    entry = {"name": name} if name else {}
    if path:
        entry["path"] = path
    entry["title"] = text
    return entry


def _batches(store: Store) -> pa.Table:
    return store.fetch_arrow(
        "SELECT batch_id, kind, source_file, sha256, attribution, licence, loaded_at, rows_loaded "
        "FROM batches WHERE status = 'loaded' ORDER BY batch_id"
    )


def _basename(path: str | None) -> str | None:
    return re.split(r"[\\/]", path)[-1] if path else None


def export_package(
    store: Store,
    directory: str | Path,
    kinds: list[str] | None = None,
    aggregates: bool = True,
    *,
    name: str = "onthemove-export",
    title: str = "Data on people on the move, exported from onthemove",
    created: dt.datetime | None = None,
    actor: str | None = None,
    public: bool = False,
    threshold: int = 10,
) -> Path:
    """Write the package into ``directory`` and return the path of its ``datapackage.json``.

    ``kinds`` defaults to every canonical table that holds rows; ``aggregates`` adds monthly
    movements by destination region (adm1) and reason.

    ``public``: the package is for anyone. Row-level tables are left out (asking for ``kinds`` is an error),
    and the aggregate passes disclosure control: counts below ``threshold`` and the cells that would give them
    away through its margins are left empty (``onthemove.share.disclose.publish``).
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    movements_held = public and bool(store.fetch_one("SELECT 1 FROM movements LIMIT 1"))
    if public:
        if kinds:
            from onthemove.share.disclose.hierarchy import DisclosureError

            raise DisclosureError(f"a public package holds aggregates only; row-level tables {kinds} cannot be in it")
        kinds = []
    if kinds is None:
        kinds = [k for k, v in KINDS.items() if store.fetch_one(f"SELECT 1 FROM {v.table} LIMIT 1")]
    chosen = [get_kind(k) for k in kinds]

    batches = _batches(store)
    batches = batches.set_column(
        batches.column_names.index("source_file"),
        "source_file",
        pa.array([_basename(s) for s in batches.column("source_file").to_pylist()], pa.string()),
    )
    loaded_at = [v.strftime("%Y-%m-%dT%H:%M:%SZ") if v else None for v in batches.column("loaded_at").to_pylist()]
    batches = batches.set_column(batches.column_names.index("loaded_at"), "loaded_at", pa.array(loaded_at, pa.string()))

    resources = []
    places = store.fetch_arrow("SELECT pcode, name, admin_level, parent_pcode FROM places ORDER BY pcode")
    resources.append(
        _resource(
            "places",
            "Places (gazetteer)",
            {"fields": [dict(f) for f in PLACE_FIELDS], "missingValues": [""], "primaryKey": "pcode"},
            "administrative areas by P-code; every P-code in the other resources is one of these",
        )
    )
    write_csv(places, out / resources[-1]["path"])
    resources.append(
        _resource(
            "batches",
            "Batches (provenance)",
            {"fields": [dict(f) for f in BATCH_FIELDS], "missingValues": [""], "primaryKey": "batch_id"},
            "one row per loaded source file: checksum, attribution and licence",
        )
    )
    write_csv(batches, out / resources[-1]["path"])
    for kind in chosen:
        resources.append(_resource(kind.name, kind.name.replace("_", " ").capitalize(), table_schema(kind), kind.help))
        write_csv(store.fetch_arrow(records_sql(kind, names=False)), out / resources[-1]["path"])
    if aggregates and (any(k.name == "movements" for k in chosen) or movements_held):
        table = run(store, Query(kind="movements", by=["month", "adm1", "reason"]))
        if public:
            from onthemove.share.disclose.publish import public_aggregate

            table, _ = public_aggregate(table, threshold)
        resources.append(_aggregate_resource(table.column_names, public=public, threshold=threshold))
        write_csv(table, out / resources[-1]["path"])

    licences = sorted({v for v in batches.column("licence").to_pylist() if v})
    sources: dict[tuple[str, ...], dict[str, str]] = {}
    for b in batches.to_pylist():
        entry = {"title": b["attribution"] or b["source_file"], "file": b["source_file"], "sha256": b["sha256"]}
        sources.setdefault((entry["title"], entry["file"], entry["sha256"]), entry)
    stamp = (created or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    package = {
        "profile": "tabular-data-package",
        "name": name,
        "title": title,
        "created": stamp,
        "licenses": [licence_entry(t) for t in licences],
        "sources": [sources[k] for k in sorted(sources)],
        "resources": resources,
    }
    path = out / "datapackage.json"
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    detail = {"directory": str(directory), **({"public": True, "threshold": threshold} if public else {})}
    audit.record(store, actor or whoami(), "export", "frictionless", detail)
    return path


def _aggregate_resource(columns: list[str], public: bool = False, threshold: int = 10) -> dict[str, Any]:
    types = {"month": "yearmonth", "count": "integer"}
    tags = hxl_tags_for(columns, "movements", side="to")
    fields = []
    for col, tag in zip(columns, tags, strict=True):
        f: dict[str, Any] = {"name": col, "type": types.get(col, "string")}
        if col == "count" and public:
            f["constraints"] = {"minimum": 0}
            f["description"] = (
                f"empty where suppressed: below {threshold}, or hidden so that such a count cannot be worked out "
                "from the totals"
            )
        elif col == "count":
            f["constraints"] = {"required": True, "minimum": 0}
        if tag:
            f["hxl"] = tag
        fields.append(f)
    return _resource(
        AGGREGATE,
        "Monthly movements by destination region and reason",
        {"fields": fields, "missingValues": [""]},
        "sum of movement counts (totals over sex and age) per month, arrival region (adm1) and reason; "
        "adm1 is '(not assigned)' for arrivals not placed in a region, reason '(not stated)' when unknown",
    )
