"""The committed model and its photos, as tests read them: a helper module, so that no test
imports conftest.py (pytest loads that itself, under another name)."""
from __future__ import annotations

from pathlib import Path

from model_api import dataset
from model_api.contract import DEFAULT_EXPORT_DIR

COMMITTED_VERSION = DEFAULT_EXPORT_DIR / "1"


def photo_bytes(root: Path, photos: list[dataset.Photo]) -> list[bytes]:
    """The files of ``photos`` under the dataset at ``root``, as sent over the wire."""
    return [(root / "images" / p.file).read_bytes() for p in photos]
