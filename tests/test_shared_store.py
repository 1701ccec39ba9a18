"""A visitor's game continues whichever dashboard answers (issue 10's "two dashboard workers
sharing Redis").

Two dashboards, two gunicorn servers on two ports, share one Redis (``DASHBOARD_STORE_URL``)
and nothing else but the statistics database; Debian's nginx round-robins every request
between them with no sticky sessions, as the compose proxy does, and names the dashboard that
answered in a response header. A visitor in Chromium plays a whole game through nginx; the
callbacks of that one game are answered by both dashboards in turn, and the game goes on
correctly: every round, the score, the finish. Then Redis freezes: the next click fails
within the store's timeout as a JSON error, the page on screen stays, and once Redis answers
again the visitor plays on.
"""
from __future__ import annotations

import json
import signal
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from devtools.servers import dashboard, free_port
from tests import nginx
from tests.browser import PhotoPool, Visitor, expect
from tests.redis_server import Server, started

ROUNDS = 3
STORE_TIMEOUT_S = 1.0
CALLBACK = "/_dash-update-component"
WHO = "x-dashboard"  # nginx's header: the address of the dashboard that answered


@contextmanager
def round_robin(upstreams: list[str], work: Path) -> Iterator[str]:
    """nginx (tests/nginx.py) handing each request to the next upstream in turn; the upstream
    that answered comes back in the ``X-Dashboard`` header."""
    port = free_port()
    servers = "".join(f"  server {u.removeprefix('http://')};\n" for u in upstreams)
    config = nginx.http_config(work, (
        f" access_log {work}/access.log;\n"
        f" upstream dashboards {{\n{servers} }}\n"
        f" server {{\n  listen 127.0.0.1:{port};\n  client_max_body_size 2m;\n"
        "  location / {\n   proxy_pass http://dashboards;\n   proxy_next_upstream off;\n"
        "   proxy_read_timeout 30s;\n   proxy_set_header Host $http_host;\n"
        f"   add_header {WHO} $upstream_addr always;\n  }}\n }}"))
    with nginx.started(work, config, port) as server:
        yield server.url


@pytest.fixture(scope="module")
def shared_redis() -> Iterator[Server]:
    """A Redis of this module's own: the test freezes it."""
    with started(maxmemory=64 * 2**20) as server:
        yield server


@pytest.fixture(scope="module")
def dashboards(model_server_url: str, explainer_url: str, image_server_url: str,
               shared_redis: Server, tmp_path_factory) -> Iterator[list[str]]:
    """Two dashboards on one Redis (and one statistics file), nothing else shared."""
    env = {"DASHBOARD_STORE_URL": shared_redis.url, "DASHBOARD_ROUNDS": str(ROUNDS),
           "DASHBOARD_STORE_TIMEOUT": str(STORE_TIMEOUT_S), "DASHBOARD_READY_GAMES": "1",
           "DASHBOARD_DATABASE_URL":
               f"sqlite:///{tmp_path_factory.mktemp('stats')}/stats.sqlite3"}
    with ExitStack() as stack:
        yield [stack.enter_context(dashboard(model_server_url, explainer_url,
                                             image_server_url, **env)) for _ in range(2)]


@pytest.fixture(scope="module")
def proxy(dashboards: list[str], tmp_path_factory) -> Iterator[str]:
    with round_robin(dashboards, tmp_path_factory.mktemp("nginx")) as url:
        yield url


class Answers:
    """Which dashboard answered each callback, in order."""

    def __init__(self, v: Visitor) -> None:
        self.who: list[str] = []
        v.page.on("response", self._record)

    def _record(self, response) -> None:
        if urlsplit(response.url).path == CALLBACK:
            self.who.append(response.headers.get(WHO, ""))


