"""Accuracy of an exported SavedModel on a list of photos: ``python -m model.evaluate``.

Evaluates the export itself (in-graph decoding included), not the Keras model, so the
figures are those of what is served.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from model import preprocess
from model_api import dataset
from model_api.contract import METRICS_FILE, SPLIT_ASSET, TOP_K, newest_version


def predict_probabilities(serve, files: list[Path], batch: int = 32) -> np.ndarray:
    """``serve``: a loaded export's ``serving_default`` signature."""
    out = []
    for start in tqdm(range(0, len(files), batch), desc="evaluate", unit="batch"):
        photos = [f.read_bytes() for f in files[start : start + batch]]
        out.append(serve(image_bytes=tf.constant(photos))["probabilities"].numpy())
    return np.concatenate(out)


def accuracy_report(probabilities: np.ndarray, labels: np.ndarray,
                    classes: list[dataset.CarClass], files: list[str]) -> dict:
    """Top-1, top-5, make accuracy (of the top-1 class, as the game scores it, and of the
    make with the most summed probability), per-class accuracy, most-confused pairs, and every
    mistake (``files[i]`` is photo i's dataset file) with its top 5 for the model page."""
    makes = sorted({c.make for c in classes})
    make_of = np.array([makes.index(c.make) for c in classes])
    top5 = np.argsort(-probabilities, axis=1)[:, :TOP_K]
    top1 = top5[:, 0]
    make_probs = np.zeros((len(labels), len(makes)))
    np.add.at(make_probs.T, make_of, probabilities.T)
    per_class = {}
    for c in classes:
        mask = labels == c.class_id - 1
        if mask.any():
            per_class[c.class_name] = round(float((top1[mask] == labels[mask]).mean()), 4)
    confusions = Counter(
        (classes[t].class_name, classes[p].class_name)
        for t, p in zip(labels, top1, strict=True) if t != p
    )
    return {
        "photos": len(labels),
        "top1": round(float((top1 == labels).mean()), 4),
        "top5": round(float((top5 == labels[:, None]).any(axis=1).mean()), 4),
        "make_accuracy": round(float((make_of[top1] == make_of[labels]).mean()), 4),
        "make_accuracy_summed": round(
            float((make_probs.argmax(1) == make_of[labels]).mean()), 4),
        "per_class_accuracy": per_class,
        "most_confused": [
            {"true": t, "predicted": p, "count": n} for (t, p), n in confusions.most_common(15)
        ],
        "mistakes": [
            {"file": files[i], "true": classes[labels[i]].class_name,
             "top5": [{"class_name": classes[c].class_name,
                       "score": round(float(probabilities[i, c]), 4)} for c in top5[i]]}
            for i in np.flatnonzero(top1 != labels)
        ],
    }


def evaluate_photos(serve, root: Path, photos: list[dataset.Photo],
                    classes: list[dataset.CarClass]) -> dict:
    probabilities = predict_probabilities(serve, [root / "images" / p.file for p in photos])
    return accuracy_report(probabilities, np.array([p.index for p in photos]), classes,
                           [p.file for p in photos])


def evaluate_export(version_dir: Path, root: Path, photos: list[dataset.Photo],
                    classes: list[dataset.CarClass]) -> dict:
    serve = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    return evaluate_photos(serve, root, photos, classes)


def write_metrics(metrics: dict, version_dir: Path) -> Path:
    """Beside the export (TF Serving ignores non-numeric entries in the model directory).
    ``metrics["training"]`` (see ``model.train``) names the backbone and the view."""
    path = version_dir.parent / METRICS_FILE
    shape = preprocess.Shape.parse(metrics["training"]["args"]["input"])
    metrics = {"version": int(version_dir.name),
               "input_size": {"height": shape.height, "width": shape.width}, **metrics}
    path.write_text(json.dumps(metrics, indent=2) + "\n")
    return path


def main() -> None:
    p = argparse.ArgumentParser(description="Evaluate an export on its recorded test split and "
                                "rewrite its metrics file, keeping the training record in it.")
    p.add_argument("--version-dir", type=Path, default=newest_version())
    args = p.parse_args()
    root = dataset.data_dir()
    classes = dataset.read_classes(args.version_dir / "assets")
    split = dataset.read_split(args.version_dir / "assets" / SPLIT_ASSET)
    recorded = json.loads((args.version_dir.parent / METRICS_FILE).read_text())
    metrics = evaluate_export(args.version_dir, root, split["test"], classes)
    metrics["training"] = recorded["training"]  # only training knows how it was trained
    if "trust" in recorded:  # model.fit_trust's figures for this version
        metrics["trust"] = recorded["trust"]
    write_metrics(metrics, args.version_dir)
    print(json.dumps({k: metrics[k] for k in ("photos", "top1", "top5", "make_accuracy",
                                              "make_accuracy_summed")}))


if __name__ == "__main__":
    main()
