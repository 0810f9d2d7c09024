"""Pick the reader for a file: DTM API JSON, Kobo/ODK export, or a plain/HXL CSV or spreadsheet.

Every reader ends in the same batch pipeline, so validation, reports and provenance are the same
whatever the source.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from onthemove.ingest.mapping import Mapping
from onthemove.ingest.pipeline import Progress, ingest
from onthemove.ingest.report import BatchReport
from onthemove.ingest.tabular import EXCEL, RawSource, Source, open_source
from onthemove.store.base import Store

KOBO_MARKERS = {"_uuid", "_submission_time", "_index", "_id", "meta/instanceID", "_submission__uuid"}


def detect(path: Path) -> str:
    """'dtm', 'kobo' or 'table'."""
    return _open(path, None)[0]


def _open(path: Path, preset: Mapping | None) -> tuple[str, Source | None]:
    """What the file is and, for tables, the source already opened (a spreadsheet is read once)."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return ("dtm" if _looks_like_dtm(path) else "kobo"), None
    if suffix in EXCEL or suffix in (".csv", ".tsv", ".txt"):
        try:
            source = open_source(
                path, sheet=preset.sheet if preset else None, header_row=preset.header_row if preset else None
            )
        except ValueError:
            return "table", None  # the pipeline opens it again and reports what is wrong
        return ("kobo" if set(source.headers) & KOBO_MARKERS else "table"), source
    return "table", None


def _looks_like_dtm(path: Path) -> bool:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True  # let the DTM reader say what is wrong
    if isinstance(body, dict):
        if "isSuccess" in body:
            return True
        body = body.get("result") or body.get("results") or []
    first = body[0] if isinstance(body, list) and body else {}
    return isinstance(first, dict) and any(k.startswith("admin0") for k in first)


def ingest_file(
    store: Store,
    path: str | Path,
    kind: str | None = None,
    mapping: Mapping | str | Path | None = None,
    *,
    level: str = "admin2",
    progress: Progress | None = None,
    **options: Any,
) -> BatchReport:
    p = Path(path)
    preset = mapping if isinstance(mapping, Mapping) or mapping is None else Mapping.load(mapping)
    found, source = _open(p, preset) if p.exists() else ("table", None)
    if found == "dtm":
        from onthemove.ingest.dtm import dtm_mapping, read_dtm_json

        source = RawSource(read_dtm_json(p))
        preset = preset or Mapping.from_dict(dtm_mapping(level), origin=f"built-in DTM v3 {level} mapping")
    elif found == "kobo":
        from onthemove.ingest.kobo import explode_select_multiple, flatten_repeat, read_kobo

        export = read_kobo(p)
        repeat = preset.repeat if preset else None
        raw = flatten_repeat(export, repeat) if repeat else export.main
        for column in preset.explode if preset else []:
            raw = explode_select_multiple(raw, column)
        source = RawSource(raw)
    return ingest(store, p, kind=kind, mapping=preset, source=source, progress=progress, **options)
