"""The ImageNet weights port: every tensor used, correctly laid out, and still ImageNet-smart."""
from __future__ import annotations

import pickle
import struct

import numpy as np
import pytest
import tensorflow as tf

from model import checkpoint, preprocess
from model.backbone import RESOLUTION, build_efficientnet_lite, checkpoint_path
from model_api import dataset

# ImageNet-1k indices of road vehicles and their parts (from the standard class list).
VEHICLES = {
    407: "ambulance", 436: "beach wagon", 468: "cab", 479: "car wheel", 511: "convertible",
    555: "fire engine", 569: "garbage truck", 573: "go-kart", 581: "grille", 609: "jeep",
    627: "limousine", 654: "minibus", 656: "minivan", 661: "Model T", 675: "moving van",
    717: "pickup", 734: "police van", 751: "racer", 817: "sports car", 864: "tow truck",
    867: "trailer truck",
}


@pytest.fixture(scope="module")
def imagenet_lite0():
    return build_efficientnet_lite("lite0", include_top=True)


def test_every_checkpoint_tensor_is_consumed(imagenet_lite0):
    model, unused = imagenet_lite0
    assert unused == set()
    state = checkpoint.load_state_dict(checkpoint_path("lite0"))
    assert len(state) == 296
    np.testing.assert_array_equal(
        model.get_layer("stem_conv").get_weights()[0],
        state["_conv_stem.weight"].transpose(2, 3, 1, 0),
    )
    np.testing.assert_array_equal(
        model.get_layer("block6a_dwconv").get_weights()[0],
        state["_blocks.11._depthwise_conv.weight"].transpose(2, 3, 0, 1),
    )
    assert model.get_layer("top_conv").output.shape[-1] == 1280


@pytest.mark.slow
def test_imagenet_head_sees_vehicles_in_car_photos(imagenet_lite0, data_root):
    model, _ = imagenet_lite0
    photos = dataset.read_photos(data_root)[:32]
    images = tf.stack(
        [preprocess.load(tf.io.read_file(str(data_root / "images" / p.file)),
                         preprocess.Shape(RESOLUTION["lite0"], RESOLUTION["lite0"]))
         for p in photos]
    )
    top1 = model(images, training=False).numpy().argmax(axis=1)
    vehicle_share = np.isin(top1, list(VEHICLES)).mean()
    assert vehicle_share >= 0.9, [int(i) for i in top1]


def test_refuses_checkpoints_that_would_run_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        for obj in (checkpoint._MAGIC, 1001, {"little_endian": True}, {"w": Evil()}):
            pickle.dump(obj, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load .*print"):
        checkpoint.load_state_dict(path)


def test_rejects_files_that_are_not_checkpoints(tmp_path):
    path = tmp_path / "noise.pth"
    path.write_bytes(pickle.dumps(42) + struct.pack("<q", 7))
    with pytest.raises(ValueError, match="not a legacy PyTorch checkpoint"):
        checkpoint.load_state_dict(path)
