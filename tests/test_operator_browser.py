"""The operator console in Chromium, at a laptop's size and a phone's: a wrong password is
said so, the right one opens the console with the stand's state, axe-core finds nothing serious
and no text is smaller than 16 px (it is read at arm's length), and signing out closes it. The
back-ends are down here, as the console shows."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.servers import closed_url, dashboard
from tests.browser import expect
from tests.look import axe_serious, small_text

PASSWORD = "correct horse battery"
SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def console_url() -> Iterator[str]:
    with dashboard(closed_url(), closed_url(), closed_url(),
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
