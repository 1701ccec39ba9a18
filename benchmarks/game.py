"""Preparing and starting a game, against the original's sequential pattern (not a test).

    python benchmarks/game.py [--runs 10]

Starts the whole system locally (``python -m stack``, as ``make play`` does, on free ports,
through ``devtools/launcher.py``) and reports, measured side by side in one run:
- time to prepare a game cold (nothing prepared ahead, manifest already read): ours
  (``dashboard.prepare``: the 5 photos downloaded at once, one batched ``:predict`` giving the
  guesses and heatmaps from one forward pass, one batched ``/explain`` drawing them) vs the
  original's pattern (per round: the photo, then ``:predict``, then ``/explain`` of the photo,
  which runs the model again; one call after another); runs alternate between the two;
- "Let's play" → the first photo decoded on screen, in headless Chromium, with games prepared
  ahead: the click and the photo are timed inside the page (``performance.now()``).
Targets: cold ≤ 1 s and ≥ 3× faster than sequential; "Let's play" → photo ≤ 150 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.clients import ExplainerClient, ImageServerClient, Manifest, Services
from dashboard.prepare import prepare_game
from devtools.launcher import launched
from model_api.client import ModelClient
from stack.settings import Settings

ROUNDS = 5
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


async def sequential_game(http: aiohttp.ClientSession, s: Services, manifest: Manifest,
                          explainer_url: str, rng: random.Random) -> None:
    """The original's pattern: one round after another, one call after another."""
    for photo in rng.sample(manifest.photos, ROUNDS):
        data = await s.images.photo(photo.url)
        await s.model.predict([data])
        async with http.post(explainer_url + "/explain", data=data,
                             headers={"Content-Type": "image/jpeg"}) as r:
            assert r.status == 200, await r.text()
            await r.read()


def summary(samples: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(samples), 1),
            "min_ms": round(min(samples), 1), "max_ms": round(max(samples), 1)}


async def prepare_times(settings: Settings, runs: int) -> dict:
    async with aiohttp.ClientSession() as http:
        s = Services(ImageServerClient(http, settings.image_server_url, 30),
                     ModelClient(http, settings.model_url, timeout=30),
                     ExplainerClient(http, settings.explainer_url, 30))
        manifest = await s.images.manifest()
        rng = random.Random(7)
        await prepare_game(s, manifest, ROUNDS, rng)  # warm both paths once
        await sequential_game(http, s, manifest, settings.explainer_url, rng)
        ours, original = [], []
        for _ in range(runs):
            start = time.perf_counter()
            await prepare_game(s, manifest, ROUNDS, rng)
            ours.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            await sequential_game(http, s, manifest, settings.explainer_url, rng)
            original.append((time.perf_counter() - start) * 1000)
    return {
        "prepare_cold_parallel": summary(ours),
        "prepare_cold_sequential_original": summary(original),
        "speedup": round(statistics.median(original) / statistics.median(ours), 1),
    }


def ready_games(settings: Settings) -> int:
    with urllib.request.urlopen(settings.dashboard_url + "/health", timeout=5) as r:
        return json.load(r)["ready_games"]


CLICK_TO_PHOTO = """() => new Promise(resolve => {
  const start = performance.now();
  const seen = new MutationObserver(() => {
    const photo = document.getElementById('photo');
    if (!photo) return;
    seen.disconnect();
    photo.decode().then(() => resolve(performance.now() - start));
  });
  seen.observe(document.body, {childList: true, subtree: true});
  document.getElementById('play').click();
})"""


def play_to_photo(settings: Settings, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    samples = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for _ in range(runs):
            deadline = time.monotonic() + 30
            while ready_games(settings) < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})  # a new visitor
            page.goto(settings.dashboard_url + "/")
            page.wait_for_selector("#play:not([disabled])")
            page.wait_for_load_state("networkidle")  # a visitor clicks a page that has loaded
            samples.append(page.evaluate(CLICK_TO_PHOTO))
            page.close()
        browser.close()
    return {"lets_play_to_first_photo": summary(samples)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10)
    args = p.parse_args()
    with launched(model_grpc_port=0) as stack:
        report = {"rounds": ROUNDS, **asyncio.run(prepare_times(stack.settings, args.runs)),
                  **play_to_photo(stack.settings, args.runs)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
