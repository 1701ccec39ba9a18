"""Self-healing under ``make play``, measured: restart times, and visitors while a back-end hangs.

    python benchmarks/resilience.py [--visitors 20] [--rounds 5] [--spacing 5]

Starts the real launcher (``python -m stack`` on free ports, default ``PLAY_*`` supervision
settings, through ``devtools/launcher.py``) and, for each service in turn:
- SIGKILL of its process: seconds until a new process answers its health URL;
- SIGSTOP of its process group (frozen, not dead): seconds until the health-check listener has
  had it replaced and the new one answers. While a back-end is frozen, before it is replaced,
  the home page is measured: ``--visitors`` new visitors at once, ``--rounds`` times
  ``--spacing`` s apart from the freeze on, each loading the home page as Dash's renderer does
  (GET ``/``, ``/_dash-layout``, ``/_dash-dependencies``, then the page callback for ``/`` with
  the session id the layout minted), and as many GETs of ``/health`` alongside. The same load
  with nothing frozen is the baseline.
Prints a table, then the figures as JSON. Not a test: nothing is asserted.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.dash_requests import callback_outputs
from benchmarks.text_table import text_table
from devtools.launcher import SERVICES, Stack, launched

BACKENDS = ("model-server", "image-server", "explainer")
REQUEST_TIMEOUT_S = 10.0  # a visitor who waited this long has given up: counted as failed
SETTLE_S = 7.0  # one health check (every 5 s, 2 s timeout) sees a new process answer


def walk(node: Any) -> dict[str, dict]:
    """Component id → props, for every component of a Dash layout (JSON) with an id."""
    found: dict[str, dict] = {}
    if isinstance(node, list):
        for child in node:
            found.update(walk(child))
    elif isinstance(node, dict) and "props" in node:
        props = node["props"]
        if isinstance(props.get("id"), str):
            found[props["id"]] = props
        found.update(walk(props.get("children")))
    return found


def page_callback(dependencies: list[dict], layout: dict) -> dict | None:
    """The request the renderer sends first: the callback on ``url.pathname`` alone, with
    its state read from the layout (the session id minted for this visitor)."""
    components = walk(layout)
    for dep in dependencies:
        if dep["inputs"] != [{"id": "url", "property": "pathname"}]:
            continue
        return {
            "output": dep["output"],
            "outputs": callback_outputs(dep["output"]),
            "inputs": [{"id": "url", "property": "pathname", "value": "/"}],
            "state": [{**s, "value": components.get(s["id"], {}).get(s["property"])}
                      for s in dep["state"]],
            "changedPropIds": ["url.pathname"],
        }
    return None


async def home(url: str) -> float:
    """One new visitor's home page, as the renderer loads it; seconds (inf if it failed)."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    start = time.perf_counter()
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:  # no connection reused
            async with http.get(url + "/") as r:
                r.raise_for_status()
                await r.read()
            async with http.get(url + "/_dash-layout") as r:
                r.raise_for_status()
                layout = await r.json()
            async with http.get(url + "/_dash-dependencies") as r:
                r.raise_for_status()
                dependencies = await r.json()
            body = page_callback(dependencies, layout)
            if body is None:
                raise RuntimeError("no callback on url.pathname alone in /_dash-dependencies")
            async with http.post(url + "/_dash-update-component", json=body) as r:
                r.raise_for_status()
                await r.read()
    except (aiohttp.ClientError, TimeoutError):
        return float("inf")
    return time.perf_counter() - start


async def health(url: str) -> float:
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    start = time.perf_counter()
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http, \
                http.get(url + "/health") as r:
            await r.read()
    except (aiohttp.ClientError, TimeoutError):
        return float("inf")
    return time.perf_counter() - start


def summary(samples: list[float]) -> dict[str, Any]:
    """Median, 95th percentile and max in ms over those that answered, and how many did not."""
    done = sorted(s for s in samples if s != float("inf"))
    if not done:
        return {"answered": 0, "failed": len(samples)}
    p95 = done[min(len(done) - 1, round(0.95 * (len(done) - 1)))]
    return {"answered": len(done), "failed": len(samples) - len(done),
            "median_ms": round(statistics.median(done) * 1000),
            "p95_ms": round(p95 * 1000), "max_ms": round(done[-1] * 1000)}


