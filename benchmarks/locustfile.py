"""Players of the game for locust: each drives the real Dash callbacks over HTTP as a browser's
Dash renderer does (run by ``benchmarks/load.py``; alone: ``locust -f benchmarks/locustfile.py``).

A player loads ``/`` (GET ``/``, ``/_dash-layout``, ``/_dash-dependencies``, then the page
callback), clicks "Let's play" (Expert), and for each round thinks 1-3 s, picks a make and one
of its models through the two-step pickers' callbacks, clicks "Guess", thinks 1-3 s on the
result and clicks "Next round"; the last one shows the finish page.

The requests are the renderer's, as recorded from Chromium: a click sends its callback with
the values the page holds; every prop a response sets fires the callbacks that take it as an
input; a page that arrives fires the initial calls of the callbacks on it (those without
``prevent_initial_call``, and, as the renderer does for outputs with ``allow_duplicate``, the
navigation callbacks of its buttons, which answer 204); a ``dcc.Interval`` on the page ticks
while the player waits or thinks ("Preparing your game…" polls every 500 ms until the game is
on screen). Requests the renderer sends together go out together, over at most 6 keep-alive
connections like a browser's. geventhttpclient, not requests: half the load generator's CPU,
which on a 2-core machine is taken from the stack. Like a browser's, an idle connection the
server has closed is not reused, and a POST (every click) is never sent twice.

Each click is one locust request named for its transition ("home", "lets_play", "guess",
"result→next", "finish"), timed from the click until the last request it caused has answered,
as the visitor waits; ticks of a page's intervals while the player thinks are "page poll". Any
non-2xx answer, connection error or reset fails the transition (and ends that player's game).
"""
from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter, defaultdict
from functools import partial
from pathlib import Path
from typing import Any

import gevent
from gevent.pool import Group
from geventhttpclient import HTTPClient
from geventhttpclient.response import HTTPConnectionClosed, HTTPParseError
from locust import User, events, task
from locust.exception import StopUser

from benchmarks.dash_requests import callback_outputs

CONNECTIONS = 6  # a browser's connections per host
REQUEST_TIMEOUT_S = 30.0  # a visitor who waited this long has given up: a failure
WAIT_MAX_S = 60.0  # on a page that waits: past "Preparing your game…"'s own 30 s give-up
THINK_S = "1,3"  # seconds, between seeing a page and the click on it (--think)
PICK_S = (0.2, 0.6)  # from the make's models on screen to the click on one
ROUNDS_MAX = 20  # a game longer than the server's DASHBOARD_ROUNDS cap is a bug here
UPDATE = "/_dash-update-component"
JSON = {"Content-Type": "application/json"}


class Failed(Exception):
    """A transition that failed: a request's non-2xx answer, connection error, reset or
    timeout, or a page that never showed what the click should have brought."""


def walk(node: Any, found: dict[str, dict], types: dict[str, str]) -> None:
    """Component id → props (and id → type) of every component with an id in a layout."""
    if isinstance(node, list):
        for child in node:
            walk(child, found, types)
    elif isinstance(node, dict) and "props" in node:
        props = node["props"]
        if isinstance(props.get("id"), str):
            found[props["id"]] = props
            types[props["id"]] = node.get("type", "")
        walk(props.get("children"), found, types)


