"""The needs & response page in a real browser (Debian's Chromium through Playwright), against Demoland: the map
draws every site coloured by its overall severity, the ranking sorts (pointer and keyboard) and filters by region
and sector, regions are bars with a table, an analyst runs the example plan with a new budget and sees its totals,
the gain over greedy, the sensitivity, the sites served marked on the map and in the ranking, and downloads the plan
as CSV; Demoland has no distributions, and says so; anonymous users are asked to log in to allocate; nothing is
fetched from another host."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from onthemove.access.users import add_user
from onthemove.demo import load_demo
from onthemove.store import open_store
from tests.web.conftest import Watched, needs_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (a dev dependency)")

pytestmark = [pytest.mark.slow, needs_chromium]

PASSWORD = "a long enough passphrase"
SITES = 150
REGIONS = 6
READY = 60_000
COLOURS = {1: "#ffffb2", 2: "#fecc5c", 3: "#fd8d3c", 4: "#f03b20", 5: "#bd0026"}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Overrides the conftest's: Demoland with an analyst who logs in with a password."""
    location = str(tmp_path_factory.mktemp("respond-page") / "store")
    with open_store(location) as store:
        load_demo(store)
        add_user(store, "ann", "analyst", password=PASSWORD)
    return location


@pytest.fixture(scope="module")
def respond(browser: Browser, live_server: str) -> Iterator[Watched]:
    """One logged-in page for the module; tests that change it put it back."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    login = context.request.post(live_server + "/api/v1/session", form={"username": "ann", "password": PASSWORD})
    assert login.ok, login.text()
    page = context.new_page()
    watched = Watched(page)
    page.goto(live_server + "/respond")
    page.wait_for_selector("body[data-ready=true]", timeout=READY)
    try:
        yield watched
    finally:
        context.close()


def _ranks(page: Page) -> list[int]:
    return [int(x) for x in page.eval_on_selector_all("#ranking-table tbody tr", "rs => rs.map(r => r.dataset.rank)")]


def _people(page: Page) -> list[int]:
    values = page.eval_on_selector_all("#ranking-table tbody tr", "rs => rs.map(r => r.dataset.people)")
    return [int(v) for v in values]


def test_loads_offline_with_no_console_errors(respond: Watched, artifacts: Path) -> None:
    page = respond.page
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "respond-1400.png"), full_page=True)
    assert respond.errors == []
    assert respond.foreign_requests() == []
    assert any("/api/v1/needs?level=site" in u for u in respond.requests)
    assert any(u.endswith("/api/v1/allocations/example") for u in respond.requests)
    assert page.locator(".site-nav a[aria-current=page]").inner_text() == "Needs & response"
    assert page.locator("h1").inner_text() == "Needs & response"
    assert "150 sites assessed" in page.locator("#status").inner_text()


def test_the_map_draws_every_site_coloured_by_severity(respond: Watched) -> None:
    page = respond.page
    markers = page.locator("#map path[data-site-id]")
    assert markers.count() == SITES
    pairs = page.eval_on_selector_all(
        "#map path[data-site-id]", "ps => ps.map(p => [p.dataset.severity, p.getAttribute('fill')])"
    )
    assert {COLOURS[int(float(s))] == f for s, f in pairs} == {True}
    assert {int(float(s)) for s, _ in pairs} >= {3, 4, 5}
    assert page.locator("#map path.leaflet-interactive:not([data-site-id])").count() == 0  # boundaries: no events
    assert page.locator("#map svg path").count() > SITES  # the regions' boundaries are drawn beneath
    assert page.locator("#legend li").count() == 5
    on_top = page.evaluate(
        """() => [...document.querySelectorAll('#map path[data-site-id]')].filter(p => {
             const b = p.getBoundingClientRect();
             const e = document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2);
             return e !== null && e.hasAttribute('data-site-id');
           }).length"""
    )
    assert on_top == SITES  # the sites are drawn above the boundaries, not hidden beneath them
    label = markers.first.get_attribute("aria-label") or ""
    assert "severity" in label and "people in need" in label


def test_the_ranking_sorts_with_pointer_and_keyboard(respond: Watched) -> None:
    page = respond.page
    assert _ranks(page) == list(range(1, SITES + 1))
    assert page.locator("#ranking-table tbody tr").first.locator("td.why").inner_text().startswith("severity 5 (")
    header = page.locator("#ranking-table th[data-key=people_in_need]")
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    people = _people(page)
    assert people == sorted(people, reverse=True) and len(people) == SITES
    header.locator("button").focus()
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "ascending"
    assert _people(page) == sorted(people)
    rank = page.locator("#ranking-table th[data-key=rank] button")
    rank.focus()
    page.keyboard.press("Enter")
    assert _ranks(page) == list(range(1, SITES + 1))


def test_the_ranking_filters_by_region_and_sector(respond: Watched) -> None:
    page = respond.page
    page.select_option("#f-region", "XD02")
    regions = page.eval_on_selector_all("#ranking-table tbody tr td:nth-child(3)", "cs => cs.map(c => c.textContent)")
    assert len(set(regions)) == 1 and 0 < len(regions) < SITES
    assert page.locator("#map path[data-site-id]").count() == len(regions)  # the map shows the same sites
    assert f"{len(regions)} of {SITES} sites" in page.locator("#row-count").inner_text()
    page.select_option("#f-sector", "wash")
    column = page.locator("#ranking-table th[data-key=sector]")
    assert column.inner_text().startswith("WASH severity")
    values = page.eval_on_selector_all("#ranking-table tbody tr td:nth-child(5)", "cs => cs.map(c => c.textContent)")
    assert values and all(float(v) >= 3 for v in values)
    page.click("#f-reset")
    assert page.locator("#ranking-table tbody tr").count() == SITES
    assert page.locator("#ranking-table th[data-key=sector]").count() == 0


def test_regions_are_bars_with_a_table(respond: Watched) -> None:
    page = respond.page
    rows = page.locator("#areas-table tbody tr")
    assert rows.count() == REGIONS
    assert page.locator("#areas-chart svg g[data-area]").count() == REGIONS
    first = rows.first.locator("td").all_inner_texts()
    assert first[0] == "1" and "people in need" in first[-1]


def test_demoland_has_no_distributions(respond: Watched) -> None:
    page = respond.page
    assert "No distributions recorded" in page.locator("#assistance-note").inner_text()
    assert page.locator("#assistance-tables").is_hidden()


def test_running_an_allocation_shows_totals_and_marks_served_sites(respond: Watched, artifacts: Path) -> None:
    page = respond.page
    assert page.locator("#budget").input_value() == "500000"  # the example plan, filled in
    page.fill("#budget", "300000")
    switch = page.locator("#sensitivity")
    assert switch.get_attribute("role") == "switch"
    switch.focus()
    page.keyboard.press("Space")
    assert switch.is_checked()
    page.click("#run")
    page.wait_for_selector("#allocation-panel[data-state=done]", timeout=READY)
    summary = page.locator("#allocation-summary").inner_text()
    assert "of USD 300,000 spent" in summary
    assert "over the best greedy plan" in summary
    assert page.locator("#totals-table tbody tr").count() == 4
    greedy = page.locator("#greedy-table tbody tr")
    assert greedy.count() == 3 and greedy.nth(1).locator("td").last.inner_text().startswith("+")
    sensitivity = page.locator("#sensitivity-table")
    assert sensitivity.is_visible() and sensitivity.locator("tbody tr").count() == 4
    served_rows = page.locator("#ranking-table tbody tr[data-served=true]")
    served_markers = page.locator("#map path[data-served=true]")
    assert served_rows.count() > 0 and served_markers.count() == served_rows.count()
    assert {p.get_attribute("stroke") for p in served_markers.all()} == {"#08519c"}
    assert "served" in (served_markers.first.get_attribute("aria-label") or "")
    assert page.locator("#legend li").count() == 6
    page.screenshot(path=str(artifacts / "respond-allocation.png"), full_page=True)
    link = page.locator("#download-plan")
    assert (link.get_attribute("href") or "").startswith("blob:")
    with page.expect_download() as info:
        link.click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and set(rows[0]) >= {"site_id", "package", "units", "people_covered", "cost", "currency"}
    assert {r["site_id"] for r in rows} == {r.get_attribute("data-site-id") for r in served_rows.all()}
    assert sum(float(r["cost"]) for r in rows) <= 300_000
    assert respond.errors == [] and respond.foreign_requests() == []


def test_a_bad_budget_is_refused_with_a_message(respond: Watched) -> None:
    page = respond.page
    page.fill("#budget", "")
    page.click("#run")
    note = page.locator("#allocation-note")
    assert "must be a number" in note.inner_text() or page.evaluate("!document.getElementById('budget').validity.valid")
    page.fill("#budget", "500000")


def test_anonymous_users_read_the_needs_and_are_asked_to_log_in(browser: Browser, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watched = Watched(page)
    try:
        page.goto(live_server + "/respond")
        page.wait_for_selector("body[data-ready=true]", timeout=READY)
        assert page.locator("#map path[data-site-id]").count() == SITES
        note = page.locator("#allocation-note")
        assert "needs an analyst (or higher) login" in note.inner_text()
        assert note.locator("a").get_attribute("href") == "/data"
        assert page.locator("#allocation-form").is_hidden()
        assert watched.errors == [] and watched.foreign_requests() == []
    finally:
        context.close()


WWW = {
    "where": "site",
    "period": {"period": None, "start": None, "end": None},
    "place": None,
    "rows": [
        {
            "month": "2026-09",
            "organisation": "NGO A",
            "programme": "WASH-26",
            "sector": "wash",
            "package": "hygiene_kit",
            "unit": "kit",
            "currency": "USD",
            "site_id": "XDS-XD0206-002",
            "place": "XD0206",
            "area": None,
            "households": 40,
            "people": 210,
            "quantity": 40.0,
            "value": 800.0,
            "suppressed": False,
        },
        {
            "month": "2026-09",
            "organisation": "NGO B",
            "programme": None,
            "sector": "food_security",
            "package": "cash",
            "unit": None,
            "currency": "USD",
            "site_id": "XDS-XD0306-001",
            "place": "XD0306",
            "area": None,
            "households": None,
            "people": None,
            "quantity": None,
            "value": None,
            "suppressed": True,
        },
    ],
    "redacted": True,
    "threshold": 10,
    "suppressed": 1,
    "distributions": True,
    "notes": [],
}
GAP = {
    "period": {"period": None, "start": None, "end": None},
    "place": None,
    "sector": None,
    "rows": [
        {
            "site_id": "XDS-XD0206-002",
            "place": "XD0206",
            "sector": "wash",
            "severity": 5,
            "people_in_need": 9053,
            "households": 40,
            "people_reached": 210,
            "gap": 8843,
            "coverage": 0.023,
            "suppressed": False,
        },
    ],
    "redacted": True,
    "threshold": 10,
    "suppressed": 0,
    "distributions": True,
    "notes": [],
}


def test_distributions_are_shown_as_who_what_where_and_gap(browser: Browser, live_server: str) -> None:
    """Demoland records no distributions: the answers of the two endpoints are stood in for in the browser."""
    import json

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    def answer(body: dict[str, Any]) -> Any:
        return lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/v1/assistance/who-what-where", answer(WWW))
    page.route("**/api/v1/assistance/gap", answer(GAP))
    watched = Watched(page)
    try:
        page.goto(live_server + "/respond")
        page.wait_for_selector("body[data-ready=true]", timeout=READY)
        assert page.locator("#assistance-tables").is_visible()
        www = page.locator("#www-table tbody tr")
        assert www.count() == 2
        assert www.nth(0).locator("td").all_inner_texts() == [
            "2026-09",
            "NGO A · WASH-26",
            "WASH",
            "hygiene_kit",
            "Granary Camp (XDS-XD0206-002)",
            "40",
            "210",
            "40 kit",
        ]
        assert www.nth(1).locator("td").nth(5).inner_text() == "not shown"
        assert "fewer than 10 households" in page.locator("#assistance-note").inner_text()
        gap = page.locator("#gap-table tbody tr").first.locator("td").all_inner_texts()
        assert gap == ["Granary Camp (XDS-XD0206-002)", "WASH", "5", "9,053", "210", "8,843", "2.3%"]
        assert watched.errors == [] and watched.foreign_requests() == []
    finally:
        context.close()
