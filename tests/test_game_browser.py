"""The game in a real browser (Debian's Chromium through Playwright) against the real stack.

The model server, explainer, image server and dashboard (gunicorn) run as processes on free
loopback ports. The tests play as a visitor would, and read everything from the pages; the only
outside knowledge is the photo pool the test prepared itself (photo bytes -> class, as the image
server's manifest says), used to aim guesses (exact, make only, wrong) and to check that each
result reveals the answer of the photo that was shown. Kinds, colours and points are checked
against the rules from the texts on the page: the same class is "exact" (+3, green), the same
make "make" (+1, amber), anything else "miss" (+0, red).
"""
from __future__ import annotations

import base64
import colorsys
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dashboard.components import TITLE
from dashboard.i18n import _, use
from dashboard.pages.home import MISSING
from devtools.servers import closed_url, dashboard, free_port, model_server, service

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

CHROMIUM = Path("/usr/bin/chromium")
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

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="Debian's Chromium is not installed (apt-get install chromium)")


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


@pytest.fixture(scope="module")
def pool(photo_pool_dir: Path) -> PhotoPool:
    return PhotoPool(photo_pool_dir)


@pytest.fixture(scope="module")
def game_url(model_server_url: str, explainer_url: str, image_server_url: str) -> Iterator[str]:
    """The dashboard with all three services up."""
    with dashboard(model_server_url, explainer_url, image_server_url) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    expect.set_options(timeout=EXPECT_MS)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def tab(browser: sync_api.Browser) -> Iterator[Callable[..., sync_api.Page]]:
    """Makes tabs: a fresh browser context each (its own session), ``options`` as
    ``new_context`` takes them (viewport, touch, locale)."""
    contexts: list[sync_api.BrowserContext] = []

    def new(**options: object) -> sync_api.Page:
        context = browser.new_context(**{"viewport": VIEWPORT, **options})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield new
    for context in contexts:
        context.close()


@pytest.fixture
def visitor(tab: Callable[..., sync_api.Page]) -> Callable[[str], Visitor]:
    """Makes visitors, each in a tab of their own."""
    return lambda base: Visitor(tab(), base)


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


# --- 1. a whole game --------------------------------------------------------------------------

def test_a_whole_game_scores_by_the_rules(game_url, pool, visitor):
    v = visitor(game_url)
    v.open("/")
    v.expect_no_game_header()  # no scores before anyone plays
    makes = v.start()
    assert len(makes) == len(set(makes)) and {"Aston Martin", "AM General"} <= set(makes)
    assert makes == sorted(makes, key=str.casefold)  # as people read them
    expect(v.page.locator("#mode-label")).to_have_text("Expert")
    you = ai = 0
    wanted = ["exact", "make", "miss"]  # each kind at least once, then exact hits
    seen: list[tuple[str, str]] = []
    recap = []
    for n in range(1, ROUNDS + 1):
        label = f"Round {n}/{ROUNDS}"
        v.expect_header(you, ai, label)
        photo = v.photo()
        answer = pool.answer(photo)
        aimed = next((g for o in [*wanted, "exact"] if (g := pool.aim(answer, o))), answer)
        if n == 2:  # changing the make clears the model: no guess until a model is picked again
            v.choose(next(c for c in pool.cars if c.make != aimed.make))
            v.pick_make(aimed.make)
            v.pick_model(aimed.class_name)
        else:
            v.choose(aimed)
        result = v.guess()
        check_result(result, makes, photo, answer, aimed)
        if result.you_kind in wanted:
            wanted.remove(result.you_kind)
        you += POINTS[result.you_kind]
        ai += POINTS[result.ai_kind]
        seen.append((result.you_kind, result.ai_kind))
        recap.append(result)
        v.expect_header(you, ai, label)
        check_overlay(v, result)
        check_top5(v, result)
        v.next(last=n == ROUNDS)

    assert wanted == [], f"never saw {wanted}: {seen}"
    expect_verdict(v, you, ai)
    v.expect_header(you, ai, f"Round {ROUNDS}/{ROUNDS}")
    check_recap(v, recap)
    expect(v.page.locator("#play")).to_have_text("Play again")
    v.assert_clean()


# --- 2. sessions are apart --------------------------------------------------------------------

