"""A visitor's own phone (issue 18, part 2): the pages at 390x844 and 360x740 in real Chromium
with touch, against the real stack. Each page may scroll down, never across; its text is 16 px
or more, everything a thumb presses at least 44 x 44 px, and axe finds nothing serious. The
big-screen layout is checked at its own sizes in test_look_browser.py."""
from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.browser import ROUNDS, Visitor, expect
from tests.card_read import score_read
from tests.look import axe_serious, page_scroll, settle, small_targets, small_text

PHONES = {"390x844": {"width": 390, "height": 844}, "360x740": {"width": 360, "height": 740}}
TEXT_MIN_PX = 16
TARGET_MIN_PX = 44
PAGES = ("/", "/upload", "/explore", "/model", "/stats", "/join")


def phone_problems(v: Visitor, name: str = "") -> list[str]:
    settle(v.page)
    if name and (folder := os.environ.get("LOOK_SHOTS")):  # never commit them: pool photos
        Path(folder).mkdir(parents=True, exist_ok=True)
        size = "x".join(str(n) for n in v.page.viewport_size.values())
        v.page.screenshot(path=Path(folder) / (re.sub(r"\W+", "-", f"phone {size} {name}")
                                               + ".png"), full_page=True)
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
        # Looked at before tapping, as a visitor does: once in CI a tap right after the
        # page appeared, while its first callbacks ran, sent nothing (not since).
        settle(v.page)
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
        assert score_read(png, "", monkeypatch) == [str(points) for points in score]
    v.assert_clean()


def header_problems(v: Visitor) -> list[str]:
    """The header during a game (title, scores, mode, round, "New game", language): its items
    wrap as wholes onto rows of their own, none cut in two, over another or off the screen,
    and the page starts under them."""
    return v.page.evaluate("""() => {
      const found = [];
      const items = [...document.querySelectorAll('.site-header-row > *')]
        .filter(e => e.checkVisibility());
      const name = (e) => e.id || e.querySelector('[id]')?.id || e.className;
      const boxes = items.map(e => e.getBoundingClientRect());
      const header = document.querySelector('#header').getBoundingClientRect();
      items.forEach((e, i) => {
        const r = boxes[i];
        if (r.left < 0 || r.right > innerWidth) found.push(`${name(e)} off the screen`);
        if (r.bottom > header.bottom + 1) found.push(`${name(e)} below the header`);
        const range = document.createRange();
        range.selectNodeContents(e);
        const lines = new Set([...range.getClientRects()].filter(q => q.width > 0)
          .map(q => Math.round(q.bottom)));
        if (!e.matches('.site-title') && lines.size > 1) found.push(`${name(e)} cut in two`);
        boxes.slice(i + 1).forEach((q, j) => {
          if (Math.min(r.right, q.right) - Math.max(r.left, q.left) > 1 &&
              Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top) > 1)
            found.push(`${name(e)} over ${name(items[i + 1 + j])}`);
        });
      });
      if (document.querySelector('#page').getBoundingClientRect().top < header.bottom - 1)
        found.push('the page under the header');
      return found;
    }""")


def choice_problems(v: Visitor) -> list[str]:
    """Easy mode's four choices for a thumb: each across the screen's width (80 % of it at
    least), 48 px tall or more, its name whole, all four on the first screen."""
    return v.page.evaluate("""() => {
      const found = [];
      const choices = [...document.querySelectorAll('#choices button')];
      if (choices.length !== 4) found.push(`${choices.length} choices`);
      for (const b of choices) {
        const r = b.getBoundingClientRect();
        if (r.width < .8 * innerWidth || r.height < 48)
          found.push(`${b.id} ${Math.round(r.width)}x${Math.round(r.height)}`);
        if (b.scrollWidth > b.clientWidth + 1 || b.scrollHeight > b.clientHeight + 1)
          found.push(`${b.id} cut: ${b.innerText}`);
        if (r.bottom > innerHeight) found.push(`${b.id} below the first screen`);
      }
      return found;
    }""")


def recap_problems(v: Visitor) -> list[str]:
    """The finish page's recap pictures whole (the photo's own proportions: nothing cut off
    by ``object-fit: cover``, nothing squashed) and at least 40 % of the screen's width."""
    return v.page.evaluate("""() => {
      const found = [];
      const pictures = [...document.querySelectorAll('#recap img')];
      if (!pictures.length) found.push('no recap pictures');
      pictures.forEach((img, n) => {
        const r = img.getBoundingClientRect();
        const fit = getComputedStyle(img).objectFit;
        const off = (r.width / r.height) / (img.naturalWidth / img.naturalHeight);
        if (fit !== 'contain' && fit !== 'scale-down' && Math.abs(off - 1) > .02)
          found.push(`picture ${n + 1}: ${fit}, ${Math.round(r.width)}x${Math.round(r.height)} `
                     + `of ${img.naturalWidth}x${img.naturalHeight}`);
        if (r.width < .4 * innerWidth) found.push(`picture ${n + 1}: ${Math.round(r.width)} px`);
      });
      return found;
    }""")


@pytest.mark.parametrize("phone", PHONES)
def test_a_whole_easy_game_fits_a_phone(game_url, pool, tab, phone):
    """The pages the first test does not reach: the attract screen, easy mode's four choices
    with the game's header, and the finish page with its recap, played to the end."""
    v = Visitor(tab(viewport=PHONES[phone], has_touch=True, is_mobile=True), game_url)
    found: dict[str, list[str]] = {}
    v.open("/attract")
    expect(v.page.locator("#attract-slide img").first).to_be_visible()
    found["/attract"] = phone_problems(v, "attract")
    v.open("/")
    v.page.locator("#play-easy").tap()
    for n in range(1, ROUNDS + 1):
        v.expect_at("/attempt")
        expect(v.page.locator("#choices button")).to_have_count(4)
        if n == 1:
            found["/attempt easy"] = (phone_problems(v, "attempt easy") + choice_problems(v)
                                      + header_problems(v))
        answer = pool.answer(v.photo()).class_name
        v.page.locator("#choices").get_by_role("button", name=answer, exact=True).tap()
        v.expect_at("/result")
        if n == 1:
            found["/result easy"] = phone_problems(v, "result easy") + header_problems(v)
        v.next(last=n == ROUNDS)
    expect(v.page.locator("#recap .recap-card")).to_have_count(ROUNDS)
    found["/finish"] = phone_problems(v, "finish") + recap_problems(v)
    assert {path: issues for path, issues in found.items() if issues} == {}
