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

import json
from collections.abc import Iterator

import pytest

from dashboard.pages.home import MISSING
from devtools.servers import closed_url, dashboard, free_port, model_server, service
from tests.browser import (
    POINTS,
    ROUNDS,
    TIMEOUT_MS,
    check_overlay,
    check_recap,
    check_result,
    check_top5,
    expect,
    expect_verdict,
    guess_right,
)

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
                          "upload_verdicts": {"right": 0, "wrong": 0},
                          "crowd_vs_ai": {"shows": 0, "crowd_wins": 0, "ai_wins": 0,
                                          "draws": 0, "phones": 0}}
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
