"""The game under load, measured with locust: a burst of players and a steady crowd, for one
dashboard worker, four, and four sharing Redis, side by side in one run.

    python benchmarks/load.py [--configs 1-worker,4-workers,4-workers-redis]
                              [--players 150] [--burst-seconds 10]
                              [--steady-players 300] [--steady-seconds 60]
                              [--modes burst,steady] [--json out.json]

For each configuration the whole stack is started as ``make play`` starts it (``python -m
stack`` on free ports, through ``devtools/launcher.py``): 1 dashboard worker; ``PLAY_WORKERS=4
PLAY_REDIS=0`` (the workers share the embedded on-disk store); ``PLAY_WORKERS=4`` (the launcher
runs redis-server as the game store). The load waits until the dashboard's ``/health`` says
that nothing is missing and games are prepared ahead. Then:
- **burst**: ``--players`` players arrive within ``--burst-seconds``, one game each;
- **steady**: ``--steady-players`` players (arriving within ``--burst-seconds``) play games back
  to back for ``--steady-seconds``.
The players are ``benchmarks/locustfile.py``'s: the real Dash callbacks over HTTP, as Chromium's
renderer sends them, with 1-3 s of thinking before every click. Locust runs in its own process
(gevent, one core at most); its CPU time is reported beside the figures, since on a small
machine it competes with the stack for the cores.

Reported per transition ("home", "lets_play", "guess", "result→next", "finish"; "page poll"
for the home page's status ticks): how many, p50/p95/max in ms, the failures (non-2xx,
connection errors and resets, timeouts: the transition fails and that player stops), and how
many landed on a page that waits ("Preparing your game…") before showing theirs; as a table
and, with ``--json``, as JSON. Not a test: nothing is asserted.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.text_table import text_table
from devtools.launcher import descendants, launched

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile.py"
TRANSITIONS = ("home", "lets_play", "guess", "result→next", "finish", "page poll")
CONFIGS = {  # name → (dashboard workers, games in Redis; else the embedded on-disk store)
    "1-worker": (1, False),
    "4-workers": (4, False),
    "4-workers-redis": (4, True),
}
READY_TIMEOUT_S = 180.0
READY_READS = 8  # /health reads in a row that must all say ready (each worker answers some)
BURST_GRACE_S = 300.0  # a burst's players have this long after arriving to finish their game


@contextmanager
def stack_for(config: str) -> Iterator[tuple[str, Callable[[], dict[str, int]]]]:
    """The stack as ``make play`` runs it in ``config`` (``PLAY_WORKERS``, ``PLAY_REDIS``: the
    launcher runs redis-server and hands it to the dashboard): the game's URL, and what shows
    that it runs so (dashboard worker processes, games in Redis)."""
    workers, shared = CONFIGS[config]
    with launched(workers=workers, redis=shared) as stack:
        wait_ready(stack.url)

        def facts() -> dict[str, int]:
            found = {"dashboard_workers": len(descendants(stack.pids()["dashboard"]))}
            if stack.settings.uses_redis:
                found["redis_keys"] = redis.Redis.from_url(stack.settings.redis_url).dbsize()
            return found

        yield stack.url, facts


def health(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/health", timeout=5) as r:
        return json.load(r)


def wait_ready(url: str) -> None:
    """Until ``/health`` says, READY_READS times in a row, that no back-end is missing, games
    are prepared ahead and the model's answers are kept for the whole pool (a stand that has
    been up for a minute: dashboard/output_cache.py)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    in_a_row = 0
    while in_a_row < READY_READS:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}: not ready within {READY_TIMEOUT_S:g} s")
        try:
            h = health(url)
            ready = (not h.get("missing") and h.get("ready_games", 0) > 0
                     and h.get("kept_answers", 0) >= h.get("pool_photos", 1))
        except OSError:
            ready = False
        in_a_row = in_a_row + 1 if ready else 0
        time.sleep(0.25 if ready else 1.0)


