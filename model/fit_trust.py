"""Fit what the model knows of its own answers (model/trust.py) for an export's weights and
write them as a new version, e.g. ``python -m model.fit_trust --from-version 3 --version 4``
(``make train`` fits them itself; this re-fits a trained model's).

The classifier runs once over its recorded train, validation and test photos (features and
logits cached in ``.cache/trust/``); the temperature, the car detector and the thresholds are
fitted on the training and validation photos only; the new version is exported beside the old
one (the model server picks it up without a restart) and evaluated on the test split, and
``metrics.json`` is rewritten with the calibration and the detector's figures.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from model import preprocess, trust
from model.classifier import DETECTOR_INPUT
from model.evaluate import evaluate_export, write_metrics
from model.export import export, load_trained, recorded_build, view_shape
from model_api import dataset
from model_api.contract import DEFAULT_EXPORT_DIR, METRICS_FILE, SPLIT_ASSET

CACHE = dataset.REPO_ROOT / ".cache" / "trust"


def features_and_logits(model: keras.Model, files: list[str], label: str,
                        batch: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """The car detector's pooled features and the logits of every photo, as the served graph
    computes them."""
    pooled = keras.ops.mean(model.get_layer(DETECTOR_INPUT).input, axis=(1, 2))
    both = keras.Model(model.input, [pooled, model.output])
    run = tf.function(lambda x: both(x, training=False))
    photos = tf.data.Dataset.from_tensor_slices(files).map(
        lambda path: preprocess.load(tf.io.read_file(path), view_shape(model)),
        num_parallel_calls=tf.data.AUTOTUNE).batch(batch).prefetch(2)
    features, logits = [], []
    with tqdm(total=len(files), desc=f"judging {label}", unit="photo") as bar:
        for images in photos:
            f, z = run(images)
            features.append(f.numpy())
            logits.append(z.numpy())
            bar.update(len(images))
    return np.concatenate(features), np.concatenate(logits)


def cached(model: keras.Model, source: Path, split: dict[str, list[dataset.Photo]],
           name: str) -> tuple[np.ndarray, np.ndarray]:
    """``features_and_logits`` for a split, kept per export (its weights' fingerprint)."""
    key = (source / "fingerprint.pb").read_bytes().hex()[:16] if (
        source / "fingerprint.pb").exists() else source.name
    path = CACHE / f"{key}-{DETECTOR_INPUT}-{name}.npz"
    if path.exists():
        with np.load(path) as saved:
            return saved["features"], saved["logits"]
    root = dataset.data_dir()
    features, logits = features_and_logits(
        model, [str(root / "images" / p.file) for p in split[name]], name)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, features=features, logits=logits)
    return features, logits


def fit_for(model: keras.Model, split: dict[str, list[dataset.Photo]],
            classes: list[dataset.CarClass],
            arrays: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
            ) -> tuple[trust.Trust, dict]:
    """The fit for a trained ``model`` and its figures on the test split (``arrays``: the
    splits' features and logits, computed here unless given)."""
    root = dataset.data_dir()
    arrays = arrays or {name: features_and_logits(
        model, [str(root / "images" / p.file) for p in split[name]], name)
        for name in ("train", "val", "test")}
    labels = {name: np.array([p.index for p in split[name]]) for name in arrays}
    makes = sorted({c.make for c in classes})
    make_of = np.array([makes.index(c.make) for c in classes])
    fitted = trust.fit(arrays["train"][0], labels["train"], arrays["val"][0], arrays["val"][1],
                       labels["val"], make_of)
    figures = trust.report(fitted, *arrays["test"], labels["test"], make_of)
    figures["validation"] = {
        "ece_before": round(trust.expected_calibration_error(
            trust.softmax(arrays["val"][1]), labels["val"]), 4),
        "ece_after": round(trust.expected_calibration_error(
            trust.softmax(arrays["val"][1] / fitted.temperature), labels["val"]), 4)}
    return fitted, figures


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from-version", type=int, required=True,
                   help="the export whose weights to use (version 3 on)")
    p.add_argument("--version", type=int, required=True, help="the version to write")
    p.add_argument("--export-dir", type=Path, default=DEFAULT_EXPORT_DIR)
    args = p.parse_args(argv)
    started = time.monotonic()
    source = args.export_dir / str(args.from_version)
    recorded = json.loads((args.export_dir / METRICS_FILE).read_text())
    classes = dataset.read_classes(source / "assets")
    split = dataset.read_split(source / "assets" / SPLIT_ASSET)
    model = load_trained(source, *recorded_build(recorded["training"]["args"]), len(classes))
    arrays = {name: cached(model, source, split, name) for name in ("train", "val", "test")}
    fitted, figures = fit_for(model, split, classes, arrays)
    version_dir = export(model, classes, split, args.export_dir, args.version, fitted)
    metrics = evaluate_export(version_dir, dataset.data_dir(), split["test"], classes)
    metrics["trust"] = figures
    metrics["trust"]["command"] = " ".join(
        ["python -m model.fit_trust", f"--from-version {args.from_version}",
         f"--version {args.version}"])
    metrics["trust"]["minutes"] = round((time.monotonic() - started) / 60, 1)
    metrics["training"] = recorded["training"]  # the weights' own record
    write_metrics(metrics, version_dir)
    print(json.dumps({k: v for k, v in metrics["trust"].items() if k != "validation"}, indent=1))
    return metrics


if __name__ == "__main__":
    main()
