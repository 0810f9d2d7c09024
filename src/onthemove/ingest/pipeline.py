"""One ingest = one batch: read, map, match places, validate, then load all-or-nothing.

The whole load runs in one store transaction, so a failure or a killed process leaves the
store as it was. The batch id is derived from the file's checksum, the kind and the mapping,
so loading the same file again is recognised and changes nothing.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from onthemove.access import audit
from onthemove.ingest.hxl_auto import mapping_from_tags
from onthemove.ingest.kinds import get_kind
from onthemove.ingest.mapping import Mapping, MappingError
from onthemove.ingest.plan import Plan, build_plan
from onthemove.ingest.raw import ROW
from onthemove.ingest.report import MAX_LISTED, BatchReport
from onthemove.ingest.tabular import Source, open_source
from onthemove.ingest.validate import cell_sql, expected_records, find_rejected, load_query, no_rejections
from onthemove.store.base import Store
from onthemove.store.batches import remove_rows

Progress = Callable[[str], None]


class IngestError(ValueError):
    """The file cannot be loaded as asked; nothing was stored."""


class StrictRefusal(IngestError):
    """Strict mode and at least one row was rejected: the whole file is refused."""

    def __init__(self, report: BatchReport) -> None:
        super().__init__(
            f"{report.source_file}: {report.rows_rejected} of {report.rows_read} rows rejected; "
            "strict mode refuses the whole file and nothing was stored"
        )
        self.report = report


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def batch_id_for(kind: str, sha: str, mapping: Mapping) -> str:
    return "B" + hashlib.sha256(f"{kind}|{sha}|{mapping.fingerprint()}".encode()).hexdigest()[:12]


def resolve_mapping(source: Source, kind: str | None, mapping: Mapping | str | Path | None) -> Mapping:
    if isinstance(mapping, Mapping):
        found = mapping
    elif mapping is not None:
        found = Mapping.load(mapping)
    elif source.tags:
        if kind is None:
            raise IngestError(f"{source.source}: say which kind of records this HXL file holds (--kind)")
        return mapping_from_tags(get_kind(kind), source.tags, source=f"HXL tags of {source.source}")
    else:
        raise IngestError(
            f"{source.source}: no HXL hashtag row in the first 25 rows, and no mapping file given. "
            "Add HXL hashtags under the header row, or pass --mapping FILE (see docs/mapping.md)."
        )
    if kind is not None and kind != found.kind:
        raise MappingError(f"{found.origin}: the mapping loads {found.kind!r} but --kind says {kind!r}")
    return found


def ingest(
    store: Store,
    path: str | Path,
    kind: str | None = None,
    mapping: Mapping | str | Path | None = None,
    *,
    strict: bool = False,
    replace: bool = False,
    attribution: str | None = None,
    licence: str | None = None,
    user: str | None = None,
    source: Source | None = None,
    progress: Progress | None = None,
    source_name: str | None = None,
) -> BatchReport:
    """Load one file as one batch. ``source_name`` is what reports call the file (an upload's own name)."""
    started = time.perf_counter()
    step = progress or (lambda _msg: None)
    p = Path(path)
    if not p.exists():
        raise IngestError(f"{p}: file not found")
    step("checksum")
    sha = file_sha256(p)
    preset = mapping if isinstance(mapping, Mapping) else (Mapping.load(mapping) if mapping else None)
    if source is None:
        source = open_source(
            p, sheet=preset.sheet if preset else None, header_row=preset.header_row if preset else None
        )
    resolved = resolve_mapping(source, kind, preset)
    batch_id = batch_id_for(resolved.kind, sha, resolved)
    report = BatchReport(
        batch_id=batch_id,
        kind=resolved.kind,
        source_file=source_name or str(p),
        sha256=sha,
        status="loaded",
        mapping=resolved.origin,
        attribution=attribution or resolved.attribution,
        licence=licence or resolved.licence,
    )
    previous = store.fetch_one("SELECT status, report FROM batches WHERE batch_id = $id", {"id": batch_id})
    if previous and previous[0] == "loaded":
        old = BatchReport.from_dict(json.loads(previous[1]))
        old.status = "unchanged"
        old.notes = [f"this file was already loaded as batch {batch_id}; nothing changed"]
        old.records_loaded = 0
        _audit_upload(store, user, old)
        return old
    others = store.fetch(
        "SELECT batch_id FROM batches WHERE sha256 = $sha AND kind = $kind AND status = 'loaded'",
        {"sha": sha, "kind": resolved.kind},
    )
    if others and not replace:
        raise IngestError(
            f"{p}: this file is already loaded as batch {others[0][0]} with another mapping; "
            "roll that batch back first, or pass --replace to supersede it"
        )
    plan = build_plan(resolved, source.headers, source.tags)
    con = store.validation_connection()
    step("reading")
    # staging writes only temporary tables of this connection, so it runs before the transaction:
    # a reader that has to retry (see tabular.CsvSource) then aborts nothing
    try:
        report.rows_read = source.stage(con, "raw")
        _load(store, con, plan, report, others, previous, strict, user, step, started)
    except StrictRefusal as refused:  # its transaction is gone; the attempt itself is still on record
        _audit_upload(store, user, refused.report)
        raise
    finally:
        _drop_temp(con)

    return report


def _load(
    store: Store,
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    report: BatchReport,
    others: list[tuple[Any, ...]],
    previous: tuple[Any, ...] | None,
    strict: bool,
    user: str | None,
    step: Progress,
    started: float,
) -> None:
    """Everything that writes to the store, in one transaction."""
    batch_id = report.batch_id
    with store.transaction():
        step("matching places")
        has_known = _prepare_lookups(store, con, plan, report)
        for superseded in others:
            remove_rows(store, superseded[0])
            store.execute("UPDATE batches SET status = 'superseded' WHERE batch_id = $id", {"id": superseded[0]})
        if previous:  # rolled back earlier, now loaded again
            remove_rows(store, batch_id)
            store.execute("DELETE FROM batches WHERE batch_id = $id", {"id": batch_id})
        step("validating")
        load = load_query(plan, has_known)
        inserted = store.load_query(plan.kind.table, con, load.sql, {**load.params, "batch": batch_id})
        offered, empty_rows = expected_records(con, plan)
        if inserted != offered or empty_rows:
            step("explaining rejections")
            find_rejected(con, plan, has_known)
        else:
            no_rejections(con)
        _summarise(con, report)
        report.rows_loaded = report.rows_read - report.rows_rejected
        if strict and report.rows_rejected:
            report.status = "refused"
            raise StrictRefusal(report)  # the transaction takes back what was inserted
        report.records_loaded = inserted - _unload_rejected_rows(store, con, plan.kind.table, batch_id)
        store.load_query(
            "rejections",
            con,
            f"SELECT CAST($batch AS VARCHAR) AS batch_id, {ROW} AS row_number, column_name, value, expected "
            "FROM rejected",
            {"batch": batch_id},
        )
        step("recording the batch")
        report.seconds = round(time.perf_counter() - started, 3)
        record_batch(store, report, user)


def _unload_rejected_rows(store: Store, con: duckdb.DuckDBPyConnection, table: str, batch_id: str) -> int:
    """A row is loaded whole or not at all: drop the records its good columns did load."""
    rows = [int(r[0]) for r in con.execute(f"SELECT DISTINCT {ROW} FROM rejected").fetchall()]
    if not rows:
        return 0
    where = f"FROM {table} WHERE batch_id = $batch AND list_contains($rows, row_number)"
    found = store.fetch_one(f"SELECT count(*) {where}", {"batch": batch_id, "rows": rows})
    store.execute(f"DELETE {where}", {"batch": batch_id, "rows": rows})
    return int(found[0]) if found else 0


def _prepare_lookups(store: Store, con: duckdb.DuckDBPyConnection, plan: Plan, report: BatchReport) -> bool:
    known = store.fetch_arrow("SELECT pcode FROM places")
    con.register("_known_arrow", known)
    con.execute("CREATE OR REPLACE TEMP TABLE _known AS SELECT CAST(pcode AS VARCHAR) AS pcode FROM _known_arrow")
    con.unregister("_known_arrow")
    has_known = known.num_rows > 0
    if not has_known and any(f.type == "pcode" for f in plan.kind.fields):
        report.notes.append("the gazetteer is empty, so P-codes were not checked; load P-codes first")
    vm_rows = [
        (fld, str(src), None if dst is None else str(dst))
        for fld, pairs in plan.mapping.values.items()
        for src, dst in pairs.items()
    ]
    con.execute("CREATE OR REPLACE TEMP TABLE _valuemap (field VARCHAR, src VARCHAR, dst VARCHAR)")
    if vm_rows:
        con.executemany("INSERT INTO _valuemap VALUES (?, ?, ?)", vm_rows)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _placematch "
        "(field VARCHAR, name VARCHAR, parent VARCHAR, pcode VARCHAR, method VARCHAR, note VARCHAR)"
    )
    wanted = {
        (name, src.name_column, src.parent_column)
        for proj in plan.projections
        for name, src in proj.fields.items()
        if src.name_column is not None
    }
    if not wanted:
        return has_known
    from onthemove.ingest.gazetteer import load_matcher

    matcher = load_matcher(store)
    rows: list[tuple[Any, ...]] = []
    for fld, name_col, parent_col in sorted(wanted, key=str):
        opts = plan.mapping.places.get(fld, {})
        parent_sql = cell_sql(parent_col) if parent_col is not None else "NULL"
        pairs = con.execute(
            f"SELECT DISTINCT {cell_sql(name_col)} AS n, {parent_sql} AS p FROM raw WHERE n IS NOT NULL"
        ).fetchall()
        for name, parent in pairs:
            rows.append(_match_one(matcher, report, fld, name, parent, opts))
    parents = [u for u in report.unmatched_places if u["resolved_to"]]
    if parents:
        report.notes.append(
            f"{len(parents)} place name(s) not in the gazetteer were kept at their parent area: "
            + ", ".join(f"{u['name']} -> {u['resolved_to']}" for u in parents)
        )
    if rows:
        con.executemany("INSERT INTO _placematch VALUES (?, ?, ?, ?, ?, ?)", rows)
    return has_known


