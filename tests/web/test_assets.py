"""The pages and their assets, without a browser: served from the package, vendored, nothing from the web."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from onthemove.web import STATIC_DIR, TEMPLATES_DIR

VENDORED = (
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/LICENSE",
    "vendor/uplot/uPlot.iife.min.js",
    "vendor/uplot/uPlot.min.css",
    "vendor/uplot/LICENSE",
    "vendor/README.md",
)
# every page (the place page with any P-code: the page is drawn by its script)
PAGES = ("/", "/place/XD01", "/sites", "/alerts", "/foresight", "/simulate", "/respond", "/results", "/data")
# what each page script once had its own copy of, and now takes from common.js
SHARED = (
    "data-api-base",
    "function getJSON(",
    "function el(",
    "function setStatus(",
    "function legendItem(",
    "L.map(",
    "uPlot.tzDate",
    'new Intl.DateTimeFormat("en", { month: "long"',
)
# a URL with a host, other than the XML/SVG namespaces that libraries name but never fetch
REMOTE = re.compile(r"(?:https?:)?//(?!www\.w3\.org/)[a-z0-9.-]+\.[a-z]{2,}/", re.IGNORECASE)


@pytest.fixture(scope="module")
def client(web_app: FastAPI) -> TestClient:
    return TestClient(web_app)


@pytest.mark.parametrize("path", VENDORED)
def test_vendored_files_are_in_the_package(path: str) -> None:
    assert (STATIC_DIR / path).is_file()


def test_vendor_readme_names_version_licence_and_source() -> None:
    text = (STATIC_DIR / "vendor" / "README.md").read_text()
    for needle in ("leaflet", "1.9.4", "BSD-2-Clause", "uplot", "1.6.32", "MIT", "npm"):
        assert needle in text


def test_our_pages_and_scripts_name_no_remote_host() -> None:
    ours = [*TEMPLATES_DIR.glob("*.html"), *STATIC_DIR.glob("*.js"), *STATIC_DIR.glob("*.css")]
    assert len(ours) >= 4
    for path in ours:
        assert not REMOTE.search(path.read_text()), path.name


def test_overview_page_links_local_assets_only(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for needle in (
        'id="period"',
        'label for="period"',
        'id="map"',
        'role="img"',
        'id="trend"',
        'id="headline-arrivals"',
    ):
        assert needle in html
    assets = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"#]+)"', html)
    assert assets and all(a.startswith("/static/") for a in assets), assets
    links = re.findall(r'<a\b[^>]*\bhref="([^"#]+)"', html)
    assert links and all(a.startswith("/") and not a.startswith("//") for a in links), links
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_static_files_are_served(client: TestClient) -> None:
    response = client.get("/static/vendor/leaflet/leaflet.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert client.get("/static/overview.js").status_code == 200
    assert client.get("/static/nothing-here.js").status_code == 404


def test_the_shared_helpers_are_served_as_javascript(client: TestClient) -> None:
    response = client.get("/static/common.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "window.OTM = {" in response.text


@pytest.mark.parametrize("path", PAGES)
def test_every_page_loads_the_shared_helpers_before_its_script(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    scripts = re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', response.text)
    assert scripts.count("/static/common.js") == 1, scripts
    own = [s for s in scripts if s != "/static/common.js" and not s.startswith("/static/vendor/")]
    assert len(own) == 1, scripts  # one script of the page's own
    assert scripts.index("/static/common.js") < scripts.index(own[0])
    assert client.get(own[0]).status_code == 200


@pytest.mark.parametrize("script", sorted(p.name for p in STATIC_DIR.glob("*.js") if p.name != "common.js"))
def test_page_scripts_use_the_shared_helpers_not_copies(script: str) -> None:
    text = (STATIC_DIR / script).read_text()
    for copy in SHARED:
        assert copy not in text, f"{script} has its own copy of a helper in common.js: {copy}"


def test_the_api_still_answers_beside_the_pages(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
