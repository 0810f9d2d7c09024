"""The results page in a real browser (Debian's Chromium through Playwright), against Demoland with its results
framework extension: status tiles, the framework as a tree with each indicator's status, the chosen indicator's
figures, month chart and breakdowns, and the selectors that re-fetch the report."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI

from onthemove.api import create_app
from tests.conftest import ROOT
from tests.web.conftest import Watched, needs_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (a dev dependency)")

pytestmark = [pytest.mark.slow, needs_chromium]

RESULTS = ROOT / "examples" / "demoland" / "results.yaml"
READY = 60_000  # ms
STATUSES = ["on track", "at risk", "off track", "no target", "no data"]


@pytest.fixture(scope="module")
def web_app(demo_store: str) -> FastAPI:
    return create_app(demo_store, results_framework=str(RESULTS))


@pytest.fixture(scope="module")
def results(browser: Browser, live_server: str) -> Iterator[Watched]:
    """One page for the module; tests that change it put it back. The period is named (the page's default is
    this year, and Demoland's data end in October 2026)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    watched = Watched(page)
    page.goto(live_server + "/results?period=2026")
    page.wait_for_selector("body[data-ready=true]", timeout=READY)
    try:
        yield watched
    finally:
        context.close()


def _ready(watched: Watched) -> None:
    watched.page.wait_for_selector("body[data-ready=true]", timeout=READY)


def test_loads_offline_with_no_console_errors(results: Watched, artifacts: Path) -> None:
    page = results.page
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "results-1280.png"), full_page=True)
    assert results.errors == []
    assert results.foreign_requests() == []
    assert any("/api/v1/results/report?period=2026" in u for u in results.requests)
    assert any("/api/v1/results/framework" in u for u in results.requests)
    assert page.locator(".site-nav a[aria-current=page]").inner_text() == "Results"
    assert page.locator("#period").input_value() == "2026"
    assert "for 2026 (2026-01-01 to 2026-12-31)" in page.locator("#status").inner_text()


def test_status_tiles_count_the_indicators(results: Watched) -> None:
    page = results.page
    tiles = page.locator("#status-tiles li")
    assert tiles.count() == len(STATUSES)
    counts = {t.get_attribute("data-status"): int(t.get_attribute("data-count") or -1) for t in tiles.all()}
    assert list(counts) == STATUSES
    for tile in tiles.all():  # the status is written, not only coloured
        status, count = tile.get_attribute("data-status"), tile.get_attribute("data-count")
        assert tile.inner_text().split() == [*str(status).split(), str(count)]
    items = page.locator("#tree li.indicator-item")
    assert sum(counts.values()) == items.count() >= 9
    for status, n in counts.items():
        assert page.locator(f"#tree li.indicator-item[data-status='{status}']").count() == n


