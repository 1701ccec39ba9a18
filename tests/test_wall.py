"""The wall (``/stats``) and the finish page's arcade initials, on a real SQLite statistics
file with hand-checkable games: the pages' contents, and their callbacks through a real Dash
app with the request guard installed (Flask's test client: the same request a browser sends).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dash
import pytest
from dash.exceptions import PreventUpdate
from sqlalchemy import create_engine

from dashboard import blocklist, guard, initials
from dashboard.event.settings import Event
from dashboard.pages import wall
from dashboard.scoreboard import Scoreboard
from dashboard.stats import GameRecord, Stats, open_stats
from dashboard.stats.records import ShowRecord, ShowRoundRecord
from tests.callbacks import call, offline_app, save_values
from tests.data import DAY0, DAY1, M3, R8, X5, game, rnd
from tests.tree import find, text

# DAY1: ANN wins 4–3, BOB loses 3–7, a draw 3–3 without initials; DAY0: CAT wins 3–0.
# Today (DAY1): 3 games, 6 rounds, humans 10 (1.7 a round), AI 13 (2.2); 33 % each outcome.
# All time: 4 games, 7 rounds, humans 13 (1.9), AI 13 (1.9); humans 50 %, AI 25 %, draws 25 %.
# Every answered round counts for the cars, the abandoned game's too: visitors miss the M3 1
# of 3 times, the X5 1 of 3 (the unanswered R8 does not count); the AI misses the R8 1 of 2,
# the M3 1 of 3, the X5 1 of 3.
GAMES = (
    game("00000000000000a1", DAY1, (rnd(M3, M3, R8), rnd(X5, M3, X5)), "ANN"),
    game("00000000000000b2", DAY1, (rnd(M3, R8, M3), rnd(R8, None, R8), rnd(X5, X5, M3)), "BOB"),
    game("00000000000000c3", DAY1, (rnd(X5, X5, X5),)),
    game("00000000000000d4", DAY0, (rnd(R8, R8, M3),), "CAT"),
)
ABANDONED = game("00000000000000e5", DAY1, (rnd(M3, M3, M3),), finished=False)


@pytest.fixture
def stats(tmp_path: Path) -> Iterator[Stats]:
    stats = open_stats(f"sqlite:///{tmp_path / 'stats.sqlite3'}")
    yield stats
    stats.close()


@pytest.fixture
def filled(stats: Stats) -> Stats:
    for g in (*GAMES, ABANDONED):
        assert stats.record(g)
    for i, right in enumerate((True, True, False)):  # three visitors judged their own photos
        assert stats.record_upload_verdict(f"{i:016x}", M3, right)
    return stats


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[Stats]:
    """A statistics database without its tables: every query fails as a real one would."""
    stats = Stats(create_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    yield stats
    stats.close()


# ---- the wall ------------------------------------------------------------------------------

def test_the_wall_shows_the_hand_checked_numbers(filled: Stats):
    all_time, today, top, crowd, fooling = wall.panels(filled, DAY1, blocklist.allows)
    value = {id_: text(find(all_time + today, id_)) for id_ in (
        "all-games", "all-human-ppr", "all-ai-ppr", "all-human-wins", "all-ai-wins", "all-draws",
        "today-games", "today-human-ppr", "today-ai-ppr", "today-human-wins", "today-ai-wins",
        "today-draws")}
    assert value == {
        "all-games": "4", "all-human-ppr": "1.9", "all-ai-ppr": "1.9",
        "all-human-wins": "50%", "all-ai-wins": "25%", "all-draws": "25%",
        "today-games": "3", "today-human-ppr": "1.7", "today-ai-ppr": "2.2",
        "today-human-wins": "33%", "today-ai-wins": "33%", "today-draws": "33%",
    }
    assert text(top) == "Today's top 10 Player Points AI 1. ANN 4 3 2. BOB 3 7"  # not CAT (DAY0)
    assert text(find(fooling, "fooling-visitors")) == f"For visitors {M3} 33% {X5} 33%"
    assert text(find(fooling, "fooling-ai")) == f"For the AI {R8} 50% {M3} 33% {X5} 33%"
    assert text(find(fooling, "stats-uploads")) == (
        "The AI on visitors' own photos Right on 2 of 3 photos (67%)")
    assert text(crowd) == "Crowd vs AI · no show yet"


def show(id_: str, points: list[tuple[int, int]], players: int,
         status: str = "finished") -> ShowRecord:
    """A show whose rounds gave the crowd and the AI these points."""
    rounds = tuple(ShowRoundRecord(photo="00001.jpg", true_class=M3, crowd_guess=M3,
                                   ai_guess=M3, crowd_points=crowd, ai_points=ai,
                                   answers=players, votes_right=players)
                   for crowd, ai in points)
    return ShowRecord(id=id_, status=status, language="en", players=players,
                      started_at=datetime(2026, 5, 4, 10, tzinfo=UTC),
                      ended_at=datetime(2026, 5, 4, 10, 5, tzinfo=UTC), rounds=rounds,
                      answers=())


def test_the_wall_counts_crowd_against_ai_apart_from_the_games(filled: Stats):
    filled.record_show(show("AAAA-1", [(3, 3), (3, 0)], players=12))  # the crowd wins
    filled.record_show(show("BBBB-1", [(0, 3), (3, 3)], players=30))  # the AI
    filled.record_show(show("CCCC-1", [(3, 1), (1, 3)], players=2))  # a draw
    filled.record_show(show("DDDD-1", [], players=0, status="empty"))  # nobody came
    assert not filled.record_show(show("AAAA-1", [(3, 3)], players=12))  # once
    _all, _today, _top, crowd, _fooling = wall.panels(filled, DAY1, blocklist.allows)
    assert text(crowd) == "Crowd vs AI 1 : 1 · 3 shows, 44 phones"  # and a draw
    assert filled.totals()["games"] == 4  # the games' own figures are unchanged


def test_an_empty_wall_invites_the_first_players(stats: Stats):
    page = wall.layout(stats, blocklist.allows, Event())
    for id_ in wall.PANELS:
        assert find(page, id_) is not None, id_
    assert "No games yet" in text(find(page, "stats-all"))
    assert "No games yet" in text(find(page, "stats-today"))
    assert "No initials yet today" in text(find(page, "stats-top"))
    assert "no show yet" in text(find(page, "stats-crowd"))
    assert text(find(page, "fooling-ai")) == "For the AI Nothing yet."
    assert text(find(page, "stats-uploads")) == (
        "The AI on visitors' own photos No photos judged yet.")
    tick = find(page, "stats-tick")
    assert isinstance(tick, dash.dcc.Interval) and tick.interval == wall.REFRESH_MS


def test_the_layout_counts_a_game_that_ended_today(stats: Stats):
    now = datetime.now(UTC)
    assert stats.record(GameRecord("00000000000000f6", now - timedelta(minutes=2), now,
                                   "easy", "de", True, (rnd(M3, M3, X5),), "ZOE"))
    page = wall.layout(stats, blocklist.allows, Event())
    assert text(find(page, "today-games")) == "1"
    assert "Today · 1 game Points" in text(find(page, "stats-today"))
    assert text(find(page, "today-human-ppr")) == "3.0"
    assert text(find(page, "today-ai-ppr")) == "1.0"
    assert "1. ZOE 3 1" in text(find(page, "stats-top"))


def test_a_failing_database_keeps_the_wall_as_it_is(broken: Stats):
    with pytest.raises(PreventUpdate):
        wall.refresh(broken, DAY1, blocklist.allows)
    # the page still opens, and fills in on the next refresh
    page = wall.layout(broken, blocklist.allows, Event())
    assert text(find(page, "stats-all")) == "One moment…"


# ---- the callbacks, through the guard and Dash -----------------------------------------------

@pytest.fixture
def app(filled: Stats, tmp_path: Path) -> dash.Dash:
    """The real dashboard on the statistics ``filled`` wrote (the same SQLite file)."""
    return offline_app(tmp_path)


def test_every_prop_the_callbacks_read_has_a_declared_type(app: dash.Dash):
    read = [(d["id"], d["property"]) for cb in app.callback_map.values()
            for d in cb["inputs"] + cb["state"]]
    assert ("initials-game", "data") in read and ("stats-tick", "n_intervals") in read
    assert [dep for dep in read if guard.prop_check(*dep) is None] == []


def test_the_wall_refreshes_from_the_database(app: dash.Dash, filled: Stats):
    status, body = call(app, "stats-all.children", {"stats-tick.n_intervals": 3})
    assert status == 200
    shown = json.dumps(body["response"])
    assert '"children": 4, "id": "all-games"' in shown
    assert set(body["response"]) == {*wall.PANELS, "event-banner"}


def test_letters_cycle_through_a_to_z():
    assert initials.letter(None, None) == "A"
    assert initials.letter(1, 0) == "B"
    assert initials.letter(0, 1) == "Z"
    assert initials.letter(27, 0) == "B"
    assert initials.letter(10**9 - 1, 3) == initials.LETTERS[(10**9 - 4) % 26]
    assert initials.initials_of([25, None, 0, 0, 3, 5]) == "ZAY"


def test_a_slot_shows_its_letter(app: dash.Dash):
    status, body = call(app, "initials-letter-1.children",
                        {"initials-up-1.n_clicks": 4, "initials-down-1.n_clicks": 1})
    assert status == 200
    assert body["response"]["initials-letter-1"]["children"] == "D"


def test_saving_initials_puts_them_on_the_wall(app: dash.Dash, filled: Stats):
    # ANN's game gets "ZOE": Z = one ▼, O = 14 ▲, E = 4 ▲
    status, body = call(app, "initials-saved.children",
                        save_values(GAMES[0].id, [0, 1, 14, 0, 4, 0]))
    assert status == 200
    saved = body["response"]
    assert "Saved! Look for ZOE on the wall." in json.dumps(saved["initials-saved"])
    assert saved["initials-save"]["disabled"] is True
    assert [e.initials for e in filled.top(DAY1)] == ["ZOE", "BOB"]


@pytest.mark.parametrize("game_id", [
    "ffffffffffffffff",  # a well-formed id no game has
    ABANDONED.id,  # a game the visitor walked away from: not on the wall
])
def test_an_unknown_game_gets_a_clear_message(app: dash.Dash, filled: Stats, game_id: str):
    status, body = call(app, "initials-saved.children", save_values(game_id, [0] * 6))
    assert status == 200
    assert initials.UNKNOWN in json.dumps(body["response"]["initials-saved"])
    assert [e.initials for e in filled.top(DAY1)] == ["ANN", "BOB"]


@pytest.mark.parametrize("game_id", [None, "", "../etc", "A" * 16, "0" * 17, 12, ["0" * 16]])
def test_a_forged_game_id_is_refused_before_the_callback(app: dash.Dash, game_id: Any):
    status, body = call(app, "initials-saved.children", save_values(game_id, [0] * 6))
    assert status == 400
    assert body == {"error": "invalid value for initials-game.data"}


def test_saving_survives_a_failing_database(broken: Stats):
    board = Scoreboard(broken)
    assert initials.save(board, GAMES[0].id, "ABC") == (initials.UNAVAILABLE, "warning", False)
    assert initials.save(board, "not a game id", "ABC") == (initials.UNKNOWN, "warning", True)


def test_the_picker_starts_at_aaa_with_the_game_id():
    picker = initials.component("0123456789abcdef")
    assert find(picker, "initials-game").data == "0123456789abcdef"
    assert [text(find(picker, f"initials-letter-{i}")) for i in initials.SLOTS] == ["A"] * 3
    for id_ in ("initials", "initials-save", "initials-saved"):
        assert find(picker, id_) is not None, id_
