"""The web pages: an overview (map, headline totals, trend) over the ``/api/v1`` endpoints.

``mount_web(app)`` adds ``/static`` and ``GET /`` to an API app. Every asset is served from this
package (``static/vendor`` holds Leaflet and uPlot): the pages make no request to any other host,
because field offices work without internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def mount_web(app: FastAPI) -> None:
    """Serve the static assets at ``/static`` and the overview page at ``/``."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request) -> HTMLResponse:
        api_base = request.scope.get("root_path", "") + "/api/v1"
        return templates.TemplateResponse(request, "overview.html", {"title": "Overview", "api_base": api_base})


__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "mount_web"]