class Page:
    """What the renderer holds: the props of every component on screen, the callbacks."""

    def __init__(self, layout: dict, dependencies: list[dict], path: str) -> None:
        self.props: dict[str, dict] = {}
        self.types: dict[str, str] = {}
        walk(layout, self.props, self.types)
        # id → the ids inside it: what goes when a callback replaces its children
        self.inside = {component: set(self._found(props.get("children")))
                       for component, props in self.props.items()}
        self.props["url"].update(pathname=path, search="")  # dcc.Location reads the address
        self.callbacks = [d for d in dependencies if not d.get("clientside_function")]

    def value(self, component: str, prop: str) -> dict:
        """``{"value": …}`` if the page holds the prop, else ``{}`` (as the renderer sends)."""
        props = self.props.get(component, {})
        return {"value": props[prop]} if prop in props else {}

    def body(self, dep: dict, changed: list[str]) -> dict:
        return {
            "output": dep["output"],
            "outputs": callback_outputs(dep["output"]),
            "inputs": [{**i, **self.value(i["id"], i["property"])} for i in dep["inputs"]],
            "changedPropIds": changed, "parsedChangedPropsIds": changed,
            "state": [{**s, **self.value(s["id"], s["property"])} for s in dep["state"]],
        }

    def on_screen(self, dep: dict) -> bool:
        return all(i["id"] in self.props for i in dep["inputs"])

    def taking(self, changed: set[str]) -> list[tuple[dict, list[str]]]:
        """The callbacks an update of ``changed`` ("id.prop") fires."""
        fired = []
        for dep in self.callbacks:
            inputs = {f"{i['id']}.{i['property']}" for i in dep["inputs"]}
            if inputs & changed and self.on_screen(dep):
                fired.append((dep, sorted(inputs & changed)))
        return fired

    def initial(self, new: set[str]) -> list[tuple[dict, list[str]]]:
        """The initial calls the components ``new`` on screen cause."""
        fired = []
        for dep in self.callbacks:
            ids = {i["id"] for i in dep["inputs"]}
            if not ids & new or not self.on_screen(dep):
                continue
            if not dep.get("prevent_initial_call"):
                fired.append((dep, []))
            elif "page.children@" in dep["output"]:  # allow_duplicate: the renderer fires it
                fired.append((dep, [f"{i['id']}.{i['property']}" for i in dep["inputs"]]))
        return fired

    def apply(self, response: dict) -> tuple[set[str], set[str]]:
        """A callback's answer on screen: (props it set, ids of components it added)."""
        changed, new = set(), set()
        for component, props in response.items():
            for prop, value in props.items():
                changed.add(f"{component}.{prop}")
                self.props.setdefault(component, {})[prop] = value
                if prop == "children":
                    for gone in self.inside.pop(component, set()):
                        self.props.pop(gone, None)
                        self.types.pop(gone, None)
                    found = self._found(value)
                    self.props.update(found)
                    self.inside[component] = set(found)
                    new |= set(found)
        return changed, new

    def _found(self, children: Any) -> dict[str, dict]:
        found: dict[str, dict] = {}
        walk(children, found, self.types)
        return found

    def intervals(self) -> list[str]:
        return [c for c, t in self.types.items()
                if t == "Interval" and c in self.props and not self.props[c].get("disabled")]

    @property
    def path(self) -> str:
        return self.props["url"]["pathname"]


