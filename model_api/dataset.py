"""The Stanford Cars photos and labels, and the seeded, class-stratified split.

Photos are never copied into the project: they are read from the data directory given by
``CARS_DATA_DIR`` (default ``../shared/data/stanford-cars`` beside the repository).
"""
from __future__ import annotations

import csv
import os
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "stanford-cars"
SPLITS = ("train", "val", "test")


def data_dir() -> Path:
    """The photo directory: ``$CARS_DATA_DIR`` or the shared default."""
    path = Path(os.environ.get("CARS_DATA_DIR", DEFAULT_DATA_DIR))
    if not (path / "labels.csv").is_file():
        raise FileNotFoundError(
            f"no Stanford Cars data at {path} (labels.csv missing); set CARS_DATA_DIR"
        )
    return path


@dataclass(frozen=True)
class CarClass:
    class_id: int
    class_name: str
    make: str
    model: str
    year: int


@dataclass(frozen=True)
class Photo:
    file: str
    class_id: int

    @property
    def index(self) -> int:
        """Position of the photo's class in the model's output."""
        return self.class_id - 1


def read_classes(root: Path) -> list[CarClass]:
    """The classes ordered by id: the model's output order."""
    with open(root / "classes.csv", newline="") as f:
        classes = [
            CarClass(int(r["class_id"]), r["class_name"], r["make"], r["model"], int(r["year"]))
            for r in csv.DictReader(f)
        ]
    classes.sort(key=lambda c: c.class_id)
    if [c.class_id for c in classes] != list(range(1, len(classes) + 1)):
        raise ValueError("class ids must run 1..N without gaps")
    return classes


def read_photos(root: Path) -> list[Photo]:
    with open(root / "labels.csv", newline="") as f:
        return [Photo(r["file"], int(r["class_id"])) for r in csv.DictReader(f)]


def stratified_split(
    photos: list[Photo], seed: int = 1234, val: float = 0.10, test: float = 0.15
) -> dict[str, list[Photo]]:
    """Split every class alike, so each split covers all classes; same seed, same split."""
    by_class: dict[int, list[Photo]] = defaultdict(list)
    for photo in sorted(photos, key=lambda p: p.file):
        by_class[photo.class_id].append(photo)
    rng = random.Random(seed)
    split: dict[str, list[Photo]] = {name: [] for name in SPLITS}
    for class_id in sorted(by_class):
        members = by_class[class_id]
        rng.shuffle(members)
        n_test = max(1, round(len(members) * test))
        n_val = max(1, round(len(members) * val)) if len(members) > 2 else 0
        split["test"] += members[:n_test]
        split["val"] += members[n_test : n_test + n_val]
        split["train"] += members[n_test + n_val :]
    return split


def write_split(split: dict[str, list[Photo]], path: Path) -> None:
    """Record which photo went where, so the image server serves exactly the test split."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "class_id", "split"])
        for name in SPLITS:
            for photo in sorted(split[name], key=lambda p: p.file):
                writer.writerow([photo.file, photo.class_id, name])


def read_split(path: Path) -> dict[str, list[Photo]]:
    split: dict[str, list[Photo]] = {name: [] for name in SPLITS}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            split[row["split"]].append(Photo(row["file"], int(row["class_id"])))
    return split


def write_classes(classes: list[CarClass], path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["class_id", "class_name", "make", "model", "year"])
        for c in classes:
            writer.writerow([c.class_id, c.class_name, c.make, c.model, c.year])