def test_two_visitors_at_once_never_see_each_others_game(game_url, pool, visitor):
    """A always guesses exactly, B always the wrong make; their steps interleave."""
    a, b = visitor(game_url), visitor(game_url)
    makes = a.start()
    b.start()
    ai_a = ai_b = 0
    photos_a, photos_b = [], []
    for n in range(1, ROUNDS + 1):
        label = f"Round {n}/{ROUNDS}"
        photo_a, photo_b = a.photo(), b.photo()
        photos_a.append(photo_a)
        photos_b.append(photo_b)
        answer_a, answer_b = pool.answer(photo_a), pool.answer(photo_b)
        wrong_b = pool.aim(answer_b, "miss")
        a.pick_make(answer_a.make)
        b.pick_make(wrong_b.make)
        a.pick_model(answer_a.class_name)
        b.pick_model(wrong_b.class_name)

        result_a = a.guess()
        check_result(result_a, makes, photo_a, answer_a, answer_a)
        ai_a += POINTS[result_a.ai_kind]
        # A's guess left B where it was: same round, same photo, its pick still there
        b.expect_at("/attempt")
        b.expect_header(0, ai_b, label)
        assert b.photo() == photo_b
        expect(b.page.locator("#guess")).to_be_enabled()

        result_b = b.guess()
        check_result(result_b, makes, photo_b, answer_b, wrong_b)
        assert result_b.you_kind == "miss"
        ai_b += POINTS[result_b.ai_kind]
        b.expect_header(0, ai_b, label)
        # ... and B's guess did not touch A's result
        a.page.reload()
        a.expect_at("/result")
        assert a.result() == result_a
        a.expect_header(3 * n, ai_a, label)

        a.next(last=n == ROUNDS)
        if n < ROUNDS:  # B still looks at its round-n result while A moved on
            a.expect_header(3 * n, ai_a, f"Round {n + 1}/{ROUNDS}")
            b.page.reload()
            b.expect_at("/result")
            b.expect_header(0, ai_b, label)
        b.next(last=n == ROUNDS)

    assert photos_a != photos_b
    for v, you, ai in ((a, 3 * ROUNDS, ai_a), (b, 0, ai_b)):
        expect_verdict(v, you, ai)
        v.assert_clean()


# --- 3. refreshes and out-of-order visits ---------------------------------------------------

def test_refresh_and_out_of_order_visits_land_on_the_right_page(game_url, pool, visitor):
    stranger = visitor(game_url)
    for path in ("/attempt", "/result", "/finish", "/nope"):
        stranger.open(path)  # no game in this session: home, whatever was asked
        stranger.expect_at("/")
        stranger.expect_no_game_header()

    v = visitor(game_url)
    v.start()
    v.page.reload()  # a refresh keeps the game
    v.expect_at("/attempt")
    v.expect_header(0, 0, f"Round 1/{ROUNDS}")
    photo = v.photo()
    for path in ("/result", "/finish", "/attempt"):  # no result before a guess, no finish
        v.open(path)
        v.expect_at("/attempt")
        assert v.photo() == photo

    answer = pool.answer(photo)
    v.choose(answer)
    result = v.guess()
    for go in (lambda: v.open("/attempt"), v.page.go_back, v.page.reload,
               lambda: v.open("/finish")):
        go()  # the guess is in: back to the attempt shows the result, unchanged
        v.expect_at("/result")
        assert v.result() == result
        expect(v.page.locator("#guess")).to_have_count(0)
        v.expect_header(3, POINTS[result.ai_kind], f"Round 1/{ROUNDS}")

    v.next(last=False)
    scores = v.header()[:2]
    photo = v.photo()
    v.page.reload()
    v.expect_at("/attempt")
    v.expect_header(*scores, f"Round 2/{ROUNDS}")
    assert v.photo() == photo
    v.open("/nope")  # an unknown path: home (the game is kept, but home shows no game)
    v.expect_at("/")
    v.expect_no_game_header()

    v.open("/attempt")  # the game is still there, at round 2
    v.expect_at("/attempt")
    v.expect_header(*scores, f"Round 2/{ROUNDS}")
    assert v.photo() == photo
    for n in range(2, ROUNDS + 1):
        v.choose(pool.answer(v.photo()))
        v.guess()
        v.next(last=n == ROUNDS)
    final = v.page.locator("#final-you").inner_text(), v.page.locator("#final-ai").inner_text()
    for path in ("/attempt", "/result", "/finish"):  # after the last round: the finish
        v.open(path)
        v.expect_at("/finish")
        assert (v.page.locator("#final-you").inner_text(),
                v.page.locator("#final-ai").inner_text()) == final
    for v_ in (stranger, v):
        v_.assert_clean()


# --- 4. nothing from outside, no errors -------------------------------------------------------

