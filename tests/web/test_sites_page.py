"""The sites page in a real browser (Debian's Chromium through Playwright), against Demoland's site registry.

What the page shows is checked against the API itself: the rows of GET /api/v1/sites, fetched here in Python."""

from __future__ import annotations

import json
import statistics
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.web.conftest import Watched, needs_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (a dev dependency)")

pytestmark = [pytest.mark.slow, needs_chromium]

ROWS = "#sites-table tbody tr[data-site-id]"
MARKERS = "#map path[data-site-id]"


def _api(base: str, path: str, **params: Any) -> Any:
    with urllib.request.urlopen(f"{base}/api/v1{path}?{urlencode(params)}", timeout=30) as response:
        return json.load(response)


def _all_sites(base: str, **params: Any) -> dict[str, Any]:
    body = _api(base, "/sites", limit=10000, **params)
    assert len(body["rows"]) == body["total_rows"]
    return dict(body)


@pytest.fixture(scope="module")
def api_sites(live_server: str) -> dict[str, Any]:
    return _all_sites(live_server)


def _open(browser: Browser, url: str, route_limit: int | None = None) -> tuple[Any, Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    watched = Watched(page)
    if route_limit is not None:
        # the server answers small pages: the page must follow offsets until every site is in

        def small_pages(route: Route) -> None:
            parts = urlsplit(route.request.url)
            query = dict(parse_qsl(parts.query))
            query["limit"] = str(route_limit)
            route.continue_(url=parts._replace(query=urlencode(query)).geturl())

        page.route("**/api/v1/sites?*", small_pages)
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    return context, watched


@pytest.fixture
def sites(browser: Browser, live_server: str) -> Iterator[Watched]:
    context, watched = _open(browser, live_server + "/sites")
    try:
        yield watched
    finally:
        context.close()


def _row_ids(page: Page) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(ROWS, "rows => rows.map(r => r.dataset.siteId)")
    return ids


def _marker_ids(page: Page) -> set[str]:
    ids: list[str] = page.eval_on_selector_all(MARKERS, "els => els.map(e => e.dataset.siteId)")
    assert len(ids) == len(set(ids))
    return set(ids)


def _with_point(rows: list[dict[str, Any]]) -> set[str]:
    return {r["site_id"] for r in rows if r["latitude"] is not None and r["longitude"] is not None}


def _wait_for_count(page: Page, n: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('#sites-table tbody tr[data-site-id]').length === n", arg=n, timeout=10_000
    )


def _summary(page: Page) -> dict[tuple[str, str], str]:
    cells: list[list[str]] = page.eval_on_selector_all(
        "#needs-table tbody td[data-level]",
        "cells => cells.map(c => [c.closest('tr').dataset.indicator, c.dataset.level, c.dataset.value || ''])",
    )
    return {(indicator, level): value for indicator, level, value in cells}


def _expected_summary(rows: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """Sites per severity level, not assessed, and the mean, per indicator: what the page must show."""
    indicators = sorted({k for r in rows for k in r["needs"]})
    out: dict[tuple[str, str], float] = {}
    for indicator in indicators:
        values = [r["needs"][indicator] for r in rows if indicator in r["needs"]]
        for level in range(1, 6):
            out[(indicator, str(level))] = sum(1 for v in values if v == level)
        out[(indicator, "none")] = len(rows) - len(values)
        out[(indicator, "mean")] = statistics.fmean(values)
    return out


def _assert_summary(page: Page, rows: list[dict[str, Any]]) -> None:
    shown = _summary(page)
    expected = _expected_summary(rows)
    assert expected, "Demoland sites carry needs"
    for key, value in expected.items():
        assert key in shown, key
        assert float(shown[key]) == pytest.approx(value), key


def test_loads_offline_with_every_site_and_no_console_errors(
    sites: Watched, api_sites: dict[str, Any], artifacts: Path
) -> None:
    page = sites.page
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "sites-1280x720.png"))
    page.screenshot(path=str(artifacts / "sites-full.png"), full_page=True)
    assert sites.errors == []
    assert sites.foreign_requests() == []
    total = api_sites["total_rows"]
    assert total > 100  # Demoland has 150 sites
    assert len(_row_ids(page)) == total
    assert set(_row_ids(page)) == {r["site_id"] for r in api_sites["rows"]}
    assert page.get_attribute("#site-count", "data-shown") == str(total)
    assert f"{total} of {total} sites" in page.inner_text("#site-count")
    assert page.get_attribute("nav a[aria-current=page]", "href") == "/sites"


