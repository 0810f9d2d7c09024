"""The foresight page in a real browser (Debian's Chromium through Playwright), against Demoland with the
Demoland triggers: a map of forecast change, a fan chart per area, and the trigger status."""

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
    from playwright.sync_api import Browser, Page

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (a dev dependency)")

pytestmark = [pytest.mark.slow, needs_chromium]

TRIGGERS = ROOT / "examples" / "demoland" / "triggers.yaml"
DEMO_ADM1 = 6
CHANGE_COLOURS = {"#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7", "#fddbc7", "#ef8a62", "#b2182b"}
READY = 120_000  # ms: the first forecast compiles the statistical models


@pytest.fixture(scope="module")
def web_app(demo_store: str) -> FastAPI:
    return create_app(demo_store, triggers_file=str(TRIGGERS))


@pytest.fixture(scope="module")
def foresight(browser: Browser, live_server: str) -> Iterator[Watched]:
    """One page for the module (the forecasts are computed once); tests that change it put it back."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watched = Watched(page)
    page.goto(live_server + "/foresight")
    page.wait_for_selector("body[data-ready=true]", timeout=READY)
    try:
        yield watched
    finally:
        context.close()


# the band's pixels: its fill, rgba(230, 97, 1, 0.25), on the chart's transparent canvas
BAND_PIXELS = """() => {
  const canvas = document.querySelector('#fan canvas');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
    if (a > 50 && a < 80 && Math.abs(r - 230) < 12 && Math.abs(g - 97) < 12 && b < 16) n++;
  }
  return n;
}"""


def _fills(page: Page) -> dict[str, str]:
    pairs = page.eval_on_selector_all(
        "#map path[data-pcode]", "els => els.map(e => [e.dataset.pcode, e.getAttribute('fill')])"
    )
    return dict(pairs)


def test_loads_offline_with_no_console_errors(foresight: Watched, artifacts: Path) -> None:
    page = foresight.page
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "foresight-1280.png"), full_page=True)
    assert foresight.errors == []
    assert foresight.foreign_requests() == []
    assert any("/api/v1/forecasts/movements" in u for u in foresight.requests)
    assert any("/api/v1/triggers" in u for u in foresight.requests)
    assert page.locator(".site-nav a[aria-current=page]").inner_text() == "Foresight"
    assert "forecast with data up to October 2026" in page.locator("#status").inner_text()


def test_the_map_colours_each_region_by_its_forecast_change(foresight: Watched) -> None:
    page = foresight.page
    paths = page.locator("#map svg path[data-pcode]")
    assert paths.count() == DEMO_ADM1
    fills = _fills(page)
    assert len(fills) == DEMO_ADM1 and set(fills.values()) <= CHANGE_COLOURS  # every region has a forecast
    changes = dict(
        page.eval_on_selector_all("#map path[data-pcode]", "els => els.map(e => [e.dataset.pcode, +e.dataset.change])")
    )
    # the diverging scale: a fall is blue, a rise red, whatever the size
    for pcode, change in changes.items():
        if change <= -5:
            assert fills[pcode] in {"#2166ac", "#67a9cf", "#d1e5f0"}, (pcode, change)
        if change >= 5:
            assert fills[pcode] in {"#fddbc7", "#ef8a62", "#b2182b"}, (pcode, change)
    assert page.locator("#legend li").count() == len(CHANGE_COLOURS) + 1
    assert "blue means fewer" in (page.get_attribute("#map", "aria-label") or "")
    page.get_by_text("The map's figures as a table").click()
    rows = page.locator("#change-table tbody tr")
    assert rows.count() == DEMO_ADM1
    assert {r.get_attribute("data-pcode") for r in rows.all()} == set(fills)


def test_the_fan_chart_shows_the_largest_rise_with_its_band(foresight: Watched) -> None:
    page = foresight.page
    # Dunmere's arrivals jumped with the conflict flare-up; the default area is the largest forecast increase,
    # which is the first row of the table (sorted by change)
    first = page.locator("#change-table tbody tr").first.get_attribute("data-pcode")
    assert page.get_attribute("#fan", "data-place") == first
    assert page.locator("#area").input_value() == first
    canvas = page.locator("#fan canvas").first
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 250 and box["height"] > 100
    assert page.evaluate(BAND_PIXELS) > 200
    assert page.locator("#fan .u-legend").inner_text().count("80 %") == 2
    page.get_by_text("The chart's figures as a table").click()
    assert page.locator("#fan-table tbody tr").count() == 24 + 3
    assert page.locator("#fan-table tbody tr.forecast-row").count() == 3


def test_choosing_another_area_redraws_the_chart(foresight: Watched, artifacts: Path) -> None:
    page = foresight.page
    before = page.get_attribute("#fan", "data-place")
    image = page.evaluate("() => document.querySelector('#fan canvas').toDataURL()")
    other = next(v for v in page.eval_on_selector_all("#area option", "os => os.map(o => o.value)") if v != before)
    page.focus("#area")
    page.select_option("#area", other)  # a native select: keyboard or pointer
    page.wait_for_function("other => document.getElementById('fan').dataset.place === other", arg=other)
    assert page.evaluate("() => document.querySelector('#fan canvas').toDataURL()") != image
    assert page.evaluate(BAND_PIXELS) > 100
    name = page.locator(f"#area option[value={other}]").inner_text().split(" (")[0]
    assert name in page.locator("#fan-title").inner_text()
    assert page.get_attribute(f"#change-table button[data-pcode={other}]", "aria-pressed") == "true"
    page.screenshot(path=str(artifacts / f"foresight-{other}.png"), full_page=True)
    # clicking an area on the map chooses it too
    page.locator(f"#map path[data-pcode={before}]").click()
    page.wait_for_function("before => document.getElementById('fan').dataset.place === before", arg=before)
    assert page.locator("#area").input_value() == before
    assert foresight.errors == []


def test_the_trigger_panel_lists_the_demoland_triggers(foresight: Watched) -> None:
    page = foresight.page
    triggers = page.locator("#triggers [data-trigger]")
    names = [t.get_attribute("data-trigger") for t in triggers.all()]
    assert names == ["drought-rainfall-deficit", "conflict-flare-up", "forecast-arrivals-high"]
    states = {t.get_attribute("data-trigger"): t.get_attribute("data-state") for t in triggers.all()}
    assert states["drought-rainfall-deficit"] == "quiet"
    assert states["conflict-flare-up"] == "firing"
    conflict = page.locator("[data-trigger=conflict-flare-up]")
    assert conflict.locator(".badge").inner_text() == "Firing"
    assert "Dunmere" in conflict.locator(".trigger-summary").inner_text()
    firing_row = conflict.locator("tr[data-fires=true]")
    assert firing_row.count() == 1 and firing_row.get_attribute("data-pcode") == "XD04"
    assert "conflict/events" in firing_row.locator("td.evidence").inner_text()
    assert "3 triggers from triggers.yaml" in page.locator("#triggers-status").inner_text()


def test_districts_and_a_longer_horizon_recompute(foresight: Watched, artifacts: Path) -> None:
    page = foresight.page
    page.select_option("#level", "adm2")
    page.wait_for_selector("body:not([data-ready])")
    assert "Computing forecasts" in page.locator("#status").inner_text()
    page.wait_for_selector("body[data-ready=true]", timeout=READY)
    fills = _fills(page)
    assert len(fills) > DEMO_ADM1 and set(fills.values()) <= CHANGE_COLOURS
    page.select_option("#horizon", "6")
    page.wait_for_selector("body[data-ready=true]", timeout=READY)
    assert page.locator("#fan-table tbody tr.forecast-row").count() == 6
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "foresight-adm2-6-months.png"), full_page=True)
    page.select_option("#horizon", "3")  # back to what the page started with, both already computed
    page.select_option("#level", "adm1")
    page.wait_for_selector("body[data-ready=true]", timeout=READY)
    assert foresight.errors == [] and foresight.foreign_requests() == []


def test_people_displaced_can_be_forecast_too(foresight: Watched) -> None:
    page = foresight.page
    page.select_option("#kind", "displacement")
    page.wait_for_selector("body[data-ready=true]", timeout=READY)
    assert page.locator("#fan-title").inner_text().startswith("People displaced: forecast for")
    assert set(_fills(page).values()) <= CHANGE_COLOURS and len(_fills(page)) == DEMO_ADM1
    assert "People displaced forecast" in page.locator("#status").inner_text()
    assert page.evaluate(BAND_PIXELS) > 0
    page.select_option("#kind", "movements")
    page.wait_for_selector("body[data-ready=true]", timeout=READY)
    assert foresight.errors == []


def test_without_triggers_the_panel_says_so(browser: Browser, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    none = '{"configured": false, "file": null, "triggers": [], "redacted": true, "threshold": 10}'
    page.route(
        "**/api/v1/triggers", lambda route: route.fulfill(status=200, content_type="application/json", body=none)
    )
    try:
        page.goto(live_server + "/foresight")
        page.wait_for_selector("body[data-ready=true]", timeout=READY)  # the forecasts are cached by now
        assert "No triggers configured" in page.locator("#triggers-status").inner_text()
        assert page.locator("#triggers [data-trigger]").count() == 0
    finally:
        context.close()


def test_a_failed_forecast_is_reported_not_hidden(browser: Browser, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    error = '{"error": {"code": "forecast_error", "message": "too little history", "details": null}}'
    page.route(
        "**/api/v1/forecasts/**", lambda route: route.fulfill(status=422, content_type="application/json", body=error)
    )
    try:
        page.goto(live_server + "/foresight")
        page.wait_for_selector("body[data-ready=true]", timeout=READY)
        status = page.locator("#status")
        assert "Could not compute the forecasts: too little history" in status.inner_text()
        assert "error" in (status.get_attribute("class") or "")
        assert set(_fills(page).values()) == {"#d9d9d9"}
    finally:
        context.close()


def test_the_page_links_local_assets_and_labels_its_controls(web_app: FastAPI) -> None:
    from fastapi.testclient import TestClient

    html = TestClient(web_app).get("/foresight").text
    for control in ("kind", "level", "horizon", "interval", "area"):
        assert f'<label for="{control}">' in html and f'id="{control}"' in html
    assets = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"#]+)"', html)
    assert "/static/foresight.js" in assets and "/static/foresight.css" in assets
    assert all(a.startswith("/static/") for a in assets), assets
