"""Designed for 3 m: every page of a whole game, at 1920x1080 and on a 1280x800 tablet, in easy
and in expert mode, measured in real Chromium against the real stack (tests/look.py). Each page
is measured at both sizes (the window is resized in place), so one game per mode covers both.

Each game collects every failure of every page and asserts once at the end, so one run lists
the whole to-do. Set ``LOOK_SHOTS`` to a folder to get a screenshot of each page measured
(they show the pool's real photos: never commit them).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser import ROUNDS, Visitor, expect
from tests.look import (
    TEXT_MIN_PX,
    axe_serious,
    body_text_px,
    box,
    boxes,
    page_scroll,
    scroll_boxes,
    settle,
    small_text,
    time_to_show,
    unseen,
)

VIEWPORTS = {"1920x1080": {"width": 1920, "height": 1080},
             "1280x800": {"width": 1280, "height": 800}}
LOCALES = {"easy": "de-DE", "expert": "en-US"}  # the browser's language for each game
LARGE = "1920x1080"  # the text sizes are set for the big screen, read from 3 m
TABLET = "1280x800"  # a tablet
MODES = ("expert", "easy")
BODY_MIN_PX = 24  # at 1080p, running text
TOP5_MIN_PX = 22  # at 1080p, every text of the result's top-5 (names, values, scale)
PHOTO_SHARE = 0.55  # the attempt photo's width, of the viewport's
THUMB_MIN_PX = 160  # the finish page's recap thumbnails
FIRST_RESULT_MS = 300  # click to result, right after a page load

pytestmark = pytest.mark.quiet  # it times the first result: on a machine no other test shares


def grouped(texts: list[dict]) -> list[str]:
    """Small texts, one line per (size, element): a picker's 49 labels are one finding."""
    groups: dict[tuple[float, str], list[str]] = {}
    for t in texts:
        groups.setdefault((t["px"], t["element"]), []).append(t["text"])
    return [f"{px} px x{len(words)} in {element}: {', '.join(words[:4])}"
            + (", ..." if len(words) > 4 else "") for (px, element), words in groups.items()]


@dataclass
class Look:
    """Measures the pages one visitor sees and keeps every failure, named by where it was."""

    page: object
    where: str
    shots: Path | None
    failures: list[str] = field(default_factory=list)
    size: str = LARGE

    def fail(self, name: str, what: str, data: object) -> None:
        self.failures.append(f"{self.where} {self.size} {name}: {what}: {data}")

    def sizes(self) -> Iterator[int]:
        """Each screen size in turn (its width), ending at the big screen's."""
        for self.size in (TABLET, LARGE):
            self.page.set_viewport_size(VIEWPORTS[self.size])
            yield VIEWPORTS[self.size]["width"]

    def check(self, name: str, photo: bool = False, makes: bool | None = None) -> None:
        """``rules`` at each screen size; on the attempt page the photo's width, and
        ``makes_visible(step=makes)`` unless ``makes`` is None."""
        for width in self.sizes():
            self.rules(name, large_text=self.size == LARGE)
            if photo:
                self.photo_width(name, width)
            if makes is not None:
                self.makes_visible(name, step=makes)

    def rules(self, name: str, large_text: bool) -> None:
        """The rules every page keeps: no page scroll, no scroll box, no serious axe-core
        finding; on the big screen no small text and large running text."""
        page = self.page
        settle(page)
        if self.shots:
            shot = re.sub(r"\W+", "-", f"{self.where} {self.size} {name}") + ".png"
            page.screenshot(path=self.shots / shot, full_page=True)
        if (scroll := page_scroll(page)) != {"x": 0, "y": 0}:
            self.fail(name, "the page scrolls (px)", scroll)
        if found := scroll_boxes(page):
            self.fail(name, "scroll boxes", found)
        if found := axe_serious(page):
            self.fail(name, "axe-core serious/critical", found)
        if large_text:
            if found := small_text(page, TEXT_MIN_PX):
                self.fail(name, f"visible text under {TEXT_MIN_PX} px", grouped(found))
            if (px := body_text_px(page)) < BODY_MIN_PX:
                self.fail(name, f"body text under {BODY_MIN_PX} px", px)

    def photo_width(self, name: str, viewport_width: int) -> None:
        photo = box(self.page, "#photo")
        if photo is None or photo["width"] < PHOTO_SHARE * viewport_width:
            self.fail(name, f"#photo narrower than {PHOTO_SHARE:.0%} of {viewport_width} px",
                      photo)

    def makes_visible(self, name: str, step: bool = True) -> None:
        """Every make at once, while the makes are offered (``step``: the page is at the make
        step; after it a page may put the makes away, but never show only some)."""
        if not step and not self.page.locator("#make").is_visible():
            return
        if found := unseen(self.page, "#make label"):
            self.fail(name, f"{len(found)} make labels not visible without scrolling", found)


@pytest.fixture(scope="module")
def shots() -> Path | None:
    folder = os.environ.get("LOOK_SHOTS")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize("mode", MODES)
