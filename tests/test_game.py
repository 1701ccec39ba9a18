"""Game rules, scoring and state transitions: plain Python (the store: test_store.py)."""
from __future__ import annotations

import pytest

from dashboard.game import (
    ATTEMPT,
    ATTRACT,
    CHOICES,
    FINISH,
    HOME,
    RESULT,
    Car,
    Game,
    Round,
    choices,
    points,
    route,
)
from tests.callbacks import offline_app

M3 = Car("BMW M3 Coupe 2012", "BMW", "M3 Coupe", 2012)
X5 = Car("BMW X5 SUV 2007", "BMW", "X5 SUV", 2007)
R8 = Car("Audi R8 Coupe 2012", "Audi", "R8 Coupe", 2012)


def make_game(answers=(M3, R8), ai=(M3, X5)) -> Game:
    return Game([Round(photo=b"jpeg", answer=a, ai_top=[(g, 0.9)], overlay=None)
                 for a, g in zip(answers, ai, strict=True)])


@pytest.mark.parametrize("guess, answer, expected", [
    (M3, M3, 3), (X5, M3, 1), (R8, M3, 0), (None, M3, 0),
])
def test_points_make_one_exact_three(guess, answer, expected):
    assert points(guess, answer) == expected


def test_a_game_runs_guess_then_result_then_next_until_finished():
    game = make_game()
    assert game.page() == ATTEMPT and game.scores() == (0, 0)
    assert game.guess(0, X5)  # make right: 1 point; the AI's M3 is exact: 3
    assert game.page() == RESULT and game.scores() == (1, 3)
    assert game.next_round(0)
    assert game.page() == ATTEMPT and game.round is game.rounds[1]
    assert game.guess(1, R8)  # exact: 3; the AI's X5 is wrong: 0
    assert game.next_round(1)
    assert game.finished and game.page() == FINISH
    assert game.scores() == (4, 3) and game.winner() == "you"


def test_a_guess_counts_once_and_only_for_the_current_round():
    game = make_game()
    assert not game.guess(1, R8)  # not the current round
    assert game.guess(0, R8)
    assert not game.guess(0, M3)  # already guessed: the result stands
    assert game.rounds[0].guess == R8
    assert not game.next_round(1)  # stale or doubled "next" clicks change nothing
    assert game.next_round(0)
    assert not game.next_round(0)
    assert game.current == 1


def test_next_round_needs_a_guess_first():
    game = make_game()
    assert not game.next_round(0)
    assert game.current == 0


@pytest.mark.parametrize("you, ai, winner", [
    ((M3, R8), (M3, X5), "you"),  # 6 vs 3 (AI: exact on M3, nothing on R8)
    ((R8, X5), (M3, X5), "ai"),
    ((M3, X5), (M3, X5), "draw"),
])
def test_winner(you, ai, winner):
    game = make_game(answers=(M3, R8), ai=ai)
    for i, guess in enumerate(you):
        game.guess(i, guess)
        game.next_round(i)
    assert game.winner() == winner


def test_routing_lands_out_of_order_visits_on_the_right_page():
    assert route(None, ATTEMPT) == HOME
    assert route(None, "/nope") == HOME
    game = make_game()
    assert route(game, RESULT) == ATTEMPT  # /result before guessing
    assert route(game, FINISH) == ATTEMPT  # /finish mid-game
    assert route(game, HOME) == HOME  # the start page is always allowed
    game.guess(0, M3)
    assert route(game, ATTEMPT) == RESULT  # the guess cannot be changed
    game.next_round(0)
    game.guess(1, R8)
    game.next_round(1)
    assert route(game, ATTEMPT) == FINISH  # /attempt after the last round
    assert route(game, "/whatever") == HOME
    assert route(game, ATTRACT) == route(None, ATTRACT) == ATTRACT  # the kiosk's idle screen


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_page_builds_in_every_state(language):
    """Components only, no server: a page that fails to build is a blank screen in the browser."""
    from dashboard import components
    from dashboard.event.settings import Event
    from dashboard.i18n import use
    from dashboard.pages import attempt, attract, finish, home, result

    game = make_game()
    game.rounds[0].overlay = b"\xff\xd8jpeg"
    with use(language):
        for missing, can_start in (([], True), (["explainer"], True), (["model", "images"], False)):
            assert home.layout(missing, can_start, Event())
        assert components.preparing("easy") and components.waiting()
        assert attract.layout([], Event()) and attract.layout(game.rounds, Event())
        assert components.header(None) and components.header(game)
        assert attempt.layout(game, [M3, X5, R8])
        easy = make_game()
        easy.begin("easy")
        easy.rounds[0].choices = [M3, X5, R8]
        assert attempt.layout(easy, [M3, X5, R8]) and components.header(easy)
        game.guess(0, X5)
        assert result.layout(game)  # with an overlay
        game.next_round(0)
        game.guess(1, R8)
        assert result.layout(game)  # "explanation unavailable", and the last round
        game.next_round(1)
        assert finish.layout(game) and components.header(game)


