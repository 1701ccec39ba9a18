"""Crowd vs AI's rules, clock and state (dashboard/show/), without a browser: the show's phases
from its record and the clock, nicknames, the board on every storage it runs on (in memory, on
disk, in a real Redis), and a whole show through ``Shows`` into a real SQLite statistics
database. The pages, with a big screen and three phones in Chromium: test_show_browser.py."""
from __future__ import annotations

import io
import threading

import pytest
from PIL import Image

from dashboard.blocklist import build, file_entries
from dashboard.event.config import EventConfig
from dashboard.game import CHOICES, Car, Game, Round
from dashboard.scoreboard import Scoreboard
from dashboard.settings import Settings
from dashboard.show.board import DiskBoard, MemoryBoard, RedisBoard
from dashboard.show.names import NameRefused, checked_name
from dashboard.show.shows import Answered, ShowClosed, Shows
from dashboard.show.timeline import (
    EMPTY,
    FINAL,
    FINAL_SECONDS,
    LOBBY,
    OVER,
    QUESTION,
    REVEAL,
    majority,
    phase_at,
    rounds_played,
)
from dashboard.stats import open_stats
from dashboard.store import MemoryStore, connect_redis

T0 = 1_800_000_000.0
LOBBY_S, ANSWER_S, REVEAL_S = 60.0, 20.0, 10.0
CARS = [Car(f"{make} Model{n} 2012", make, f"Model{n}", 2012)
        for make in ("Audi", "BMW", "Fiat") for n in range(3)]


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "navy").save(out, "JPEG")
    return out.getvalue()


class ReadyGames:
    """The game pool's one duty towards a show: hand over a prepared easy game under a key.
    (The real pool, with the real services, is played in test_show_browser.py.)"""

    def __init__(self, store: MemoryStore, ready: bool = True) -> None:
        self.store, self.ready = store, ready

    def take_game(self, key: str, mode: str) -> Game | None:
        if not self.ready:
            return None
        rounds = []
        for n in range(5):
            answer = CARS[n]
            rounds.append(Round(photo=jpeg(), answer=answer, overlay=jpeg(),
                                source=f"/photos/{n:05d}.jpg",
                                ai_top=[(CARS[(n + k) % len(CARS)], 0.5 / (k + 1))
                                        for k in range(5)],
                                choices=[answer, *[c for c in CARS if c != answer][n:n + 3]]))
        game = Game(rounds)
        game.begin(mode)
        self.store.put(key, game)
        return game


@pytest.fixture
def settings(tmp_path):
    return Settings(show_lobby_seconds=LOBBY_S, show_answer_seconds=ANSWER_S,
                    show_reveal_seconds=REVEAL_S, show_max_phones=5, store_url="memory:",
                    store_dir=tmp_path / "games", database_url=f"sqlite:///{tmp_path}/s.db")


@pytest.fixture
def stats(settings):
    opened = open_stats(settings.database_url)
    yield opened
    opened.close()


@pytest.fixture
def shows(settings, stats):
    store = MemoryStore(max_bytes=2**26, ttl=3600)
    return Shows(MemoryBoard(3600), store, ReadyGames(store), Scoreboard(stats),
                 EventConfig(stats.engine, settings), settings)


def opened(shows: Shows):
    show = shows.for_screen("screen1", "en", now=T0)
    assert show is not None
    return show


# --- the clock ------------------------------------------------------------------------------

def test_a_show_runs_lobby_rounds_reveals_final_then_over(shows):
    show = opened(shows)
    assert phase_at(show, T0 + 1).kind == LOBBY
    assert phase_at(show, T0 + LOBBY_S + 1).kind == EMPTY  # nobody joined: back to attract
    shows.join(show.code, None, "Anna", now=T0 + 5)
    show = shows.get(show.code)
    start = T0 + LOBBY_S  # someone joined: the lobby's end starts it
    seen = [phase_at(show, start + t) for t in (0, ANSWER_S - .1, ANSWER_S, ANSWER_S + REVEAL_S)]
    assert [(p.kind, p.round) for p in seen] == [
        (QUESTION, 0), (QUESTION, 0), (REVEAL, 0), (QUESTION, 1)]
    end = start + 5 * (ANSWER_S + REVEAL_S)
    assert phase_at(show, end - .1).kind == REVEAL and phase_at(show, end - .1).round == 4
    assert phase_at(show, end).kind == FINAL
    assert phase_at(show, end + FINAL_SECONDS).kind == OVER
    assert rounds_played(show, start + ANSWER_S + 1) == 1
    assert rounds_played(show, end) == 5