def test_every_page_of_a_game_is_made_for_3_m(game_url, pool, tab, shots, mode):
    """Easy games are played in German (its texts run longer), expert ones in English."""
    locale = LOCALES[mode]
    v = Visitor(tab(viewport=VIEWPORTS[LARGE], locale=locale), game_url)
    look = Look(v.page, f"{mode} {locale}", shots)
    v.open("/")
    v.expect_at("/")
    expect(v.page.locator("html")).to_have_attribute("lang", locale[:2])
    look.check("home")
    v.page.locator("#play" if mode == "expert" else "#play-easy").click()
    v.expect_at("/attempt")
    v.open("/attempt")  # the first result is timed from a fresh page load
    v.expect_at("/attempt")

    for n in range(1, ROUNDS + 1):
        name = f"attempt {n}"
        answer = pool.answer(v.photo())
        expert = mode == "expert"
        look.check(name, photo=True, makes=True if expert else None)
        if expert:
            v.choose(answer)  # the make, then its model: the page with the most on it
            name = f"attempt {n}, model picked"
            look.check(name, photo=True, makes=False)
            pick = v.page.locator("#guess")
        else:
            buttons = v.page.locator("#choices button")
            expect(buttons).to_have_count(4)
            pick = buttons.filter(has_text=answer.class_name).first
        if n == 1:
            ms = time_to_show(v.page, pick, ["#answer", "#top5"])
            if ms > FIRST_RESULT_MS:
                look.fail("result 1", f"the first result showed later than {FIRST_RESULT_MS} ms "
                          "after the click (ms)", ms)
        else:
            pick.click()
        v.expect_at("/result")
        name = f"result {n}"
        look.check(name)
        if found := small_text(v.page, TOP5_MIN_PX, within="#top5"):
            look.fail(name, f"top-5 text under {TOP5_MIN_PX} px", grouped(found))
        v.next(last=n == ROUNDS)

    look.check("finish")
    thumbs = boxes(v.page, "#recap img")
    if len(thumbs) < ROUNDS or any(t["width"] < THUMB_MIN_PX for t in thumbs):
        look.fail("finish", f"{ROUNDS} recap thumbnails at least {THUMB_MIN_PX} px wide",
                  [(t["element"], t["width"], t["height"]) for t in thumbs])

    if mode == "expert":  # the pages outside the game
        v.open("/attract")
        expect(v.page.locator("#attract-slide img").first).to_be_visible()
        look.check("attract")
        v.open("/stats")
        expect(v.page.locator("#stats-today")).to_be_visible()
        look.check("stats")

    assert not look.failures, "\n".join(look.failures)


KNOWN_PAGE = """<!doctype html><html lang="en"><head><title>known</title><style>
  body { margin: 0; font-size: 30px; }
  .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  #box { height: 100px; overflow-y: auto; font-size: 24px; }
  #cut { height: 60px; overflow: hidden; }
  #cut label { display: block; height: 50px; }
</style></head><body>
  <main><h1 style="font-size: 10px">Heading</h1>
  <p>Running text, long enough to be most of the characters on this page.</p>
  <p style="font-size: 12px">Tiny</p>
  <span class="sr">screen readers only</span><span style="display: none">gone</span>
  <span style="visibility: hidden">hidden</span><span style="opacity: 0">clear</span>
  <span style="position: absolute; left: -9999px">far away</span>
  <svg width="200" height="40" viewBox="0 0 100 20"><text x="0" y="15" font-size="8">
    chart</text></svg>
  <div id="box"><div style="height: 300px">long</div></div>
  <div id="cut"><label>Seen</label><label>Cut off</label></div>
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="170" height="10" id="pic">
  <div style="height: 2000px"></div></main>
</body></html>"""


def test_the_instrument_measures_a_known_page(browser):
    """Each measurement against a page whose answers are known by construction."""
    page = browser.new_page(viewport={"width": 800, "height": 600})
    try:
        page.set_content(KNOWN_PAGE)
        settle(page)
        height = page.evaluate("document.documentElement.scrollHeight")
        assert page_scroll(page) == {"x": 0, "y": height - 600}
        assert [b["element"] for b in scroll_boxes(page)] == ["div#box"]
        small = {(t["text"], t["px"]) for t in small_text(page, 20)}
        assert small == {("Heading", 10), ("Tiny", 12), ("chart", 16)}  # SVG: 8 px x 2
        assert small_text(page, 20, within="#box") == []
        assert body_text_px(page) == 30  # the heading and the one tiny word do not set it
        assert [(u["text"], u["why"]) for u in unseen(page, "#cut label")] == [
            ("Cut off", "clipped")]
        assert box(page, "#pic")["width"] == 170 and box(page, "#nothing") is None
        assert [(b["width"], b["height"]) for b in boxes(page, "#pic")] == [(170, 10)]
        assert [rule for rule, _, _ in axe_serious(page)] == ["image-alt"]
        assert axe_serious(page)[0][2] == ["#pic"]
    finally:
        page.close()
