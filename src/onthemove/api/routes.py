"""The ``/api/v1`` endpoints. Each one asks ``permit`` first; privacy for anonymous users and partners
is decided by ``principal.redacted``, which sends them to ``redacted_totals`` and nowhere else."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from onthemove.access import audit
from onthemove.access.policy import Forbidden, Principal
from onthemove.analyse import alerts as alerts_module
from onthemove.analyse import query as query_module
from onthemove.analyse.alerts import Alert
from onthemove.analyse.redact import redacted_totals
from onthemove.analyse.sites import sites_with_needs
from onthemove.api.auth import permit, principal
from onthemove.api.context import StoreContext, context
from onthemove.api.errors import ApiError
from onthemove.api.models import (
    BatchDetail,
    BatchReportOut,
    BatchSummary,
    ErrorBody,
    Health,
    PlaceCollection,
    PlaceDetail,
    PlaceDetailProperties,
    PlaceFeature,
    PlaceProperties,
    PlaceRef,
    Ready,
    Rejection,
    Rejections,
    RollbackOut,
    SiteOut,
    Sites,
    Totals,
)
from onthemove.api.version import VERSION
from onthemove.ingest.gazetteer import list_places
from onthemove.ingest.kinds import KINDS
from onthemove.ingest.sources import ingest_file
from onthemove.share import export_package, export_records
from onthemove.store import batches as batch_registry
from onthemove.store.migrate import applied, pending

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "The request cannot be answered as asked"),
        (401, "The API token is not valid"),
        (403, "The principal may not do this"),
        (404, "Not found"),
        (422, "The request's parameters are not valid"),
    )
}

router = APIRouter(prefix="/api/v1", responses=ERRORS)

Ctx = Annotated[StoreContext, Depends(context)]
Who = Annotated[Principal, Depends(principal)]

Dimension = Literal[
    "month",
    "quarter",
    "year",
    "date",
    "adm0",
    "adm1",
    "adm2",
    "adm3",
    "reason",
    "population_group",
    "sex",
    "age_group",
    "origin",
]


# --- liveness and readiness -------------------------------------------------------------------


@router.get("/health", response_model=Health, tags=["service"])
def health() -> Health:
    return Health(status="ok", version=VERSION)


@router.get("/ready", response_model=Ready, tags=["service"], responses={503: {"model": ErrorBody}})
def ready(ctx: Ctx) -> Ready:
    try:
        with ctx.store() as store:
            missing = pending(store)
            done = applied(store)
            engine = store.engine
    except Exception as exc:
        raise ApiError(503, f"the store is not reachable: {exc}") from exc
    if missing:
        raise ApiError(503, f"the store needs `onthemove init`: {len(missing)} migration(s) pending")
    return Ready(status="ready", engine=engine, schema_version=max(done, default=0))


# --- places -----------------------------------------------------------------------------------


@router.get("/places", response_model=PlaceCollection, tags=["places"])
def places(
    ctx: Ctx,
    who: Who,
    level: Annotated[int | None, Query(ge=0, le=3, description="admin level: 0 country .. 3")] = None,
    parent: Annotated[str | None, Query(description="only the places directly inside this P-code")] = None,
    geometry: Annotated[bool, Query(description="include web (simplified) geometries")] = True,
) -> PlaceCollection:
    permit(who, "read_aggregates")
    with ctx.store() as store:
        rows = list_places(store, level, parent, scope=who.scope, geometry=geometry)
    return PlaceCollection(
        features=[
            PlaceFeature(
                id=r["pcode"],
                properties=PlaceProperties(
                    pcode=r["pcode"], name=r["name"], admin_level=r["admin_level"], parent_pcode=r["parent_pcode"]
                ),
                geometry=json.loads(r["geometry"]) if r["geometry"] else None,
            )
            for r in rows
        ]
    )


@router.get("/places/{pcode}", response_model=PlaceDetail, tags=["places"])
def place(
    ctx: Ctx,
    who: Who,
    pcode: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="the place's P-code")],
    geometry: Annotated[bool, Query(description="include the web (simplified) geometry")] = True,
) -> PlaceDetail:
    """One place, with the areas it lies in (``ancestors``, country first).

    The place scope is honoured exactly as ``/places`` honours it: a principal with a scope gets 404 for a
    place outside it, the same answer as for a P-code that does not exist, so that the answer does not
    reveal which P-codes exist; ancestors outside the scope are left out of ``ancestors``.
    """
    permit(who, "read_aggregates")
    scope_sql, scope_params = "", {}
    if who.scope is not None:
        scope_sql, scope_params = " AND " + query_module.within_sql("scope"), {"scope": list(who.scope)}
    geo = (
        "(SELECT min(g.geometry_web) FROM place_geometries g WHERE g.pcode = p.pcode)"
        if geometry
        else "CAST(NULL AS VARCHAR)"
    )
    with ctx.store() as store:
        found = store.fetch_dicts(
            "SELECT p.pcode, p.name, p.admin_level, p.parent_pcode, p.adm0, p.adm1, p.adm2, p.adm3, "
            f"{geo} AS geometry FROM places p WHERE p.pcode = $pcode{scope_sql}",
            {"pcode": pcode.upper(), **scope_params},
        )
        if not found:
            raise ApiError(404, f"no place {pcode!r}")
        row = found[0]
        codes = [
            row[f"adm{level}"]
            for level in range(min(row["admin_level"], 4))
            if row[f"adm{level}"] and row[f"adm{level}"] != row["pcode"]
        ]
        ancestors = (
            store.fetch_dicts(
                "SELECT p.pcode, p.name, p.admin_level FROM places p "
                f"WHERE list_contains($codes, p.pcode){scope_sql} ORDER BY p.admin_level, p.pcode",
                {"codes": codes, **scope_params},
            )
            if codes
            else []
        )
    return PlaceDetail(
        id=row["pcode"],
        properties=PlaceDetailProperties(
            pcode=row["pcode"],
            name=row["name"],
            admin_level=row["admin_level"],
            parent_pcode=row["parent_pcode"],
            ancestors=[PlaceRef(**a) for a in ancestors],
        ),
        geometry=json.loads(row["geometry"]) if row["geometry"] else None,
    )


# --- totals -----------------------------------------------------------------------------------


@router.get("/totals/{kind}", response_model=Totals, tags=["analyse"])
def totals(
    ctx: Ctx,
    who: Who,
    kind: Literal["movements", "displacement"],
    by: Annotated[list[Dimension], Query(description="group by: one period, admin levels, dimensions")] = [],  # noqa: B006
    place: Annotated[str | None, Query(description="this P-code and everything inside it")] = None,
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
    reason: Annotated[list[str], Query()] = [],  # noqa: B006
    group: Annotated[list[str], Query(description="population groups")] = [],  # noqa: B006
    side: Annotated[Literal["to", "from"], Query(description="movements: destination or origin")] = "to",
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Totals:
    permit(who, "read_aggregates")
    q = query_module.Query(
        kind=kind,
        by=list(by),
        place=place,
        start=start,
        end=end,
        reason=list(reason) or None,
        population_group=list(group) or None,
        side=side,
        scope=who.scope,
    )
    if who.redacted:
        with ctx.store() as store:
            redacted = ctx.cached(
                store, ("totals", repr(q), ctx.threshold), lambda: redacted_totals(store, q, ctx.threshold)
            )
        table, threshold, suppressed = redacted.table, redacted.threshold, redacted.suppressed
    else:
        with ctx.store() as store:
            table = ctx.cached(store, ("totals", repr(q)), lambda: query_module.run(store, q))
        threshold, suppressed = None, 0
    return Totals(
        rows=table.slice(offset, limit).to_pylist(),
        total_rows=table.num_rows,
        limit=limit,
        offset=offset,
        redacted=who.redacted,
        threshold=threshold,
        suppressed=suppressed,
    )


# --- alerts -----------------------------------------------------------------------------------


@router.get("/alerts", response_model=list[Alert], tags=["analyse"])
def alerts(
    ctx: Ctx,
    who: Who,
    kind: Literal["movements", "displacement"] = "movements",
    level: Literal["adm0", "adm1", "adm2", "adm3"] = "adm2",
    period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM; default latest")] = None,
) -> list[Alert]:
    permit(who, "read_aggregates")
    with ctx.store() as store:
        found = alerts_module.alerts(store, kind, level, period=period)
        visible: set[str] | None = None
        if who.scope is not None:
            visible = {r["pcode"] for r in list_places(store, scope=who.scope)}
    out = []
    for a in found:
        if who.redacted and a.value < ctx.threshold:
            continue
        if visible is not None and a.area not in visible:
            continue
        out.append(a)
    return out


# --- sites ------------------------------------------------------------------------------------


@router.get("/sites", response_model=Sites, tags=["analyse"])
def sites(
    ctx: Ctx,
    who: Who,
    place: Annotated[str | None, Query(description="sites in this P-code and everything inside it")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Sites:
    """Sites with their latest needs; anonymous users and partners get small populations blanked."""
    permit(who, "read_aggregates")
    with ctx.store() as store:
        rows, total = sites_with_needs(store, place=place, scope=who.scope, limit=limit, offset=offset)
    if who.redacted:
        for r in rows:
            for key in ("households", "individuals"):
                if r[key] is not None and r[key] < ctx.threshold:
                    r[key] = None
    return Sites(rows=[SiteOut(**r) for r in rows], total_rows=total, limit=limit, offset=offset, redacted=who.redacted)


# --- batches ----------------------------------------------------------------------------------


@router.get("/batches", response_model=list[BatchSummary], tags=["batches"])
def list_batches(
    ctx: Ctx,
    who: Who,
    kind: str | None = None,
    all: Annotated[bool, Query(description="also rolled back and superseded batches")] = False,
) -> list[BatchSummary]:
    permit(who, "read_batches")
    with ctx.store() as store:
        rows = batch_registry.list_batches(store, include_all=all, kind=kind)
    return [BatchSummary(**r) for r in rows]


@router.get("/batches/{batch_id}", response_model=BatchDetail, tags=["batches"])
def get_batch(ctx: Ctx, who: Who, batch_id: str) -> BatchDetail:
    permit(who, "read_batches")
    permit(who, "read_records")  # the report quotes rejected cells: row-level, audited
    with ctx.store() as store:
        row = batch_registry.get_batch(store, batch_id)
        audit.record(store, who.label(), "batch.read", batch_id, {"part": "report"})
    return BatchDetail(**row)


@router.get("/batches/{batch_id}/rejections", response_model=Rejections, tags=["batches"])
def get_rejections(
    ctx: Ctx,
    who: Who,
    batch_id: str,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Rejections:
    permit(who, "read_batches")
    permit(who, "read_records")
    with ctx.store() as store:
        batch_registry.get_batch(store, batch_id)  # 404 when there is no such batch
        counted = store.fetch_one("SELECT count(*) FROM rejections WHERE batch_id = $id", {"id": batch_id})
        rows = store.fetch_dicts(
            "SELECT row_number, column_name, value, expected FROM rejections WHERE batch_id = $id "
            "ORDER BY row_number, column_name LIMIT $limit OFFSET $offset",
            {"id": batch_id, "limit": limit, "offset": offset},
        )
        audit.record(store, who.label(), "batch.read", batch_id, {"part": "rejections", "offset": offset})
    return Rejections(
        batch_id=batch_id,
        rows=[Rejection(**r) for r in rows],
        total_rows=int(counted[0]) if counted else 0,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/batches",
    response_model=BatchReportOut,
    status_code=201,
    tags=["batches"],
    responses={422: {"model": ErrorBody, "description": "Strict mode refused the file; details hold its report"}},
)
def upload(
    ctx: Ctx,
    who: Who,
    file: Annotated[UploadFile, File(description="CSV, XLSX, Kobo or DTM JSON file")],
    kind: Annotated[str | None, Form(description="the kind of records (needed for HXL-tagged files)")] = None,
    mapping: Annotated[UploadFile | None, File(description="a YAML mapping file")] = None,
    strict: Annotated[bool, Form(description="refuse the whole file if any row is rejected")] = False,
) -> BatchReportOut:
    permit(who, "upload")
    work = Path(tempfile.mkdtemp(prefix="onthemove-upload-"))
    try:
        path = _save(file, work, "upload")
        mapping_path = _save(mapping, work / "mapping", "mapping.yaml") if mapping is not None else None
        with ctx.store() as store:
            # the pipeline records the attempt (loaded, unchanged or refused) in the audit log
            report = ingest_file(
                store,
                path,
                kind=kind,
                mapping=mapping_path,
                strict=strict,
                user=who.label(),
                source_name=f"upload: {file.filename or path.name}",
            )
        return BatchReportOut(**report.to_dict())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _save(upload: UploadFile, folder: Path, fallback: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(upload.filename or fallback).name or fallback
    path = folder / name
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out)
    return path


@router.post(
    "/batches/{batch_id}/rollback",
    response_model=RollbackOut,
    tags=["batches"],
    responses={409: {"model": ErrorBody, "description": "The batch is not loaded, or its places are in use"}},
)
def rollback(ctx: Ctx, who: Who, batch_id: str) -> RollbackOut:
    permit(who, "rollback")
    with ctx.store() as store:
        batch_registry.get_batch(store, batch_id)  # 404
        try:
            done = batch_registry.rollback(store, batch_id, actor=who.label())  # audited in its transaction
        except batch_registry.BatchError as exc:
            raise ApiError(409, str(exc)) from exc
    return RollbackOut(batch_id=done.batch_id, removed=done.removed, total=done.total)


# --- exports ----------------------------------------------------------------------------------

CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}, "description": "The records as CSV"}}


def _whole_store_export(who: Principal) -> None:
    permit(who, "export")
    if who.scope is not None:  # exports are whole tables: a partner's scope cannot be honoured
        raise Forbidden(f"{who.label()} has a place scope; exports are whole tables, not limited to a scope")


def _streamed(prefix: str, media_type: str, build: Callable[[Path], Path]) -> FileResponse:
    """Build a file in a temporary folder, stream it, and remove the folder once it is sent."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        path = build(work)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return FileResponse(
        path, media_type=media_type, filename=path.name, background=BackgroundTask(shutil.rmtree, work, True)
    )


