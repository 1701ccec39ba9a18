"""The operator console in Chromium, at a laptop's size and a phone's: a wrong password is
said so, the right one opens the console with the stand's state, axe-core finds nothing serious
and no text is smaller than 16 px (it is read at arm's length), and signing out closes it. The
back-ends are down here, as the console shows."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devtools.servers import closed_url, dashboard
from tests.browser import expect, operator_sign_in
from tests.data import record_todays_games
from tests.look import axe_serious, small_text

PASSWORD = "correct horse battery"
SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def console_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dashboard with the console on, and two of today's games on its wall."""
    database = f"sqlite:///{tmp_path_factory.mktemp('stats')}/stats.sqlite3"
    record_todays_games(database)
    with dashboard(closed_url(), closed_url(), closed_url(), DASHBOARD_DATABASE_URL=database,
                   DASHBOARD_OPERATOR_PASSWORD=PASSWORD) as url:
        yield url


@pytest.mark.parametrize("size", SIZES)
def test_sign_in_see_the_stand_and_sign_out(console_url, tab, size):
    page = tab(viewport=SIZES[size], has_touch=size == "phone")
    page.goto(console_url + "/operator")
    page.fill("#operator-password", "not it")
    page.click("#operator-login")
    expect(page.locator("#operator-message")).to_have_text("Wrong password.")
    page.fill("#operator-password", PASSWORD)
    page.click("#operator-login")
    expect(page.locator("#operator-console")).to_be_visible()
    expect(page.locator("#operator-service-model")).to_have_text("down")
    expect(page.locator("#operator-service-store")).to_have_text("up")
    assert axe_serious(page) == []
    assert small_text(page, 16, within="#operator-console") == []
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["operator_session"]["httpOnly"] is True
    assert cookies["operator_session"]["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("operator_session") == -1  # no script sees it
    page.click("#operator-logout")
    expect(page.locator("#operator-password")).to_be_visible()


def test_an_entry_taken_off_in_the_console_vanishes_from_the_wall_in_another_tab(console_url,
                                                                                 tab):
    wall = tab(viewport={"width": 1920, "height": 1080})
    wall.goto(console_url + "/stats")
    expect(wall.locator("#stats-top")).to_contain_text("ANN")
    console = tab(viewport=SIZES["laptop"])
    operator_sign_in(console, console_url, PASSWORD)
    console.select_option("#operator-entry", label="ANN  3:3")
    console.click("#operator-hide")
    expect(console.locator("#operator-wall-message")).to_have_text("Taken off the wall.")
    expect(wall.locator("#stats-top")).not_to_contain_text("ANN", timeout=15_000)  # its refresh
    expect(wall.locator("#stats-top")).to_contain_text("BOB")
    console.select_option("#operator-entry", label="ANN  3:3  (not on the wall)")
    console.click("#operator-show")
    expect(wall.locator("#stats-top")).to_contain_text("ANN", timeout=15_000)
    with console.expect_download() as download:  # today's games, as a spreadsheet opens them
        today = datetime.now(UTC).date().isoformat()
        console.fill("#operator-export-from", today)
        console.fill("#operator-export-to", today)
        expect(console.locator("#operator-export-games")).to_have_attribute(
            "href", f"/operator/export/games.csv?from={today}&to={today}")
        console.click("#operator-export-games")
    lines = Path(download.value.path()).read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,") and len(lines) == 3  # the header, ANN's and BOB's games