def test_the_dashboard_logs_each_request_with_its_latency(caplog, tmp_path):
    app = offline_app(tmp_path)
    with caplog.at_level("INFO", logger="dashboard.access"):
        response = app.server.test_client().get("/health")
    assert response.status_code == 200 and response.json["status"] == "ok"
    [record] = [r for r in caplog.records if r.name == "dashboard.access"]
    assert (record.method, record.path, record.status) == ("GET", "/health", 200)
    assert record.latency_ms >= 0


def test_each_round_records_how_long_the_visitor_took():
    game = make_game()
    game.begin(now=1000.0)  # handed to the visitor (it may have been prepared long before)
    assert game.started == 1000.0
    assert game.guess(0, M3, now=1012.5)
    assert game.rounds[0].seconds == 12.5
    assert not game.guess(0, X5, now=1100.0)  # a second guess changes nothing
    assert game.rounds[0].seconds == 12.5
    assert game.next_round(0, now=1020.0)
    assert game.guess(1, R8, now=1023.0)
    assert game.rounds[1].seconds == 3.0


def test_easy_mode_offers_the_answer_among_plausible_distractors():
    import random

    cars = [M3, X5, R8, Car("Audi TT Coupe 2012", "Audi", "TT Coupe", 2012),
            Car("Audi A5 Coupe 2012", "Audi", "A5 Coupe", 2012),
            Car("Fiat 500 Abarth 2012", "FIAT", "500 Abarth", 2012)]
    for seed in range(20):
        picked = choices(R8, [R8, cars[3], M3], cars, random.Random(seed))
        assert len(picked) == CHOICES and len(set(picked)) == CHOICES and R8 in picked
        assert cars[3] in picked and M3 in picked  # the AI's own close calls come first
    picked = choices(R8, [R8], cars, random.Random(1))  # then the same make, then any
    assert cars[3] in picked and cars[4] in picked
    positions = {choices(R8, [R8], cars, random.Random(s)).index(R8) for s in range(40)}
    assert positions == set(range(CHOICES))  # the answer is not always in the same place


def test_a_game_is_played_in_the_mode_it_was_begun_in():
    game = make_game()
    assert game.mode == "expert"
    game.begin("easy", now=5.0)
    assert game.mode == "easy"
    with pytest.raises(ValueError):
        game.begin("impossible")


def test_makes_sort_as_people_read_them_and_hints_count_right():
    from dashboard.game import makes_of
    from dashboard.i18n import use
    from dashboard.pages.attempt import model_hint

    cars = [Car(f"{make} X 2012", make, "X", 2012) for make in ("smart", "MINI", "Maybach", "BMW")]
    assert makes_of(cars) == ["BMW", "Maybach", "MINI", "smart"]
    assert model_hint("Daewoo", 1) == "1 Daewoo model: pick it."
    assert model_hint("Audi", 12) == "12 Audi models: pick one."
    with use("de"):
        assert model_hint("Daewoo", 1) == "1 Daewoo-Modell: tippe es an."
        assert model_hint("Audi", 12) == "12 Audi-Modelle: wähle eines."
