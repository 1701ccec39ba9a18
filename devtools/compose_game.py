"""One whole game over HTTP, as a browser's Dash renderer plays it (benchmarks/locustfile.py's
player, every callback real), for ``make compose-check`` (devtools/compose_check.py).

``python -m devtools.compose_game URL``: plays to the last round's result, prints
``{"paused": true}`` and waits for a line on stdin (the check restarts a replica meanwhile),
then clicks on to the finish and prints ``{"finished": true, "rounds": N}``. Separate from the
check's own process because locust's gevent patches the standard library on import.
"""
from __future__ import annotations

import json
import sys

from geventhttpclient import HTTPClient

from benchmarks.locustfile import CONNECTIONS, REQUEST_TIMEOUT_S, Player


def player(url: str) -> Player:
    """The locust player without locust's runner: the same clicks, a short think time."""
    p = object.__new__(Player)
    p.http = HTTPClient.from_url(url, concurrency=CONNECTIONS,
                                 connection_timeout=REQUEST_TIMEOUT_S,
                                 network_timeout=REQUEST_TIMEOUT_S)
    p.page, p.paused, p.waited, p.think_s = None, 0.0, False, (0.2, 0.5)
    p.timed = lambda name, action: action()
    return p


def main() -> None:
    p = player(sys.argv[1])
    p.load_home()
    p.think()
    p.lets_play()
    rounds = 0
    while True:
        p.think()
        p.guess()
        rounds += 1
        if p.last_round():
            break
        p.next_round(last=False)
    print(json.dumps({"paused": True, "rounds": rounds}), flush=True)
    sys.stdin.readline()
    p.next_round(last=True)
    print(json.dumps({"finished": "verdict" in p.page.props, "rounds": rounds}), flush=True)


if __name__ == "__main__":
    main()