def test_the_screen_starts_it_early_and_a_round_ends_when_everyone_answered(shows):
    show = opened(shows)
    shows.start(show.code, now=T0 + 2)
    assert shows.get(show.code).started is None  # nobody there yet: nothing to start
    a = shows.join(show.code, None, None, now=T0 + 3)
    b = shows.join(show.code, None, None, now=T0 + 4)
    shows.start(show.code, now=T0 + 10)
    show = shows.get(show.code)
    assert phase_at(show, T0 + 10).kind == QUESTION
    assert shows.answer(show.code, a.id, 0, 1, now=T0 + 12) is Answered.COUNTED
    assert phase_at(shows.get(show.code), T0 + 13).kind == QUESTION  # b has not answered
    assert shows.answer(show.code, b.id, 0, 2, now=T0 + 14) is Answered.COUNTED
    show = shows.get(show.code)
    phase = phase_at(show, T0 + 14.5)
    assert (phase.kind, phase.round, phase.starts) == (REVEAL, 0, T0 + 14)
    assert phase_at(show, T0 + 14 + REVEAL_S).kind == QUESTION  # round 2 follows at once


def test_points_reward_right_answers_and_speed(shows):
    show = opened(shows)
    fast = shows.join(show.code, None, "Fast", now=T0 + 1)
    slow = shows.join(show.code, None, "Slow", now=T0 + 1)
    wrong = shows.join(show.code, None, "Wrong", now=T0 + 1)
    shows.start(show.code, now=T0 + 10)
    right = shows.get(show.code).rounds[0].answer
    shows.answer(show.code, fast.id, 0, right, now=T0 + 11)
    shows.answer(show.code, slow.id, 0, right, now=T0 + 28)
    shows.answer(show.code, wrong.id, 0, (right + 1) % CHOICES, now=T0 + 12)
    points = {p.name: shows.points(show.code, p.id) for p in (fast, slow, wrong)}
    assert points["Fast"] > points["Slow"] >= 500 and points["Wrong"] == 0
    assert [s.name for s in shows.standings(show.code)] == ["Fast", "Slow", "Wrong"]
    votes = shows.votes(show.code, 0)
    assert sum(votes) == 3 and votes[right] == 2 and majority(votes) == right


def test_majority_is_the_first_of_a_tie_and_none_without_votes():
    assert majority([0, 0, 0, 0]) is None
    assert majority([1, 3, 3, 0]) == 1


# --- phones ---------------------------------------------------------------------------------

def test_one_answer_per_phone_per_round_and_only_in_its_time(shows):
    show = opened(shows)
    phone = shows.join(show.code, None, "Ben", now=T0 + 1)
    other = shows.join(show.code, None, None, now=T0 + 1)
    assert shows.answer(show.code, phone.id, 0, 0, now=T0 + 2) is Answered.CLOSED  # lobby
    shows.start(show.code, now=T0 + 10)
    assert shows.answer(show.code, phone.id, 0, 0, now=T0 + 11) is Answered.COUNTED
    assert shows.answer(show.code, phone.id, 0, 1, now=T0 + 12) is Answered.ALREADY
    assert shows.answer(show.code, phone.id, 0, 9, now=T0 + 12) is Answered.CLOSED  # no choice
    assert shows.answer(show.code, other.id, 0, 0, now=T0 + 10 + ANSWER_S + .5) \
        is Answered.CLOSED  # time is up
    assert shows.answer(show.code, "x" * 16, 1, 0, now=T0 + 40) is Answered.UNKNOWN
    assert shows.answered(show.code, 0) == 1 and sum(shows.votes(show.code, 0)) == 1


def test_a_late_joiner_plays_from_the_next_round_and_a_returning_phone_keeps_its_points(shows):
    show = opened(shows)
    first = shows.join(show.code, None, "Cleo", now=T0 + 1)
    shows.start(show.code, now=T0 + 10)
    late = shows.join(show.code, None, "Dan", now=T0 + 12)  # during round 1
    assert (first.first, late.first) == (0, 1)
    assert shows.answer(show.code, late.id, 0, 0, now=T0 + 13) is Answered.WAITING
    right = shows.get(show.code).rounds[0].answer
    shows.answer(show.code, first.id, 0, right, now=T0 + 14)
    # round 1 ended early: Cleo was the only phone playing it
    assert phase_at(shows.get(show.code), T0 + 14.5).kind == REVEAL
    back = shows.join(show.code, first.id, None, now=T0 + 20)  # the phone dropped, came back
    assert back == first and shows.points(show.code, back.id) > 0
    assert shows.get(show.code).players == 2


def test_a_show_turns_phones_away_when_full_or_over(shows, settings):
    show = opened(shows)
    for _ in range(settings.show_max_phones):
        shows.join(show.code, None, None, now=T0 + 1)
    with pytest.raises(ShowClosed):
        shows.join(show.code, None, None, now=T0 + 2)
    with pytest.raises(ShowClosed):
        shows.join("ZZZZ", None, None, now=T0 + 2)


