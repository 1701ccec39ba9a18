"""Latency of the exported model's signatures on this machine (not a test).

    python benchmarks/model_latency.py [--runs 30]

Times ``serving_default`` for 1 and 5 photos and ``gradcam`` for 5 photos, each call on real
test-split JPEGs (decoding and resizing included, as served), after warm-up; reports the
median and 90th percentile in milliseconds. Target: 5 photos ≤ 100 ms median for each.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tensorflow as tf

from model_api import dataset
from model_api.contract import newest_version


def timed(fn, blobs: tf.Tensor, runs: int) -> dict[str, float]:
    for _ in range(3):
        fn(image_bytes=blobs)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(image_bytes=blobs)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 1),
            "p90_ms": round(samples[int(0.9 * (len(samples) - 1))], 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--version-dir", type=Path, default=newest_version())
    args = p.parse_args()
    root = dataset.data_dir()
    pool = dataset.read_split(args.version_dir / "assets" / "split.csv")["test"]
    photos = [(root / "images" / ph.file).read_bytes() for ph in pool[:5]]
    model = tf.saved_model.load(str(args.version_dir))
    serve, gradcam = model.signatures["serving_default"], model.signatures["gradcam"]
    report = {
        "cpu_cores": os.cpu_count(),
        "serving_default_1_photo": timed(serve, tf.constant(photos[:1]), args.runs),
        "serving_default_5_photos": timed(serve, tf.constant(photos), args.runs),
        "gradcam_5_photos": timed(gradcam, tf.constant(photos), args.runs),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
