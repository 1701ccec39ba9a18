"""The QR codes to a visitor's own phone (issue 18, part 2): on the start page, the attract
screen and the wall, in kiosk mode, at 1920x1080 and 1280x800. Each code is screenshotted as
Chromium draws it and decoded with OpenCV's QR detector: the game's address is the stand's
``play_url`` (or, unset, the address the screen was opened with), the second code the Wi-Fi's
``WIFI:`` text; the captions say both in words, and the codes sit clear of everything else on
the page. Set ``LOOK_SHOTS`` to a folder for a screenshot of each page (they show the pool's
photos: never commit them).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devtools.servers import dashboard
from tests.browser import expect
from tests.data import game, rnd
from tests.look import page_scroll, scroll_boxes, settle
from tests.qr_read import decode

PLAY_URL = "http://192.168.7.20:8050/"
SSID, PASSWORD = "Beat the AI", "cars;2024"
WIFI = r"WIFI:T:WPA;S:Beat the AI;P:cars\;2024;;"  # the ";" escaped, as the format asks
SIZES = {"1920x1080": {"width": 1920, "height": 1080}, "1280x800": {"width": 1280, "height": 800}}
PAGES = {"/": "#play-easy", "/attract": "#attract-slide img", "/stats": "#stats-top tr >> nth=10"}
# Cars missed by visitors and the AI, two of them among the pool's longest names: a full wall.
LONG_NAMES = ("Rolls-Royce Phantom Drophead Coupe Convertible 2012",
              "Chevrolet Silverado 1500 Classic Extended Cab 2007",
              "Chevrolet Express Cargo Van 2007", "Hyundai Veloster Hatchback 2012",
              "Dodge Caliber Wagon 2012")
MISS = "AM General Hummer SUV 2000"
TOP_10 = ("ACE", "BOB", "CAT", "DAN", "EVE", "FOX", "GUS", "IVY", "JOE", "KIM")  # none refused


def fill_the_wall(database_url: str) -> None:
    """Ten finished games of today with initials (a full top 10), whose rounds make the five
    longest names the trickiest cars for visitors and for the AI, and judged uploads."""
    from dashboard.stats import open_stats

    stats = open_stats(database_url)
    today = datetime.now(UTC).date()
    for n, initials in enumerate(TOP_10):
        rounds = tuple(rnd(name, MISS if (n + i) % 2 else name, name if (n + i) % 3 else MISS)
                       for i, name in enumerate(LONG_NAMES))
        stats.record(game(f"{n:016x}", today, rounds, initials, hour=0))
    for n in range(3):
        stats.record_upload_verdict(f"{n:016x}", LONG_NAMES[0], n != 1)
    stats.close()


@pytest.fixture(scope="module")
def stand_url(model_server_url, explainer_url, image_server_url,
              tmp_path_factory) -> Iterator[str]:
    """The fair's big screen: kiosk mode, the stand's address for phones and its Wi-Fi, and
    a full wall."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('stand') / 'stats.sqlite3'}"
    fill_the_wall(database_url)
    with dashboard(model_server_url, explainer_url, image_server_url, DASHBOARD_KIOSK="1",
                   DASHBOARD_PLAY_URL=PLAY_URL, DASHBOARD_WIFI_SSID=SSID,
                   DASHBOARD_WIFI_PASSWORD=PASSWORD,
                   DASHBOARD_DATABASE_URL=database_url) as url:
        yield url


def overlaps(page) -> list[dict]:
    """What on the page a code's box covers: every visible text (its drawn lines), picture,
    button and card outside ``#phone-codes`` that intersects the codes' own box."""
    return page.evaluate("""() => {
      const codes = document.querySelector('#phone-codes').getBoundingClientRect();
      const hits = (r) => Math.min(r.right, codes.right) - Math.max(r.left, codes.left) > 1 &&
        Math.min(r.bottom, codes.bottom) - Math.max(r.top, codes.top) > 1;
      const outside = (el) => !el.closest('#phone-codes') &&
        el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
      const found = [];
      const root = document.querySelector('#page');
      for (const el of root.querySelectorAll('img, button, .card')) {
        if (outside(el) && hits(el.getBoundingClientRect()))
          found.push(el.tagName + '.' + [...el.classList].join('.'));
      }
      const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let node = walk.nextNode(); node; node = walk.nextNode()) {
        if (!node.textContent.trim() || !outside(node.parentElement)) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        if ([...range.getClientRects()].some(hits)) found.push(node.textContent.trim());
      }
      return found;
    }""")


def shoot(page, name: str) -> None:
    if folder := os.environ.get("LOOK_SHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=Path(folder) / ("qr" + re.sub(r"\W+", "-", name) + ".png"))


def test_the_codes_carry_the_stands_address_and_its_wifi(stand_url, tab):
    """On each page at each size: both codes read back as set, nothing else on the page
    under them, and the page still fits the screen (the wall full)."""
    page = tab(viewport=SIZES["1920x1080"])
    found: dict[str, object] = {}
    for path, content in PAGES.items():
        page.goto(stand_url + path)
        expect(page.locator(content).first).to_be_visible()
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            settle(page)
            where = f"{path} {size}"
            shoot(page, where)
            found[where] = {"play": decode(page, "#play-qr"), "wifi": decode(page, "#wifi-qr"),
                            "covers": overlaps(page), "scrolls": page_scroll(page),
                            "scroll boxes": scroll_boxes(page)}
        expect(page.locator("#play-qr-caption")).to_have_text(
            re.compile(r"^Play on your phone\s*192\.168\.7\.20:8050$"))
        expect(page.locator("#wifi-qr-caption")).to_have_text(
            re.compile(rf"^Join the Wi-Fi\s*{SSID}\s*Password: {re.escape(PASSWORD)}$"))
    assert {where: seen for where, seen in found.items()
            if seen != {"play": PLAY_URL, "wifi": WIFI, "covers": [],
                        "scrolls": {"x": 0, "y": 0}, "scroll boxes": []}} == {}


def test_without_a_play_url_the_code_is_the_address_the_screen_opened(game_url, tab):
    """No ``play_url``: the code carries the address the page was opened with (a screen
    opened by the stand's address on its network hands phones that address), and there is no
    Wi-Fi code."""
    page = tab()
    for base in (game_url, game_url.replace("127.0.0.1", "localhost")):
        page.goto(base + "/")
        expect(page.locator("#play-qr")).to_be_visible()
        settle(page)
        assert decode(page, "#play-qr") == base + "/"
        expect(page.locator("#play-qr-caption")).to_contain_text(base.split("://")[1])
        expect(page.locator("#wifi-qr")).to_have_count(0)
