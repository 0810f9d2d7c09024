"""The web pages over the ``/api/v1`` endpoints: an overview (map, headline totals, trend), a page per place,
sites, alerts, foresight (forecasts per area and trigger status), simulation (where people go, day by day, under
a scenario), needs and response (needs ranked per site, allocation of a budget, who does what where), results
(progress against the results framework), and a data page (log in, batches with their reports, upload, rollback).

``mount_web(app)`` adds ``/static`` and the pages to an API app. Every asset is served from this package
(``static/vendor`` holds Leaflet and uPlot): the pages make no request to any other host, because field offices
work without internet. The pages are thin: each one is a template plus a script that reads the API, so what a
page shows is exactly what the API would give the same user.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from onthemove.ingest.kinds import KINDS

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def _page(request: Request, template: str, title: str, page: str, **extra: Any) -> HTMLResponse:
    api_base = request.scope.get("root_path", "") + "/api/v1"
    context = {"title": title, "api_base": api_base, "page": page, **extra}
    return templates.TemplateResponse(request, template, context)


# pages that are a template and a title only: (path and template name, title)
PLAIN_PAGES = (
    ("sites", "Sites"),
    ("alerts", "Alerts"),
    ("foresight", "Foresight"),
    ("simulate", "Simulation"),
    ("respond", "Needs & response"),
    ("results", "Results"),
)


def _plain_page(page: str, title: str) -> Callable[[Request], HTMLResponse]:
    def show(request: Request) -> HTMLResponse:
        return _page(request, f"{page}.html", title, page)

    return show


def mount_web(app: FastAPI) -> None:
    """Serve the static assets at ``/static`` and the pages."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request) -> HTMLResponse:
        return _page(request, "overview.html", "Overview", "overview")

    @app.get("/place/{pcode}", response_class=HTMLResponse, include_in_schema=False)
    def place_page(request: Request, pcode: str = PathParam(pattern=r"^[A-Za-z0-9_-]{1,40}$")) -> HTMLResponse:
        return _page(request, "place.html", pcode, "place", pcode=pcode)

    for page, title in PLAIN_PAGES:
        app.add_api_route(
            f"/{page}",
            _plain_page(page, title),
            methods=["GET"],
            response_class=HTMLResponse,
            include_in_schema=False,
            name=f"{page}_page",  # what the templates' url_for names
        )

    @app.get("/data", response_class=HTMLResponse, include_in_schema=False)
    def data_page(request: Request) -> HTMLResponse:
        return _page(request, "data.html", "Data", "data", kinds=sorted(KINDS))


__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "mount_web"]
