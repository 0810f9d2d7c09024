"""The web pages over the ``/api/v1`` endpoints: an overview (map, headline totals, trend), alerts, and a
data page (log in, batches, upload).

``mount_web(app)`` adds ``/static``, ``GET /``, ``GET /alerts`` and ``GET /data`` to an API app. Every asset is
served from this package (``static/vendor`` holds Leaflet and uPlot): the pages make no request to any other host,
because field offices work without internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from onthemove.ingest.kinds import KINDS

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def mount_web(app: FastAPI) -> None:
    """Serve the static assets at ``/static``, the overview page at ``/`` and the data page at ``/data``."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request) -> HTMLResponse:
        api_base = request.scope.get("root_path", "") + "/api/v1"
        return templates.TemplateResponse(
            request, "overview.html", {"title": "Overview", "api_base": api_base, "page": "overview"}
        )

    @app.get("/data", response_class=HTMLResponse, include_in_schema=False)
    def data_page(request: Request) -> HTMLResponse:
        api_base = request.scope.get("root_path", "") + "/api/v1"
        kinds = sorted(KINDS)
        return templates.TemplateResponse(
            request, "data.html", {"title": "Data", "api_base": api_base, "page": "data", "kinds": kinds}
        )

    @app.get("/alerts", response_class=HTMLResponse, include_in_schema=False)
    def alerts_page(request: Request) -> HTMLResponse:
        api_base = request.scope.get("root_path", "") + "/api/v1"
        return templates.TemplateResponse(
            request, "alerts.html", {"title": "Alerts", "api_base": api_base, "page": "alerts"}
        )


__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "mount_web"]
