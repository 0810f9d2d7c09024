"""The OpenAPI document is pinned: a change to the API shows up as a diff of tests/golden/openapi.json.

Regenerate with ``UPDATE_GOLDEN=1 pytest tests/api/test_openapi_golden.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from onthemove.api import create_app

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "openapi.json"


def _render(document: object) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def test_openapi_matches_golden(tmp_path: Path) -> None:
    app = create_app(str(tmp_path / "never-opened"))  # building the document opens no store
    text = _render(app.openapi())
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.exists(), f"{GOLDEN} is missing: run with UPDATE_GOLDEN=1 to write it"
    assert json.loads(GOLDEN.read_text(encoding="utf-8")) == json.loads(text), (
        "the API changed: review it and regenerate with UPDATE_GOLDEN=1"
    )
    assert not (tmp_path / "never-opened").exists()


def test_openapi_is_precise() -> None:
    document = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert document["info"]["title"] == "onthemove"
    paths = document["paths"]
    for path in (
        "/api/v1/health",
        "/api/v1/ready",
        "/api/v1/places",
        "/api/v1/places/{pcode}",
        "/api/v1/totals/{kind}",
        "/api/v1/sites",
        "/api/v1/session",
        "/api/v1/alerts",
        "/api/v1/batches",
        "/api/v1/batches/{batch_id}",
        "/api/v1/batches/{batch_id}/rejections",
        "/api/v1/batches/{batch_id}/rollback",
        "/api/v1/exports/{kind}.csv",
        "/api/v1/exports/{kind}.hxl.csv",
        "/api/v1/forecasts/{kind}",
        "/api/v1/triggers",
        "/api/v1/simulation/graph",
        "/api/v1/simulations",
        "/api/v1/results/framework",
        "/api/v1/results/indicators",
        "/api/v1/results/report",
        "/api/v1/results/report.xlsx",
        "/api/v1/results/report.html",
        "/api/v1/needs",
        "/api/v1/allocations",
        "/api/v1/allocations/example",
        "/api/v1/assistance/who-what-where",
        "/api/v1/assistance/gap",
    ):
        assert path in paths, path
    totals = paths["/api/v1/totals/{kind}"]["get"]["responses"]
    assert totals["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Totals"}
    assert totals["403"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    for path, schema in (("/api/v1/forecasts/{kind}", "Forecasts"), ("/api/v1/triggers", "TriggerStatuses")):
        responses = paths[path]["get"]["responses"]
        assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{schema}"}
        assert paths[path]["get"]["tags"] == ["foresight"]
    graph = paths["/api/v1/simulation/graph"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert graph == {"$ref": "#/components/schemas/SimulationGraph"}
    run = paths["/api/v1/simulations"]["post"]
    assert run["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SimulationRequest"
    }
    assert run["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Simulation"
    }
    for path, schema in (
        ("/api/v1/results/framework", "ResultsFramework"),
        ("/api/v1/results/indicators", "IndicatorDefinitions"),
        ("/api/v1/results/report", "ResultsReport"),
    ):
        responses = paths[path]["get"]["responses"]
        assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{schema}"}
        assert paths[path]["get"]["tags"] == ["results"]
    xlsx = paths["/api/v1/results/report.xlsx"]["get"]["responses"]["200"]["content"]
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in xlsx
    assert "text/html" in paths["/api/v1/results/report.html"]["get"]["responses"]["200"]["content"]
    for path, schema in (
        ("/api/v1/needs", "NeedsRanking"),
        ("/api/v1/allocations/example", "AllocationExample"),
        ("/api/v1/assistance/who-what-where", "WhoWhatWhere"),
        ("/api/v1/assistance/gap", "AssistanceGap"),
    ):
        responses = paths[path]["get"]["responses"]
        assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{schema}"}
        assert paths[path]["get"]["tags"] == ["respond"]
    allocate = paths["/api/v1/allocations"]["post"]
    assert allocate["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AllocationRequest"
    }
    assert allocate["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Allocation"
    }
