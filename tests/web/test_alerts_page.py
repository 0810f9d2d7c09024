"""The alerts page in a real browser, against Demoland, whose region Dunmere (XD04) flares up at the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import Watched, needs_chromium

pytestmark = [pytest.mark.slow, needs_chromium]


def test_alerts_page_lists_the_flare_up_with_its_figures(browser: Any, live_server: str, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        watched = Watched(page)
        page.goto(live_server + "/alerts")
        page.wait_for_selector("body[data-ready=true]", timeout=20_000)
        districts = page.eval_on_selector_all("#alerts tbody tr", "rows => rows.map(r => r.dataset.pcode)")
        assert "XD0401" in districts and all(d.startswith("XD") for d in districts)
        first = page.eval_on_selector_all("#alerts tbody tr:first-child td", "cells => cells.map(c => c.textContent)")
        assert int(first[3].replace(",", "")) > int(first[4].replace(",", ""))  # the value is above the median
        assert "median" in first[7]
        page.screenshot(path=str(artifacts / "alerts-adm2.png"))
        page.evaluate("document.body.removeAttribute('data-ready')")
        page.select_option("#alert-level", "adm1")
        page.wait_for_selector("body[data-ready=true]", timeout=20_000)
        regions = page.eval_on_selector_all("#alerts tbody tr", "rows => rows.map(r => r.dataset.pcode)")
        assert "XD04" in regions
        assert page.get_attribute("nav a[aria-current=page]", "href") == "/alerts"
        assert watched.errors == [] and watched.foreign_requests() == []
    finally:
        context.close()
