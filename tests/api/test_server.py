"""Serving: JSON log lines per request, and no several workers on a single-process DuckDB store."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onthemove.api import create_app
from onthemove.api.server import JsonFormatter, serve


def test_serve_refuses_workers_on_duckdb(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="DuckDB"):
        serve(str(tmp_path / "store"), workers=2)
    with pytest.raises(ValueError, match="at least 1"):
        serve(str(tmp_path / "store"), workers=0)


def test_requests_are_logged_as_json_lines(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(str(tmp_path / "store"))
    with caplog.at_level(logging.INFO, logger="onthemove.api"), TestClient(app) as client:
        assert client.get("/api/v1/health").status_code == 200
        assert client.get("/api/v1/batches").status_code == 403
    records = [r for r in caplog.records if r.name == "onthemove.api"]
    lines = [json.loads(JsonFormatter().format(r)) for r in records]
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [
        ("GET", "/api/v1/health", 200),
        ("GET", "/api/v1/batches", 403),
    ]
    for entry in lines:
        assert {"time", "level", "message", "duration_ms"} <= set(entry)
        assert entry["level"] == "info"
        assert entry["duration_ms"] >= 0
