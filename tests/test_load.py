"""The load benchmark's players (benchmarks/locustfile.py, run by benchmarks/load.py) play
whole games through the real dashboard's callbacks: every transition answered, none failed,
and the games they played are counted in the dashboard's own statistics. Refused connections
and error statuses are counted as failures."""
from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks.load import run_locust
from devtools.servers import closed_url, dashboard

THINK = "0.05,0.15"  # seconds: whole games in a few seconds
GAME = {"home": 1, "lets_play": 1, "guess": 5, "result→next": 4, "finish": 1}


@pytest.fixture(scope="module")
def game_url(model_server_url: str, explainer_url: str, image_server_url: str) -> Iterator[str]:
    """No game prepared ahead: the first "Let's play" may land on "Preparing your game…",
    which the players wait out as the page does."""
    with dashboard(model_server_url, explainer_url, image_server_url,
                   DASHBOARD_READY_GAMES="0") as url:
        yield url


def finished_games(url: str) -> int:
    with urllib.request.urlopen(url + "/api/stats", timeout=10) as r:
        return json.load(r)["games"]


def test_a_burst_plays_one_whole_game_per_player(game_url: str, tmp_path: Path) -> None:
    before = finished_games(game_url)
    result = run_locust(game_url, "burst", 3, 1.0, 60, tmp_path / "samples.json", THINK)
    assert result["failures"] == {}
    assert result["players_done"] == 3
    counts = {name: len(times) for name, times in result["samples_ms"].items()
              if name != "page poll"}
    assert counts == {name: 3 * n for name, n in GAME.items()}
    assert all(t > 0 for times in result["samples_ms"].values() for t in times)
    assert finished_games(game_url) - before == 3
    assert 0 < result["locust_cpu_s"] < result["wall_s"]


def test_steady_players_play_games_back_to_back(game_url: str, tmp_path: Path) -> None:
    before = finished_games(game_url)
    result = run_locust(game_url, "steady", 2, 0.5, 8, tmp_path / "samples.json", THINK)
    assert result["failures"] == {}
    samples = result["samples_ms"]
    assert len(samples["finish"]) >= 2 and len(samples["home"]) > len(samples["finish"])
    # a player stopped at the end may have finished on the server without seeing it
    assert 0 <= finished_games(game_url) - before - len(samples["finish"]) <= 2


@pytest.fixture(scope="module")
def unavailable_url() -> Iterator[str]:
    """A real HTTP server that answers every request 503, as an overloaded one may."""

    class Unavailable(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_refused_connections_and_errors_are_counted_as_failures(
        unavailable_url: str, tmp_path: Path) -> None:
    refused = run_locust(closed_url(), "burst", 2, 0.5, 30, tmp_path / "refused.json", THINK)
    assert refused["players_done"] == 2 and refused["samples_ms"] == {}
    assert refused["failures"] == {"home": {"GET /: ConnectionRefusedError": 2}}
    unavailable = run_locust(unavailable_url, "burst", 2, 0.5, 30, tmp_path / "503.json", THINK)
    assert unavailable["failures"] == {"home": {"GET /: 503": 2}}
