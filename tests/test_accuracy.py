"""The committed model's accuracy on the game's photos (its held-out test split)."""
from __future__ import annotations

import json

import numpy as np
import tensorflow as tf

from model.evaluate import METRICS_FILE, accuracy_report
from tests.conftest import COMMITTED_VERSION, photo_bytes

# Floors reported in the README; the bar is 80% top-1 and 90% make accuracy.
TOP1_FLOOR = 0.80
MAKE_FLOOR = 0.90


def test_committed_model_meets_the_reported_floor(served, data_root, test_split, classes):
    serve = served.signatures["serving_default"]
    probabilities = np.concatenate([
        serve(image_bytes=tf.constant(photo_bytes(data_root, test_split[i : i + 64])))[
            "probabilities"].numpy()
        for i in range(0, len(test_split), 64)
    ])
    report = accuracy_report(probabilities, np.array([p.index for p in test_split]), classes)
    assert report["photos"] == len(test_split) > 1000
    assert report["top1"] >= TOP1_FLOOR
    assert report["make_accuracy"] >= MAKE_FLOOR
    assert report["top5"] > report["top1"]
    recorded = json.loads((COMMITTED_VERSION.parent / METRICS_FILE).read_text())
    for key in ("top1", "top5", "make_accuracy"):
        assert abs(recorded[key] - report[key]) < 0.002, key