def _match_one(
    matcher: Any, report: BatchReport, fld: str, name: str, parent: str | None, opts: dict[str, Any]
) -> tuple[Any, ...]:
    """Match one distinct name; unmatched names are reported with candidates, never guessed.

    With ``fallback: parent`` a name the gazetteer lacks (a district newer than the boundaries)
    is kept at its parent area, so no count is lost, and the report says so.
    """
    level = opts.get("level")
    m = matcher.match(name, level=level, parent=parent, country=opts.get("country"))
    if m.pcode is not None:
        return (fld, name, parent, m.pcode, m.method, None)
    cands = "; ".join(f"{c.name} ({c.pcode}, {c.score:.0f})" for c in m.candidates)
    where = f" in {parent}" if parent else ""
    note = f"a place name that matches one P-code: {name!r}{where} is {m.method}; closest: {cands or 'none'}"
    pcode, method = None, m.method
    if opts.get("fallback") == "parent" and parent:
        up = matcher.match(parent, level=level - 1 if level else None, country=opts.get("country"))
        if up.pcode:
            pcode, method = up.pcode, "parent"
    report.unmatched_places.append(
        {
            "field": fld,
            "name": name,
            "parent": parent,
            "method": m.method,
            "resolved_to": pcode,
            "candidates": [c.__dict__ for c in m.candidates],
        }
    )
    return (fld, name, parent, pcode, method, note)