class Player(User):
    """One visitor: a game (``--mode burst``) or games back to back (``--mode steady``)."""

    wait_time = staticmethod(lambda: 0)  # the think times are in the game itself

    def on_start(self) -> None:
        self.http = HTTPClient.from_url(self.host, concurrency=CONNECTIONS,
                                        connection_timeout=REQUEST_TIMEOUT_S,
                                        network_timeout=REQUEST_TIMEOUT_S)
        self.page: Page | None = None
        self.paused = 0.0  # seconds of the current transition the visitor spent, not waited
        self.waited = False  # whether it landed on a page that waits ("Preparing…")
        low, high = (float(s) for s in self.environment.parsed_options.think.split(","))
        self.think_s = (low, high)

    def on_stop(self) -> None:
        self.http.close()

    # --- HTTP, as the renderer sends it -------------------------------------------------
    def get(self, path: str) -> bytes:
        return self._send("GET", path)

    def _send(self, method: str, path: str, body: bytes | None = None) -> bytes:
        try:
            r = self.http.request(method, path, body=body, headers=JSON if body else None)
            data = r.read()
        except (OSError, HTTPParseError, HTTPConnectionClosed) as e:
            raise Failed(f"{method} {path}: {type(e).__name__}") from e
        if not 200 <= r.status_code < 300:
            raise Failed(f"{method} {path}: {r.status_code}")
        return data

    def post(self, dep: dict, changed: list[str]) -> dict:
        """One callback; the props its answer sets (empty for a 204)."""
        assert self.page is not None
        data = self._send("POST", UPDATE, json.dumps(self.page.body(dep, changed)).encode())
        return json.loads(data)["response"] if data else {}

    def settle(self, calls: list[tuple[dict, list[str]]]) -> None:
        """Send ``calls`` together, then what their answers fire, until nothing is left."""
        assert self.page is not None
        while calls:
            answers = Group().map(self._settled, calls)
            if failed := [a for a in answers if isinstance(a, Failed)]:
                raise failed[0]  # once all are in, as the page is
            calls = [c for fired in answers for c in fired]

    def _settled(self, call: tuple[dict, list[str]]) -> list[tuple[dict, list[str]]] | Failed:
        try:
            return self._call(*call)
        except Failed as e:
            return e

    def _call(self, dep: dict, changed: list[str]) -> list[tuple[dict, list[str]]]:
        assert self.page is not None
        props, new = self.page.apply(self.post(dep, changed))
        fired = self.page.taking(props - {f"{c}.children" for c in ("page", "header")})
        return fired + [c for c in self.page.initial(new) if c not in fired]

    def click(self, component: str, prop: str = "n_clicks", value: Any = None) -> None:
        """A click (or a pick: ``prop``/``value``) and everything it causes."""
        assert self.page is not None
        props = self.page.props[component]
        props[prop] = (props.get(prop) or 0) + 1 if prop == "n_clicks" else value
        self.settle(self.page.taking({f"{component}.{prop}"}))

    def tick(self, interval: str) -> None:
        assert self.page is not None
        self.click(interval, "n_intervals", (self.page.props[interval].get("n_intervals")
                                             or 0) + 1)

    # --- time: the visitor's and the page's ---------------------------------------------
    def think(self) -> None:
        """Wait as a visitor reads the page; its intervals tick meanwhile (as "page poll")."""
        until = time.monotonic() + random.uniform(*self.think_s)
        assert self.page is not None
        every = {c: self.page.props[c].get("interval", 1000) / 1000
                 for c in self.page.intervals()}
        due = {c: time.monotonic() + seconds for c, seconds in every.items()}
        while due and (component := min(due, key=due.__getitem__)) and due[component] < until:
            gevent.sleep(max(0.0, due[component] - time.monotonic()))
            self.timed("page poll", partial(self.tick, component))
            due[component] += every[component]
        gevent.sleep(max(0.0, until - time.monotonic()))

    def pause(self, seconds: float) -> None:
        """The visitor's own time inside a transition (between picking a make and a model):
        not counted as waiting."""
        gevent.sleep(seconds)
        self.paused += seconds

    def until_shown(self, marker: str, enabled: bool = False) -> None:
        """While the page waits ("Preparing your game…"), its intervals tick as the renderer
        ticks them, until ``marker`` is on screen (and, if asked, enabled)."""
        assert self.page is not None
        deadline = time.monotonic() + WAIT_MAX_S
        while marker not in self.page.props or enabled and self.page.props[marker].get(
                "disabled"):
            intervals = self.page.intervals()
            if not intervals or time.monotonic() > deadline:
                raise Failed(f"no #{marker} on {self.page.path}")
            gevent.sleep(self.page.props[intervals[0]].get("interval", 1000) / 1000)
            self.tick(intervals[0])
            self.waited = True

    def timed(self, name: str, action) -> None:
        """One transition, reported to locust (and to the samples ``load.py`` reads)."""
        start = time.perf_counter()
        self.paused = 0.0
        self.waited = False
        failure: Exception | None = None
        try:
            action()
        except Failed as e:
            failure = e
        ms = (time.perf_counter() - start - self.paused) * 1000
        if self.waited:
            WAITED[name] += 1
        self.environment.events.request.fire(
            request_type="click", name=name, response_time=ms, response_length=0,
            exception=failure, context={})
        if failure is not None:
            raise failure

    # --- the game ----------------------------------------------------------------------
    def load_home(self) -> None:
        self.get("/")
        layout = json.loads(self.get("/_dash-layout"))
        dependencies = json.loads(self.get("/_dash-dependencies"))
        self.page = Page(layout, dependencies, "/")
        self.settle(self.page.taking({"url.pathname"}))
        if "play" not in self.page.props:
            raise Failed("the home page has no 'Let's play'")

    def lets_play(self) -> None:
        self.until_shown("play", enabled=True)  # disabled while no game can start
        self.click("play")
        self.until_shown("photo")

    def guess(self) -> None:
        assert self.page is not None
        makes = self.page.props["make"]["options"]
        self.click("make", "value", random.choice(makes))
        self.pause(random.uniform(*PICK_S))
        models = [o["value"] for o in self.page.props["model"]["options"]]
        if not models:
            raise Failed("the make's models did not come")
        self.click("model", "value", random.choice(models))
        self.click("guess")
        self.until_shown("answer")

    def next_round(self, last: bool) -> None:
        self.click("next")
        self.until_shown("verdict" if last else "photo")

    @task
    def play(self) -> None:
        try:
            self.game()
        except Failed:  # counted; the game cannot go on from a page it did not get
            gevent.sleep(random.uniform(*self.think_s))  # the next visitor comes along
        except Exception as e:  # a bug here: counted too, never hidden
            FAILURES["(player error)"][f"{type(e).__name__}: {e}"] += 1
            logging.exception("player error")
        if self.environment.parsed_options.mode == "burst":
            done_playing(self.environment)
            raise StopUser  # one game each

    def game(self) -> None:
        self.timed("home", self.load_home)
        self.think()
        self.timed("lets_play", self.lets_play)
        for _ in range(ROUNDS_MAX):
            self.think()
            self.timed("guess", self.guess)
            self.think()
            last = self.last_round()
            self.timed("finish" if last else "result→next", partial(self.next_round, last))
            if last:
                break

    def last_round(self) -> bool:
        """Whether "Next" on this result page leads to the finish: the header's round label
        ends in "N/N" in every language."""
        assert self.page is not None
        number, rounds = self.page.props["round-label"]["children"].split()[-1].split("/")
        return number == rounds


