"""The data page in a real browser: log in with a password, see batches, upload (data managers only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI

from onthemove.access.users import add_user
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.sources import ingest_file
from onthemove.store import open_store
from tests.helpers import MOVEMENTS, PCODES, write
from tests.web.conftest import Watched, needs_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (a dev dependency)")
from playwright.sync_api import expect

PASSWORD = "a long enough test password"
# the movements fixture plus two bad rows: a count that is not a number and a date that does not exist
BAD_ROWS = MOVEMENTS + "2024-03-31,XT01,XT0101,conflict,many\n2024-13-45,XT01,XT0102,drought,4\n"

pytestmark = [
    pytest.mark.slow,
    needs_chromium,
]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Overrides the conftest's Demoland store: the small fixture gazetteer, one batch, users with passwords."""
    tmp = tmp_path_factory.mktemp("data-page")
    location = str(tmp / "store")
    with open_store(location) as store:
        load_pcodes(store, write(tmp, "pcodes.csv", PCODES))
        ingest_file(store, write(tmp, "movements.csv", MOVEMENTS), kind="movements")
        add_user(store, "dm", "data_manager", password=PASSWORD)
        add_user(store, "vic", "viewer", password=PASSWORD)
        add_user(store, "ann", "analyst", password=PASSWORD)
    return location


@pytest.fixture
def data_page(browser: Browser, live_server: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # a fresh context: no cookie
    page = context.new_page()
    watched = Watched(page, http_errors=False)  # a refused login is a 401 on purpose
    page.goto(live_server + "/data")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    try:
        yield watched
    finally:
        context.close()


def _log_in(page: Page, username: str) -> None:
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#batches tbody tr", timeout=20_000)


def test_logged_out_shows_only_the_login_form(data_page: Watched, artifacts: Path) -> None:
    page = data_page.page
    assert page.get_by_label("User name").is_visible()
    assert page.get_by_label("Password").is_visible()
    assert not page.locator("#data-section").is_visible()
    nav = page.get_by_role("navigation", name="Pages")
    assert nav.get_by_role("link", name="Overview").get_attribute("href") == "/"
    assert nav.get_by_role("link", name="Data").get_attribute("aria-current") == "page"
    page.screenshot(path=str(artifacts / "data-login.png"))
    # the 401 of GET /session is expected while logged out; nothing else may have gone wrong
    assert [e for e in data_page.errors if "401" not in e] == []


def test_wrong_password_says_so(data_page: Watched) -> None:
    page = data_page.page
    page.get_by_label("User name").fill("dm")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#status.error")
    assert "wrong user name or password" in page.locator("#status").inner_text()
    assert not page.locator("#data-section").is_visible()


def test_data_manager_uploads_and_sees_the_rejected_rows(data_page: Watched, tmp_path: Path, artifacts: Path) -> None:
    page = data_page.page
    _log_in(page, "dm")
    assert "dm" in page.locator("#whoami").inner_text()
    assert page.locator("#batches tbody tr").count() >= 2  # the places and the movements batch
    page.screenshot(path=str(artifacts / "data-data-manager.png"))

    upload = page.get_by_role("region", name="Upload a file")
    upload.get_by_label("File (CSV, XLSX, Kobo or DTM JSON)").set_input_files(
        str(write(tmp_path, "march.csv", BAD_ROWS))
    )
    upload.get_by_label("Kind of records").select_option("movements")
    assert not upload.get_by_label("Strict: refuse the whole file if any row is rejected").is_checked()
    before = page.locator("#batches tbody tr").count()
    upload.get_by_role("button", name="Upload").click()
    page.wait_for_selector("#rejections tbody tr", timeout=20_000)

    rows = page.locator("#rejections tbody tr")
    assert rows.count() == 2
    cells = [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()] for i in range(2)]
    assert cells[0][1:] == ["People", "many", "a whole number"]
    assert cells[1][1:3] == ["Date", "2024-13-45"]
    assert all(c[0].isdigit() for c in cells)
    assert "2 rejected" in page.locator("#upload-summary").inner_text()
    page.wait_for_function(f"document.querySelectorAll('#batches tbody tr').length > {before}")
    assert "upload: march.csv" in page.locator("#batches tbody").inner_text()
    page.screenshot(path=str(artifacts / "data-upload-rejections.png"), full_page=True)
    assert [e for e in data_page.errors if "401" not in e] == []
    assert data_page.foreign_requests() == []


