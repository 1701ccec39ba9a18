"""The car classifier: the ported EfficientNet-Lite backbone with a 196-way head.

Fine-tuning trains only the last stages (from ``TRAINABLE_FROM`` on, batch norm frozen). The
earlier layers never change, so training can run their output once per augmented photo and
train the top of the network on those cached feature maps (``head_model``).
"""
from __future__ import annotations

import keras

from model.backbone import build_efficientnet_lite

GRADCAM_LAYER = "top_activation"
# The car detector (model/trust.py) reads the features going into this layer, pooled: the
# output of stage 5, general enough to set a cat apart from a car, fine-tuned enough to know
# cars (measured better than stage 4's frozen ones and than the top's, which see cars in all).
DETECTOR_INPUT = "block6a_expand_conv"


def build_classifier(variant: str, num_classes: int, shape: tuple[int, int],
                     dropout: float = 0.3) -> keras.Model:
    """Pretrained backbone (input: the view, ``model.preprocess``) → global average pool →
    dropout → class logits."""
    backbone, unused = build_efficientnet_lite(variant, include_top=False, shape=shape)
    if unused:
        raise ValueError(f"checkpoint tensors left unused: {sorted(unused)}")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(backbone.output)
    x = keras.layers.Dropout(dropout, name="top_dropout")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(backbone.input, logits, name=f"car_classifier_{variant}")


def split_at(model: keras.Model, first_trainable: str) -> tuple[keras.Model, keras.Model]:
    """(frozen trunk, trainable head) sharing the classifier's layers and weights.

    ``first_trainable`` must start a stage with a stride (no skip connection crosses it).
    """
    boundary = model.get_layer(first_trainable).input
    trunk = keras.Model(model.input, boundary, name="trunk")
    head = keras.Model(boundary, model.output, name="head")
    for layer in model.layers:
        layer.trainable = False
    for layer in head.layers:
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
    return trunk, head


def layers_before(head: keras.Model, layer_name: str) -> list[keras.layers.Layer]:
    """The head's layers that come before ``layer_name`` (the earlier, more general ones)."""
    names = [layer.name for layer in head.layers]
    return head.layers[: names.index(layer_name)]


class SlowEarlyAdamW(keras.optimizers.AdamW):
    """AdamW that moves some variables at a fraction of the learning rate.

    Fine-tuning a pretrained stage at the rate a new classifier needs wrecks it within an epoch
    (measured: stage 4 of Lite0 at 1e-3 left the network at chance); its features want small
    steps, the new layers large ones.
    """

    def __init__(self, *args, slow: list[keras.Variable] = (), slow_factor: float = 0.1,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.slow = list(slow)
        self.slow_factor = slow_factor

    def update_step(self, gradient, variable, learning_rate):
        # the backend hands over its own variable; the optimizer's key maps both alike
        if self._var_key(variable) in {self._var_key(v) for v in self.slow}:
            learning_rate = learning_rate * self.slow_factor
        super().update_step(gradient, variable, learning_rate)
