"""The dashboard's Prometheus metrics (dashboard/metrics.py): what the stand's owner watches
from afar.

- Offline (the real app, Flask's test client, the process's own registry): ``/metrics`` is
  Prometheus's text format, only a GET, and its counters move where the events happen: a
  refused callback is a 4xx, a callback is timed under its own name, a failing database is
  counted and the game carries on.
- gunicorn's hooks (dashboard/gunicorn_conf.py): a fresh folder per start of the master.
- A real dashboard with four gunicorn workers (prometheus-client's multiprocess mode): one
  whole game played in Chromium moves the games started and finished and the winners, and
  every scrape, whichever worker answers it, shows the sum over every worker.
"""
from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import OperationalError

from dashboard import guard, metrics
from dashboard.scoreboard import Scoreboard
from devtools.launcher import alive, descendants
from devtools.servers import dashboard
from tests.browser import PhotoPool, Visitor, expect, start_easy
from tests.callbacks import call, offline_app
from tests.hostile import pid_listening

ONE_ROUND = {"DASHBOARD_ROUNDS": "1"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by (name, sorted labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels`` (0 if none)."""
    return sum(v for (n, have), v in samples(text).items()
               if n == name and set(labels.items()) <= set(have))


def scrape_offline(app) -> str:  # noqa: ANN001 - a Dash app
    response = app.server.test_client().get("/metrics")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture(scope="module")
def app(tmp_path_factory):  # noqa: ANN201
    return offline_app(tmp_path_factory.mktemp("metrics"))


# --- offline ---------------------------------------------------------------------------------

def test_metrics_is_prometheus_text_with_every_series_from_the_start(app):
    response = app.server.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    text = response.get_data(as_text=True)
    names = {family.name for family in text_string_to_metric_families(text)}
    for name in ("games_started", "games_finished", "game_winners", "uploads_classified",
                 "upload_verdicts", "callback_seconds", "http_responses", "requests_shed",
                 "store_errors", "database_errors", "kept_outputs", "shows", "show_phones",
                 "show_answers"):
        assert metrics.PREFIX + name in names, name
    have = samples(text)
    for mode in ("easy", "expert"):  # exported as 0 before the first game: alerts see them
        assert ("beat_the_ai_games_started_total", (("mode", mode),)) in have
        assert ("beat_the_ai_games_finished_total", (("mode", mode),)) in have
    for winner in ("human", "ai", "draw"):
        assert ("beat_the_ai_game_winners_total", (("winner", winner),)) in have
    for state in ("started", "finished", "ended", "empty"):
        assert ("beat_the_ai_shows_total", (("state", state),)) in have
    for status in ("2xx", "4xx", "5xx"):
        assert ("beat_the_ai_http_responses_total", (("status_class", status),)) in have
    assert value(text, "beat_the_ai_kept_outputs") == 0  # nothing kept: every back-end down


def test_metrics_is_only_a_get(app):
    client = app.server.test_client()
    for method in (client.post, client.put, client.delete):
        response = method("/metrics")
        assert response.status_code == 405
        assert response.get_json() == {"error": "Method Not Allowed"}


def test_a_refused_callback_counts_as_a_4xx_and_a_callback_is_timed_by_its_name(app):
    before = scrape_offline(app)
    status, answer = call(app, "stats-all.children", {"stats-tick.n_intervals": -1})
    assert status == 400 and "stats-tick.n_intervals" in answer["error"]
    response = app.server.test_client().post(guard.CALLBACK_PATH, json={"output": "made-up"})
    assert response.status_code == 400
    status, _ = call(app, "stats-all.children", {"stats-tick.n_intervals": 1})
    assert status == 200
    after = scrape_offline(app)
    moved = (value(after, "beat_the_ai_http_responses_total", status_class="4xx")
             - value(before, "beat_the_ai_http_responses_total", status_class="4xx"))
    assert moved == 2
    timed = (value(after, "beat_the_ai_callback_seconds_count", callback="stats-all")
             - value(before, "beat_the_ai_callback_seconds_count", callback="stats-all"))
    assert timed == 1  # the refused ones are not: only a registered callback has a name
    callbacks = {dict(labels).get("callback") for (name, labels) in samples(after)
                 if name == "beat_the_ai_callback_seconds_count"}
    assert "made-up" not in callbacks


class FailingStats:
    """A statistics database that fails every call."""

    def __getattr__(self, name: str):  # noqa: ANN204
        def fail(*args: object, **kwargs: object) -> None:
            raise OperationalError("SELECT 1", {}, Exception("database is gone"))
        return fail


def test_a_failing_database_is_counted_and_the_visitors_verdict_still_is():
    before = metrics.database_errors._value.get()
    right = metrics.upload_verdicts.labels("right")._value.get()
    scoreboard = Scoreboard(FailingStats())
    assert scoreboard.share_right("/photos/00001.jpg") is None
    scoreboard.upload_verdict("0123456789abcdef", "BMW M3 Coupe 2012", right=True)
    assert metrics.database_errors._value.get() == before + 2
    assert metrics.upload_verdicts.labels("right")._value.get() == right + 1


# --- gunicorn's hooks ------------------------------------------------------------------------

def test_each_start_of_the_master_gets_an_empty_folder_and_dead_ones_go(tmp_path: Path):
    from dashboard.gunicorn_conf import metrics_dir

    mine = tmp_path / str(os.getpid())
    mine.mkdir()
    (mine / "counter_123.db").write_bytes(b"old")
    gone = tmp_path / "999999999"  # above pid_max: no such process
    gone.mkdir()
    other = tmp_path / str(os.getppid())  # a live master's: left alone
    other.mkdir()
    folder = metrics_dir(tmp_path, os.getpid())
    assert folder == mine and list(folder.iterdir()) == []
    assert not gone.exists() and other.exists()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ  # importing the config sets nothing


# --- a real dashboard, several workers -------------------------------------------------------

def scrape(url: str) -> str:
    """``GET /metrics`` on a new connection, so either worker may answer it."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


def play_one_easy_game(v: Visitor, pool: PhotoPool) -> None:
    """One whole game of one round, answered right, on to the finish."""
    start_easy(v, pool)
    v.page.locator("#next").click()
    expect(v.page.locator("#verdict")).to_be_visible()


def test_a_game_played_moves_the_counters_summed_over_every_worker(
        model_server_url, explainer_url, image_server_url, pool, visitor, tmp_path: Path):
    workers = 4  # PLAY_WORKERS=4, the crowd's setting
    env = {**ONE_ROUND, "DASHBOARD_WORKERS": str(workers),
           "DASHBOARD_METRICS_DIR": str(tmp_path)}
    with dashboard(model_server_url, explainer_url, image_server_url, **env) as url:
        master = pid_listening(url)
        pids = alive(descendants(master))
        assert len(pids) == workers, f"gunicorn did not start {workers} workers"
        folder = tmp_path / str(master)
        assert folder.is_dir()  # this start's folder, named by the master
        before = scrape(url)
        assert value(before, "beat_the_ai_games_started_total") == 0
        v = visitor(url)
        play_one_easy_game(v, pool)
        scrapes = [scrape(url) for _ in range(4 * workers)]
        for text in scrapes:  # whichever worker answered: the same sums
            assert value(text, "beat_the_ai_games_started_total", mode="easy") == 1
            assert value(text, "beat_the_ai_games_started_total", mode="expert") == 0
            assert value(text, "beat_the_ai_games_finished_total", mode="easy") == 1
            # answered exactly: the visitor wins, or the AI was exact too
            human = value(text, "beat_the_ai_game_winners_total", winner="human")
            draw = value(text, "beat_the_ai_game_winners_total", winner="draw")
            assert (human + draw, value(text, "beat_the_ai_game_winners_total",
                                        winner="ai")) == (1, 0)
            assert value(text, "beat_the_ai_callback_seconds_count", callback="page") >= 3
            assert value(text, "beat_the_ai_http_responses_total", status_class="5xx") == 0
            assert value(text, "beat_the_ai_store_errors_total") == 0
            assert value(text, "beat_the_ai_database_errors_total") == 0
        # each worker writes its values to files of its own there, summed by /metrics
        written = {p.name.rsplit("_", 1)[1].removesuffix(".db")
                   for p in folder.glob("counter_*.db")}
        assert {str(pid) for pid in pids} <= written
        v.assert_clean()
    assert not folder.exists()  # removed as the master exits
