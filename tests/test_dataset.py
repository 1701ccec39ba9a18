"""The split: seeded, stratified, disjoint, and the one recorded with the committed model."""
from __future__ import annotations

from collections import Counter

import pytest

from model_api import dataset
from tests.data import COMMITTED_VERSION


def test_split_is_deterministic_disjoint_and_stratified(data_root, classes):
    photos = dataset.read_photos(data_root)
    first = dataset.stratified_split(photos, seed=1234)
    again = dataset.stratified_split(list(reversed(photos)), seed=1234)
    assert first == again
    files = {name: {p.file for p in part} for name, part in first.items()}
    assert not files["train"] & files["test"]
    assert not files["train"] & files["val"]
    assert not files["val"] & files["test"]
    assert sum(len(f) for f in files.values()) == len(photos)
    for name in dataset.SPLITS:
        assert {p.class_id for p in first[name]} == {c.class_id for c in classes}
    per_class = Counter(p.class_id for p in photos)
    test_per_class = Counter(p.class_id for p in first["test"])
    for class_id, n in per_class.items():
        assert abs(test_per_class[class_id] - 0.15 * n) <= 1


def test_another_seed_gives_another_split(data_root):
    photos = dataset.read_photos(data_root)
    a = dataset.stratified_split(photos, seed=1)["test"]
    b = dataset.stratified_split(photos, seed=2)["test"]
    assert {p.file for p in a} != {p.file for p in b}


def test_committed_model_records_the_split_it_was_trained_with(data_root, tmp_path):
    recorded = dataset.read_split(COMMITTED_VERSION / "assets" / "split.csv")
    recomputed = dataset.stratified_split(dataset.read_photos(data_root), seed=1234)
    for name in dataset.SPLITS:
        assert sorted(recorded[name], key=lambda p: p.file) == sorted(
            recomputed[name], key=lambda p: p.file
        )
    dataset.write_split(recomputed, tmp_path / "split.csv")
    assert (tmp_path / "split.csv").read_text() == (
        COMMITTED_VERSION / "assets" / "split.csv"
    ).read_text()


def test_class_list_travels_with_the_model(data_root):
    assert dataset.read_classes(COMMITTED_VERSION / "assets") == dataset.read_classes(data_root)


def test_missing_data_dir_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CARS_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="CARS_DATA_DIR"):
        dataset.data_dir()
