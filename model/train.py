"""Train, export and evaluate the car classifier: ``python -m model.train``.

Transfer learning on a 2-core CPU within an hour: the frozen lower layers of the ported
EfficientNet-Lite run once per augmented view of each training photo (cached on disk), then
the last stages, the 1x1 top conv and a new 196-way classifier are fine-tuned on those cached
feature maps with batch norm frozen. Interrupt it at any time: running it again reuses the
cached features and resumes from the last finished epoch. The trained model is exported as
the next version beside the served ones, with what it knows of its own answers
(``model.fit_trust``), and evaluated on the test split.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from model import preprocess
from model.backbone import RESOLUTION
from model.classifier import SlowEarlyAdamW, build_classifier, layers_before, split_at
from model.evaluate import evaluate_export, write_metrics
from model.export import export
from model.fit_trust import fit_for
from model_api import dataset
from model_api.contract import DEFAULT_EXPORT_DIR

log = logging.getLogger("model.train")
DEFAULT_WORK_DIR = dataset.REPO_ROOT / ".cache" / "train"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variant", default="lite0", choices=sorted(RESOLUTION))
    p.add_argument("--input", type=preprocess.Shape.parse, default=preprocess.Shape(192, 352),
                   help="the view the model sees, HEIGHTxWIDTH (model/preprocess.py)")
    p.add_argument("--trainable-from", default="block4a_expand_conv",
                   help="first layer fine-tuned; must open a strided stage or a stage edge")
    p.add_argument("--full-rate-from", default="block5a_expand_conv",
                   help="first layer fine-tuned at the full learning rate; the ones before it "
                        "(from --trainable-from) learn at --slow-factor of it")
    p.add_argument("--slow-factor", type=float, default=0.1)
    p.add_argument("--epochs", type=int, default=22)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--views", type=int, default=8,
                   help="augmented views cached per training photo (plain, mirrored, random "
                        "crops, and from the seventh on zoomed out)")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--limit-per-class", type=int, default=0,
                   help="use at most N photos per class (smoke runs); 0 = all")
    p.add_argument("--export-dir", type=Path, default=DEFAULT_EXPORT_DIR)
    p.add_argument("--version", type=int, default=0,
                   help="the version to write; 0 = the one after the newest in --export-dir")
    p.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR,
                   help="feature cache and resume checkpoints")
    p.add_argument("--fresh", action="store_true", help="ignore cached features and checkpoints")
    return p.parse_args(argv)


def limit_per_class(photos: list[dataset.Photo], limit: int) -> list[dataset.Photo]:
    if not limit:
        return photos
    seen: dict[int, int] = {}
    kept = []
    for photo in photos:
        if seen.get(photo.class_id, 0) < limit:
            kept.append(photo)
            seen[photo.class_id] = seen.get(photo.class_id, 0) + 1
    return kept


ZOOMED_FROM = 6  # views from this one on are zoomed out (the car not filling the frame)


def view_dataset(files: list[str], shape: preprocess.Shape, view: int,
                 seed: int) -> tf.data.Dataset:
    """View 0 is the plain photo, 1 its mirror image, 2-5 random crops, 6+ the plain photo
    zoomed out; every other one mirrored."""

    def load(index, path):
        draw = tf.stack([tf.cast(index, tf.int32), seed + view])
        image = preprocess.decode(tf.io.read_file(path))
        if 2 <= view < ZOOMED_FROM:
            image = preprocess.random_crop(image, draw)
        image = preprocess.view(image, shape)
        if view >= ZOOMED_FROM:
            image = preprocess.zoom_out(image, draw)
        if view % 2 == 1:
            image = tf.image.flip_left_right(image)
        return image

    ds = tf.data.Dataset.from_tensor_slices((tf.range(len(files)), files))
    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)


def cache_features(trunk: keras.Model, files: list[str], views: int, seed: int,
                   cache: Path, label: str, batch: int) -> np.ndarray:
    """Trunk outputs for every view of every photo, [views, n, h, w, c] float16, kept on disk."""
    path = cache / f"{label}.npy"
    shape = (views, len(files), *trunk.output.shape[1:])
    if path.exists() and (cache / f"{label}.done").exists():
        features = np.load(path, mmap_mode="r")
        if features.shape == shape:
            log.info("reusing cached %s features from %s", label, path)
            return features
    features = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=shape)
    run = tf.function(lambda x: trunk(x, training=False))
    with tqdm(total=views * len(files), desc=f"features {label}", unit="photo") as bar:
        for view in range(views):
            start = 0
            shape = preprocess.Shape(*trunk.input.shape[1:3])
            for images in view_dataset(files, shape, view, seed).batch(batch).prefetch(2):
                out = run(images).numpy()
                features[view, start : start + len(out)] = out
                start += len(out)
                bar.update(len(out))
    features.flush()
    (cache / f"{label}.done").touch()
    return np.load(path, mmap_mode="r")


class ViewBatches(keras.utils.PyDataset):
    """Shuffled batches drawing one random cached view of each photo per epoch."""

    def __init__(self, features: np.ndarray, labels: np.ndarray, num_classes: int,
                 batch_size: int, seed: int) -> None:
        super().__init__()
        self.features, self.labels = features, labels
        self.num_classes, self.batch_size = num_classes, batch_size
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self) -> int:
        return int(np.ceil(len(self.labels) / self.batch_size))

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.labels))
        self.views = self.rng.integers(self.features.shape[0], size=len(self.labels))

    def __getitem__(self, i: int):
        idx = np.sort(self.order[i * self.batch_size : (i + 1) * self.batch_size])
        x = np.stack([self.features[v, j] for v, j in zip(self.views[idx], idx, strict=True)])
        return x.astype(np.float32), keras.utils.to_categorical(self.labels[idx], self.num_classes)


def next_version(export_dir: Path) -> int:
    """One after the newest version already there: training never overwrites a served one."""
    versions = [int(p.name) for p in Path(export_dir).iterdir() if p.name.isdigit()] if Path(
        export_dir).is_dir() else []
    return max(versions, default=0) + 1


def run_key(args: argparse.Namespace, split: dict[str, list[dataset.Photo]]) -> str:
    """Cache key: anything that changes the cached features invalidates them."""
    files = ",".join(p.file for p in split["train"] + split["val"])
    raw = f"{args.variant}|{args.input}|{args.trainable_from}|{args.views}|{args.seed}|{files}"
    return hashlib.sha1(raw.encode()).hexdigest()[:12]


def recipe_key(args: argparse.Namespace) -> str:
    """Resume key: a run only resumes the epochs of the same recipe."""
    kept = {k: str(v) for k, v in vars(args).items()
            if k not in ("fresh", "version", "export_dir", "work_dir")}
    return hashlib.sha1(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:12]


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    keras.utils.set_random_seed(args.seed)
    started = time.monotonic()
    root = dataset.data_dir()
    classes = dataset.read_classes(root)
    split = dataset.stratified_split(dataset.read_photos(root), seed=args.seed)
    split = {name: limit_per_class(photos, args.limit_per_class) for name, photos in split.items()}
    log.info("photos: %s", {k: len(v) for k, v in split.items()})

    version = args.version or next_version(args.export_dir)
    model = build_classifier(args.variant, len(classes), args.input)
    trunk, head = split_at(model, args.trainable_from)
    work = args.work_dir / run_key(args, split)
    if args.fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)

    def paths(name: str) -> list[str]:
        return [str(root / "images" / p.file) for p in split[name]]

    train_x = cache_features(trunk, paths("train"), args.views, args.seed, work, "train",
                             args.batch_size)
    val_x = cache_features(trunk, paths("val"), 1, args.seed, work, "val", args.batch_size)
    train_y = np.array([p.index for p in split["train"]])
    val_y = keras.utils.to_categorical([p.index for p in split["val"]], len(classes))

    batches = ViewBatches(train_x, train_y, len(classes), args.batch_size, args.seed)
    steps = len(batches) * args.epochs
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=steps - len(batches), warmup_target=args.learning_rate,
        warmup_steps=len(batches),
    ) if args.epochs > 1 else args.learning_rate
    head.compile(
        optimizer=SlowEarlyAdamW(
            schedule, weight_decay=args.weight_decay, slow_factor=args.slow_factor,
            slow=[w for layer in layers_before(head, args.full_rate_from)
                  for w in layer.trainable_weights]),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True,
                                                  label_smoothing=args.label_smoothing),
        metrics=["accuracy", keras.metrics.TopKCategoricalAccuracy(5, name="top5")],
    )
    history = head.fit(
        batches, epochs=args.epochs, verbose=1,
        validation_data=(np.asarray(val_x[0], np.float32), val_y),
        callbacks=[keras.callbacks.BackupAndRestore(str(work / f"backup-{recipe_key(args)}"))],
    )
    train_minutes = (time.monotonic() - started) / 60

    # what the model knows of its own answers, fitted on photos beside the ones it learned from
    fitted, figures = fit_for(model, split, classes)
    version_dir = export(model, classes, split, args.export_dir, version, fitted)
    metrics = evaluate_export(version_dir, root, split["test"], classes)
    metrics["trust"] = figures
    metrics["training"] = {
        "command": " ".join(["python -m model.train", *(sys.argv[1:] if argv is None else argv)]),
        "args": {**{k: str(v) for k, v in vars(args).items()}, "version": str(version)},
        "photos": {k: len(v) for k, v in split.items()},
        "train_minutes": round(train_minutes, 1),
        "total_minutes": round((time.monotonic() - started) / 60, 1),
        "val_accuracy_by_epoch": [round(a, 4) for a in history.history.get("val_accuracy", [])],
    }
    write_metrics(metrics, version_dir)
    log.info("test: %s", json.dumps({k: metrics[k] for k in ("top1", "top5", "make_accuracy")}))
    return metrics


if __name__ == "__main__":
    main()