def test_no_show_opens_while_no_game_is_ready(settings, stats):
    store = MemoryStore(max_bytes=2**26, ttl=3600)
    none_ready = Shows(MemoryBoard(3600), store, ReadyGames(store, ready=False),
                       Scoreboard(stats), EventConfig(stats.engine, settings), settings)
    assert none_ready.for_screen("screen1", "en", now=T0) is None


def test_the_screen_picks_its_show_up_again_and_opens_a_new_one_after_the_end(shows):
    show = opened(shows)
    assert shows.for_screen("screen1", "en", now=T0 + 5).code == show.code
    assert shows.for_screen("screen2", "en", now=T0 + 5).code != show.code
    assert shows.for_screen("screen1", "en", now=T0 + LOBBY_S + 1).code != show.code  # EMPTY


@pytest.mark.parametrize("name", ["Anna", "Jürgen", "Cassandra", "Glass", "R2D2", "Ω12"])
def test_nicknames_that_may_go_on_the_big_screen(name):
    assert checked_name(f" {name} ", build(file_entries())) == name


@pytest.mark.parametrize("name", ["arschloch", "FUCKER", "a55", "Sh1thead", "SS", "HH88",
                                  "KKK", "Nazi", "ABC"])
def test_nicknames_that_may_not(name):
    with pytest.raises(NameRefused):
        checked_name(name, build(file_entries(), ["ABC"]))  # ABC: the console's own entry


@pytest.mark.parametrize("name", ["", "   ", "Thirteen13ABC", "two words", "<b>", "a;b"])
def test_nicknames_of_the_wrong_form(name):
    with pytest.raises(NameRefused):
        checked_name(name, build(file_entries()))


# --- the statistics -------------------------------------------------------------------------

def test_a_finished_show_is_recorded_once_with_every_answer(shows, stats):
    show = opened(shows)
    phones = [shows.join(show.code, None, name, now=T0 + 1) for name in ("Ada", "Bo", "Cy")]
    shows.start(show.code, now=T0 + 10)
    t = T0 + 10
    for n in range(5):
        right = shows.get(show.code).rounds[n].answer
        for k, phone in enumerate(phones):  # Ada and Bo right, Cy wrong: the crowd is right
            shows.answer(show.code, phone.id, n, right if k < 2 else (right + 1) % CHOICES,
                         now=t + 1 + k)
        t = t + 3 + REVEAL_S  # everyone answered at t + 3: the reveal, then the next round
    show = shows.get(show.code)
    assert phase_at(show, t).kind == FINAL
    assert shows.record(show, now=t) is True
    assert shows.record(shows.get(show.code), now=t + 1) is False  # once
    totals = stats.show_totals()
    # Ada and Bo outvote Cy every round, and the AI's top guess is always right: a draw
    assert totals == {"shows": 1, "crowd_wins": 0, "ai_wins": 0, "draws": 1, "phones": 3}
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from dashboard.stats.schema import ShowAnswerRow, ShowRoundRow, ShowRow
    with Session(stats.engine) as session:
        row = session.get(ShowRow, f"{show.code}-{int(show.created)}")
        assert (row.status, row.players, row.crowd_points) == ("finished", 3, 15)
        assert session.scalar(select(func.count()).select_from(ShowRoundRow)) == 5
        assert session.scalar(select(func.count()).select_from(ShowAnswerRow)) == 15
        assert session.scalar(select(func.count()).select_from(ShowAnswerRow)
                              .where(ShowAnswerRow.right)) == 10


def test_a_show_nobody_joined_is_recorded_as_empty_and_not_counted_on_the_wall(shows, stats):
    show = opened(shows)
    assert shows.record(show, now=T0 + LOBBY_S + 1) is True
    assert stats.show_totals()["shows"] == 0


# --- the board, on every storage ------------------------------------------------------------

@pytest.mark.parametrize("kind", ["memory", "disk", "redis"])
def test_the_board_counts_every_answer_once_under_threads(kind, tmp_path, request):
    if kind == "memory":
        board = MemoryBoard(60)
    elif kind == "disk":
        board = DiskBoard(tmp_path / "board", 60)
    else:
        board = RedisBoard(connect_redis(request.getfixturevalue("redis_server").url, 2.0), 60,
                           f"test-{tmp_path.name}:")
    added, lock = [], threading.Lock()

    def phone(n: int) -> None:
        for _ in range(3):  # each phone tries three times: one counts
            if board.add(f"answer:{n}", {"choice": n % 4}):
                board.incr("answered")
                board.update("list", lambda ids, n=n: [*(ids or []), n])
                with lock:
                    added.append(n)

    threads = [threading.Thread(target=phone, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(added) == list(range(40))
    assert board.get("answered") == 40
    assert sorted(board.get("list")) == list(range(40))
    assert board.get_many(["answer:3", "nothing"]) == [{"choice": 3}, None]
    board.close()
