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
    if path.suffix.lower() == ".json":
        return "dtm" if _looks_like_dtm(path) else "kobo"
    if path.suffix.lower() in EXCEL or path.suffix.lower() in (".csv", ".tsv", ".txt"):
        try:
            headers = set(open_source(path).headers)
        except ValueError:
            return "table"
        if headers & KOBO_MARKERS:
            return "kobo"
    return "table"


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
    found = detect(p) if p.exists() else "table"
    preset = mapping if isinstance(mapping, Mapping) or mapping is None else Mapping.load(mapping)
    source: Source | None = None
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