def run_locust(url: str, mode: str, players: int, arrive_s: float, run_s: float,
               samples: Path, think: str | None = None, locustfile: Path = LOCUSTFILE,
               extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """One locust run of ``locustfile`` (``extra``: its own options) in its own process; its
    samples and the CPU it used."""
    rate = players / max(arrive_s, 0.001)
    argv = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
            "--only-summary", "--skip-log-setup", "-u", str(players), "-r", f"{rate:.3f}",
            "-t", f"{math.ceil(run_s)}s", "--stop-timeout", "0", "--host", url,
            "--mode", mode, "--samples", str(samples), *(["--think", think] if think else []),
            *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=HERE.parent, capture_output=True, text=True,
                          timeout=run_s + 120)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if not samples.is_file():
        raise SystemExit(f"locust wrote no samples (exit {proc.returncode}):\n"
                         f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result = json.loads(samples.read_text())
    return {**result, "wall_s": round(wall, 1), "locust_cpu_s": round(cpu, 1),
            "locust_cores": round(cpu / wall, 2)}


def summary(samples: list[float], failed: int, waited: int = 0) -> dict[str, Any]:
    """Count, p50/p95/max in ms (nearest rank) of those that succeeded, the failures, and how
    many landed on a waiting page ("Preparing your game…") first."""
    done = sorted(samples)
    if not done:
        return {"n": 0, "failed": failed, "waited": waited}

    def rank(q: float) -> int:
        return round(done[min(len(done) - 1, max(0, math.ceil(q * len(done)) - 1))])

    return {"n": len(done), "p50_ms": rank(0.50), "p95_ms": rank(0.95),
            "max_ms": round(done[-1]), "failed": failed, "waited": waited}


def figures(result: dict[str, Any]) -> dict[str, Any]:
    names = [t for t in TRANSITIONS if t in result["samples_ms"] or t in result["failures"]]
    names += sorted(set(result["failures"]) - set(names))
    return {
        "transitions": {
            name: summary(result["samples_ms"].get(name, []),
                          sum(result["failures"].get(name, {}).values()),
                          result["waited"].get(name, 0))
            for name in names},
        "failures": result["failures"],
        "players_done": result["players_done"],
        "wall_s": result["wall_s"], "locust_cpu_s": result["locust_cpu_s"],
        "locust_cores": result["locust_cores"],
    }


def table(report: dict[str, Any]) -> str:
    head = ("config", "load", "transition", "n", "p50 ms", "p95 ms", "max ms", "failed",
            "waited")
    rows = []
    for config, modes in report["configs"].items():
        for mode, f in modes.items():
            for name, s in f["transitions"].items():
                rows.append((config, mode, name, s["n"], s.get("p50_ms", "—"),
                             s.get("p95_ms", "—"), s.get("max_ms", "—"), s["failed"],
                             s["waited"]))
            rows.append((config, mode, "(locust CPU)", "", "", "", "", "",
                         f"{f['locust_cpu_s']} s in {f['wall_s']} s"))
            rows.append((config, mode, "(stack)", "", "", "", "", "",
                         f"{f['dashboard_workers']} workers"
                         + (f", {f['redis_keys']} Redis keys" if "redis_keys" in f else "")))
    return text_table(head, rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default=",".join(CONFIGS),
                   help=f"comma-separated, of {', '.join(CONFIGS)}")
    p.add_argument("--modes", default="burst,steady", help="burst, steady or both")
    p.add_argument("--players", type=int, default=150, help="the burst's players")
    p.add_argument("--burst-seconds", type=float, default=10.0,
                   help="within which the players arrive")
    p.add_argument("--steady-players", type=int, default=300)
    p.add_argument("--steady-seconds", type=float, default=60.0)
    p.add_argument("--think", help="seconds before each click, 'low,high' (default: the "
                                   "locustfile's 1-3 s)")
    p.add_argument("--json", type=Path, help="write the figures here as JSON too")
    args = p.parse_args()
    configs = [c for c in args.configs.split(",") if c]
    modes = [m for m in args.modes.split(",") if m]
    if unknown := set(configs) - set(CONFIGS) or set(modes) - {"burst", "steady"}:
        p.error(f"unknown: {', '.join(sorted(unknown))}")
    report: dict[str, Any] = {
        "settings": {"players": args.players, "burst_seconds": args.burst_seconds,
                     "steady_players": args.steady_players,
                     "steady_seconds": args.steady_seconds, "think_s": args.think,
                     "cpu_cores": os.cpu_count()},
        "configs": {},
    }
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        for config in configs:
            report["configs"][config] = {}
            with stack_for(config) as (url, facts):
                for mode in modes:
                    if mode == "burst":
                        players, run_s = args.players, args.burst_seconds + BURST_GRACE_S
                    else:
                        players, run_s = args.steady_players, args.steady_seconds
                    print(f"{config}: {mode}, {players} players…", file=sys.stderr, flush=True)
                    samples = Path(tmp) / f"{config}-{mode}.json"
                    result = run_locust(url, mode, players, args.burst_seconds, run_s, samples,
                                        args.think)
                    report["configs"][config][mode] = {**figures(result), **facts()}
                    try:
                        wait_ready(url)  # the next load starts from games prepared ahead
                    except RuntimeError as e:
                        print(f"warning: {e}", file=sys.stderr)
    print(table(report))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