def test_one_marker_per_site_with_coordinates(sites: Watched, api_sites: dict[str, Any]) -> None:
    page = sites.page
    assert _marker_ids(page) == _with_point(api_sites["rows"])
    label = page.get_attribute(MARKERS, "aria-label")
    assert label and "(XDS-" in label  # every marker has an accessible name: its site and what it needs
    assert page.locator("#map path[data-pcode]").count() == 6  # the six regions are the base map
    assert page.locator("#legend li").count() == 6  # five severity levels and "not assessed"
    page.hover(MARKERS)
    tooltip = page.wait_for_selector(".leaflet-tooltip")
    assert tooltip and "(XDS-" in tooltip.inner_text()


def test_redacted_populations_are_labelled_and_sorted_last(browser: Browser, live_server: str) -> None:
    # Demoland's sites are all above the threshold: blank a few as the API does for small populations
    blanked: list[str] = []

    def redact(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        for row in body["rows"][:3]:
            row["households"] = row["individuals"] = None
            blanked.append(row["site_id"])
        route.fulfill(response=response, json=body)

    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        watched = Watched(page)
        page.route("**/api/v1/sites?*", redact)
        page.goto(live_server + "/sites")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        assert len(blanked) == 3
        cells = page.eval_on_selector_all(
            f"{ROWS}[data-site-id='{blanked[0]}'] td.redacted", "cells => cells.map(c => c.textContent)"
        )
        assert cells == ["redacted", "redacted"]
        page.click("#sites-table th[data-key=individuals] button")
        assert page.get_attribute("#sites-table th[data-key=individuals]", "aria-sort") == "descending"
        assert set(_row_ids(page)[-3:]) == set(blanked)
        label = page.get_attribute(f"{MARKERS}[data-site-id='{blanked[0]}']", "aria-label")
        assert label and "population redacted" in label
        assert watched.errors == []
    finally:
        context.close()


def test_needs_summary_matches_the_api_rows(sites: Watched, api_sites: dict[str, Any]) -> None:
    _assert_summary(sites.page, api_sites["rows"])
    chart = sites.page.locator("#needs-chart svg rect")
    assert chart.count() >= 2  # a stacked bar per indicator, one rectangle per level present


def test_sorting_by_individuals_descending_puts_the_largest_first(
    sites: Watched, api_sites: dict[str, Any], artifacts: Path
) -> None:
    page = sites.page
    header = page.locator("#sites-table th[data-key=individuals]")
    button = header.locator("button")
    for _ in range(2):  # the first click on a number column sorts it descending; the test does not rely on it
        if header.get_attribute("aria-sort") == "descending":
            break
        button.click()
    assert header.get_attribute("aria-sort") == "descending"
    assert page.locator("#sites-table th[aria-sort]").count() == 1
    ids = _row_ids(page)
    by_id = {r["site_id"]: r for r in api_sites["rows"]}
    people = [by_id[i]["individuals"] for i in ids]
    known = [p for p in people if p is not None]
    assert known[0] == max(r["individuals"] for r in api_sites["rows"] if r["individuals"] is not None)
    assert known == sorted(known, reverse=True)
    assert people[: len(known)] == known  # redacted populations come last
    first = page.locator(ROWS).first.locator("td").nth(4).inner_text()
    assert int(first.replace(",", "")) == known[0]
    button.click()
    assert header.get_attribute("aria-sort") == "ascending"
    ascending = [by_id[i]["individuals"] for i in _row_ids(page)]
    assert [p for p in ascending if p is not None] == sorted(known)
    page.screenshot(path=str(artifacts / "sites-sorted-individuals.png"))


def test_sorting_works_from_the_keyboard(sites: Watched, api_sites: dict[str, Any]) -> None:
    page = sites.page
    header = page.locator("#sites-table th[data-key=name]")
    page.focus("#sites-table th[data-key=name] button")
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "ascending"
    names = [{r["site_id"]: r for r in api_sites["rows"]}[i]["name"] for i in _row_ids(page)]
    assert names == sorted(names, key=str.lower)
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "descending"
    assert page.evaluate("document.activeElement.dataset.sort") == "name"  # focus stays on the header button
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert header.get_attribute("aria-sort") == "ascending"


def test_text_and_area_filters_narrow_rows_and_markers_alike(
    sites: Watched, api_sites: dict[str, Any], artifacts: Path
) -> None:
    page = sites.page
    rows = api_sites["rows"]
    word = rows[0]["name"].split()[0]  # e.g. "Baobab"
    by_text = [r for r in rows if word.lower() in r["name"].lower()]
    assert 0 < len(by_text) < len(rows)
    page.fill("#f-text", word.lower())
    _wait_for_count(page, len(by_text))
    assert set(_row_ids(page)) == {r["site_id"] for r in by_text}
    assert _marker_ids(page) == _with_point(by_text)
    assert page.get_attribute("#site-count", "data-shown") == str(len(by_text))
    _assert_summary(page, by_text)

    page.fill("#f-text", "")
    _wait_for_count(page, len(rows))
    region = rows[-1]["adm1"]
    in_region = [r for r in rows if r["adm1"] == region]
    assert 0 < len(in_region) < len(rows)
    page.select_option("#f-adm1", region)
    _wait_for_count(page, len(in_region))
    assert set(_row_ids(page)) == {r["site_id"] for r in in_region}
    assert _marker_ids(page) == _with_point(in_region)
    _assert_summary(page, in_region)
    assert f"{len(in_region)} of {len(rows)} sites" in page.inner_text("#site-count")
    page.screenshot(path=str(artifacts / f"sites-{region}.png"))

    both = [r for r in in_region if word.lower() in r["name"].lower()]
    page.fill("#f-text", word)
    _wait_for_count(page, len(both))
    assert _marker_ids(page) == _with_point(both)
    page.click("#f-reset")
    _wait_for_count(page, len(rows))
    assert len(_marker_ids(page)) == len(_with_point(rows))
    assert sites.errors == []


def test_type_and_needs_filters(sites: Watched, api_sites: dict[str, Any]) -> None:
    page = sites.page
    rows = api_sites["rows"]
    page.select_option("#f-type", "planned camp")
    camps = [r for r in rows if r["site_type"] == "planned camp"]
    _wait_for_count(page, len(camps))
    assert _marker_ids(page) == _with_point(camps)
    page.select_option("#f-type", "")
    indicator = sorted({k for r in rows for k in r["needs"]})[0]
    page.select_option("#f-indicator", indicator)
    page.select_option("#f-level", "4")
    severe = [r for r in rows if r["needs"].get(indicator, 0) >= 4]
    assert 0 < len(severe) < len(rows)
    _wait_for_count(page, len(severe))
    assert set(_row_ids(page)) == {r["site_id"] for r in severe}
    assert _marker_ids(page) == _with_point(severe)


def test_place_parameter_preselects_an_area(browser: Browser, live_server: str, artifacts: Path) -> None:
    expected = _all_sites(live_server, place="XD04")
    assert 0 < expected["total_rows"] < _all_sites(live_server)["total_rows"]
    context, watched = _open(browser, live_server + "/sites?place=XD04")
    try:
        page = watched.page
        assert any("place=XD04" in u and "/api/v1/sites" in u for u in watched.requests)
        assert set(_row_ids(page)) == {r["site_id"] for r in expected["rows"]}
        assert _marker_ids(page) == _with_point(expected["rows"])
        assert page.locator("#f-adm1").input_value() == "XD04"
        assert page.is_visible("#place-scope")
        assert "Dunmere" in page.inner_text("#place-scope")
        _assert_summary(page, expected["rows"])
        page.screenshot(path=str(artifacts / "sites-place-XD04.png"))
        assert watched.errors == [] and watched.foreign_requests() == []
    finally:
        context.close()


def test_pages_through_the_api_until_every_site_is_in(
    browser: Browser, live_server: str, api_sites: dict[str, Any]
) -> None:
    context, watched = _open(browser, live_server + "/sites", route_limit=40)
    try:
        page = watched.page
        pages = [u for u in watched.requests if "/api/v1/sites?" in u]
        assert len(pages) >= -(-api_sites["total_rows"] // 40)
        assert set(_row_ids(page)) == {r["site_id"] for r in api_sites["rows"]}
        assert len(_row_ids(page)) == api_sites["total_rows"]
        assert watched.errors == []
    finally:
        context.close()


def test_thousands_of_sites_with_needs_by_sector(browser: Browser, live_server: str, api_sites: dict[str, Any]) -> None:
    """More sites than the table draws at once, each with a severity per sector (synthetic, from Demoland's)."""
    sectors = ("education", "health", "wash")
    rows: list[dict[str, Any]] = []
    for copy in range(5):
        for n, row in enumerate(api_sites["rows"]):
            rows.append(
                {
                    **row,
                    "site_id": f"{row['site_id']}-{copy}",
                    "needs": {f"{sector}.severity": 1 + (n + copy + i) % 5 for i, sector in enumerate(sectors)},
                }
            )

    def many(route: Route) -> None:
        query = dict(parse_qsl(urlsplit(route.request.url).query))
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 1000))
        body = {"rows": rows[offset : offset + limit], "total_rows": len(rows), "limit": limit, "offset": offset}
        route.fulfill(json={**body, "redacted": True})

    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        watched = Watched(page)
        page.route("**/api/v1/sites?*", many)
        page.goto(live_server + "/sites")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        assert page.get_attribute("#site-count", "data-shown") == str(len(rows))
        assert len(_row_ids(page)) == 500  # the first rows in the chosen order; the rest on demand
        assert page.is_visible("#show-more")
        assert len(_marker_ids(page)) == len(rows)  # the map has every site
        _assert_summary(page, rows)
        worst = _summary(page)
        assert int(worst[("*", "5")]) == sum(1 for r in rows if max(r["needs"].values()) == 5)
        headers = page.eval_on_selector_all("#sites-table thead th", "ths => ths.map(t => t.textContent)")
        assert any(h.startswith("WASH") for h in headers) and any(h.startswith("Worst need") for h in headers)
        page.click("#show-more")
        assert len(_row_ids(page)) == len(rows)
        assert not page.is_visible("#show-more")
        page.select_option("#f-indicator", "wash.severity")
        page.select_option("#f-level", "5")
        severe = [r for r in rows if r["needs"]["wash.severity"] == 5]
        _wait_for_count(page, len(severe))
        assert _marker_ids(page) == _with_point(severe)
        assert watched.errors == []
    finally:
        context.close()


def test_every_control_has_a_label(sites: Watched) -> None:
    page = sites.page
    unlabelled = page.eval_on_selector_all(
        "#filters input, #filters select",
        "els => els.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id)",
    )
    assert unlabelled == []
    buttons = page.eval_on_selector_all("#sites-table thead button", "els => els.map(e => e.textContent.trim())")
    assert buttons and all(buttons)
    assert page.get_attribute(".table-scroll", "tabindex") == "0"  # the scrolled table is reachable by keyboard
    # the markers are no tab stops: a few Tabs lead from the filters past the map to the table
    page.focus("#f-reset")
    reached = []
    for _ in range(8):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.dataset.sort || document.activeElement.className"))
        if reached[-1] in ("table-scroll", "name"):
            break
    assert reached[-1] in ("table-scroll", "name"), reached
