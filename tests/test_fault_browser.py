"""Faults under the real launcher, with a visitor in the middle of a game (real Chromium).

``make play``'s launcher runs everything under supervisord. While one visitor plays, every
back-end is killed, then frozen; then the dashboard is killed, and its worker frozen. Through
all of it the game carries on (its data is in the store: no back-end is needed mid-game) or
the page says "One moment…" and comes back by itself on the same game; a second visitor's
home page says which parts are missing and clears the message once the supervisor has
brought them back.
"""
from __future__ import annotations

import os
import re
import signal
import time

import pytest

from devtools.launcher import descendants, launched
from tests.browser import ROUNDS, TIMEOUT_MS, Visitor, expect, guess_right

BACK_ENDS = ("model-server", "image-server", "explainer")
MISSING_IDS = {"model-server": "#missing-model", "image-server": "#missing-images",
               "explainer": "#missing-explainer"}
REPLACED_S = 90  # SIGSTOP → replaced and answering: 60 s on an idle machine, with room
# Quicker verdicts than the stand's defaults (3 checks, 15 s from SIGTERM to SIGKILL): a frozen
# process only ever dies of the SIGKILL, so the defaults' waits test nothing more
FAST = {"health_retries": 2, "stop_timeout": 3}

pytestmark = pytest.mark.stack  # the whole launcher (the browser mark comes from the fixtures)


def next_round(v: Visitor, n: int) -> None:
    v.page.locator("#next").click()
    v.expect_at("/attempt")
    expect(v.page.locator("#round-label")).to_have_text(f"Round {n}/{ROUNDS}")


def recovers(v: Visitor) -> None:
    """The page said "One moment…" and then came back by itself: the overlay gone and the
    game's page drawn again. A fresh dashboard worker on a busy machine (the suite's other
    worker runs beside this test) may take more than one reload to answer in time."""
    expect(v.page.locator("#one-moment")).to_be_visible()
    expect(v.page.locator("#round-label")).to_be_visible(timeout=4 * TIMEOUT_MS)
    expect(v.page.locator("#one-moment")).to_be_hidden(timeout=4 * TIMEOUT_MS)
    v.console_errors.clear()  # the refused or cut requests of the outage, logged by Chromium
    v.bad_responses.clear()


def test_a_game_goes_on_through_every_service_killed_and_frozen(photo_pool_dir, pool, visitor):
    with launched(photo_pool_dir, health_start_period=20, **FAST) as stack:
        v = visitor(stack.url)
        v.start()
        guess_right(v, pool, 1)

        # every back-end killed at once: the game does not need them mid-game
        since = time.monotonic()
        killed = {name: stack.kill(name) for name in BACK_ENDS}
        next_round(v, 2)
        guess_right(v, pool, 2)
        for name, pid in killed.items():
            stack.wait_replaced(name, pid, 30, since)

        # every back-end frozen at once: the game goes on, a new visitor is told what is
        # missing, and the message goes once the supervisor has replaced them
        time.sleep(stack.settings.health_interval)  # each has passed a check since its start
        since = time.monotonic()
        frozen = {name: stack.kill(name, signal.SIGSTOP) for name in BACK_ENDS}
        newcomer = visitor(stack.url)
        newcomer.open("/")
        for name in BACK_ENDS:
            expect(newcomer.page.locator(MISSING_IDS[name])).to_be_visible()
        next_round(v, 3)
        guess_right(v, pool, 3)
        for name, pid in frozen.items():
            stack.wait_replaced(name, pid, REPLACED_S, since)
        restarts = {line["program"]: line["reason"] for line in stack.log_lines("restarting")
                    if line["pid"] == frozen.get(line["program"])}
        assert sorted(restarts) == sorted(BACK_ENDS), stack.report()  # by the health checks:
        assert all(re.fullmatch(rf"{FAST['health_retries']} health checks failed in a row, the "
                                r"last: no answer .*", why)
                   for why in restarts.values()), restarts  # supervisord saw nothing exit
        expect(newcomer.page.locator("#home-status .alert")).to_have_count(
            0, timeout=2 * TIMEOUT_MS)
        newcomer.page.locator("#play").click()
        newcomer.expect_at("/attempt")

        # the dashboard killed: "One moment…", then the same game, carried on
        stack.kill("dashboard")
        v.page.locator("#next").dispatch_event("click")
        recovers(v)
        expect(v.page).to_have_url(re.compile(r"/(attempt|result)$"))
        if v.page.url.endswith("/result"):  # the click was lost with the dashboard
            next_round(v, 4)
        expect(v.page.locator("#round-label")).to_have_text(f"Round 4/{ROUNDS}")
        expect(v.page.locator("#score-you")).to_have_text("9")

        # its worker frozen: "One moment…" until gunicorn (or the supervisor) replaces it
        [worker] = descendants(stack.pids()["dashboard"])
        v.choose(pool.answer(v.photo()))
        os.kill(worker, signal.SIGSTOP)
        v.page.locator("#guess").click()
        recovers(v)
        if v.page.url.endswith("/attempt"):  # the click was lost with the worker
            guess_right(v, pool, 4)
        next_round(v, 5)
        guess_right(v, pool, 5)
        v.page.locator("#next").click()
        v.expect_at("/finish")
        expect(v.page.locator("#final-you")).to_have_text(str(3 * ROUNDS))
        assert v.foreign_requests() == []