def wait_for_store(dashboard_url: str, ok: bool, limit_s: float = 10) -> None:
    """Until the dashboard's ``/health`` says whether its game store answers."""
    deadline = time.monotonic() + limit_s
    while True:
        with urllib.request.urlopen(dashboard_url + "/health", timeout=5) as response:
            if json.load(response)["store_ok"] is ok:
                return
        assert time.monotonic() < deadline, f"/health never said store_ok={ok}"
        time.sleep(0.2)


def play_round(v: Visitor, pool: PhotoPool, n: int) -> None:
    """Round ``n`` in easy mode: the right one of the four choices, its result, then on."""
    expect(v.page.locator("#round-label")).to_have_text(f"Round {n}/{ROUNDS}")
    answer = pool.answer(v.photo()).class_name
    v.page.locator("#choices").get_by_role("button", name=answer, exact=True).click()
    expect(v.page.locator("#answer .answer-name")).to_have_text(answer)
    expect(v.page.locator("#score-you")).to_have_text(str(3 * n))
    v.page.locator("#next").click()


def test_a_game_continues_whichever_dashboard_answers(dashboards, proxy, shared_redis, pool,
                                                      visitor):
    v = visitor(proxy)
    answers = Answers(v)
    v.open("/")
    v.page.locator("#play-easy").click()
    v.expect_at("/attempt")
    started_at = len(answers.who)
    for n in range(1, ROUNDS + 1):
        play_round(v, pool, n)
    v.expect_at("/finish")
    expect(v.page.locator("#final-you")).to_have_text(str(3 * ROUNDS))
    expect(v.page.locator("#recap .recap-card")).to_have_count(ROUNDS)
    v.assert_clean()

    in_game = answers.who[started_at:]  # the callbacks of this one game, after "Let's play"
    addresses = {url.removeprefix("http://") for url in dashboards}
    assert set(in_game) == addresses, (answers.who, v.requests[-5:])  # both, nobody else
    assert min(Counter(in_game).values()) >= ROUNDS, in_game  # each, many times
    keys = shared_redis.client().keys("beat-the-ai:*")
    assert keys, "the game is not in Redis"

    # Redis frozen: the click fails within the store's timeout, as a JSON 503 with Retry-After,
    # and the page says "One moment…" (kiosk.js) until /health says the store answers again
    failed: list[tuple[int, str, dict, float]] = []

    def keep_failures(route) -> None:
        response = route.fetch()
        if response.status >= 400:
            failed.append((response.status, response.text(), response.headers,
                           time.monotonic()))
        route.fulfill(response=response)

    v.page.route(f"**{CALLBACK}*", keep_failures)
    shared_redis.proc.send_signal(signal.SIGSTOP)
    try:
        limit_s = 4 * STORE_TIMEOUT_S + 5  # a callback reads and writes the store a few times
        clicked = time.monotonic()
        v.page.locator("#play").click()  # "Play again"
        while not failed and time.monotonic() - clicked < limit_s:
            v.page.wait_for_timeout(50)
        assert failed, f"no callback failed within {limit_s:g} s while Redis was frozen"
        status, body, headers, at = failed[0]
        assert status == 503 and set(json.loads(body)) == {"error"}, (status, body)
        assert int(headers["retry-after"]) > 0, headers  # "try again shortly", not a crash
        assert "redis" not in body.lower() and "Traceback" not in body
        print(f"Redis frozen: the click failed as JSON {status} after {at - clicked:.1f} s")
        expect(v.page.locator("#one-moment")).to_be_visible()
        for url in dashboards:  # the health checks see it: kiosk.js waits instead of reloading
            wait_for_store(url, ok=False)
    finally:
        shared_redis.proc.send_signal(signal.SIGCONT)
    v.page.unroute(f"**{CALLBACK}*")
    # Redis answers again: the page comes back to the game's finish, and the visitor plays on
    expect(v.page.locator("#verdict")).to_be_visible()
    v.page.locator("#play").click()
    v.expect_at("/attempt")
    expect(v.page.locator("#round-label")).to_have_text(f"Round 1/{ROUNDS}")
