"""Back-end services, measured side by side in one run (not a test).

    python benchmarks/services.py [--runs 20]

Starts the local model server and the explainer on free loopback ports, then reports:
- bytes per photo sent to the model: base64 JPEG in a ``:predict`` body vs the original
  project's 224x224x3 JSON floats;
- ``:predict`` latency over HTTP for 1 and 5 photos;
- ``/explain`` latency for 5 photos: one batched call vs 5 separate calls (one after the
  other, as the original did, and concurrently).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import time
from pathlib import Path

import aiohttp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools.servers import explainer, model_server
from model_api import dataset
from model_api.client import predict_body
from model_api.contract import SPLIT_ASSET, newest_version


def original_body_bytes(photo: Path) -> int:
    """The blog's request: the resized photo as nested JSON floats (224x224x3)."""
    import cv2

    image = cv2.resize(cv2.imread(str(photo))[:, :, ::-1], (224, 224)).astype(np.float32) / 255
    return len(json.dumps({"signature_name": "serving_default", "instances": [image.tolist()]}))


async def timed(fn, runs: int) -> dict[str, float]:
    for _ in range(2):
        await fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(samples), 1),
            "p90_ms": round(sorted(samples)[int(0.9 * (len(samples) - 1))], 1)}


async def measure(model_url: str, explainer_url: str, photos: list[bytes], runs: int) -> dict:
    predict_url = f"{model_url}/v1/models/car_classifier:predict"
    async with aiohttp.ClientSession() as s:
        async def post_json(url: str, body: dict) -> None:
            async with s.post(url, json=body) as r:
                assert r.status == 200, await r.text()
                await r.read()

        async def explain_one(photo: bytes) -> None:
            async with s.post(explainer_url + "/explain", data=photo,
                              headers={"Content-Type": "image/jpeg"}) as r:
                assert r.status == 200, await r.text()
                await r.read()

        batch = {"instances": [{"b64": base64.b64encode(p).decode()} for p in photos]}

        async def sequential() -> None:
            for p in photos:
                await explain_one(p)

        async def concurrent() -> None:
            await asyncio.gather(*(explain_one(p) for p in photos))

        one = predict_body(photos[:1], "serving_default")
        five = predict_body(photos, "serving_default")
        return {
            "predict_1_photo": await timed(lambda: post_json(predict_url, one), runs),
            "predict_5_photos": await timed(lambda: post_json(predict_url, five), runs),
            "explain_5_photos_one_call": await timed(
                lambda: post_json(explainer_url + "/explain", batch), runs),
            "explain_5_photos_5_calls_sequential": await timed(sequential, runs),
            "explain_5_photos_5_calls_concurrent": await timed(concurrent, runs),
        }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()
    root = dataset.data_dir()
    pool = dataset.read_split(newest_version() / "assets" / SPLIT_ASSET)["test"]
    files = [root / "images" / ph.file for ph in pool[:5]]
    photos = [f.read_bytes() for f in files]

    ours = [len(json.dumps(predict_body([p], "serving_default"))) for p in photos]
    original = [original_body_bytes(f) for f in files]
    report = {"bytes_per_photo": {
        "b64_jpeg_median": int(statistics.median(ours)),
        "json_floats_224x224x3_median": int(statistics.median(original)),
        "ratio": round(statistics.median(original) / statistics.median(ours), 1),
    }}
    with model_server() as model_url, explainer(model_url) as explainer_url:
        report.update(asyncio.run(measure(model_url, explainer_url, photos, args.runs)))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
