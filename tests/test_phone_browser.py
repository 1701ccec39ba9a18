"""A visitor's own phone (issue 18, part 2): the pages at 390x844 and 360x740 in real Chromium
with touch, against the real stack. Each page may scroll down, never across; its text is 16 px
or more, everything a thumb presses at least 44 x 44 px, and axe finds nothing serious. The
big-screen layout is checked at its own sizes in test_look_browser.py."""
from __future__ import annotations

import io
import re
import shutil

import pytest
from PIL import Image

from tests.browser import ROUNDS, Visitor, expect
from tests.look import axe_serious, page_scroll, settle, small_targets, small_text

PHONES = {"390x844": {"width": 390, "height": 844}, "360x740": {"width": 360, "height": 740}}
TEXT_MIN_PX = 16
TARGET_MIN_PX = 44
PAGES = ("/", "/upload", "/explore", "/model", "/stats")


def phone_problems(v: Visitor) -> list[str]:
    settle(v.page)
    found = []
    if page_scroll(v.page)["x"]:
        found.append("scrolls across")
    found += [f"small text {t}" for t in small_text(v.page, TEXT_MIN_PX)]
    found += [f"small target {t}" for t in small_targets(v.page, TARGET_MIN_PX)]
    found += [f"axe {a}" for a in axe_serious(v.page)]
    return found


@pytest.mark.parametrize("phone", PHONES)
def test_every_page_fits_a_phone(game_url, tab, phone):
    v = Visitor(tab(viewport=PHONES[phone], has_touch=True, is_mobile=True), game_url)
    found: dict[str, list[str]] = {}
    for path in PAGES:
        v.open(path)
        expect(v.page.locator(".site-page")).to_be_visible()
        found[path] = phone_problems(v)
    v.start()  # expert: the makes, then a model, then the result
    found["/attempt"] = phone_problems(v)
    v.page.locator("#make label").first.click()
    v.page.locator("#model label").first.click()
    v.page.locator("#guess").click()
    v.expect_at("/result")
    found["/result"] = phone_problems(v)
    assert {path: issues for path, issues in found.items() if issues} == {}


def test_the_result_card_downloads_as_a_png_on_a_phone(game_url, tab, monkeypatch):
    """An easy game to its finish, then "Save your result card": a thumb-sized button, and
    the phone's own download brings the card of this game (its score read back by OCR)."""
    v = Visitor(tab(viewport=PHONES["390x844"], has_touch=True, is_mobile=True), game_url)
    v.open("/")
    v.page.locator("#play-easy").click()
    for n in range(1, ROUNDS + 1):
        v.expect_at("/attempt")
        v.page.locator("#choice-0").tap()
        v.expect_at("/result")
        v.next(last=n == ROUNDS)
    score = [int(v.page.locator(f"#final-{who}").inner_text()) for who in ("you", "ai")]
    button = v.page.locator("#finish-card")
    expect(button).to_have_text("Save your result card")
    size = button.bounding_box()
    assert size["width"] >= TARGET_MIN_PX and size["height"] >= TARGET_MIN_PX, size
    with v.page.expect_download() as caught:
        button.tap()
    download = caught.value
    assert re.fullmatch(r"beat-the-ai-\d{4}-\d{2}-\d{2}\.png", download.suggested_filename)
    png = download.path().read_bytes()
    card = Image.open(io.BytesIO(png))
    assert (card.format, card.size) == ("PNG", (1080, 1350)) and len(png) < 1_000_000
    if shutil.which("tesseract"):
        from tests.test_card import ocr, score_read

        assert score_read(ocr(png, monkeypatch)) == [str(points) for points in score]
    v.assert_clean()