def _summarise(con: duckdb.DuckDBPyConnection, report: BatchReport) -> None:
    row = con.execute(f"SELECT count(DISTINCT {ROW}) FROM rejected").fetchall()[0]
    report.rows_rejected = int(row[0]) if row else 0
    listed = con.sql(
        f"SELECT {ROW} AS row, column_name AS column, value, expected FROM rejected LIMIT {MAX_LISTED}"
    ).to_arrow_table()
    report.rejections = [{"file": report.source_file, **r} for r in listed.to_pylist()]
    summary = con.sql(
        "SELECT column_name AS column, expected, count(*) AS rows, min(_row) AS first_row "
        "FROM rejected GROUP BY ALL ORDER BY rows DESC LIMIT 50"
    ).to_arrow_table()
    report.rejection_summary = summary.to_pylist()


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the staging tables; never hides the error that brought us here."""
    with contextlib.suppress(duckdb.Error):
        con.execute("DROP VIEW IF EXISTS raw")
        for name in ("raw_src", "rejected", "_flagged", "_known", "_valuemap", "_placematch"):
            con.execute(f"DROP TABLE IF EXISTS {name}")


def record_batch(store: Store, report: BatchReport, user: str | None) -> None:
    store.execute(
        "INSERT INTO batches VALUES ($id, $kind, $file, $sha, $mapping, $attr, $lic, $user, $at, "
        "$read, $loaded, $rejected, $status, $report)",
        {
            "id": report.batch_id,
            "kind": report.kind,
            "file": report.source_file,
            "sha": report.sha256,
            "mapping": report.mapping,
            "attr": report.attribution,
            "lic": report.licence,
            "user": user or whoami(),
            "at": datetime.now(UTC).replace(tzinfo=None),
            "read": report.rows_read,
            "loaded": report.rows_loaded,
            "rejected": report.rows_rejected,
            "status": report.status,
            "report": json.dumps(report.to_dict(), default=str),
        },
    )
    _audit_upload(store, user, report)


def _audit_upload(store: Store, user: str | None, report: BatchReport) -> None:
    """Every upload attempt, loaded, unchanged or refused, leaves one entry in the audit log."""
    audit.record(
        store,
        user or whoami(),
        "upload",
        report.batch_id,
        {
            "file": Path(report.source_file).name,
            "kind": report.kind,
            "status": report.status,
            "rows_read": report.rows_read,
            "rows_loaded": report.rows_loaded,
            "rows_rejected": report.rows_rejected,
        },
    )


def whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


__all__ = ["BatchReport", "IngestError", "StrictRefusal", "ingest"]
