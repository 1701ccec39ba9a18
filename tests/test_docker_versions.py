"""The TF Serving image that docker-compose runs serves the SavedModel that this project's
TensorFlow exported: the image tag (``.env``), the ``tensorflow`` pin (pyproject.toml) and the
version recorded in the committed ``saved_model.pb`` name one release."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from tensorflow.core.protobuf import saved_model_pb2

from tests.data import COMMITTED_VERSION

REPO = Path(__file__).resolve().parent.parent


def env_file() -> dict[str, str]:
    """``.env`` as docker compose reads it: KEY=VALUE lines, # comments."""
    lines = (REPO / ".env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_serving_image_tag_comes_from_one_place():
    image = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["model"]["image"]
    assert image == "tensorflow/serving:${TF_SERVING_VERSION}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", env_file()["TF_SERVING_VERSION"])


def test_the_image_serves_what_this_tensorflow_exported():
    serving = env_file()["TF_SERVING_VERSION"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    [pin] = [d for group in project["optional-dependencies"].values() for d in group
             if re.match(r"tensorflow\s*==", d)]
    assert re.fullmatch(r"tensorflow==(\d+\.\d+)\.\*", pin), pin
    assert serving.startswith(pin.split("==")[1].removesuffix("*")), (serving, pin)
    model = saved_model_pb2.SavedModel()
    model.ParseFromString((COMMITTED_VERSION / "saved_model.pb").read_bytes())
    exported = model.meta_graphs[0].meta_info_def.tensorflow_version
    assert exported.split(".")[:2] == serving.split(".")[:2], (exported, serving)
