"""The dashboard's Prometheus metrics: every metric in one place, and ``GET /metrics``.

The stand runs for days while its owner is elsewhere; the visitors are here, so this is where
the game's health shows (docs/operator.md, "Watching from afar"). Events are counted where
they happen (``Scoreboard``, ``GamePool.take_game``, the upload feed, the request guard) and
read from memory: ``/metrics`` never asks a service or the database.

Under gunicorn every worker is a process of its own, so ``dashboard/gunicorn_conf.py`` sets
``PROMETHEUS_MULTIPROC_DIR`` before any worker imports prometheus_client: each worker writes
its values to files there, and ``/metrics`` sums them over every worker, live or gone
(prometheus-client's multiprocess mode). Without that directory (Flask's test client,
``python -m dashboard``) the process's own registry answers.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable

import flask
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from dashboard.game import MODES

PREFIX = "beat_the_ai_"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
WINNERS = ("human", "ai", "draw")
VERDICTS = ("right", "wrong")
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")

games_started = Counter(PREFIX + "games_started", "Games handed to a visitor, by mode",
                        ["mode"])
games_finished = Counter(PREFIX + "games_finished", "Games played to their end, by mode",
                         ["mode"])
game_winners = Counter(PREFIX + "game_winners",
                       "Finished games by who won: human, ai or draw", ["winner"])
uploads_classified = Counter(PREFIX + "uploads_classified",
                             "Visitors' own photos the AI answered on /upload")
upload_verdicts = Counter(PREFIX + "upload_verdicts",
                          "Visitors' verdicts on the AI's answer to their photo", ["verdict"])
callback_seconds = Histogram(
    PREFIX + "callback_seconds", "Time to answer a Dash callback, by its first output id",
    ["callback"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
http_responses = Counter(PREFIX + "http_responses", "HTTP responses by status class",
                         ["status_class"])
requests_shed = Counter(PREFIX + "requests_shed",
                        "Requests answered 503 at once because they queued too long")
store_errors = Counter(PREFIX + "store_errors",
                       "Requests refused because the game store was down or busy")
database_errors = Counter(PREFIX + "database_errors",
                          "Statistics reads or writes that failed (the game carried on)")
SHOW_STATES = ("started", "finished", "ended", "empty")
shows = Counter(PREFIX + "shows", "Crowd shows: started, and as they were recorded (finished, "
                "ended early by the screen, empty: nobody joined)", ["state"])
show_phones = Counter(PREFIX + "show_phones", "Phones that joined a crowd show")
show_answers = Counter(PREFIX + "show_answers", "Answers counted in crowd shows")
# Every worker knows the same kept outputs (they are shared on disk), so the largest value of
# the live workers is the machine's; a worker that is gone drops out.
kept_outputs = Gauge(PREFIX + "kept_outputs",
                     "Pool photos with the model's outputs kept (no model call needed)",
                     multiprocess_mode="livemax")

# Every label value known up front is exported from the start, as 0: a rate() or an alert on
# a series that does not exist yet sees nothing.
for _mode in MODES:
    games_started.labels(_mode)
    games_finished.labels(_mode)
for _winner in WINNERS:
    game_winners.labels(_winner)
for _verdict in VERDICTS:
    upload_verdicts.labels(_verdict)
for _status in STATUS_CLASSES:
    http_responses.labels(_status)
for _state in SHOW_STATES:
    shows.labels(_state)


def game_started(mode: str) -> None:
    games_started.labels(mode).inc()


def game_finished(mode: str, winner: str) -> None:
    """``winner`` as ``Game.winner()`` says it: "you", "ai" or "draw"."""
    games_finished.labels(mode).inc()
    game_winners.labels("human" if winner == "you" else winner).inc()


def responded(status: int) -> None:
    http_responses.labels(f"{status // 100}xx").inc()


def shed() -> None:
    """A request overload.shed answered 503 before the app saw it."""
    requests_shed.inc()
    responded(503)


def registry() -> CollectorRegistry:
    """Every worker's values (multiprocess mode), or this process's own."""
    if not os.environ.get(MULTIPROC_ENV):
        return REGISTRY
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)
    return collected


def install(server: flask.Flask, kept: Callable[[], int]) -> None:
    """``GET /metrics``, and every response counted by status class and every callback timed
    (its name: ``flask.g.callback``, set by the request guard to a registered callback's first
    output id, so a label never carries what a client made up). ``kept``: the kept outputs'
    count, read from memory as the scrape comes."""
    @server.get("/metrics")
    def metrics() -> flask.Response:
        kept_outputs.set(kept())
        return flask.Response(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)

    @server.after_request
    def count(response: flask.Response) -> flask.Response:
        responded(response.status_code)
        callback = flask.g.get("callback")
        started = flask.g.get("started")
        if callback is not None and started is not None:
            callback_seconds.labels(callback).observe(time.perf_counter() - started)
        return response