# --- burst mode: quit once every player has played; samples for load.py --------------------

FINISHED: Counter[str] = Counter()
SAMPLES: dict[str, list[float]] = defaultdict(list)
FAILURES: dict[str, Counter[str]] = defaultdict(Counter)
WAITED: Counter[str] = Counter()  # transitions that landed on "Preparing your game…" or the like


def done_playing(environment) -> None:
    FINISHED["players"] += 1
    if FINISHED["players"] >= environment.parsed_options.num_users:
        gevent.spawn_later(0.1, environment.runner.quit)


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument("--mode", choices=("burst", "steady"), default="steady",
                        help="burst: one game per player, then quit; steady: games back to back")
    parser.add_argument("--think", default=THINK_S,
                        help="seconds a player thinks before a click: 'low,high', uniform")
    parser.add_argument("--samples", default="", help="write every transition's times here")


@events.request.add_listener
def _sample(request_type: str, name: str, response_time: float, exception: Exception | None,
            **_: Any) -> None:
    if exception is None:
        SAMPLES[name].append(response_time)
    else:
        FAILURES[name][str(exception)] += 1


@events.quitting.add_listener
def _write(environment, **_: Any) -> None:
    if environment.parsed_options.samples:
        Path(environment.parsed_options.samples).write_text(json.dumps(
            {"samples_ms": SAMPLES, "failures": {k: dict(v) for k, v in FAILURES.items()},
             "players_done": FINISHED["players"], "waited": WAITED}))
