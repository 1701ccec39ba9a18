"""Facts of the served model that other services rely on, importable without TensorFlow."""
from __future__ import annotations

from pathlib import Path

from model_api.dataset import REPO_ROOT

MODEL_NAME = "car_classifier"
DEFAULT_EXPORT_DIR = REPO_ROOT / "model" / "export" / MODEL_NAME
TOP_K = 5
CLASSES_ASSET = "classes.csv"  # in <version>/assets/: the only class list in the project
SPLIT_ASSET = "split.csv"  # in <version>/assets/: train/val/test, the game's pool is "test"
TRUST_ASSET = "trust.npz"  # in <version>/assets/ from version 2: model/trust.py's fit
METRICS_FILE = "metrics.json"  # beside the versions: model.evaluate's figures, the model card
WARMUP_FILE = "tf_serving_warmup_requests"  # in <version>/assets.extra/


def newest_version(export_dir: Path = DEFAULT_EXPORT_DIR) -> Path:
    """The highest numbered version folder: the one TF Serving's default policy serves, so
    the one whose split, classes and figures the pool and the model page follow."""
    versions = [p for p in export_dir.iterdir() if p.name.isdigit() and p.is_dir()]
    if not versions:
        raise FileNotFoundError(f"no model version in {export_dir}")
    return max(versions, key=lambda p: int(p.name))
