"""Gazetteer: P-code lists, COD-AB boundaries and the alias table, each loaded as a batch.

Places are the join key of everything else, so existing P-codes are never overwritten: a newer
list adds the codes the store lacks and reports the rest. Boundaries attach geometry to places
(adding places that the P-code list lacked).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from onthemove.ingest.hxl import parse_tagspec
from onthemove.ingest.pipeline import IngestError, file_sha256, record_batch
from onthemove.ingest.placematch import Place, PlaceMatcher
from onthemove.ingest.raw import ReadError
from onthemove.ingest.report import BatchReport
from onthemove.ingest.tabular import open_source
from onthemove.store.base import Store

_PCODE_TAGS = {
    "country": ("#country+code",),
    "admin_level": ("#geo+admin_level", "#adm+level"),
    "pcode": ("#adm+code",),
    "name": ("#adm+name",),
    "parent": ("#adm+code+parent",),
    "valid_from": ("#date+start", "#date"),
}


def _batch_id(kind: str, sha: str) -> str:
    return "B" + hashlib.sha256(f"{kind}|{sha}".encode()).hexdigest()[:12]


def _already(store: Store, batch_id: str) -> BatchReport | None:
    row = store.fetch_one("SELECT status FROM batches WHERE batch_id = $id", {"id": batch_id})
    if row and row[0] == "loaded":
        return BatchReport(
            batch_id=batch_id,
            kind="",
            source_file="",
            sha256="",
            status="unchanged",
            notes=[f"already loaded as batch {batch_id}; nothing changed"],
        )
    if row:
        store.execute("DELETE FROM batches WHERE batch_id = $id", {"id": batch_id})
    return None


def _pcode_columns(tags: list[str | None], source: str) -> dict[str, int]:
    specs = [parse_tagspec(t) for t in tags]
    found: dict[str, int] = {}
    for field, wanted in _PCODE_TAGS.items():
        for w in wanted:
            target = parse_tagspec(w)
            hits = [i for i, s in enumerate(specs) if s == target]
            if hits:
                found[field] = hits[0]
                break
    missing = [f for f in ("pcode", "name", "admin_level") if f not in found]
    if missing:
        raise ReadError(source, "a P-code list needs the HXL tags " + ", ".join(_PCODE_TAGS[m][0] for m in missing))
    return found


def load_pcodes(store: Store, path: str | Path, country: str | None = None, user: str | None = None) -> BatchReport:
    """Load an HXL-tagged P-code list (OCHA global P-codes shape); ``country`` keeps one country (ISO3)."""
    started = time.perf_counter()
    p = Path(path)
    sha = file_sha256(p)
    batch_id = _batch_id(f"places|{country or ''}", sha)
    with store.transaction():
        if done := _already(store, batch_id):
            return done
        source = open_source(p)
        if not source.tags:
            raise IngestError(f"{p}: a P-code list must carry HXL hashtags (#adm+code, #adm+name, ...)")
        cols = _pcode_columns(source.tags, str(p))
        rows = _read_cells(p, source)
        report = BatchReport(
            batch_id=batch_id,
            kind="places",
            source_file=str(p),
            sha256=sha,
            status="loaded",
            attribution="OCHA Common Operational Datasets",
            licence="CC BY-IGO",
        )
        existing = {r[0] for r in store.fetch("SELECT pcode FROM places")}
        new: list[dict[str, Any]] = []
        adm0: dict[str, str] = {}
        for number, cells in rows:
            report.rows_read += 1

            def get(field: str, cells: list[str | None] = cells) -> str | None:
                i = cols.get(field)
                value = cells[i] if i is not None and i < len(cells) else None
                return value.strip() if value else None

            iso3 = (get("country") or "").upper()
            if country and iso3 != country.upper():
                report.rows_read -= 1
                continue
            pcode, name, level = get("pcode"), get("name"), get("admin_level")
            if not pcode or not name or not (level or "").isdigit():
                report.rows_rejected += 1
                report.rejections.append(
                    {
                        "file": str(p),
                        "row": number,
                        "column": "P-Code/Name/Admin Level",
                        "value": pcode,
                        "expected": "a P-code, a name and a numeric admin level",
                    }
                )
                continue
            parent = get("parent")
            assert level is not None  # checked above
            if int(level) == 1 and parent:
                parent = _existing_country(existing, pcode.upper(), parent.upper())
                adm0[parent] = iso3 or parent
            if pcode.upper() in existing:
                continue
            existing.add(pcode.upper())
            new.append(
                {
                    "pcode": pcode.upper(),
                    "name": name,
                    "admin_level": int(level),
                    "parent_pcode": parent.upper() if parent else None,
                    "country": iso3 or None,
                    "valid_from": get("valid_from"),
                }
            )
        for code, iso3 in adm0.items():
            store.execute(
                "UPDATE places SET country = $iso3 WHERE pcode = $code AND admin_level = 0",
                {"iso3": iso3, "code": code},
            )
            if code not in existing:
                new.append(
                    {
                        "pcode": code,
                        "name": iso3,
                        "admin_level": 0,
                        "parent_pcode": None,
                        "country": iso3,
                        "valid_from": None,
                    }
                )
        insert_places(store, new, batch_id)
        report.records_loaded = len(new)
        report.rows_loaded = report.rows_read - report.rows_rejected
        report.notes.append(f"{len(new)} new places; codes already in the store were kept as they were")
        report.seconds = round(time.perf_counter() - started, 3)
        record_batch(store, report, user)
    return report


def _existing_country(existing: set[str], pcode: str, parent: str) -> str:
    """The list names adm0 by ISO3 (SOM); COD-AB by its P-code (SO). Reuse the adm0 already present."""
    if parent in existing:
        return parent
    for size in (3, 2):
        if pcode[:size] in existing and pcode[:size] != pcode:
            return pcode[:size]
    return parent


def _read_cells(p: Path, source: Any) -> list[tuple[int, list[str | None]]]:
    if hasattr(source, "raw"):
        table = source.raw.table
        cols = [table.column(f"c{i}").to_pylist() for i in range(len(source.headers))]
        rows = table.column("_row").to_pylist()
        return [(rows[k], [c[k] for c in cols]) for k in range(table.num_rows)]
    out = []
    with p.open(encoding="utf-8-sig", newline="") as fh:
        for number, cells in enumerate(csv.reader(fh, delimiter=source.delimiter), start=1):
            if number >= source.data_line and any(c.strip() for c in cells):
                out.append((number, [c or None for c in cells]))
    return out


def insert_places(store: Store, places: list[dict[str, Any]], batch_id: str) -> None:
    if places:
        table = pa.table(
            {
                "pcode": [p["pcode"] for p in places],
                "name": [p["name"] for p in places],
                "admin_level": pa.array([p["admin_level"] for p in places], pa.int32()),
                "parent_pcode": pa.array([p["parent_pcode"] for p in places], pa.string()),
                "country": pa.array([p["country"] for p in places], pa.string()),
                "valid_from": pa.array([_date(p["valid_from"]) for p in places], pa.date32()),
                "batch_id": [batch_id] * len(places),
            }
        )
        store.load_arrow("places", table)
    refresh_ancestors(store)


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def refresh_ancestors(store: Store) -> None:
    """Denormalise adm0..adm3 on every place so roll-ups are one join, on any engine."""
    store.execute("UPDATE places SET adm0 = pcode, adm1 = NULL, adm2 = NULL, adm3 = NULL WHERE admin_level = 0")
    for level in (1, 2, 3):
        sets = [f"adm{level - 1} = parent_pcode", f"adm{level} = pcode"]
        sets += [
            f"adm{a} = (SELECT q.adm{a} FROM places q WHERE q.pcode = places.parent_pcode)" for a in range(level - 1)
        ]
        store.execute(f"UPDATE places SET {', '.join(sets)} WHERE admin_level = {level}")
    store.execute(
        "UPDATE places SET country = (SELECT q.country FROM places q WHERE q.pcode = places.adm0) "
        "WHERE country IS NULL AND adm0 IS NOT NULL"
    )


def load_boundaries(store: Store, path: str | Path, level: int | None = None, user: str | None = None) -> BatchReport:
    from onthemove.ingest.boundaries import read_boundaries

    started = time.perf_counter()
    p = Path(path)
    shp = next(iter(sorted(p.glob("*.shp"))), p) if p.is_dir() else p
    sha = file_sha256(shp)
    batch_id = _batch_id(f"boundaries|{level}", sha)
    with store.transaction():
        if done := _already(store, batch_id):
            return done
        found = read_boundaries(shp, level=level)
        report = BatchReport(
            batch_id=batch_id,
            kind="boundaries",
            source_file=str(shp),
            sha256=sha,
            status="loaded",
            rows_read=len(found),
            attribution="OCHA COD-AB",
            licence="CC BY-IGO",
        )
        existing = {r[0]: r[1] for r in store.fetch("SELECT pcode, admin_level FROM places")}
        new_places = []
        for b in found:
            pcode = b.pcode.upper()
            if b.admin_level == 0 and pcode not in existing:
                pcode = _country_code(store, pcode) or pcode
            if pcode not in existing:
                parent = b.parent_pcode.upper() if b.parent_pcode else None
                new_places.append(
                    {
                        "pcode": pcode,
                        "name": b.name,
                        "admin_level": b.admin_level,
                        "parent_pcode": parent,
                        "country": None,
                        "valid_from": None,
                    }
                )
                existing[pcode] = b.admin_level
            elif b.admin_level == 0:
                store.execute(
                    "UPDATE places SET name = $n WHERE pcode = $p AND name = country", {"n": b.name, "p": pcode}
                )
            store.execute("DELETE FROM place_geometries WHERE pcode = $p", {"p": pcode})
            store.execute(
                "INSERT INTO place_geometries VALUES ($p, $g, $w, $lat, $lon, $area, $batch)",
                {
                    "p": pcode,
                    "g": b.geometry,
                    "w": b.geometry_web,
                    "lat": b.centroid_lat,
                    "lon": b.centroid_lon,
                    "area": b.area_km2,
                    "batch": batch_id,
                },
            )
        insert_places(store, new_places, batch_id)
        report.rows_loaded = report.records_loaded = len(found)
        report.notes.append(f"{len(new_places)} places added that the P-code list lacked")
        report.seconds = round(time.perf_counter() - started, 3)
        record_batch(store, report, user)
    return report


def _country_code(store: Store, code: str) -> str | None:
    """COD-AB writes adm0 as ISO2 ('SO'), the P-code list as ISO3 ('SOM'): find the adm0 whose children match."""
    row = store.fetch_one(
        "SELECT parent_pcode FROM places WHERE admin_level = 1 AND pcode LIKE $prefix GROUP BY parent_pcode "
        "ORDER BY count(*) DESC LIMIT 1",
        {"prefix": code + "%"},
    )
    return str(row[0]) if row and row[0] else None


def load_aliases(store: Store, path: str | Path, user: str | None = None) -> BatchReport:
    """A CSV ``alias,pcode[,source]``: names people use that the gazetteer does not know."""
    p = Path(path)
    sha = file_sha256(p)
    batch_id = _batch_id("aliases", sha)
    with store.transaction():
        if done := _already(store, batch_id):
            return done
        known = {r[0] for r in store.fetch("SELECT pcode FROM places")}
        report = BatchReport(batch_id=batch_id, kind="aliases", source_file=str(p), sha256=sha, status="loaded")
        with p.open(encoding="utf-8-sig", newline="") as fh:
            for number, row in enumerate(csv.DictReader(fh), start=2):
                report.rows_read += 1
                alias, pcode = (row.get("alias") or "").strip(), (row.get("pcode") or "").strip().upper()
                if not alias or pcode not in known:
                    report.rows_rejected += 1
                    report.rejections.append(
                        {
                            "file": str(p),
                            "row": number,
                            "column": "pcode",
                            "value": pcode,
                            "expected": "an alias and a P-code in the gazetteer",
                        }
                    )
                    continue
                add_alias(store, alias, pcode, row.get("source") or str(p), batch_id)
                report.records_loaded += 1
        report.rows_loaded = report.rows_read - report.rows_rejected
        record_batch(store, report, user)
    return report


def add_alias(store: Store, alias: str, pcode: str, source: str, batch_id: str | None = None) -> None:
    store.execute(
        "INSERT INTO place_aliases VALUES ($a, $p, $s, $b)",
        {"a": alias, "p": pcode.upper(), "s": source, "b": batch_id},
    )


def load_matcher(store: Store) -> PlaceMatcher:
    aliases: dict[str, list[str]] = {}
    for alias, pcode in store.fetch("SELECT alias, pcode FROM place_aliases"):
        aliases.setdefault(pcode, []).append(alias)
    places = [
        Place(pcode=r[0], name=r[1], admin_level=int(r[2]), parent_pcode=r[3], aliases=tuple(aliases.get(r[0], ())))
        for r in store.fetch("SELECT pcode, name, admin_level, parent_pcode FROM places")
    ]
    return PlaceMatcher(places)


def list_places(
    store: Store,
    level: int | None = None,
    parent: str | None = None,
    scope: tuple[str, ...] | None = None,
    geometry: bool = False,
) -> list[dict[str, Any]]:
    """Places by level, parent or scope; with ``geometry``, the simplified GeoJSON text for the web."""
    from onthemove.analyse.query import within_sql

    where: list[str] = ["1 = 1"]
    params: dict[str, Any] = {}
    if level is not None:
        where.append("p.admin_level = $level")
        params["level"] = level
    if parent:
        where.append("p.parent_pcode = $parent")
        params["parent"] = parent.upper()
    if scope is not None:
        where.append(within_sql("scope"))
        params["scope"] = list(scope)
    geo = (
        "(SELECT min(g.geometry_web) FROM place_geometries g WHERE g.pcode = p.pcode)"
        if geometry
        else "CAST(NULL AS VARCHAR)"
    )
    return store.fetch_dicts(
        f"SELECT p.pcode, p.name, p.admin_level, p.parent_pcode, p.country, {geo} AS geometry FROM places p "
        f"WHERE {' AND '.join(where)} ORDER BY p.admin_level, p.pcode",
        params,
    )