def _export(ctx: StoreContext, who: Principal, kind: str, fmt: str) -> FileResponse:
    _whole_store_export(who)
    if kind not in KINDS:
        raise ApiError(404, f"no kind {kind!r}; expected one of: {', '.join(KINDS)}")
    suffix = ".hxl.csv" if fmt == "hxl" else ".csv"

    def build(work: Path) -> Path:
        with ctx.store() as store:  # export_records writes the audit entry
            return export_records(store, kind, work / f"{kind}{suffix}", fmt=fmt, actor=who.label())

    return _streamed("onthemove-export-", "text/csv", build)


ZIP: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/zip": {}}, "description": "A Frictionless data package, zipped"}
}


@router.get("/exports/package.zip", response_class=FileResponse, responses=ZIP, tags=["share"])
def export_frictionless(ctx: Ctx, who: Who) -> FileResponse:
    """Every canonical table, the places and monthly aggregates as a Frictionless data package."""
    _whole_store_export(who)

    def build(work: Path) -> Path:
        with ctx.store() as store:  # export_package writes the audit entry
            export_package(store, work / "package", actor=who.label())
        return Path(shutil.make_archive(str(work / "onthemove-package"), "zip", work / "package"))

    return _streamed("onthemove-package-", "application/zip", build)


# the longer suffix first: "/exports/movements.hxl.csv" would otherwise match "{kind}.csv"
@router.get("/exports/{kind}.hxl.csv", response_class=FileResponse, responses=CSV, tags=["share"])
def export_hxl_csv(ctx: Ctx, who: Who, kind: str) -> FileResponse:
    return _export(ctx, who, kind, "hxl")


@router.get("/exports/{kind}.csv", response_class=FileResponse, responses=CSV, tags=["share"])
def export_csv(ctx: Ctx, who: Who, kind: str) -> FileResponse:
    return _export(ctx, who, kind, "csv")
