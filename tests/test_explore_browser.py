"""``/explore`` in real Chromium against the real stack: the grid's colours agree with the
truth the image server's manifest gives for each photo shown and with the answer the model
server gives for the same bytes; a touched photo shows its top 5 and its Grad-CAM; the make
filter; "Another batch"; and the page read from 3 m (tests/look.py)."""
from __future__ import annotations

import base64
import hashlib
import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from devtools.servers import dashboard
from model_api.client import MODEL_NAME, predict_body
from tests.browser import HUES, KINDS, expect, hue, sync_api
from tests.look import problems

TILES = "#explore-grid .explore-tile"
JPEG = "data:image/jpeg;base64,"


@dataclass(frozen=True)
class Truth:
    class_name: str
    make: str


@pytest.fixture(scope="module")
def truth(image_server_url: str) -> dict[str, Truth]:
    """The class of every pool photo by its bytes' SHA-256, from the image server itself."""
    with urllib.request.urlopen(image_server_url + "/manifest.json", timeout=10) as r:
        manifest = json.load(r)
    found = {}
    for photo in manifest["photos"]:
        with urllib.request.urlopen(image_server_url + photo["url"], timeout=10) as r:
            digest = hashlib.sha256(r.read()).hexdigest()
        found[digest] = Truth(photo["class_name"], photo["make"])
    return found


@pytest.fixture(scope="module")
def explore_url(model_server_url: str, explainer_url: str,
                image_server_url: str) -> Iterator[str]:
    with dashboard(model_server_url, explainer_url, image_server_url,
                   DASHBOARD_READY_GAMES="0") as url:  # no games: the machine explores only
        yield url


def model_answers(model_url: str, photos: list[bytes]) -> list[list[str]]:
    """The model server's own top 5 for each photo (its ``:predict``, as ``model_api.client``
    asks it; plain urllib: Playwright's loop runs in this thread)."""
    request = urllib.request.Request(
        f"{model_url}/v1/models/{MODEL_NAME}:predict", method="POST",
        data=json.dumps(predict_body(photos, "serving_default")).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as r:
        return [p["top_k_classes"] for p in json.load(r)["predictions"]]


def photo_of(src: str) -> bytes:
    assert src.startswith(JPEG), src[:60]
    return base64.b64decode(src[len(JPEG):])


def tiles(page: sync_api.Page) -> list[dict]:
    """What each tile shows: its photo's src, the AI's guess, its kind and its colour."""
    expect(page.locator(TILES).first).to_be_visible()
    return page.locator(TILES).evaluate_all("""ts => ts.filter(t => !t.hidden).map(t => {
        const line = t.querySelector('.guess-line');
        return {src: t.querySelector('img').src, id: t.id,
                guess: line.querySelector('.guess-name').textContent,
                classes: [...line.classList],
                colour: getComputedStyle(line.querySelector('.guess-points')).color};
    })""")


def kind(guess: str, answer: Truth, makes: dict[str, str]) -> str:
    if guess == answer.class_name:
        return "exact"
    return "make" if makes[guess] == answer.make else "miss"


def another(page: sync_api.Page, before: list[dict], act: Callable[[], None]) -> list[dict]:
    """``act``, then the new batch once it is on screen (other photos than ``before``)."""
    act()
    page.wait_for_function("""shown => {
        const srcs = [...document.querySelectorAll('#explore-grid .explore-tile img')]
            .map(i => i.src).sort();
        return srcs.length > 0 && srcs.join() !== shown.join();
    }""", arg=sorted(t["src"] for t in before))
    return tiles(page)


def test_explore(explore_url: str, model_server_url: str, truth: dict[str, Truth],
                 tab: Callable[..., sync_api.Page]) -> None:
    page = tab()
    bad: list[str] = []
    page.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(explore_url + "/explore")
    shown = tiles(page)
    assert len(shown) >= 8
    # the filter starts on every make, and says so
    assert page.locator("#explore-make").evaluate("s => s.options[s.selectedIndex].text") == (
        "All makes")
    # then every make of the pool as the game lists them ("AM General" after "Acura")
    options = page.locator("#explore-make").evaluate("s => [...s.options].map(o => o.text)")
    after = options[options.index("All makes") + 1:]
    assert after == sorted({t.make for t in truth.values()}, key=str.casefold)

    # each colour agrees with the manifest's truth and the model's answer for the same bytes
    makes = {t.class_name: t.make for t in truth.values()}
    photos = [photo_of(t["src"]) for t in shown]
    answers = model_answers(model_server_url, photos)
    for t, data, top in zip(shown, photos, answers, strict=True):
        answer = truth[hashlib.sha256(data).hexdigest()]
        assert t["guess"] == top[0]
        expected = kind(top[0], answer, makes)
        assert [k for k in KINDS if k in t["classes"]] == [expected], t["classes"]
        low, high = HUES[expected]
        assert low <= hue(t["colour"]) <= high, f"{expected} shown in {t['colour']}"
    assert problems(page, large=True) == []

    # a touch: its top 5 (the model's, the answer marked) and where the AI looked
    page.locator(f"#{shown[0]['id']}").click()
    modal = page.locator("#explore-detail")
    expect(modal.locator("#explore-top5")).to_be_visible()
    rows = modal.locator("#explore-top5 .top5-row").filter(has=page.locator(".top5-bar"))
    expect(rows).to_have_count(5)
    labels = [r.locator(".top5-label").evaluate("e => e.firstChild.textContent")
              for r in rows.all()]
    assert labels == answers[0]
    answer = truth[hashlib.sha256(photos[0]).hexdigest()]
    marked = modal.locator(".top5-answer .top5-label").evaluate_all(
        "es => es.map(e => e.firstChild.textContent)")
    assert marked == ([answer.class_name] if answer.class_name in labels else [])
    expect(modal.locator("#explore-detail-answer")).to_have_text(answer.class_name)
    assert photo_of(modal.locator("#explore-detail-photo").get_attribute("src")) == photos[0]
    overlay = photo_of(modal.locator("#explore-detail-overlay").get_attribute("src"))
    assert overlay[:2] == b"\xff\xd8" and overlay != photos[0]  # a JPEG drawn over the photo
    expect(modal.locator(".gradcam-legend")).to_be_visible()
    assert problems(page, large=True) == []
    page.keyboard.press("Escape")
    expect(modal.locator("#explore-top5")).to_have_count(0)

    # Another batch: new photos
    shown = another(page, shown, lambda: page.locator("#explore-another").click())
    assert len(shown) >= 8

    # the make filter: only that make
    make = truth[hashlib.sha256(photo_of(shown[0]["src"])).hexdigest()].make
    shown = another(page, shown, lambda: page.locator("#explore-make").select_option(make))
    assert shown
    assert {truth[hashlib.sha256(photo_of(t["src"])).hexdigest()].make for t in shown} == {make}
    assert bad == []

    # the tablet: no scroll, no scroll boxes, no serious axe findings
    tablet = tab(viewport={"width": 1280, "height": 800}, has_touch=True)
    tablet.goto(explore_url + "/explore")
    assert len(tiles(tablet)) >= 8
    assert problems(tablet, large=False) == []
