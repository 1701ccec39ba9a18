"""Phones in a crowd show for locust (run by ``benchmarks/show_load.py``; alone:
``locust -f benchmarks/show_locustfile.py --show-code KHSJ``).

Each phone does what Chromium's Dash renderer does on ``/join?code=…`` (the renderer's
requests, as ``benchmarks/locustfile.py``'s ``Page`` replays them): it loads the page, joins
with a name, then ticks ``join-tick`` once a second. When the four choices show, it answers
after a random moment inside the round's window (``--answer-within`` seconds), still ticking
meanwhile; every tenth phone then taps a second choice, which must be refused (one answer per
phone and round). One phone in twenty (``--skip-share``) lets a round pass, so that rounds
end when their countdown does, not when the last phone has answered. It stops when its page
shows its final place.

Reported as locust requests: "join page", "join", "poll" (each tick), "answer" (failed unless
the phone's page then says its answer was locked in), "second answer" (failed unless it was
refused). ``--samples`` writes them all, as ``benchmarks/load.py`` reads them.
"""
from __future__ import annotations

import json
import random
import time
from typing import Any

import gevent
from locust import events

from benchmarks import locustfile as game

TICK_S = 1.0  # the join page's interval (pages/join.py TICK_MS)
SHOW_S = 600.0  # a phone gives up on a show this long
NAMES = ("Anna", "Ben", "Cleo", "Dan", "Emma", "Finn", "Greta", "Hugo", "Ida", "Jonas")


class Phone(game.Player):
    """One visitor's phone in the show."""

    def load_join(self, code: str) -> None:
        self.get(f"/join?code={code}")
        layout = json.loads(self.get("/_dash-layout"))
        dependencies = json.loads(self.get("/_dash-dependencies"))
        self.page = game.Page(layout, dependencies, "/join")
        self.page.props["url"]["search"] = f"?code={code}"
        self.settle(self.page.taking({"url.pathname"}))
        self.until_shown("join-go")

    def join(self) -> None:
        assert self.page is not None
        if random.random() < 0.5:
            self.click("join-anon")
        else:
            self.page.props["join-name"]["value"] = random.choice(NAMES)
            self.click("join-go")
        self.until_shown("show-status")

    def poll(self) -> None:
        gevent.sleep(TICK_S)
        self.timed("poll", lambda: self.tick("join-tick"))

    def answer(self) -> None:
        assert self.page is not None
        self.click(f"show-choice-{random.randrange(4)}")
        note = self.page.props.get("join-note", {}).get("children")
        if "show-choice-0" in self.page.props or note:
            raise game.Failed(f"not counted: {note}")

    def show(self) -> None:
        options = self.environment.parsed_options
        code = options.show_code
        self.timed("join page", lambda: self.load_join(code))
        self.timed("join", self.join)
        answered: set[int] = set()
        deadline = time.monotonic() + SHOW_S
        while time.monotonic() < deadline:
            self.poll()
            props = self.page.props
            if "show-place" in props:
                return  # the final place is on screen
            number = props.get("join-round", {}).get("data")
            if "show-choice-0" in props and number is not None and number not in answered:
                answered.add(number)
                if random.random() < options.skip_share:
                    continue  # this visitor looks away: the round runs to its countdown's end
                self._round = number
                wait_until = time.monotonic() + random.uniform(0, options.answer_within)
                while time.monotonic() + TICK_S < wait_until:
                    self.poll()
                gevent.sleep(max(0.0, wait_until - time.monotonic()))
                self.timed("answer", self.answer)
                if random.random() < 0.1:
                    self.timed("second answer", self.second)

    def second(self) -> None:
        """A second tap on the same round, as a stale page sends it: refused, counted nowhere."""
        assert self.page is not None
        for n in range(4):
            self.page.props[f"show-choice-{n}"] = {"n_clicks": None}
        self.page.props["join-round"] = {"data": self._round}
        self.click(f"show-choice-{random.randrange(4)}")
        if not self.page.props.get("join-note", {}).get("children"):
            raise game.Failed("a second answer was not refused")

    def game(self) -> None:  # the locustfile's task plays this
        self.show()


@events.init_command_line_parser.add_listener
def _show_options(parser: Any) -> None:
    parser.add_argument("--show-code", default="", help="the room code of the show to join")
    parser.add_argument("--answer-within", type=float, default=15.0,
                        help="each phone answers at a random moment this many seconds into a "
                             "round")
    parser.add_argument("--skip-share", type=float, default=0.05,
                        help="the share of phones that let a round pass without answering")
