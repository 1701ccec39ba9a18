"""The exhibit left alone: the kiosk cycle and "New game".

Real Chromium against the real services and the dashboard under gunicorn, with short idle
settings. (The dashboard killed and frozen under a visitor: test_fault_browser.py.)
"""
from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from devtools.servers import dashboard
from tests.browser import ROUNDS, Visitor, expect, guess_right

IDLE_S, COUNTDOWN_S = 4, 3


@pytest.fixture(scope="module")
def stats_db(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("stats") / "stats.sqlite3"


@pytest.fixture(scope="module")
def kiosk_url(model_server_url, explainer_url, image_server_url, stats_db) -> Iterator[str]:
    with dashboard(model_server_url, explainer_url, image_server_url,
                   DASHBOARD_IDLE_SECONDS=str(IDLE_S),
                   DASHBOARD_IDLE_COUNTDOWN_SECONDS=str(COUNTDOWN_S),
                   DASHBOARD_DATABASE_URL=f"sqlite:///{stats_db}") as url:
        yield url


def abandoned_games(db: Path) -> list[tuple[str, int]]:
    """(id, human points) of the games the statistics hold as abandoned."""
    with closing(sqlite3.connect(db)) as connection:
        return connection.execute(
            "SELECT id, human_points FROM games WHERE status = 'abandoned'").fetchall()


def test_an_idle_game_asks_counts_down_and_gives_the_screen_to_the_next_visitor(
        kiosk_url, stats_db, pool, visitor):
    v = visitor(kiosk_url)
    v.start()
    guess_right(v, pool, 1)
    prompt = v.page.locator("#idle-prompt")
    expect(prompt).to_be_hidden()
    expect(prompt).to_be_visible(timeout=(IDLE_S + 2) * 1000)  # "Still playing?"
    expect(v.page.locator("#idle-countdown")).to_have_text(re.compile(rf"^[1-{COUNTDOWN_S}]$"))
    # a touch on the button in the visitor's language (the other is not shown): the game goes
    # on where it was
    prompt.get_by_role("button", name="I'm still playing").click()
    expect(prompt).to_be_hidden()
    v.expect_at("/result")
    expect(v.page.locator("#score-you")).to_have_text("3")

    # untouched again: the countdown runs out and the attract screen returns
    before = abandoned_games(stats_db)
    expect(v.page).to_have_url(kiosk_url + "/attract", timeout=(IDLE_S + COUNTDOWN_S + 3) * 1000)
    # ... and the game is counted as abandoned, with the round that was played
    deadline = time.monotonic() + 5
    while len(abandoned_games(stats_db)) == len(before) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [points for _, points in set(abandoned_games(stats_db)) - set(before)] == [3]
    expect(v.page.locator("#attract-slide img").first).to_be_visible()
    expect(v.page.locator("#attract")).to_contain_text("Touch to play")
    v.expect_no_game_header()  # the next visitor sees no scores

    # the previous visitor's game is out of reach, even by URL, and a touch starts a new one
    v.open("/result")
    v.expect_at("/")
    v.open("/attract")
    v.page.locator("#attract").click()  # a touch: the start page, to pick a mode
    v.expect_at("/")
    v.page.locator("#play-easy").click()
    v.expect_at("/attempt")
    v.expect_header(0, 0, f"Round 1/{ROUNDS}")
    expect(v.page.locator("#mode-label")).to_have_text("Easy")
    v.assert_clean()


def test_idle_on_the_start_page_returns_to_the_attract_screen_and_each_tab_keeps_its_game(
        kiosk_url, pool, visitor):
    v = visitor(kiosk_url)
    v.open("/")
    expect(v.page).to_have_url(kiosk_url + "/attract", timeout=(IDLE_S + 3) * 1000)
    expect(v.page.locator("#idle-prompt")).to_be_hidden()  # nothing to ask: no game

    v.start()
    guess_right(v, pool, 1)
    second = Visitor(v.page.context.new_page(), kiosk_url)  # a second tab: its own session
    second.start()
    second.expect_header(0, 0, f"Round 1/{ROUNDS}")
    v.page.reload()  # a reload keeps the game (and counts as a touch)
    v.expect_at("/result")
    expect(v.page.locator("#score-you")).to_have_text("3")
    second.page.close()


def test_new_game_is_on_every_game_page_and_starts_afresh(kiosk_url, pool, visitor):
    v = visitor(kiosk_url)
    v.start()
    new_game = v.page.locator("#new-game")
    expect(new_game).to_be_visible()
    guess_right(v, pool, 1)
    expect(new_game).to_be_visible()
    v.page.locator("#next").click()
    v.expect_at("/attempt")
    v.expect_header(3, int(v.page.locator("#score-ai").inner_text()), f"Round 2/{ROUNDS}")
    new_game.click()
    v.expect_at("/attempt")
    v.expect_header(0, 0, f"Round 1/{ROUNDS}")
    expect(v.page.locator("#mode-label")).to_have_text("Expert")  # the mode it replaced
    v.open("/")
    v.expect_no_game_header()  # not a game page: no scores, no "New game"
    v.assert_clean()