def test_a_game_loads_nothing_from_outside_and_logs_no_errors(game_url, pool, visitor):
    v = visitor(game_url)
    v.start()
    for n in range(1, ROUNDS + 1):
        v.choose(pool.aim(pool.answer(v.photo()), "miss"))
        check_top5(v, v.guess())
        v.next(last=n == ROUNDS)
    v.page.locator("#play").click()  # "Play again"
    v.expect_at("/attempt")

    assert v.console_errors == []
    assert v.bad_responses == []
    assert v.failed_requests == []
    assert v.foreign_requests() == []
    assert {f"{game_url}/assets/bootstrap.min.css", f"{game_url}/assets/game.css"} <= {
        u.split("?")[0] for u in v.requests}
    # the exhibit's own stylesheet is what styles the guess button
    styled = v.page.evaluate("""() => {
        const sheets = [...document.styleSheets];
        const own = sheets.filter(s => s.href && new URL(s.href).pathname === '/assets/game.css');
        const look = () => getComputedStyle(document.querySelector('#guess')).backgroundColor;
        const themed = look();
        own.forEach(s => { s.disabled = true; });
        const without = look();
        own.forEach(s => { s.disabled = false; });
        return {sheets: sheets.map(s => s.href).filter(Boolean), own: own.length, themed,
                without};
    }""")
    assert all(h.startswith(game_url + "/") for h in styled["sheets"]), styled
    assert styled["own"] == 1 and styled["themed"] != styled["without"], styled


# --- 5. a service down --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def no_explainer_url(model_server_url: str, image_server_url: str) -> Iterator[str]:
    with dashboard(model_server_url, closed_url(), image_server_url) as url:
        yield url


def test_without_the_explainer_the_game_plays_with_no_explanations(no_explainer_url, pool,
                                                                   visitor):
    v = visitor(no_explainer_url)
    makes = v.start()
    recap = []
    for n in range(1, ROUNDS + 1):
        photo = v.photo()
        answer = pool.answer(photo)
        v.choose(answer)
        result = v.guess()
        check_result(result, makes, photo, answer, answer)
        expect(v.page.locator("#box-gradcam #overlay-missing")).to_have_text(
            "Explanation unavailable")
        expect(v.page.locator("#overlay")).to_have_count(0)
        assert result.overlay is None
        check_top5(v, result)
        recap.append(result)
        v.next(last=n == ROUNDS)
    expect(v.page.locator("#final-you")).to_have_text(str(3 * ROUNDS))
    check_recap(v, recap)
    v.assert_clean()


def test_without_the_model_the_home_page_waits_for_the_ai_then_plays(
        explainer_url, image_server_url, visitor):
    model_port = free_port()  # nothing listens there yet
    model_url = f"http://127.0.0.1:{model_port}"
    with dashboard(model_url, explainer_url, image_server_url) as url:
        v = visitor(url)
        v.open("/attempt")  # no game can have started
        v.expect_at("/")
        status, play = v.page.locator("#home-status"), v.page.locator("#play")
        expect(status.locator("#missing-model")).to_have_text(MISSING["model"])
        expect(play).to_be_disabled()
        calls = sum("_dash-update-component" in u for u in v.requests)
        v.page.wait_for_timeout(2500)  # the page's own retry (every 2 s) ran: still no AI
        assert sum("_dash-update-component" in u for u in v.requests) > calls
        expect(status.locator("#missing-model")).to_be_visible()
        expect(play).to_be_disabled()

        with model_server(model_port):  # the AI comes up: the page notices by itself
            expect(play).to_be_enabled(timeout=TIMEOUT_MS)
            expect(status).to_be_empty()
            play.click()
            v.expect_at("/attempt")
            v.expect_header(0, 0, f"Round 1/{ROUNDS}")
            v.assert_clean()
            v.page.close()


def test_the_home_page_names_a_missing_explainer_and_games_get_explanations_once_it_is_back(
        model_server_url, image_server_url, visitor):
    """Games prepared while the explainer is down are made again when it returns."""
    port = free_port()
    env = {"EXPLAINER_HOST": "127.0.0.1", "EXPLAINER_PORT": str(port),
           "EXPLAINER_MODEL_URL": model_server_url}
    with dashboard(model_server_url, f"http://127.0.0.1:{port}", image_server_url) as url:
        v = visitor(url)
        v.open("/")
        missing = v.page.locator("#home-status #missing-explainer")
        expect(missing).to_have_text(MISSING["explainer"])
        expect(v.page.locator("#play")).to_be_enabled()  # the game does not need it
        with service("explainer", env, "/health", port):
            expect(missing).to_have_count(0, timeout=TIMEOUT_MS)  # the message clears itself
            v.page.locator("#play").click()
            v.expect_at("/attempt")
            v.page.locator("#make label").first.click()
            v.page.locator("#model label").first.click()
            v.page.locator("#guess").click()
            v.expect_at("/result")
            expect(v.page.locator("#overlay")).to_be_visible()
        v.assert_clean()