def test_viewer_gets_no_upload_form(data_page: Watched, artifacts: Path) -> None:
    page = data_page.page
    page.get_by_label("User name").fill("vic")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#whoami:not([hidden])")
    page.wait_for_function("!document.getElementById('upload-section')")
    assert page.locator("#upload-form").count() == 0
    assert page.locator("input[type=file]").count() == 0
    assert "vic" in page.locator("#whoami").inner_text()
    # viewers read aggregates only: no batch list, no reports (they quote rejected cells), no rollback
    page.wait_for_selector("#status:has-text('Batches are not shown')")
    assert page.locator("#batches button").count() == 0
    page.screenshot(path=str(artifacts / "data-viewer.png"))


def test_logout_returns_to_the_login_form(data_page: Watched) -> None:
    page = data_page.page
    _log_in(page, "dm")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_selector("#login-section:not([hidden])", timeout=20_000)
    assert not page.locator("#data-section").is_visible()


def _batch_row(page: Page, source: str) -> Locator:
    return page.locator("#batches tbody tr", has_text=source)


def test_data_manager_reads_a_report_and_rolls_the_batch_back(
    data_page: Watched, web_app: FastAPI, tmp_path: Path, artifacts: Path
) -> None:
    page = data_page.page
    _log_in(page, "dm")
    upload = page.get_by_role("region", name="Upload a file")
    bad_april = BAD_ROWS.replace("2024-03-31", "2024-04-30")
    upload.get_by_label("File (CSV, XLSX, Kobo or DTM JSON)").set_input_files(
        str(write(tmp_path, "april.csv", bad_april))
    )
    upload.get_by_role("button", name="Upload").click()
    page.wait_for_selector("#rejections tbody tr", timeout=20_000)
    row = _batch_row(page, "upload: april.csv")
    row.wait_for(timeout=20_000)
    batch_id = row.get_attribute("data-batch")
    assert batch_id

    row.get_by_role("button", name="Report").click()
    page.wait_for_selector("#report-rows tbody tr", timeout=20_000)
    report = page.get_by_role("region", name=f"Validation report: {batch_id}")
    assert "upload: april.csv" in report.locator("#report-facts").inner_text()
    summary = [r.locator("td").all_inner_texts() for r in report.locator("#report-summary tbody tr").all()]
    assert sorted((r[0], r[2]) for r in summary) == [("Date", "1"), ("People", "1")]
    rejected = [r.locator("td").all_inner_texts() for r in report.locator("#report-rows tbody tr").all()]
    assert sorted(r[2] for r in rejected) == ["2024-13-45", "many"]
    assert "(2 of 2)" in report.inner_text()
    assert page.evaluate("document.activeElement.id") == "report-section"  # focus moves to the report
    page.screenshot(path=str(artifacts / "data-report.png"), full_page=True)

    with web_app.state.store_context.store() as store:
        before = store.fetch("SELECT count(*) FROM movements WHERE batch_id = $b", {"b": batch_id})[0][0]
    assert before == 6
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Roll back").click()
    page.wait_for_function(
        "t => document.getElementById('status').textContent.includes(t)", arg=f"Rolled back {batch_id}"
    )
    assert "removed 6 movements, 2 rejections" in page.locator("#status").inner_text()
    expect(_batch_row(page, "upload: april.csv")).to_have_count(0)  # gone from the loaded batches
    page.get_by_label("Also show rolled back and superseded batches").check()
    again = _batch_row(page, "upload: april.csv")
    again.wait_for(timeout=20_000)
    assert again.get_attribute("data-status") == "rolled_back"
    assert again.get_by_role("button", name="Roll back").count() == 0
    with web_app.state.store_context.store() as store:
        assert store.fetch("SELECT count(*) FROM movements WHERE batch_id = $b", {"b": batch_id})[0][0] == 0
        actions = store.fetch("SELECT action FROM audit_log WHERE target = $b ORDER BY seq", {"b": batch_id})
    assert ("rollback",) in actions and ("batch.read",) in actions
    assert [e for e in data_page.errors if "401" not in e] == []
    assert data_page.foreign_requests() == []


def test_a_cancelled_rollback_changes_nothing_and_analysts_only_read_reports(data_page: Watched) -> None:
    page = data_page.page
    _log_in(page, "ann")
    assert page.locator("#batches button.report").count() == page.locator("#batches tbody tr").count()
    assert page.locator("#batches button.rollback").count() == 0
    page.get_by_role("button", name="Log out").click()
    page.wait_for_selector("#login-section:not([hidden])", timeout=20_000)
    _log_in(page, "dm")
    rows = page.locator("#batches tbody tr").count()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#batches button.rollback").first.click()
    page.wait_for_timeout(300)
    assert page.locator("#batches tbody tr").count() == rows
    assert "Rolling back" not in page.locator("#status").inner_text()
