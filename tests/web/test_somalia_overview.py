"""With the Somalia case study loaded, the overview shows the 18 regions and 74 districts of the COD-AB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from onthemove.api import create_app
from tests.conftest import DATA, ROOT
from tests.web.conftest import needs_chromium

pytestmark = [
    pytest.mark.slow,
    pytest.mark.acceptance,
    needs_chromium,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"real data not present at {DATA}"),
]


@pytest.fixture(scope="module")
def web_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """Overrides the Demoland app of conftest: COD-AB boundaries, aliases and PRMN arrivals."""
    from onthemove.ingest.gazetteer import load_aliases, load_boundaries
    from onthemove.ingest.pipeline import ingest
    from onthemove.store import open_store

    location = str(tmp_path_factory.mktemp("somalia") / "store")
    with open_store(location) as store:
        for level in ("adm0_country", "adm1_regions", "adm2_districts"):
            load_boundaries(store, DATA / "somalia/cod-ab" / level)
        load_aliases(store, ROOT / "examples/somalia/aliases.csv")
        ingest(
            store,
            DATA / "somalia/prmn/som_unhcr_prmn_displacement_2016_2021.xlsx",
            mapping=ROOT / "examples/somalia/prmn.yaml",
        )
    return create_app(location)


def test_overview_draws_every_region_and_district(browser: Any, live_server: str, artifacts: Path) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    regions = set(page.eval_on_selector_all("#map path[data-pcode]", "els => els.map(e => e.dataset.pcode)"))
    assert len(regions) == 18
    assert all(code.startswith("SO") and len(code) == 4 for code in regions)
    page.screenshot(path=str(artifacts / "somalia-regions.png"))
    page.select_option("#level", "2")
    page.wait_for_function(
        "new Set([...document.querySelectorAll('#map path[data-pcode]')].map(e => e.dataset.pcode)).size >= 74",
        timeout=30_000,
    )
    districts = set(page.eval_on_selector_all("#map path[data-pcode]", "els => els.map(e => e.dataset.pcode)"))
    assert len(districts) == 74
    headline = page.text_content("#headline-arrivals") or ""
    assert any(ch.isdigit() for ch in headline)
    page.screenshot(path=str(artifacts / "somalia-districts.png"))
    assert errors == []