def test_the_tree_shows_the_objectives_enablers_and_cross_cutting_priorities(results: Watched) -> None:
    page = results.page
    headings = page.locator("#tree h3").all_inner_texts()
    assert headings == ["Objectives", "Enablers", "Cross-cutting priorities"]
    for group, n in (("objective", 3), ("enabler", 7), ("cross_cutting", 4)):
        assert page.locator(f"#tree ul[data-group={group}] > li.node").count() == n
    assert page.locator("#tree ul[data-group=objective] > li.node").first.get_attribute("data-node") == "O1"
    # Demoland's results chain sits beneath O1.1, open because it has indicators
    nfi = page.locator("#tree li.indicator-item[data-indicator='XDL-OUT-1-NFI']")
    assert nfi.is_visible()
    assert page.locator("#tree details[data-node='XDL-PRJ-1'] details[data-node='XDL-OUT-1']").count() == 1
    assert nfi.locator(".badge").inner_text() == nfi.get_attribute("data-status")
    assert "of the way from the baseline" in nfi.locator(".indicator-reason").inner_text()
    # closing a node hides its indicators; the summary toggles it from the keyboard
    summary = page.locator("#tree details[data-node='XDL-OUT-1'] > summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert not nfi.is_visible()
    page.keyboard.press("Enter")
    assert nfi.is_visible()
    page.click("#collapse-all")
    assert not nfi.is_visible()
    page.click("#expand-all")
    assert nfi.is_visible()


def test_choosing_an_indicator_draws_its_chart_and_breakdowns(results: Watched, artifacts: Path) -> None:
    page = results.page
    page.locator("#tree button[data-indicator='O1.4-DISP-NEW']").click()
    page.wait_for_selector("#indicator[data-indicator='O1.4-DISP-NEW']")
    assert page.get_attribute("#tree button[data-indicator='O1.4-DISP-NEW']", "aria-pressed") == "true"
    assert page.locator("#indicator-title").inner_text().startswith("O1.4-DISP-NEW: People newly displaced")
    assert page.locator("#indicator-status .badge").inner_text() in STATUSES
    facts = {r.get_attribute("data-figure"): r.inner_text() for r in page.locator("#indicator-facts tbody tr").all()}
    assert "120,000" in facts["target"] and "computed from the data" in facts["baseline"]
    # the months as a uPlot chart with the target as a second, dashed series; its figures as a table
    assert page.get_attribute("#months-chart", "data-months") == "10"
    canvas = page.locator("#months-chart canvas").first.bounding_box()
    assert canvas is not None and canvas["width"] > 250 and canvas["height"] > 100
    legend = page.locator("#months-chart .u-legend").inner_text()
    assert "O1.4-DISP-NEW" in legend and "Target (2026)" in legend
    assert "target of 120,000" in (page.get_attribute("#months-chart", "aria-label") or "")
    page.get_by_text("The chart's figures as a table").click()
    rows = page.locator("#months-table tbody tr")
    assert rows.count() == 10 and rows.first.get_attribute("data-month") == "2026-01"
    # a breakdown per dimension: bars and a table with the same figures
    places = page.locator("#breakdown-place tbody tr")
    assert places.count() == 6
    assert "Dunmere (XD04)" in page.locator("#breakdown-place").inner_text()
    assert page.locator("section[data-dimension=place] svg rect").count() == 6
    reasons = [r.get_attribute("data-key") for r in page.locator("#breakdown-reason tbody tr").all()]
    assert "conflict" in reasons
    assert "indicator=O1.4-DISP-NEW" in page.url
    page.screenshot(path=str(artifacts / "results-indicator.png"), full_page=True)
    # a reported indicator, chosen from the keyboard: no months, breakdowns by place and sex
    button = page.locator("#tree button[data-indicator='XDL-OUT-1-NFI']")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#indicator[data-indicator='XDL-OUT-1-NFI']")
    assert "reported per period" in page.locator("#months-caption").inner_text()
    assert page.locator("#months-details").is_hidden()
    sexes = page.locator("#breakdown-sex tbody th").all_inner_texts()
    assert sexes == ["female", "male"]
    assert results.errors == []


def test_changing_the_period_refetches_the_report(results: Watched) -> None:
    page = results.page
    page.locator("#tree button[data-indicator='O1.4-DISP-NEW']").click()
    with page.expect_response(lambda r: "/api/v1/results/report?period=2026-Q3" in r.url) as answer:
        page.select_option("#period", "2026-Q3")
    assert answer.value.status == 200
    _ready(results)
    assert page.get_attribute("#indicator", "data-indicator") == "O1.4-DISP-NEW"  # the choice is kept
    assert page.get_attribute("#months-chart", "data-months") == "3"
    assert page.locator("#months-table tbody tr").count() == 3
    assert "for 2026-Q3" in page.locator("#status").inner_text()
    assert "period=2026-Q3" in page.url
    assert "period=2026-Q3" in (page.get_attribute("#download-xlsx", "href") or "")
    # a place: its districts in the breakdown
    with page.expect_response(lambda r: "place=XD04" in r.url and "/results/report" in r.url):
        page.select_option("#place", "XD04")
    _ready(results)
    keys = [r.get_attribute("data-key") for r in page.locator("#breakdown-place tbody tr").all()]
    assert keys and all(str(k).startswith("XD04") for k in keys)
    page.select_option("#place", "")
    _ready(results)
    page.select_option("#period", "2026")
    _ready(results)
    assert results.errors == [] and results.foreign_requests() == []


def test_a_part_of_the_framework(results: Watched) -> None:
    page = results.page
    page.select_option("#part", "XDL-PRJ-1")
    _ready(results)
    assert page.locator("#tree > ul > li.node").count() == 1
    assert page.locator("#tree > ul > li.node").get_attribute("data-node") == "XDL-PRJ-1"
    codes = {i.get_attribute("data-indicator") for i in page.locator("#tree li.indicator-item").all()}
    assert codes == {"XDL-OUT-1-NFI", "XDL-OUT-2-WASH", "XDL-STO-1-REACHED"}
    assert "part=XDL-PRJ-1" in (page.get_attribute("#download-html", "href") or "")
    page.select_option("#part", "")
    _ready(results)
    assert page.locator("#tree h3").count() == 3


def test_the_downloads_are_the_api_s(results: Watched) -> None:
    page = results.page
    xlsx = page.get_attribute("#download-xlsx", "href") or ""
    html = page.get_attribute("#download-html", "href") or ""
    assert xlsx.startswith("/api/v1/results/report.xlsx?period=2026") and html.startswith("/api/v1/results/report.html")
    response = page.request.get(page.url.split("/results")[0] + html)
    assert response.status == 200 and "Progress report" in response.text()


def test_controls_show_where_the_focus_is(results: Watched) -> None:
    page = results.page
    page.focus("#period")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "place"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")


def test_a_failed_report_is_reported_not_hidden(browser: Browser, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server + "/results?period=1999-13")
        page.wait_for_selector("body[data-ready=true]", timeout=READY)
        status = page.locator("#status")
        assert "Could not compute the report: period: month 13" in status.inner_text()
        assert "error" in (status.get_attribute("class") or "")
    finally:
        context.close()


def test_the_page_links_local_assets_and_labels_its_controls(web_app: FastAPI) -> None:
    from fastapi.testclient import TestClient

    html = TestClient(web_app).get("/results").text
    for control in ("period", "place", "part"):
        assert f'<label for="{control}">' in html and f'id="{control}"' in html
    assets = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"#]+)"', html)
    assert "/static/results.js" in assets and "/static/results.css" in assets
    assert all(a.startswith("/static/") for a in assets), assets
