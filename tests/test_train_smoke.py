"""The training command end to end on a handful of real photos, and its resume path."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from model_api import dataset

CLASS_IDS = (14, 3)  # two classes, five photos each

pytestmark = pytest.mark.slow  # TensorFlow trains and exports for real (~30 s)


@pytest.fixture()
def tiny_data(tmp_path, data_root):
    """A data directory with ten real photos (linked, not copied) and the full class list."""
    root = tmp_path / "cars"
    root.mkdir()
    (root / "images").symlink_to(data_root / "images")
    (root / "classes.csv").write_bytes((data_root / "classes.csv").read_bytes())
    with open(data_root / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    kept = [r for c in CLASS_IDS for r in [r for r in rows if int(r["class_id"]) == c][:5]]
    with open(root / "labels.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    return root


def run_train(tiny_data, tmp_path):
    cmd = [sys.executable, "-m", "model.train", "--epochs", "2", "--views", "2",
           "--input", "96x176", "--batch-size", "4", "--export-dir", str(tmp_path / "export"),
           "--work-dir", str(tmp_path / "work")]
    env = {**os.environ, "CARS_DATA_DIR": str(tiny_data)}
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600,
                            cwd=dataset.REPO_ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def test_training_command_exports_and_evaluates_then_resumes(tiny_data, tmp_path):
    log = run_train(tiny_data, tmp_path)
    assert "features train" in log  # the progress bar
    version = tmp_path / "export" / "1"
    assert (version / "saved_model.pb").is_file()
    assert (version / "assets.extra" / "tf_serving_warmup_requests").is_file()
    split = dataset.read_split(version / "assets" / "split.csv")
    assert [len(split[s]) for s in dataset.SPLITS] == [6, 2, 2]
    metrics = json.loads((tmp_path / "export" / "metrics.json").read_text())
    assert metrics["version"] == 1 and metrics["photos"] == 2
    assert len(metrics["training"]["val_accuracy_by_epoch"]) == 2
    assert 0.0 <= metrics["top1"] <= metrics["top5"] <= 1.0
    # what it knows of its own answers is fitted and exported with it (model/trust.py)
    assert (version / "assets" / "trust.npz").is_file()
    assert metrics["trust"]["temperature"] > 0 and "ece_after" in metrics["trust"]
    assert "judging train" in log

    log = run_train(tiny_data, tmp_path)
    assert "reusing cached train features" in log
    assert "features train:" not in log
