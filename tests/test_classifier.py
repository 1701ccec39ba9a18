"""The classifier's fine-tuning pieces (model/classifier.py): which layers train, and at what
rate."""
from __future__ import annotations

import keras
import numpy as np

from model.classifier import SlowEarlyAdamW, build_classifier, layers_before, split_at


def test_early_layers_move_at_a_fraction_of_the_rate():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    early = keras.layers.Dense(4, name="early")
    late = keras.layers.Dense(4, name="late")
    model = keras.Model(inputs, late(early(inputs)))
    before = [w.numpy().copy() for w in (early.kernel, late.kernel)]
    model.compile(optimizer=SlowEarlyAdamW(1e-2, weight_decay=0.0, slow=early.trainable_weights,
                                           slow_factor=0.1), loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    model.fit(x, x * 3, epochs=1, batch_size=64, verbose=0)  # one step: Adam moves ~lr each
    moved = [np.abs(w.numpy() - b).mean() for w, b in zip((early.kernel, late.kernel), before,
                                                          strict=True)]
    assert 0.05 < moved[0] / moved[1] < 0.2, moved


def test_the_split_trains_the_head_with_batch_norm_frozen():
    model = build_classifier("lite0", 3, (96, 160))
    trunk, head = split_at(model, "block4a_expand_conv")
    assert trunk.output.shape[1:] == (12, 20, 40)  # stage 3's map of a 96 x 160 view
    assert not any(layer.trainable_weights for layer in trunk.layers)
    slow = layers_before(head, "block5a_expand_conv")
    assert [layer.name for layer in slow][1] == "block4a_expand_conv"  # after the input
    assert all(layer.name.startswith("block4") for layer in slow[1:])
    assert not any(isinstance(layer, keras.layers.BatchNormalization) and layer.trainable
                   for layer in head.layers)
    assert head.get_layer("logits").trainable
