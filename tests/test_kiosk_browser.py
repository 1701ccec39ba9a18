# ruff: noqa: F811 - the browser fixtures are imported from test_game_browser and used by name
"""The exhibit left alone: the kiosk cycle, "New game", and a page that never freezes.

Real Chromium against the real services and the dashboard under gunicorn, with short idle
settings. The dashboard is killed, frozen and restarted under a visitor mid-game: the page
says "One moment…" and carries on by itself, on the same round of the same game (the game
store is on disk).
"""
from __future__ import annotations

import os
import re
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from stack.settings import Settings as StackSettings
from tests.servers import free_port, start, stop
from tests.test_game_browser import (  # noqa: F401 - fixtures, used by name
    ROUNDS,
    TIMEOUT_MS,
    Visitor,
    browser,
    expect,
    pool,
    visitor,
)

IDLE_S, COUNTDOWN_S = 4, 3


@contextmanager
def dashboard_process(model_url: str, explainer_url: str, image_server_url: str, port: int,
                      store_dir: str, **env: str) -> Iterator[int]:
    """The dashboard (gunicorn, as ``make play`` runs it); yields the master's pid."""
    argv = StackSettings(dashboard_host="127.0.0.1", dashboard_port=port).dashboard_argv()
    proc = start(argv, {"DASHBOARD_MODEL_URL": model_url, "DASHBOARD_EXPLAINER_URL": explainer_url,
                        "DASHBOARD_IMAGE_SERVER_URL": image_server_url,
                        "DASHBOARD_STORE_DIR": store_dir, **env}, "/health", port)
    try:
        yield proc.pid
    finally:
        stop(proc)


def worker_of(master: int) -> int:
    [child] = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(child)


@pytest.fixture(scope="module")
def kiosk_url(model_server_url, explainer_url, image_server_url) -> Iterator[str]:
    port = free_port()
    with dashboard_process(model_server_url, explainer_url, image_server_url, port,
                           tempfile.mkdtemp(), DASHBOARD_IDLE_SECONDS=str(IDLE_S),
                           DASHBOARD_IDLE_COUNTDOWN_SECONDS=str(COUNTDOWN_S)):
        yield f"http://127.0.0.1:{port}"


def play_round(v: Visitor, pool, n: int) -> None:
    """Guess the current round right and show its result."""
    v.choose(pool.answer(v.photo()))
    v.page.locator("#guess").click()
    v.expect_at("/result")
    expect(v.page.locator("#round-label")).to_have_text(f"Round {n}/{ROUNDS}")


def test_an_idle_game_asks_counts_down_and_gives_the_screen_to_the_next_visitor(
        kiosk_url, pool, visitor):
    v = visitor(kiosk_url)
    v.start()
    play_round(v, pool, 1)
    prompt = v.page.locator("#idle-prompt")
    expect(prompt).to_be_hidden()
    expect(prompt).to_be_visible(timeout=(IDLE_S + 2) * 1000)  # "Still playing?"
    expect(v.page.locator("#idle-countdown")).to_have_text(re.compile(rf"^[1-{COUNTDOWN_S}]$"))
    prompt.locator("button").click()  # a touch: the game goes on where it was
    expect(prompt).to_be_hidden()
    v.expect_at("/result")
    expect(v.page.locator("#score-you")).to_have_text("3")

    # untouched again: the countdown runs out and the attract screen returns
    expect(v.page).to_have_url(kiosk_url + "/attract", timeout=(IDLE_S + COUNTDOWN_S + 3) * 1000)
    expect(v.page.locator("#attract-slide img").first).to_be_visible()
    expect(v.page.locator("#attract")).to_contain_text("Touch to play")
    expect(v.page.locator("#round-label")).to_have_text("Ready?")

    # the previous visitor's game is out of reach, even by URL, and a touch starts a new one
    v.open("/result")
    v.expect_at("/")
    v.open("/attract")
    v.page.locator("#attract").click()
    v.expect_at("/attempt")
    v.expect_header(0, 0, f"Round 1/{ROUNDS}")
    v.assert_clean()


def test_idle_on_the_start_page_returns_to_the_attract_screen_and_each_tab_keeps_its_game(
        kiosk_url, pool, visitor):
    v = visitor(kiosk_url)
    v.open("/")
    expect(v.page).to_have_url(kiosk_url + "/attract", timeout=(IDLE_S + 3) * 1000)
    expect(v.page.locator("#idle-prompt")).to_be_hidden()  # nothing to ask: no game

    v.start()
    play_round(v, pool, 1)
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
    play_round(v, pool, 1)
    expect(new_game).to_be_visible()
    v.page.locator("#next").click()
    v.expect_at("/attempt")
    v.expect_header(3, int(v.page.locator("#score-ai").inner_text()), f"Round 2/{ROUNDS}")
    new_game.click()
    v.expect_at("/attempt")
    v.expect_header(0, 0, f"Round 1/{ROUNDS}")
    v.open("/")
    expect(v.page.locator("#new-game")).to_have_count(0)  # not a game page
    v.assert_clean()


def test_the_game_survives_the_dashboard_dying_and_freezing_under_a_visitor(
        model_server_url, explainer_url, image_server_url, pool, visitor):
    """SIGKILL of the dashboard mid-game: "One moment…", then the same round once it is
    back. SIGSTOP of its worker: "One moment…" until gunicorn replaces the worker."""
    port, store = free_port(), tempfile.mkdtemp()
    urls = (model_server_url, explainer_url, image_server_url, port, store)
    with dashboard_process(*urls) as master:
        v = visitor(f"http://127.0.0.1:{port}")
        v.start()
        play_round(v, pool, 1)
        os.killpg(master, signal.SIGKILL)  # the whole dashboard, workers included
        v.page.locator("#next").dispatch_event("click")  # (the overlay may be up already)
        expect(v.page.locator("#one-moment")).to_be_visible()
        expect(v.page.locator("#one-moment")).to_contain_text("One moment…")
    v.console_errors.clear()  # the browser logs the refused connections: expected here
    v.bad_responses.clear()
    with dashboard_process(*urls) as master:  # back, on the same store
        v.expect_at("/result")  # the page reloaded by itself, onto the same game
        expect(v.page.locator("#one-moment")).to_be_hidden()
        expect(v.page.locator("#score-you")).to_have_text("3")
        v.page.locator("#next").click()
        v.expect_at("/attempt")
        expect(v.page.locator("#round-label")).to_have_text(f"Round 2/{ROUNDS}")

        v.choose(pool.answer(v.photo()))
        os.kill(worker_of(master), signal.SIGSTOP)  # hung: gunicorn's timeout replaces it
        v.page.locator("#guess").click()
        expect(v.page.locator("#one-moment")).to_be_visible()
        # the new worker answers: the page reloads onto round 2 (its guess counted or not,
        # depending on which worker the click reached)
        expect(v.page.locator("#one-moment")).to_be_hidden(timeout=2 * TIMEOUT_MS)
        expect(v.page).to_have_url(re.compile(r"/(attempt|result)$"))
        expect(v.page.locator("#round-label")).to_have_text(f"Round 2/{ROUNDS}")
