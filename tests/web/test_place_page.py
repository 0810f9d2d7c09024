"""The place page in a real browser (Debian's Chromium through Playwright), against Demoland.

Every figure on the page is compared with what the API gives the same (anonymous, so redacted) user.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.web.conftest import Watched, needs_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (a dev dependency)")

pytestmark = [pytest.mark.slow, needs_chromium]

REGION = "XD01"  # Avarra: six districts, sites, arrivals and people displaced


def _api(live_server: str, path: str, **params: Any) -> Any:
    response = httpx.get(f"{live_server}/api/v1{path}", params=params, timeout=30)
    response.raise_for_status()
    return response.json()


def _rows(live_server: str, kind: str, *by: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = _api(live_server, f"/totals/{kind}", by=list(by), limit=10000, **params)["rows"]
    return rows


def _latest_month(live_server: str, kind: str, place: str) -> str:
    return max(r["month"] for r in _rows(live_server, kind, "month", place=place))


def _month_range(month: str) -> dict[str, str]:
    year, number = (int(part) for part in month.split("-"))
    return {"from": f"{month}-01", "to": f"{month}-{calendar.monthrange(year, number)[1]:02d}"}


def _shown(count: int | None) -> tuple[str, str]:
    """(data-count, text) of a count cell."""
    return ("", "redacted") if count is None else (str(count), f"{count:,}")


def _open(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)


def _cells(page: Page, selector: str) -> list[list[str]]:
    return page.eval_on_selector_all(  # type: ignore[no-any-return]
        selector, "rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))"
    )


@pytest.fixture(scope="module")
def region(browser: Browser, live_server: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page())
    _open(watched.page, f"{live_server}/place/{REGION}")
    try:
        yield watched
    finally:
        context.close()


def test_loads_offline_with_both_charts_drawn(region: Watched, artifacts: Path) -> None:
    page = region.page
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / f"place-{REGION}-full.png"), full_page=True)
    assert page.get_attribute("body", "data-state") == "ok"
    for chart in ("#arrivals-chart", "#displacement-chart"):
        box = page.locator(f"{chart} canvas").first.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100, chart
        assert page.locator(f"{chart} .u-legend").count() == 1
        # uPlot drew something: the canvas is not blank
        assert page.eval_on_selector(
            f"{chart} canvas",
            "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " for (let i = 3; i < d.length; i += 4) { if (d[i]) return true; } return false; }",
        )
    assert region.errors == []
    assert region.foreign_requests() == []
    assert any(f"/api/v1/places/{REGION}" in u for u in region.requests)


def test_heading_breadcrumb_and_facts(region: Watched, live_server: str) -> None:
    page = region.page
    place = _api(live_server, f"/places/{REGION}", geometry="false")["properties"]
    assert page.inner_text(".site-header h1") == place["name"] == "Avarra"
    assert page.title().startswith("Avarra (XD01)")
    crumbs = page.eval_on_selector_all("#breadcrumb li", "items => items.map(i => i.dataset.pcode)")
    assert crumbs == [a["pcode"] for a in place["ancestors"]] + [REGION] == ["XD", REGION]
    links = page.eval_on_selector_all("#breadcrumb a", "links => links.map(a => [a.textContent, a.pathname])")
    assert links == [[a["name"], f"/place/{a['pcode']}"] for a in place["ancestors"]]
    assert page.inner_text("#breadcrumb [aria-current=page]") == "Avarra"
    assert page.inner_text("#place-pcode") == REGION
    assert page.inner_text("#place-level") == "admin level 1 (region)"
    assert page.get_attribute("#place-parent a", "href") == "/place/XD"


def test_children_link_to_their_pages_with_latest_arrivals(region: Watched, live_server: str) -> None:
    page = region.page
    children = _api(live_server, "/places", parent=REGION, geometry="false")["features"]
    assert len(children) == 6
    month = _latest_month(live_server, "movements", REGION)
    counts = {
        r["adm2"]: r["count"] for r in _rows(live_server, "movements", "adm2", place=REGION, **_month_range(month))
    }
    rows = page.eval_on_selector_all(
        "#children tbody tr",
        "rows => rows.map(r => [r.dataset.pcode, r.querySelector('a').textContent,"
        " r.querySelector('a').pathname, r.querySelector('td.num').dataset.count])",
    )
    assert rows == [
        [c["id"], c["properties"]["name"], f"/place/{c['id']}", _shown(counts.get(c["id"], 0))[0]] for c in children
    ]
    assert page.inner_text("#children-month") == "October 2026"


def test_arrivals_and_displacement_tables_equal_the_api(region: Watched, live_server: str) -> None:
    page = region.page
    page.click("#arrivals-details summary")
    assert page.locator("#arrivals-table").is_visible()
    by_reason = _rows(live_server, "movements", "month", "reason", place=REGION)
    by_month = {r["month"]: r["count"] for r in _rows(live_server, "movements", "month", place=REGION)}
    reasons = sorted({r["reason"] for r in by_reason})
    header = _cells(page, "#arrivals-table thead tr")[0]
    assert header == ["Month", *reasons, "All reasons"]
    shown = page.eval_on_selector_all(
        "#arrivals-table tbody tr",
        "rows => rows.map(r => [r.dataset.month, ...[...r.querySelectorAll('td')].map(c => c.dataset.count)])",
    )
    cells = {(r["month"], r["reason"]): r["count"] for r in by_reason}
    expected = [
        [m, *(_shown(cells.get((m, reason), 0))[0] for reason in reasons), _shown(by_month[m])[0]]
        for m in sorted(by_month, reverse=True)
    ]
    assert shown == expected
    assert len(shown) == 36  # Demoland runs three years

    stock = _rows(live_server, "displacement", "month", place=REGION)
    shown = page.eval_on_selector_all(
        "#displacement-table tbody tr", "rows => rows.map(r => [r.dataset.month, r.querySelector('td').dataset.count])"
    )
    assert shown == [[r["month"], _shown(r["count"])[0]] for r in sorted(stock, key=lambda r: r["month"], reverse=True)]
    latest = max(stock, key=lambda r: r["month"])
    assert page.get_attribute("#headline-displaced", "data-count") == str(latest["count"])
    assert page.get_attribute("#headline-arrivals", "data-count") == str(by_month[max(by_month)])


def _breakdown(page: Page, kind: str) -> dict[str, list[list[str | None]]]:
    tables = page.eval_on_selector_all(
        f"#breakdown-{kind} table",
        "tables => tables.map(t => [t.dataset.dimensions, [...t.querySelectorAll('tbody tr')]"
        ".map(r => [r.dataset.key, r.querySelector('td.num').dataset.count, r.querySelector('td.num').textContent])])",
    )
    return {dims: rows for dims, rows in tables}


@pytest.mark.parametrize("kind", ["movements", "displacement"])
def test_breakdown_tables_equal_the_api(region: Watched, live_server: str, kind: str) -> None:
    page = region.page
    month = _latest_month(live_server, kind, REGION)
    assert page.get_attribute(f"#breakdown-{kind}", "data-month") == month
    span = _month_range(month)
    expected: dict[str, list[list[str | None]]] = {}
    sex_age = _rows(live_server, kind, "sex", "age_group", place=REGION, **span)
    wanted = [("sex", "age_group")] if sex_age else [("sex",), ("age_group",)]
    for dims in [*wanted, ("population_group",)]:
        rows = _rows(live_server, kind, *dims, place=REGION, **span)
        if rows:
            expected[",".join(dims)] = [["|".join(r[d] for d in dims), *_shown(r["count"])] for r in rows]
    assert _breakdown(page, kind) == expected
    assert "population_group" in expected  # Demoland states the population group of every figure
    if kind == "displacement":  # Demoland reports the displaced by sex, but not arrivals
        assert [key for key, _, _ in expected["sex"]] == ["f", "m"]
        assert _cells(page, "#breakdown-displacement table[data-dimensions=sex] tbody tr")[0][0] == "female"
    else:
        assert "No figures by sex or age" in page.inner_text("#breakdown-movements")


def test_sites_table_lists_the_sites_of_the_place(region: Watched, live_server: str) -> None:
    page = region.page
    sites = _api(live_server, "/sites", place=REGION, limit=1000)
    assert sites["total_rows"] == len(sites["rows"]) > 0
    assert all(s["adm1"] == REGION for s in sites["rows"])
    shown = page.eval_on_selector_all(
        "#sites tbody tr",
        "rows => rows.map(r => [r.dataset.site, ...[...r.querySelectorAll('td.num')].map(c => c.dataset.count)])",
    )
    assert shown == [[s["site_id"], _shown(s["households"])[0], _shown(s["individuals"])[0]] for s in sites["rows"]]
    assert f"{sites['total_rows']} sites" in page.inner_text("#sites-summary")
    assert page.get_attribute("#sites-link", "href") == f"/sites?place={REGION}"


def test_keyboard_reaches_a_district_whose_redacted_counts_say_so(
    browser: Browser, live_server: str, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        watched = Watched(context.new_page())
        page = watched.page
        _open(page, f"{live_server}/place/{REGION}")
        page.focus("#children tbody tr:first-child a")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server}/place/XD0101")
        page.wait_for_selector("body[data-ready=true]", timeout=20_000)
        crumbs = page.eval_on_selector_all("#breadcrumb li", "items => items.map(i => i.dataset.pcode)")
        assert crumbs == ["XD", REGION, "XD0101"]
        page.focus("#arrivals-details summary")
        page.keyboard.press("Enter")
        assert page.locator("#arrivals-details").get_attribute("open") is not None
        hidden = [r for r in _rows(live_server, "movements", "month", "reason", place="XD0101") if r["count"] is None]
        assert hidden  # small district counts are redacted for anonymous users
        redacted = page.eval_on_selector_all("#arrivals-table td.redacted", "cells => cells.map(c => c.textContent)")
        assert len(redacted) >= len(hidden) and set(redacted) == {"redacted"}
        assert page.locator("#children-empty").is_visible()  # districts are Demoland's smallest areas
        page.screenshot(path=str(artifacts / "place-XD0101-full.png"), full_page=True)
        assert watched.errors == [] and watched.foreign_requests() == []
    finally:
        context.close()


def test_unknown_pcode_says_so(browser: Browser, live_server: str, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        watched = Watched(context.new_page(), http_errors=False)  # the API's 404 is the point
        page = watched.page
        _open(page, f"{live_server}/place/XD99")
        assert page.get_attribute("body", "data-state") == "not-found"
        assert page.locator("#not-found").is_visible()
        assert not page.locator("#place-content").is_visible()
        assert "no place with P-code XD99" in page.inner_text("#not-found")
        assert page.inner_text(".site-header h1") == "Unknown place XD99"
        assert page.get_attribute("#not-found a", "href") == "/"
        page.screenshot(path=str(artifacts / "place-unknown.png"))
        assert [e for e in watched.errors if "404" not in e] == []
        assert watched.foreign_requests() == []
    finally:
        context.close()
