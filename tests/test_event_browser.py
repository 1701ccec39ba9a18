"""The stand's owner brands the stand from the console, in Chromium, and the visitors see it:
the event's name in its colour and its logo reach a start page and a wall that were open
before (no reload, two dashboard workers, within seconds), a game then draws only the makes
chosen, and all of it is still there after the dashboard restarts."""
from __future__ import annotations

import time
from pathlib import Path

from PIL import Image

from devtools.servers import dashboard
from tests.browser import PhotoPool, expect, operator_sign_in

PASSWORD = "correct horse battery"
NAME = "Auto Show Leipzig"
ACCENT, ACCENT_RGB = "#ffd166", "rgb(255, 209, 102)"
GERMAN = ("Audi", "BMW", "Mercedes-Benz")  # 190 of the pool's photos
ROUNDS = 3  # a short game: each of its photos is of a make chosen
SHOWN_WITHIN_S = 10  # the pages refresh every 2-5 s; each worker reads the settings every 2 s


def shows_the_event(page, timeout_s: float = SHOWN_WITHIN_S) -> None:
    expect(page.locator("#event-name")).to_have_text(NAME, timeout=timeout_s * 1000)
    expect(page.locator("#event-logo")).to_be_visible(timeout=timeout_s * 1000)
    assert page.locator("#event-logo").evaluate("img => img.naturalWidth") > 0  # it loaded
    assert page.locator("#event-name").evaluate("e => getComputedStyle(e).color") == ACCENT_RGB


def test_the_owner_brands_the_stand_and_visitors_see_it_at_once_and_after_a_restart(
        tab, visitor, pool: PhotoPool, model_server_url, explainer_url, image_server_url,
        tmp_path: Path):
    logo = tmp_path / "logo.png"
    Image.new("RGB", (600, 150), (0, 90, 170)).save(logo)
    env = {"DASHBOARD_DATABASE_URL": f"sqlite:///{tmp_path}/stats.sqlite3",
           "DASHBOARD_OPERATOR_PASSWORD": PASSWORD, "DASHBOARD_WORKERS": "2",
           "DASHBOARD_ROUNDS": str(ROUNDS)}
    with dashboard(model_server_url, explainer_url, image_server_url, **env) as url:
        home, wall = tab(), tab()  # a visitor's start page and the wall, open before
        home.goto(url + "/")
        wall.goto(url + "/stats")
        expect(home.locator("#play")).to_be_visible()
        expect(home.locator("#event-name")).to_have_count(0)

        console = tab()
        operator_sign_in(console, url, PASSWORD)
        console.fill("#operator-event-name", NAME)
        console.fill("#operator-event-accent", ACCENT)
        console.click("#operator-event-makes-none")
        expect(console.locator("#operator-event-makes input:checked")).to_have_count(0)
        for make in GERMAN:
            console.locator("#operator-event-makes label", has_text=f"{make} (").click()
        console.click("#operator-event-save")
        expect(console.locator("#operator-event-message")).to_contain_text("Saved.")
        console.set_input_files("#operator-logo-upload input[type=file]", logo)
        expect(console.locator("#operator-logo-message")).to_contain_text("new logo")
        saved = time.monotonic()
        for page in (home, wall):
            shows_the_event(page)
        print(f"shown on both pages {time.monotonic() - saved:.1f} s after the save")

        player = visitor(url)
        player.open("/")
        player.page.locator("#play-easy").click()
        for number in range(1, ROUNDS + 1):
            expect(player.page.locator("#choices button")).to_have_count(4)
            assert pool.answer(player.photo()).make in GERMAN, number
            player.page.locator("#choices button").first.click()
            expect(player.page.locator("#next")).to_be_visible()
            player.next(last=number == ROUNDS)
        player.assert_clean()

    again = {**env, "DASHBOARD_WORKERS": "1"}  # one worker starts faster; the database holds it
    with dashboard(model_server_url, explainer_url, image_server_url, **again) as url:
        attract = tab()  # after a restart: the settings came from the database
        attract.goto(url + "/attract")
        shows_the_event(attract, timeout_s=5)
