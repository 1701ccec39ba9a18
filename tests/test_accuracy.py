"""The committed model's accuracy on the game's photos (its held-out test split)."""
from __future__ import annotations

import json

from model.evaluate import METRICS_FILE, evaluate_photos
from tests.data import COMMITTED_VERSION

# Floors reported in the README; the bar is 80% top-1 and 90% make accuracy.
TOP1_FLOOR = 0.80
MAKE_FLOOR = 0.90


def test_committed_model_meets_the_reported_floor(served, data_root, test_split, classes):
    report = evaluate_photos(served.signatures["serving_default"], data_root, test_split, classes)
    assert report["photos"] == len(test_split) > 1000
    assert report["top1"] >= TOP1_FLOOR
    assert report["make_accuracy"] >= MAKE_FLOOR
    assert report["top5"] > report["top1"]
    recorded = json.loads((COMMITTED_VERSION.parent / METRICS_FILE).read_text())
    for key in ("top1", "top5", "make_accuracy"):
        assert abs(recorded[key] - report[key]) < 0.002, key
