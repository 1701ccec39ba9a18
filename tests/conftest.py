"""Shared fixtures: the real photos and the committed SavedModel."""
from __future__ import annotations

from pathlib import Path

import pytest

from model_api import dataset
from model_api.contract import DEFAULT_EXPORT_DIR

COMMITTED_VERSION = DEFAULT_EXPORT_DIR / "1"


@pytest.fixture(scope="session")
def data_root() -> Path:
    return dataset.data_dir()


@pytest.fixture(scope="session")
def classes(data_root: Path) -> list[dataset.CarClass]:
    return dataset.read_classes(data_root)


@pytest.fixture(scope="session")
def test_split() -> list[dataset.Photo]:
    """The game's photo pool, as recorded with the committed model."""
    return dataset.read_split(COMMITTED_VERSION / "assets" / "split.csv")["test"]


@pytest.fixture(scope="session")
def served():
    """The committed SavedModel, loaded once."""
    import tensorflow as tf

    return tf.saved_model.load(str(COMMITTED_VERSION))


def photo_bytes(root: Path, photos: list[dataset.Photo]) -> list[bytes]:
    return [(root / "images" / p.file).read_bytes() for p in photos]


@pytest.fixture(scope="session")
def model_server_url():
    """Base URL of a real local model server (``python -m model.serving``) for the session."""
    from devtools.servers import model_server

    with model_server() as url:
        yield url


@pytest.fixture(scope="session")
def photo_pool_dir(data_root, tmp_path_factory) -> Path:
    """The game's photo pool (the committed model's test split), prepared once."""
    from image_server.pool import prepare_pool

    pool_dir = tmp_path_factory.mktemp("photo_pool")
    prepare_pool(data_root, COMMITTED_VERSION, pool_dir)
    return pool_dir


@pytest.fixture(scope="session")
def image_server_url(photo_pool_dir):
    from devtools.servers import image_server

    with image_server(photo_pool_dir) as url:
        yield url


@pytest.fixture(scope="session")
def explainer_url(model_server_url):
    from devtools.servers import explainer

    with explainer(model_server_url) as url:
        yield url
