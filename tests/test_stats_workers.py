"""Humans vs AI counts every game, whoever writes it and whatever restarts.

Games are played for real in Chromium, in easy mode with one round per game
(``DASHBOARD_ROUNDS=1``: a game is a start, a choice and the finish, each written to the
database by whichever worker serves the last click). The pages are driven only through their
stable element ids; the right answer comes from the photo pool the test prepared.

- The whole launcher (``make play``'s ``python -m stack``): a game is counted, the launcher is
  stopped with Ctrl-C and started again on the same database, and the game is still counted.
  First in the file: it starts its own services, before the session's fixtures start theirs.
- The dashboard with two gunicorn workers (``DASHBOARD_WORKERS=2``) on one SQLite file: two
  visitors play at once and finish their games at the same moment; ``/api/stats`` counts
  every game, whichever worker answers.
"""
from __future__ import annotations

import json
import re
import signal
import urllib.request
from pathlib import Path

import pytest

from devtools.launcher import alive, descendants, launched
from devtools.servers import dashboard
from tests.browser import Visitor, expect, start_easy
from tests.hostile import pid_listening

ONE_ROUND = {"DASHBOARD_ROUNDS": "1"}
STATS_KEYS = {"games", "human_wins", "ai_wins", "draws", "human_points", "ai_points"}


def api_stats(base: str) -> dict:
    """``GET /api/stats`` on a new connection (so any worker may answer it)."""
    with urllib.request.urlopen(base + "/api/stats", timeout=10) as response:
        assert response.status == 200
        return json.load(response)


def finish(visitors: list[Visitor]) -> None:
    """Everyone clicks on to the finish at once (each click's callback records a game), then
    each finish page is awaited."""
    for v in visitors:
        v.page.locator("#next").click()
    for v in visitors:
        expect(v.page.locator("#verdict")).to_be_visible()


def check_all_exact(totals: dict, games: int) -> None:
    """``games`` one-round games, each answered exactly (3 points): the AI can at best draw."""
    assert totals["upload_verdicts"] == {"right": 0, "wrong": 0}  # nobody judged a photo
    assert totals["crowd_vs_ai"]["shows"] == 0  # nor played a show
    games_only = {k: n for k, n in totals.items() if k not in ("upload_verdicts", "crowd_vs_ai")}
    assert set(games_only) == STATS_KEYS and all(type(n) is int for n in games_only.values())
    assert totals["games"] == games
    assert totals["human_points"] == 3 * games
    assert totals["ai_wins"] == 0
    assert totals["human_wins"] + totals["draws"] == games
    # a draw: the AI exact too (3); a human win: the AI had the make (1) or nothing (0)
    assert 3 * totals["draws"] <= totals["ai_points"] <= 3 * totals["draws"] + totals["human_wins"]


# --- the launcher stopped and started again: nothing lost ------------------------------------

@pytest.mark.stack
def test_a_game_is_still_counted_after_the_launcher_is_restarted(photo_pool_dir, pool, visitor,
                                                                  tmp_path: Path):
    env = {**ONE_ROUND, "DASHBOARD_DATABASE_URL": f"sqlite:///{tmp_path}/stats.sqlite3"}
    with launched(photo_pool_dir, env) as stack:
        v = visitor(stack.url)
        start_easy(v, pool)
        finish([v])
        before = api_stats(stack.url)
        check_all_exact(before, 1)
        assert stack.stop(signal.SIGINT) == 0, stack.report()  # Ctrl-C: a clean stop
        assert stack.listening() == []
        said = stack.drain() + stack.log()  # what the terminal showed: no error on the way out
        assert not re.search(r"Traceback|excepthook|Exception ignored", said), said[-3000:]
    with launched(photo_pool_dir, env) as stack:
        assert api_stats(stack.url) == before, stack.report()


# --- two workers writing at once -------------------------------------------------------------

def test_two_workers_writing_at_once_lose_no_game(model_server_url, explainer_url,
                                                  image_server_url, pool, visitor,
                                                  tmp_path: Path):
    env = {**ONE_ROUND, "DASHBOARD_WORKERS": "2",
           "DASHBOARD_DATABASE_URL": f"sqlite:///{tmp_path}/stats.sqlite3"}
    with dashboard(model_server_url, explainer_url, image_server_url, **env) as url:
        master = pid_listening(url)
        assert len(alive(descendants(master))) == 2, "gunicorn did not start two workers"
        visitors = [visitor(url), visitor(url)]
        games = 3
        for _ in range(games):
            for v in visitors:
                start_easy(v, pool)
            finish(visitors)
        totals = api_stats(url)
        check_all_exact(totals, games * len(visitors))
        # every worker reads the same numbers (each request on a new connection)
        assert all(api_stats(url) == totals for _ in range(8))
        for v in visitors:
            v.assert_clean()
