"""The simulation page in a real browser (Debian's Chromium through Playwright), against Demoland: the map draws
people per place and movements per route, the day slider (keyboard) and play button step through the days, the
day's largest movements are a table, a closure added in the scenario form re-runs the simulation and empties its
route, and nothing is fetched from another host. Running needs an analyst: the page logs in through the API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI

from onthemove.access.users import add_user
from onthemove.demo import load_demo
from onthemove.store import open_store
from tests.web.conftest import Watched, needs_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (a dev dependency)")

pytestmark = [pytest.mark.slow, needs_chromium]

PASSWORD = "a long enough passphrase"
FLOW_COLOURS = {"#fdbb84", "#fc8d59", "#e34a33", "#b30000"}
ROUTES = 425  # Demoland's roads: 850 directed routes
PLACES = 180  # 30 districts and 150 sites
READY = 60_000


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Overrides the conftest's: Demoland with an analyst who logs in with a password."""
    location = str(tmp_path_factory.mktemp("simulate-page") / "store")
    with open_store(location) as store:
        load_demo(store)
        add_user(store, "ann", "analyst", password=PASSWORD)
    return location


@pytest.fixture(scope="module")
def simulate(browser: Browser, live_server: str) -> Iterator[Watched]:
    """One logged-in page for the module; tests that change it put it back."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    login = context.request.post(live_server + "/api/v1/session", form={"username": "ann", "password": PASSWORD})
    assert login.ok, login.text()
    page = context.new_page()
    watched = Watched(page)
    page.goto(live_server + "/simulate")
    page.wait_for_selector("body[data-ready=true]", timeout=READY)
    try:
        yield watched
    finally:
        context.close()


def _day(page: Page) -> int:
    return int(page.get_attribute("#map", "data-day") or "-1")


def _flows(page: Page) -> dict[str, float]:
    pairs = page.eval_on_selector_all(
        "#map path[data-route]", "els => els.map(e => [e.dataset.route, +e.dataset.flow])"
    )
    return dict(pairs)


def test_loads_offline_with_no_console_errors(simulate: Watched, artifacts: Path) -> None:
    page = simulate.page
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "simulate-1280.png"), full_page=True)
    assert simulate.errors == []
    assert simulate.foreign_requests() == []
    assert any(u.endswith("/api/v1/simulation/graph") for u in simulate.requests)
    assert any(u.endswith("/api/v1/simulations") for u in simulate.requests)
    assert page.locator(".site-nav a[aria-current=page]").inner_text() == "Simulation"
    status = page.locator("#status").inner_text()
    assert "Simulated 60 days from 1 November 2026" in status and "Dunmere" in status


def test_the_map_draws_places_and_route_lines(simulate: Watched) -> None:
    page = simulate.page
    assert page.locator("#map path[data-route]").count() == ROUTES
    assert page.locator("#map path[data-id]").count() == PLACES
    assert page.locator("#map path[data-pcode]").count() == 30  # the districts' boundaries as the base map
    flows = _flows(page)
    moving = [k for k, v in flows.items() if v >= 0.5]
    assert len(moving) > 20
    strokes = set(
        page.eval_on_selector_all(
            "#map path[data-route]", "els => els.filter(e => +e.dataset.flow >= 0.5).map(e => e.getAttribute('stroke'))"
        )
    )
    assert strokes <= FLOW_COLOURS and len(strokes) >= 2
    radii = page.eval_on_selector_all("#map path[data-kind=camp]", "els => els.map(e => e.getBBox().width)")
    assert max(radii) > 3 * min(radii)  # circles sized by people
    assert page.locator("#map path[data-kind=conflict]").count() >= 4  # Dunmere's districts
    assert page.locator("#legend li").count() == 4 + 1 + 3
    assert page.locator("#flows-table tbody tr").count() == 10


def test_the_slider_steps_through_the_days_by_keyboard(simulate: Watched) -> None:
    page = simulate.page
    assert _day(page) == 59 and "Day 60 of 60" in page.locator("#day-label").inner_text()
    last = _flows(page)
    table = page.locator("#flows-table tbody").inner_text()
    page.focus("#day")
    page.keyboard.press("Home")
    assert _day(page) == 0
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert _day(page) == 3
    assert "4 November 2026" in page.locator("#day-label").inner_text()
    assert "4 November 2026" in page.locator("#flows-caption").inner_text()
    assert _flows(page) != last and page.locator("#flows-table tbody").inner_text() != table
    assert page.get_attribute("#day", "aria-valuetext") == "4 November 2026, day 4 of 60"
    page.keyboard.press("End")
    assert _day(page) == 59 and _flows(page) == last


def test_play_moves_the_day_on(simulate: Watched) -> None:
    page = simulate.page
    page.focus("#day")
    page.keyboard.press("Home")
    page.click("#play")
    assert page.get_attribute("#play", "aria-pressed") == "true"
    page.wait_for_function("() => +document.getElementById('map').dataset.day >= 2", timeout=10_000)
    page.click("#play")
    assert page.get_attribute("#play", "aria-pressed") == "false" and page.locator("#play").inner_text() == "Play"
    page.focus("#day")
    page.keyboard.press("End")
    assert _day(page) == 59


def test_the_camp_chart_has_its_table(simulate: Watched) -> None:
    page = simulate.page
    box = page.locator("#camps-chart canvas").first.bounding_box()
    assert box is not None and box["width"] > 250 and box["height"] > 100
    assert len((page.get_attribute("#camps-chart", "data-camps") or "").split()) == 6
    page.get_by_text("The chart's figures as a table").click()
    assert page.locator("#camps-table tbody tr").count() == 60
    assert page.locator("#camps-table thead th").count() == 1 + 6 + 1


def test_a_closure_re_runs_and_empties_its_route(simulate: Watched, artifacts: Path) -> None:
    page = simulate.page
    assert _day(page) == 59
    first = page.locator("#flows-table tbody tr").first.get_attribute("data-route") or ""
    source, target = first.split(">")
    key = "|".join(sorted((source, target)))
    assert _flows(page)[key] > 0
    page.select_option("#close-from", source)
    page.select_option("#close-to", target)
    page.fill("#close-start", "2026-11-01")
    page.get_by_role("button", name="Add the closure").click()
    assert page.locator("#changes li[data-kind=closures]").count() == 1
    assert "closed from 1 November 2026" in page.locator("#changes").inner_text()
    page.get_by_role("button", name="Run the simulation").click()
    page.wait_for_function(
        "() => document.body.dataset.ready === 'true' && "
        "document.getElementById('status').textContent.includes('Scenario: 2 changes')",
        timeout=READY,
    )
    page.screenshot(path=str(artifacts / "simulate-closure.png"), full_page=True)
    assert _day(page) == 59  # the day shown is kept
    line = page.locator(f"#map path[data-route='{key}']")
    assert line.get_attribute("data-closed") == "true" and float(line.get_attribute("data-flow") or "1") == 0
    assert line.get_attribute("stroke-dasharray") == "6 4"
    routes = [r.get_attribute("data-route") for r in page.locator("#flows-table tbody tr").all()]
    assert first not in routes and f"{target}>{source}" not in routes
    assert simulate.errors == [] and simulate.foreign_requests() == []
    # clearing the scenario runs the baseline again
    page.get_by_role("button", name="Clear the scenario").click()
    page.wait_for_function(
        "() => document.body.dataset.ready === 'true' && "
        "!document.getElementById('status').textContent.includes('Scenario')",
        timeout=READY,
    )
    assert page.locator("#flows-table tbody tr").first.get_attribute("data-route") == first
    assert page.locator("#changes li.none").count() == 1


def test_anonymous_users_see_the_graph_and_are_asked_to_log_in(browser: Browser, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watched = Watched(page, http_errors=False)  # the 403 of POST /simulations is expected
    try:
        page.goto(live_server + "/simulate")
        page.wait_for_selector("body[data-ready=true]", timeout=READY)
        status = page.locator("#status")
        assert "needs an analyst (or higher) login" in status.inner_text()
        assert "error" in (status.get_attribute("class") or "")
        assert status.locator("a").get_attribute("href") == "/data"
        assert page.locator("#map path[data-route]").count() == ROUTES
        assert [e for e in watched.errors if "Failed to load resource" not in e] == []
        assert watched.foreign_requests() == []
    finally:
        context.close()


def test_the_page_labels_its_controls_and_links_local_assets(web_app: FastAPI) -> None:
    from fastapi.testclient import TestClient

    html = TestClient(web_app).get("/simulate").text
    for control in ("days", "mode", "day", "close-from", "close-to", "close-start", "close-end", "flare-area",
                    "flare-start", "flare-intensity", "capacity-camp", "capacity-value", "capacity-start"):  # fmt: skip
        assert f'<label for="{control}">' in html and f'id="{control}"' in html, control
    assets = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"#]+)"', html)
    assert "/static/simulate.js" in assets
    assert all(a.startswith("/static/") for a in assets), assets