def test_a_game_played_in_the_browser_is_counted_and_kept_across_a_restart(
        model_server_url, explainer_url, image_server_url, pool, visitor, tmp_path):
    """Humans vs AI: the finished game reaches ``/api/stats``; a restarted dashboard on the
    same database still counts it; the next visitor's finish page compares with it."""
    urls = (model_server_url, explainer_url, image_server_url)
    env = {"DASHBOARD_DATABASE_URL": f"sqlite:///{tmp_path}/stats.sqlite3",
           "DASHBOARD_STORE_DIR": str(tmp_path / "games")}
    with dashboard(*urls, **env) as url:
        v = visitor(url)
        v.start()
        expect(v.page.locator("#photo-share")).to_have_count(0)
        first_photo = v.photo()
        for n in range(1, ROUNDS + 1):
            guess_right(v, pool, n)
            if n == 1:
                expect(v.page.locator("#photo-share")).to_have_text(
                    "You are the first visitor to see this photo.")
            v.next(last=n == ROUNDS)
        ai = int(v.page.locator("#final-ai").inner_text())
        expect(v.page.locator("#beaten-share")).to_have_text("You beat 0% of today's players.")
        for _click in range(2):  # initials, arcade style: "CAA"
            v.page.locator("#initials-up-0").click()
        expect(v.page.locator("#initials-letter-0")).to_have_text("C")
        v.page.locator("#initials-save").click()
        expect(v.page.locator("#initials-saved")).to_contain_text("CAA")
        v.open("/stats")  # the wall: today's top 10 and the totals
        expect(v.page.locator("#stats-top")).to_contain_text("CAA")
        expect(v.page.locator("#stats-today")).to_be_visible()
        totals = json.loads(v.page.request.get(url + "/api/stats").text())
        assert totals == {"games": 1, "human_wins": int(ai < 3 * ROUNDS),
                          "ai_wins": int(ai > 3 * ROUNDS), "draws": int(ai == 3 * ROUNDS),
                          "human_points": 3 * ROUNDS, "ai_points": ai,
                          "upload_verdicts": {"right": 0, "wrong": 0}}
    with dashboard(*urls, **env) as url:  # a restart: nothing lost
        assert json.loads(v.page.request.get(url + "/api/stats").text()) == totals
        again = visitor(url)
        again.start()
        if again.photo() == first_photo:  # the same photo: the first visitor named it
            again.choose(pool.answer(again.photo()))
            again.page.locator("#guess").click()
            expect(again.page.locator("#photo-share")).to_have_text(
                "100% of visitors named this car exactly.")


def test_easy_mode_offers_four_choices_with_the_answer_and_scores_the_same(
        game_url, pool, visitor):
    """Odd rounds the answer, even rounds another choice (of the same make where there is
    one): kinds, points and the header follow the same rules as in expert mode."""
    makes = sorted({c.make for c in pool.cars}, key=str.casefold)
    v = visitor(game_url)
    v.open("/")
    v.page.locator("#play-easy").click()
    v.expect_at("/attempt")
    expect(v.page.locator("#mode-label")).to_have_text("Easy")
    expect(v.page.locator("#make")).to_have_count(0)  # no expert pickers
    expect(v.page.locator("#guess")).to_have_count(0)
    you = ai = 0
    for n in range(1, ROUNDS + 1):
        label = f"Round {n}/{ROUNDS}"
        v.expect_header(you, ai, label)
        photo = v.photo()
        answer = pool.answer(photo)
        buttons = v.page.locator("#choices button")
        expect(buttons).to_have_count(4)
        assert [b.get_attribute("id") for b in buttons.all()] == [
            f"choice-{i}" for i in range(4)]
        names = buttons.all_inner_texts()
        assert answer.class_name in names and len(set(names)) == 4
        others = sorted((pool.car(x) for x in names if x != answer.class_name),
                        key=lambda c: c.make != answer.make)  # the same make first
        picked = answer if n % 2 else others[0]
        v.page.locator("#choices").get_by_role("button", name=picked.class_name,
                                               exact=True).click()
        v.expect_at("/result")
        result = v.result()
        check_result(result, makes, photo, answer, picked)
        you += POINTS[result.you_kind]
        ai += POINTS[result.ai_kind]
        v.expect_header(you, ai, label)
        expect(v.page.locator("#mode-label")).to_have_text("Easy")
        v.next(last=n == ROUNDS)
    v.expect_at("/finish")
    expect_verdict(v, you, ai)
    v.assert_clean()
