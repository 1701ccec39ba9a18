"""Facts of the served model that other services rely on, importable without TensorFlow."""
from __future__ import annotations

from model_api.dataset import REPO_ROOT

MODEL_NAME = "car_classifier"
DEFAULT_EXPORT_DIR = REPO_ROOT / "model" / "export" / MODEL_NAME
TOP_K = 5
CLASSES_ASSET = "classes.csv"  # in <version>/assets/: the only class list in the project
SPLIT_ASSET = "split.csv"  # in <version>/assets/: train/val/test, the game's pool is "test"
METRICS_FILE = "metrics.json"  # beside the versions: model.evaluate's figures, the model card
WARMUP_FILE = "tf_serving_warmup_requests"  # in <version>/assets.extra/
