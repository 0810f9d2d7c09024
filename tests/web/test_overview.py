"""The overview page in a real browser (Debian's Chromium through Playwright), against Demoland."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.web.conftest import Watched, needs_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (a dev dependency)")

DEMO_ADM1 = 6  # Demoland has six regions

pytestmark = [
    pytest.mark.slow,
    needs_chromium,
]


@pytest.fixture
def overview(browser: Browser, live_server: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    watched = Watched(page)
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    try:
        yield watched
    finally:
        context.close()


def _number(text: str) -> int:
    digits = re.sub(r"[^\d]", "", text)
    assert digits, f"no number in {text!r}"
    return int(digits)


def test_loads_offline_with_no_console_errors(overview: Watched, artifacts: Path) -> None:
    page = overview.page
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "overview-1280x720.png"))
    page.screenshot(path=str(artifacts / "overview-full.png"), full_page=True)
    assert overview.errors == []
    assert overview.foreign_requests() == []
    assert any("/api/v1/places" in u for u in overview.requests)


def test_map_has_one_path_per_region(overview: Watched) -> None:
    page = overview.page
    paths = page.locator("#map svg path[data-pcode]")
    assert paths.count() == DEMO_ADM1
    pcodes = {paths.nth(i).get_attribute("data-pcode") for i in range(DEMO_ADM1)}
    assert len(pcodes) == DEMO_ADM1
    filled = {paths.nth(i).get_attribute("fill") for i in range(DEMO_ADM1)}
    assert "#d9d9d9" not in filled  # every region has arrivals in the latest month: none is left grey
    assert page.locator("#legend li").count() >= 2


def test_trend_chart_is_drawn(overview: Watched) -> None:
    canvas = overview.page.locator("#trend canvas").first
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0
    assert overview.page.locator("#trend .u-legend").count() == 1


def test_headline_shows_the_latest_month(overview: Watched) -> None:
    page = overview.page
    options = page.locator("#period option")
    assert options.count() > 1
    assert page.locator("#period").input_value() == options.first.get_attribute("value")  # latest first
    assert _number(page.locator("#headline-arrivals").inner_text()) > 0
    assert re.search(r"\d", page.locator("#headline-change").inner_text())


def test_choosing_another_month_updates_headline_and_map(overview: Watched, artifacts: Path) -> None:
    page = overview.page
    before = _number(page.locator("#headline-arrivals").inner_text())
    counts_before = page.eval_on_selector_all("#map path[data-pcode]", "els => els.map(e => e.dataset.count)")
    other = page.locator("#period option").nth(2).get_attribute("value")
    assert other
    page.select_option("#period", other)
    page.wait_for_function(
        "before => document.getElementById('headline-arrivals').textContent.replace(/\\D/g, '') !== String(before)",
        arg=before,
    )
    page.wait_for_function(
        "before => JSON.stringify([...document.querySelectorAll('#map path[data-pcode]')].map(e => e.dataset.count))"
        " !== JSON.stringify(before)",
        arg=counts_before,
    )
    assert _number(page.locator("#headline-arrivals").inner_text()) != before
    page.screenshot(path=str(artifacts / f"overview-{other}.png"))
    assert overview.errors == []


def test_period_control_works_from_the_keyboard(overview: Watched) -> None:
    page = overview.page
    before = page.locator("#headline-arrivals").inner_text()
    page.focus("#period")
    page.keyboard.press("ArrowDown")  # a native select changes value on arrow keys
    page.wait_for_function("before => document.getElementById('headline-arrivals').textContent !== before", arg=before)
    assert page.locator("#period").input_value() == page.locator("#period option").nth(1).get_attribute("value")


def test_level_selector_draws_districts(overview: Watched, artifacts: Path) -> None:
    page = overview.page
    page.select_option("#level", "2")
    page.wait_for_function("document.querySelectorAll('#map path[data-pcode]').length > 6")
    pcodes = page.eval_on_selector_all("#map path[data-pcode]", "els => els.map(e => e.dataset.pcode)")
    assert len(pcodes) == len(set(pcodes)) > DEMO_ADM1
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "overview-adm2.png"))
    assert overview.errors == []
    assert overview.foreign_requests() == []


def test_the_map_figures_are_also_a_table_of_links(overview: Watched) -> None:
    page = overview.page
    table_rows = page.locator("#map-table tbody tr")
    assert table_rows.count() == DEMO_ADM1
    on_map = dict(
        page.eval_on_selector_all("#map path[data-pcode]", "els => els.map(e => [e.dataset.pcode, e.dataset.count])")
    )
    page.get_by_text("The map's figures as a table").click()  # a native <details>: opens by keyboard or click
    in_table = {
        r.get_attribute("data-pcode"): r.locator("td").nth(2).inner_text().replace(",", "") for r in table_rows.all()
    }
    assert in_table == on_map
    counts = [int(v) for v in in_table.values()]
    shown = [int(r.locator("td").nth(2).inner_text().replace(",", "")) for r in table_rows.all()]
    assert shown == sorted(counts, reverse=True)  # largest first
    first = table_rows.first.get_by_role("link")
    assert first.get_attribute("href") == "/place/" + (table_rows.first.get_attribute("data-pcode") or "")


def test_people_displaced_replace_arrivals_when_chosen(overview: Watched, artifacts: Path) -> None:
    page = overview.page
    arrivals = page.locator("#headline-arrivals").inner_text()
    page.select_option("#measure", "displacement")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    assert page.locator("#headline-measure").inner_text() == "People displaced"
    assert page.locator("#map-title").inner_text() == "People displaced by area"
    assert page.locator("#headline-arrivals").inner_text() != arrivals
    assert _number(page.locator("#headline-arrivals").inner_text()) > 0
    assert page.locator("#map path[data-pcode]").count() == DEMO_ADM1
    assert "people displaced" in (page.get_attribute("#map", "aria-label") or "")
    page.screenshot(path=str(artifacts / "overview-displacement.png"))
    assert overview.errors == [] and overview.foreign_requests() == []


def test_clicking_an_area_opens_its_place_page(overview: Watched) -> None:
    page = overview.page
    area = page.locator("#map path[data-pcode]").first
    pcode = area.get_attribute("data-pcode")
    area.click()
    page.wait_for_url(f"**/place/{pcode}")