async def visitors(url: str, n: int, rounds: int, spacing: float) -> dict[str, Any]:
    """``rounds`` times, ``spacing`` s apart, ``n`` home pages and ``n`` health checks all at
    once."""
    homes, checks, worst = [], [], []
    start = time.monotonic()
    for i in range(rounds):
        await asyncio.sleep(max(0.0, start + i * spacing - time.monotonic()))
        results = await asyncio.gather(*[home(url) for _ in range(n)],
                                       *[health(url) for _ in range(n)])
        homes += results[:n]
        checks += results[n:]
        worst.append(round(max(results) * 1000) if max(results) != float("inf") else None)
    return {"home": summary(homes), "health": summary(checks),
            "slowest_ms_by_round": worst}


def restart_after_kill(stack: Stack, service: str) -> float:
    pid = stack.pids()[service]
    start = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    return stack.wait_replaced(service, pid, 120, since=start)


def replace_after_freeze(stack: Stack, service: str, load: dict[str, int] | None
                         ) -> tuple[float, dict | None, float]:
    """Freeze the service's whole process group; measure the load (if asked) while it is
    frozen; seconds until replaced and answering, the load's figures, and how long after the
    freeze the load was done."""
    pid = stack.pids()[service]
    start = time.monotonic()
    os.killpg(pid, signal.SIGSTOP)
    figures = asyncio.run(visitors(stack.url, **load)) if load else None
    load_done = time.monotonic() - start
    if stack.pids()[service] != pid:
        print(f"warning: {service} was replaced before the load was done", file=sys.stderr)
    return stack.wait_replaced(service, pid, 180, since=start), figures, load_done


def table(report: dict) -> str:
    def cell(figures: dict | None, key: str) -> str:
        if not figures:
            return "—"
        f = figures[key]
        failed = f" ({f['failed']} failed)" if f["failed"] else ""
        return (f"{f['median_ms']}/{f['p95_ms']}/{f['max_ms']}{failed}" if f["answered"]
                else f"all {f['failed']} failed")

    rows = [("nothing (baseline)", "—", "—", cell(report["baseline"], "home"),
             cell(report["baseline"], "health"))]
    for name, r in report["services"].items():
        frozen = r.get("visitors_while_frozen")
        rows.append((name, f"{r['sigkill_to_healthy_s']:.1f}", f"{r['sigstop_to_replaced_s']:.1f}",
                     cell(frozen, "home"), cell(frozen, "health")))
    head = ("service killed / frozen", "SIGKILL → healthy s", "SIGSTOP → replaced s",
            "home page ms (median/p95/max)", "/health ms (median/p95/max)")
    return text_table(head, rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--visitors", type=int, default=20)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--spacing", type=float, default=5.0,
                   help="seconds between rounds; all rounds fall before the 15 s (3 checks "
                        "5 s apart) + 15 s (stop timeout) it takes to replace a frozen service")
    args = p.parse_args()
    load = {"n": args.visitors, "rounds": args.rounds, "spacing": args.spacing}
    with launched() as stack:
        s = stack.settings
        report: dict[str, Any] = {
            "settings": {"health_interval_s": s.health_interval,
                         "health_timeout_s": s.health_timeout,
                         "health_retries": s.health_retries, "stop_timeout_s": s.stop_timeout,
                         "visitors": args.visitors, "rounds": args.rounds,
                         "spacing_s": args.spacing},
            "services": {},
        }
        time.sleep(SETTLE_S)
        asyncio.run(visitors(stack.url, args.visitors, 1, 0))  # warm-up, not counted
        report["baseline"] = asyncio.run(visitors(stack.url, **load))
        for service in SERVICES:
            killed = restart_after_kill(stack, service)
            time.sleep(SETTLE_S)
            replaced, frozen, load_s = replace_after_freeze(
                stack, service, load if service in BACKENDS else None)
            report["services"][service] = {
                "sigkill_to_healthy_s": round(killed, 1),
                "sigstop_to_replaced_s": round(replaced, 1),
                **({"visitors_while_frozen": frozen, "load_done_after_s": round(load_s, 1)}
                   if frozen else {}),
            }
            print(f"{service}: SIGKILL → healthy {killed:.1f} s, SIGSTOP → replaced "
                  f"{replaced:.1f} s", file=sys.stderr, flush=True)
            time.sleep(SETTLE_S)
    print(table(report))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
