"""A crowd show under load: 200 phones answering within the same 20 s window, measured with
locust against the stack as ``PLAY_WORKERS=4 make play`` runs it (four dashboard workers,
the game store and the shows in Redis).

    python benchmarks/show_load.py [--phones 200] [--workers 4] [--answer-within 15]
                                   [--json out.json]

The big screen is this script: it ticks ``/show``'s real Dash callback twice a second, as the
page does, opens a show, presses "Start now" once every phone has joined, and notes when each
reveal reached it. The phones are ``benchmarks/show_locustfile.py``'s (the join page's real
callbacks, a tick a second, one answer per round at a random moment of the window, a refused
second tap from one phone in ten). Reported:
- per request kind ("join page", "join", "poll", "answer", "second answer"): how many,
  p50/p95/max in ms, failures;
- every answer counted exactly once: answers the phones saw locked in, the show's own
  counters, and the rows in the statistics database, which must all be equal;
- the reveal's delay on the big screen after each round's countdown ended (the round's end as
  the show's record says: its time ran out, or every phone had answered).
Not a test: nothing is asserted; the targets (p95 <= 250 ms, 0 failures, reveal <= 1 s) are
checked by reading the table.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.dash_requests import callback_outputs
from benchmarks.load import run_locust, summary, wait_ready
from benchmarks.text_table import text_table
from dashboard.guard import new_session_id
from dashboard.show.timeline import Show, round_start
from dashboard.stats.schema import ShowAnswerRow
from devtools.launcher import launched

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "show_locustfile.py"
KINDS = ("join page", "join", "poll", "answer", "second answer")
TICK_S = 0.5  # the show page's interval (pages/show.py TICK_MS)
ROUND = re.compile(r"Round (\d+)/(\d+)")
LOBBY_S = 120.0  # the phones have this long to join; the show starts with those in


class Screen:
    """The big screen's page, as its Dash renderer asks the server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = new_session_id()
        with urllib.request.urlopen(url + "/_dash-dependencies", timeout=10) as r:
            deps = json.load(r)
        self.tick_dep = next(d for d in deps if "show-stage.children" in d["output"])
        self.start_dep = next(d for d in deps if d["output"] == "show-start.disabled")
        self.code: str | None = None
        self.ticks = 0

    def _post(self, dep: dict, inputs: list, state: list) -> dict:
        body = {"output": dep["output"], "outputs": callback_outputs(dep["output"]),
                "inputs": [{**i, "value": v} for i, v in zip(dep["inputs"], inputs, strict=True)],
                "changedPropIds": [f"{i['id']}.{i['property']}" for i in dep["inputs"]],
                "state": [{**s, "value": v} for s, v in zip(dep["state"], state, strict=True)]}
        request = urllib.request.Request(self.url + "/_dash-update-component",
                                         data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:
            data = r.read()
        return json.loads(data)["response"] if data else {}

    def tick(self) -> str:
        """One tick: what the stage shows now, as JSON text ("" when unchanged)."""
        self.ticks += 1
        response = self._post(self.tick_dep, [self.ticks], [self.code, self.session, "en"])
        self.code = response.get("show-id", {}).get("data", self.code)
        return json.dumps(response.get("show-stage", {}))

    def start(self) -> None:
        self._post(self.start_dep, [1], [self.code])


def run_show(url: str, redis_url: str, prefix: str, phones: int, within: float,
             samples: Path) -> dict[str, Any]:
    screen = Screen(url)
    while screen.code is None:
        screen.tick()
        time.sleep(TICK_S)
    key = f"{prefix}show:show:{screen.code}"
    client = redis.Redis.from_url(redis_url)

    def show() -> Show:
        return Show.from_json(json.loads(client.get(key)))

    result: dict[str, Any] = {}
    crowd = threading.Thread(target=lambda: result.update(run_locust(
        url, "burst", phones, 5.0, 900.0, samples, think="0.5,1", locustfile=LOCUSTFILE,
        extra=("--show-code", screen.code, "--answer-within", f"{within:g}"))))
    crowd.start()
    deadline = time.monotonic() + LOBBY_S
    while show().players < phones and time.monotonic() < deadline:  # every phone in
        screen.tick()
        time.sleep(TICK_S)
    screen.start()
    revealed: dict[int, float] = {}
    while True:
        stage = screen.tick()
        seen = time.time()
        if '"show-final"' in stage:
            break
        found = ROUND.search(stage)
        if '"show-crowd"' in stage and found:
            revealed.setdefault(int(found.group(1)) - 1, seen)
        time.sleep(TICK_S)
    crowd.join()
    played = show()
    delays = []
    for n in range(len(played.rounds)):
        starts = round_start(played, n)
        assert starts is not None
        delays.append(round(revealed[n] - played.question_end(n, starts), 3))
    counters = sum(int(client.get(f"{prefix}show:answered:{screen.code}:{n}") or 0)
                   for n in range(len(played.rounds)))
    return {**result, "code": screen.code, "joined": played.players,
            "reveal_delays_s": delays, "counters": counters,
            "early_rounds": sorted(played.early)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--answer-within", type=float, default=15.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    env = {"DASHBOARD_SHOW_LOBBY_SECONDS": "600", "DASHBOARD_SHOW_ANSWER_SECONDS": "20",
           "DASHBOARD_SHOW_REVEAL_SECONDS": "8", "DASHBOARD_SHOW_MAX_PHONES": "1000"}
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{tmp}/stats.sqlite3"
        with launched(workers=args.workers, env={**env, "DASHBOARD_DATABASE_URL": database},
                      ) as stack:
            wait_ready(stack.url)
            found = run_show(stack.url, stack.settings.redis_url, "beat-the-ai:", args.phones,
                             args.answer_within, Path(tmp) / "samples.json")
        engine = create_engine(database)
        with engine.connect() as conn:
            stored = conn.scalar(select(func.count()).select_from(ShowAnswerRow)
                                 .where(ShowAnswerRow.show_id.startswith(found["code"])))
        engine.dispose()
    kinds = {k: summary(found["samples_ms"].get(k, []),
                        sum(found["failures"].get(k, {}).values())) for k in KINDS}
    report = {"date": time.strftime("%Y-%m-%d"), "phones": args.phones,
              "joined": found["joined"],
              "workers": args.workers, "requests": kinds,
              "answers": {"locked_in": kinds["answer"]["n"], "counters": found["counters"],
                          "database": stored},
              "reveal_delays_s": found["reveal_delays_s"],
              "rounds_ended_early": found["early_rounds"],
              "locust_cpu_s": found["locust_cpu_s"], "wall_s": found["wall_s"],
              "failures": found["failures"]}
    rows = [(k, v["n"], v.get("p50_ms", ""), v.get("p95_ms", ""), v.get("max_ms", ""),
             v["failed"]) for k, v in kinds.items()]
    print(text_table(("request", "n", "p50 ms", "p95 ms", "max ms", "failed"), rows))
    print(f"phones joined: {found['joined']} of {args.phones}")
    print(f"answers: locked in {kinds['answer']['n']}, show counters {found['counters']}, "
          f"database {stored}")
    print(f"reveal after the countdown, per round (s): {found['reveal_delays_s']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
