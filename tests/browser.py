"""The browser harness: a visitor in real Chromium (Debian's, through Playwright's sync API),
what the test knows of the photo pool, and the checks of what the game's pages show.

Plain classes and functions; the fixtures made of them (``chromium``, ``browser``, ``tab``,
``visitor``, ``pool``, ``game_url``) are in conftest.py, written once. Kinds, colours and
points are checked against the rules from the texts on the page: the same class is "exact"
(+3, green), the same make "make" (+1, amber), anything else "miss" (+0, red).
"""
from __future__ import annotations

import base64
import colorsys
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dashboard.components import TITLE
from dashboard.i18n import _, use

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = ("Debian's Chromium is not installed: make system-deps, or apt-get install "
                    "chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1920, "height": 1080}
TIMEOUT_MS = 30_000  # actions (a cold game is prepared while "Let's play" waits)
EXPECT_MS = 15_000  # assertions: generous, the machine may be busy with the services
ROUNDS = 5
KINDS = ("exact", "make", "miss")  # a guess line's class
POINTS = {"exact": 3, "make": 1, "miss": 0}
POINTS_TEXT = {"exact": "+3 exact", "make": "+1 make right", "miss": "+0"}
# The colour each kind is shown in, as hues in degrees: green, amber, red.
HUES = {"exact": (90, 170), "make": (30, 65), "miss": (-20, 20)}
GAME_HEADER = ("#score-you", "#score-ai", "#mode-label", "#round-label", "#new-game")


# --- the one Chromium ----------------------------------------------------------------------

class Chromium:
    """Debian's Chromium through Playwright's sync API, launched when a test first needs it
    and kept for the tests that follow: one for the run when the browser tests run together.

    ``close()`` it before anything runs an asyncio loop: between two calls, the sync API
    leaves its own loop marked as running in this thread, and ``asyncio.run()`` or an async
    test would refuse to start theirs. (A later ``browser()`` launches a new one.)
    """

    def __init__(self) -> None:
        self._playwright: sync_api.Playwright | None = None
        self._browser: sync_api.Browser | None = None

    def browser(self) -> sync_api.Browser:
        """The running Chromium, launched if there is none; skips the test when Chromium is
        not installed."""
        if self._browser is None:
            if not CHROMIUM.is_file():
                pytest.skip(CHROMIUM_MISSING)
            expect.set_options(timeout=EXPECT_MS)
            self._playwright = sync_api.sync_playwright().start()
            try:
                self._browser = self._playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            except BaseException:
                self.close()
                raise
        return self._browser

    def close(self) -> None:
        """Chromium and Playwright's driver stopped, if they run."""
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


# --- the photo pool, as the test prepared it ------------------------------------------------

@dataclass(frozen=True)
class Car:
    class_name: str
    make: str


class PhotoPool:
    """What the test knows of the pool: which class each photo is, and every class's make."""

    def __init__(self, pool_dir: Path) -> None:
        manifest = json.loads((pool_dir / "manifest.json").read_text())
        self.cars = [Car(c["class_name"], c["make"]) for c in manifest["classes"]]
        self.by_digest: dict[str, Car] = {}
        for photo in manifest["photos"]:
            data = (pool_dir / "photos" / photo["file"]).read_bytes()
            self.by_digest[hashlib.sha256(data).hexdigest()] = Car(photo["class_name"],
                                                                   photo["make"])

    def answer(self, src: str) -> Car:
        """The class of the photo shown as a ``data:image/jpeg;base64,...`` src."""
        prefix = "data:image/jpeg;base64,"
        assert src.startswith(prefix), src[:60]
        return self.by_digest[hashlib.sha256(base64.b64decode(src[len(prefix):])).hexdigest()]

    def car(self, class_name: str) -> Car:
        return next(c for c in self.cars if c.class_name == class_name)

    def aim(self, answer: Car, outcome: str) -> Car | None:
        """A guess that should come out as ``outcome`` for ``answer``; None if there is none
        (a make with a single class has no "right make, wrong model" guess)."""
        if outcome == "exact":
            return answer
        if outcome == "make":
            return next((c for c in self.cars
                         if c.make == answer.make and c.class_name != answer.class_name), None)
        return next(c for c in self.cars if c.make != answer.make)


# --- a visitor: one browser context, everything it logs and loads recorded -------------------

def make_of(class_name: str, makes: list[str]) -> str:
    """A class's make, as the make picker lists it (longest match: "AM General", "Ram")."""
    found = [m for m in makes if class_name.startswith(m + " ")]
    assert found, f"no make in the picker for {class_name!r}"
    return max(found, key=len)


def kind_of(class_name: str, answer: str, makes: list[str], make: str | None = None) -> str:
    """The rule: the exact class, the right make, else a miss."""
    if class_name == answer:
        return "exact"
    return "make" if (make or make_of(class_name, makes)) == make_of(answer, makes) else "miss"


def hue(css_colour: str) -> float:
    """The hue in degrees (-180..180) of a computed ``rgb(...)``/``rgba(...)`` colour."""
    r, g, b = (float(x) / 255 for x in re.findall(r"[\d.]+", css_colour)[:3])
    degrees = colorsys.rgb_to_hsv(r, g, b)[0] * 360
    return degrees - 360 if degrees > 180 else degrees


def read_guess_line(line: sync_api.Locator, who: str) -> tuple[str, str, str]:
    """(name, kind, points) of a ``.guess-line``; its kind's colour checked on the way: the
    points are shown in green, amber or red as the kind says."""
    classes = line.get_attribute("class").split()
    kinds = [k for k in KINDS if k in classes]
    assert "guess-line" in classes and len(kinds) == 1, classes
    assert line.locator(".guess-who").text_content() == who
    points = line.locator(".guess-points")
    low, high = HUES[kinds[0]]
    colour = points.evaluate("e => getComputedStyle(e).color")
    assert low <= hue(colour) <= high, f"{kinds[0]} shown in {colour}"
    return line.locator(".guess-name").text_content(), kinds[0], points.text_content()


@dataclass
class Result:
    """What a result page shows."""

    you: str
    you_kind: str
    you_points: str
    ai: str
    ai_kind: str
    ai_points: str
    answer: str
    photo: str = field(repr=False)
    overlay: str | None = field(repr=False)  # where the AI looked; None: unavailable

    def you_line(self) -> tuple[str, str, str]:
        return self.you, self.you_kind, self.you_points

    def ai_line(self) -> tuple[str, str, str]:
        return self.ai, self.ai_kind, self.ai_points


@dataclass
class Visitor:
    page: sync_api.Page
    base: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        page = self.page
        page.on("console", lambda m: self.console_errors.append(m.text)
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console_errors.append(f"uncaught: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("response", lambda r: self.bad_responses.append(f"{r.status} {r.url}")
                if r.status >= 400 else None)
        page.on("requestfailed", lambda r: self.failed_requests.append(f"{r.failure} {r.url}"))

    # navigation
    def open(self, path: str) -> None:
        self.page.goto(self.base + path)

    def expect_at(self, path: str) -> None:
        expect(self.page).to_have_url(self.base + path)
        # never a blank page: the routed page's own content is there
        marker = {"/": "#play", "/attempt": "#photo", "/result": "#answer",
                  "/finish": "#verdict"}[path]
        expect(self.page.locator(marker)).to_be_visible()

    def header(self) -> tuple[int, int, str]:
        loc = self.page.locator
        return (int(loc("#score-you").inner_text()), int(loc("#score-ai").inner_text()),
                loc("#round-label").inner_text())

    def expect_header(self, you: int, ai: int, label: str) -> None:
        expect(self.page.locator("#score-you")).to_have_text(str(you))
        expect(self.page.locator("#score-ai")).to_have_text(str(ai))
        expect(self.page.locator("#round-label")).to_have_text(label)

    def expect_no_game_header(self) -> None:
        """Outside a game the header has the title and the language switch, and no scores,
        mode, round or "New game"."""
        header = self.page.locator("#header")
        expect(header).to_contain_text(TITLE)
        expect(header.locator("#lang")).to_be_visible()
        for id_ in GAME_HEADER:
            expect(header.locator(id_)).to_have_count(0)

    # playing
    def start(self) -> list[str]:
        """Home, "Expert", the first photo; returns the makes the picker offers."""
        self.open("/")
        play = self.page.locator("#play")
        expect(play).to_be_enabled()
        play.click()
        self.expect_at("/attempt")
        return self.makes()

    def makes(self) -> list[str]:
        labels = self.page.locator("#make label")
        expect(labels.first).to_be_visible()
        return labels.all_inner_texts()

    def photo(self) -> str:
        return self.page.locator("#photo").get_attribute("src")

    def pick_make(self, make: str) -> None:
        """The make; if a make's models are showing, back to the makes first ("Other make"),
        which clears the model. The makes then give way to the make's models."""
        loc = self.page.locator
        if loc("#change-make").is_visible():
            loc("#change-make").click()
            expect(loc("#make")).to_be_visible()
            expect(loc("#model")).to_be_hidden()
            expect(loc("#guess")).to_be_disabled()
        loc("#make").get_by_text(make, exact=True).click()
        hint = loc("#model-hint")
        expect(hint).to_contain_text(f" {make} model")
        expect(loc("#model label").first).to_be_visible()
        expect(loc("#make")).to_be_hidden()
        expect(loc("#change-make")).to_be_visible()
        expect(loc("#guess")).to_be_disabled()
        count = loc("#model label").count()  # the hint counts them, in the right number
        expect(hint).to_have_text(re.compile(
            rf"^{count} {re.escape(make)} model{'' if count == 1 else 's'}\b"))

    def pick_model(self, class_name: str) -> None:
        option = self.page.locator("#model .form-check").filter(
            has=self.page.locator(f"input[value={json.dumps(class_name)}]"))
        option.locator("label").click()
        expect(option.locator("input")).to_be_checked()
        expect(self.page.locator("#guess")).to_be_enabled()

    def choose(self, car: Car) -> None:
        expect(self.page.locator("#guess")).to_be_disabled()
        self.pick_make(car.make)
        self.pick_model(car.class_name)

    def guess(self) -> Result:
        self.page.locator("#guess").click()
        self.expect_at("/result")
        return self.result()

    def result(self) -> Result:
        loc = self.page.locator
        you, you_kind, you_points = read_guess_line(loc("#your-guess"), "You")
        ai, ai_kind, ai_points = read_guess_line(loc("#ai-guess"), "The AI")
        overlay = loc("#box-gradcam #overlay")
        return Result(you, you_kind, you_points, ai, ai_kind, ai_points,
                      loc("#answer .answer-name").text_content(),
                      loc("#box-photo img").get_attribute("src"),
                      overlay.get_attribute("src") if overlay.count() else None)

    def top5(self) -> list[tuple[str, float, bool]]:
        """The AI's top 5 as shown: (label, bar width in %, marked as the answer)."""
        rows = self.page.locator("#top5 .top5-row").filter(has=self.page.locator(".top5-bar"))
        expect(rows).to_have_count(5)
        return [tuple(row.evaluate("""r => [r.querySelector('.top5-label').firstChild.textContent,
                                            parseFloat(r.querySelector('.top5-bar').style.width),
                                            r.classList.contains('top5-answer')]"""))
                for row in rows.all()]

    def next(self, last: bool) -> None:
        button = self.page.locator("#next")
        with use(self.page.locator("html").get_attribute("lang")):  # the page's language
            expect(button).to_have_text(_("See who won") if last else _("Next round"))
        button.click()
        self.expect_at("/finish" if last else "/attempt")

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests
                if not (u.startswith(self.base + "/") or u.startswith("data:"))]

    def assert_clean(self) -> None:
        assert self.console_errors == []
        assert self.bad_responses == []
        assert self.foreign_requests() == []


# --- what the pages show, checked against the rules ---------------------------------------

def check_result(result: Result, makes: list[str], photo: str, answer: Car,
                 guessed: Car) -> None:
    """A result page against the photo shown, the guess made and the rules: the kinds and
    points follow from the texts (the makes as the picker lists them)."""
    assert result.photo == photo, "the result shows another photo than the one guessed"
    assert result.answer == answer.class_name
    assert result.you == guessed.class_name
    assert result.you_kind == kind_of(result.you, result.answer, makes, guessed.make)
    assert result.ai_kind == kind_of(result.ai, result.answer, makes)
    assert result.you_points == POINTS_TEXT[result.you_kind]
    assert result.ai_points == POINTS_TEXT[result.ai_kind]


def check_top5(v: Visitor, result: Result) -> None:
    """The AI's top 5: its guess first, the bars falling on a 0-100 % scale, the answer marked
    where it is among them (and nothing else marked)."""
    top = v.top5()
    labels = [label for label, _width, _marked in top]
    widths = [width for _label, width, _marked in top]
    assert labels[0] == result.ai, top
    assert widths == sorted(widths, reverse=True) and widths[-1] >= 0 and sum(widths) <= 100.5
    assert [label for label, _width, marked in top if marked] == (
        [result.answer] if result.answer in labels else []), top


def check_overlay(v: Visitor, result: Result) -> None:
    """Where the AI looked: a decoded JPEG (the explainer is up)."""
    overlay = v.page.locator("#box-gradcam #overlay")
    expect(overlay).to_be_visible()
    assert result.overlay is not None and result.overlay.startswith("data:image/jpeg")
    assert overlay.evaluate("i => i.decode().then(() => i.naturalWidth > 0)")


def check_recap(v: Visitor, results: list[Result]) -> None:
    """The finish page's recap: a card per round with its photo and where the AI looked, the
    answer, and both guesses with their kinds, colours and points as the result showed them."""
    cards = v.page.locator("#recap .recap-card")
    expect(cards).to_have_count(ROUNDS)
    assert v.page.evaluate("""() => {  // element ids are the pages' contract: each one once
        const ids = [...document.querySelectorAll("[id]")].map(e => e.id);
        return ids.filter((id, i) => ids.indexOf(id) !== i); }""") == []
    for n, (card, result) in enumerate(zip(cards.all(), results, strict=True), start=1):
        assert card.locator(".recap-answer").text_content() == result.answer
        images = card.locator(".recap-img")
        expect(images).to_have_count(2)
        assert images.nth(0).get_attribute("src") == result.photo
        if result.overlay is None:
            expect(images.nth(1)).to_have_text("Explanation unavailable")
        else:
            assert images.nth(1).get_attribute("src") == result.overlay
            assert images.nth(1).evaluate("i => i.decode().then(() => i.naturalWidth > 0)")
        assert read_guess_line(card.locator(f"#recap-you-{n}"), "You") == result.you_line()
        assert read_guess_line(card.locator(f"#recap-ai-{n}"), "AI") == result.ai_line()


def guess_right(v: Visitor, pool: PhotoPool, n: int) -> None:
    """Guess round ``n`` right and land on its result."""
    v.choose(pool.answer(v.photo()))
    v.page.locator("#guess").click()
    v.expect_at("/result")
    expect(v.page.locator("#round-label")).to_have_text(f"Round {n}/{ROUNDS}")


def expect_verdict(v: Visitor, you: int, ai: int) -> None:
    expect(v.page.locator("#verdict")).to_have_text(
        "You win!" if you > ai else "The AI wins!" if ai > you else "It's a draw!")
    expect(v.page.locator("#final-you")).to_have_text(str(you))
    expect(v.page.locator("#final-ai")).to_have_text(str(ai))


def start_easy(v: Visitor, pool: PhotoPool) -> None:
    """Home, Easy, and the right one of the four choices: the game's one result is shown."""
    v.open("/")
    v.page.locator("#play-easy").click()
    choices = v.page.locator("#choices button")
    expect(choices).to_have_count(4)
    answer = pool.answer(v.photo()).class_name
    v.page.locator("#choices").get_by_role("button", name=answer, exact=True).click()
    expect(v.page.locator("#next")).to_be_visible()


def operator_sign_in(page: sync_api.Page, url: str, password: str) -> None:
    """Open the console at ``url`` and sign in."""
    page.goto(url + "/operator")
    page.fill("#operator-password", password)
    page.click("#operator-login")
    expect(page.locator("#operator-console")).to_be_visible()
