"""A frozen back-end never slows anyone else down.

Each back-end in turn is frozen (SIGSTOP: it accepts connections and never answers, the worst
kind of failure) while 20 visitors open the home page at once and 12 press "Let's play": every
page, click and ``/health`` answers within a second. The real services, the dashboard under
gunicorn.
"""
from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from devtools.servers import dashboard
from tests.callbacks import body_for, post
from tests.hostile import pid_listening

VISITORS, PLAYERS = 20, 12
BUDGET_S = 1.0

pytestmark = pytest.mark.quiet  # it times pages: on a machine no other test shares


@contextmanager
def frozen(url: str) -> Iterator[None]:
    pid = pid_listening(url)
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@pytest.fixture(scope="module")
def urls(model_server_url, explainer_url, image_server_url) -> Iterator[dict[str, str]]:
    with dashboard(model_server_url, explainer_url, image_server_url) as url:
        yield {"dashboard": url, "model": model_server_url, "explainer": explainer_url,
               "images": image_server_url}


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        return r.read()


def visit_home(base: str, callbacks: list[dict], n: int) -> float:
    """What a browser asks for to show the home page, and ``/health``; seconds it took."""
    show = next(c for c in callbacks if c["inputs"][0]["id"] == "url")
    started = time.monotonic()
    get(base + "/")
    get(base + "/_dash-layout")
    status, _, page = post(base, json.dumps(body_for(
        show, {"url.pathname": "/", "session.data": f"{n:032x}"})).encode())
    assert status == 200 and b'"play-easy"' in page
    assert json.loads(get(base + "/health"))["status"] == "ok"
    return time.monotonic() - started


def press_play(base: str, callbacks: list[dict], n: int) -> float:
    play = next(c for c in callbacks if c["inputs"][0]["id"] == "play")
    started = time.monotonic()
    status, _, page = post(base, json.dumps(body_for(
        play, {"play.n_clicks": 1, "session.data": f"{1000 + n:032x}"})).encode())
    assert status == 200, page[:200]
    assert b"Which car is this?" in page or b"Preparing your game" in page
    return time.monotonic() - started


@pytest.mark.parametrize("service", ["model", "images", "explainer"])
def test_a_frozen_back_end_slows_no_visitor(urls, service):
    base = urls["dashboard"]
    callbacks = json.loads(get(base + "/_dash-dependencies"))
    with frozen(urls[service]):
        deadline = time.monotonic() + 15  # its health checks hang, time out: it is missing
        while service not in json.loads(get(base + "/health"))["missing"]:
            assert time.monotonic() < deadline, "the dashboard never noticed"
            time.sleep(0.2)
        with ThreadPoolExecutor(VISITORS + PLAYERS) as pool:
            homes = [pool.submit(visit_home, base, callbacks, n) for n in range(VISITORS)]
            plays = [pool.submit(press_play, base, callbacks, n) for n in range(PLAYERS)]
            home_s = [f.result() for f in homes]
            play_s = [f.result() for f in plays]
        # only the frozen one is missing: the explainer's health does not hang on the model
        assert json.loads(get(base + "/health"))["missing"] == [service]
    assert max(home_s) < BUDGET_S, sorted(home_s)
    assert max(play_s) < BUDGET_S, sorted(play_s)
