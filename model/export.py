"""Export the classifier as the SavedModel that TensorFlow Serving (or our local server) serves.

Contract (see docs/architecture.md): input ``image_bytes`` (tf.string [None], encoded photos);
``serving_default`` → ``probabilities``, ``top_k_classes``, ``top_k_scores``;
``gradcam`` → ``heatmap``, ``class_index``, ``class_name``. Decoding and framing run inside
the graph with the same code as training (``model.preprocess``); from version 3 the model sees
a landscape view of the photo and the heatmap comes back on a square grid over the whole photo
(stretch it over the photo as it is). The class list and the data split travel as assets.

With a ``Trust`` (model/trust.py, version 2 on) the probabilities are calibrated and
``serving_default`` also says what the model knows of its answer: ``car_distance`` and
``is_car`` (is it a car photo at all?), ``sure`` (may the exact car be named?), and the make
with the most summed probability (``make``, ``make_score``, ``make_sure``).
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from model import preprocess
from model.classifier import DETECTOR_INPUT, GRADCAM_LAYER, build_classifier
from model.trust import Trust
from model_api import dataset
from model_api.contract import (
    CLASSES_ASSET,
    METRICS_FILE,
    MODEL_NAME,
    SPLIT_ASSET,
    TOP_K,
    TRUST_ASSET,
    WARMUP_FILE,
    newest_version,
)

_IMAGE_BYTES = tf.TensorSpec([None], tf.string, name="image_bytes")


class CarClassifier(tf.Module):
    """The served module: both signatures share one copy of the weights."""

    def __init__(self, model: keras.Model, classes: list[dataset.CarClass],
                 shape: preprocess.Shape, assets: dict[str, Path],
                 trust: Trust | None = None) -> None:
        super().__init__()
        conv = model.get_layer(GRADCAM_LAYER).output
        self.features = keras.Model(model.input, conv)
        self.top = keras.Model(conv, model.output)
        # the car detector's features come out of the same forward pass
        self.both = keras.Model(model.input, [model.get_layer(DETECTOR_INPUT).input, conv])
        self.class_names = tf.constant([c.class_name for c in classes])
        self.shape = shape
        self.assets = {name: tf.saved_model.Asset(str(path)) for name, path in assets.items()}
        self.trust = trust
        if trust is not None:
            makes = sorted({c.make for c in classes})
            self.make_names = tf.constant(makes)
            self.make_of = tf.constant([makes.index(c.make) for c in classes], tf.int32)
            self.temperature = tf.constant(trust.temperature, tf.float32)
            self.feature_mean = tf.constant(trust.feature_mean)
            self.projection = tf.constant(trust.projection)
            self.centres = tf.constant(trust.centres)

    def _views(self, image_bytes: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """The views the model sees, and each photo's height in its view (for the heatmap)."""

        def one(blob: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            image = preprocess.decode(blob)
            return (preprocess.view(image, self.shape),
                    preprocess.photo_height_in_view(image, self.shape))

        return tf.map_fn(one, image_bytes, fn_output_signature=(
            tf.TensorSpec([*self.shape, 3], tf.float32), tf.TensorSpec([], tf.float32)))

    def _images(self, image_bytes: tf.Tensor) -> tf.Tensor:
        return self._views(image_bytes)[0]

    def _top_k(self, logits: tf.Tensor) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        if self.trust is not None:
            logits = logits / self.temperature
        probabilities = tf.nn.softmax(logits)
        top = tf.math.top_k(probabilities, k=TOP_K)
        return probabilities, {
            "top_k_classes": tf.gather(self.class_names, top.indices),
            "top_k_scores": top.values,
        }

    def _judgement(self, stage: tf.Tensor, probabilities: tf.Tensor) -> dict[str, tf.Tensor]:
        """``model.trust``'s formulas in the graph: the distance to the nearest class centre
        of the training photos, and which answers are sure enough to name."""
        trust = self.trust
        z = tf.matmul(tf.reduce_mean(stage, axis=[1, 2]) - self.feature_mean, self.projection)
        squared = (tf.reduce_sum(z * z, axis=1, keepdims=True)
                   - 2 * tf.matmul(z, self.centres, transpose_b=True)
                   + tf.reduce_sum(self.centres * self.centres, axis=1)[None])
        distance = tf.maximum(tf.reduce_min(squared, axis=1), 0.0)
        makes = tf.transpose(tf.math.unsorted_segment_sum(
            tf.transpose(probabilities), self.make_of, tf.shape(self.make_names)[0]))
        make = tf.argmax(makes, axis=1, output_type=tf.int32)
        make_score = tf.gather(makes, make, batch_dims=1)
        return {
            "car_distance": distance,
            "is_car": distance <= trust.car_threshold,
            "sure": tf.reduce_max(probabilities, axis=1) >= trust.sure_threshold,
            "make": tf.gather(self.make_names, make),
            "make_score": make_score,
            "make_sure": make_score >= trust.make_threshold,
        }

    @tf.function(input_signature=[_IMAGE_BYTES])
    def serve(self, image_bytes: tf.Tensor) -> dict[str, tf.Tensor]:
        if self.trust is None:
            conv = self.features(self._images(image_bytes), training=False)
            probabilities, top = self._top_k(self.top(conv, training=False))
            return {"probabilities": probabilities, **top}
        stage, conv = self.both(self._images(image_bytes), training=False)
        probabilities, top = self._top_k(self.top(conv, training=False))
        return {"probabilities": probabilities, **top, **self._judgement(stage, probabilities)}

    @tf.function(input_signature=[_IMAGE_BYTES])
    def gradcam(self, image_bytes: tf.Tensor) -> dict[str, tf.Tensor]:
        """Grad-CAM (Selvaraju et al.) for the top-1 class at the last conv activation.

        The top-5 comes along from the same forward pass, so a client that needs both the
        AI's guesses and where it looked (the game) pays for one pass, not two.
        """
        images, shares = self._views(image_bytes)
        conv = self.features(images, training=False)
        with tf.GradientTape() as tape:
            tape.watch(conv)
            logits = self.top(conv, training=False)
            class_index = tf.argmax(logits, axis=-1, output_type=tf.int32)
            score = tf.gather(logits, class_index, batch_dims=1)
        grads = tape.gradient(score, conv)
        weights = tf.reduce_mean(grads, axis=[1, 2], keepdims=True)
        cam = preprocess.heatmap_on_photo(tf.nn.relu(tf.reduce_sum(conv * weights, axis=-1)),
                                          shares)  # over the whole photo, then scaled to 1
        peak = tf.reduce_max(cam, axis=[1, 2], keepdims=True)
        heatmap = tf.math.divide_no_nan(cam, peak)
        return {
            "heatmap": heatmap,
            "class_index": class_index,
            "class_name": tf.gather(self.class_names, class_index),
            **self._top_k(logits)[1],
        }


def synthetic_photo(size: int = 224, seed: int = 0) -> bytes:
    """A made-up JPEG (colour gradients and noise) for warm-up and tests: no dataset photo."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    image = np.stack([x, y, 1 - x * y], axis=-1) * 200 + rng.uniform(0, 55, (size, size, 3))
    return tf.io.encode_jpeg(tf.constant(image.astype(np.uint8))).numpy()


def write_warmup(version_dir: Path) -> None:
    """TF Serving replays these at load time, so the first visitor never waits for tracing."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    extra = version_dir / "assets.extra"
    extra.mkdir(exist_ok=True)
    with tf.io.TFRecordWriter(str(extra / WARMUP_FILE)) as writer:
        for signature in ("serving_default", "gradcam"):
            for batch in (1, 5):
                request = predict_pb2.PredictRequest(
                    model_spec=model_pb2.ModelSpec(name=MODEL_NAME, signature_name=signature)
                )
                photos = [synthetic_photo(seed=i) for i in range(batch)]
                request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto(photos))
                log = prediction_log_pb2.PredictionLog(
                    predict_log=prediction_log_pb2.PredictLog(request=request)
                )
                writer.write(log.SerializeToString())


def export(model: keras.Model, classes: list[dataset.CarClass],
           split: dict[str, list[dataset.Photo]], export_dir: Path, version: int,
           trust: Trust | None = None) -> Path:
    """Write ``export_dir/<version>/`` atomically (a server never sees half a model)."""
    export_dir = Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp)
        dataset.write_classes(classes, staging / CLASSES_ASSET)
        dataset.write_split(split, staging / SPLIT_ASSET)
        assets = {CLASSES_ASSET: staging / CLASSES_ASSET, SPLIT_ASSET: staging / SPLIT_ASSET}
        if trust is not None:
            trust.save(staging / TRUST_ASSET)
            assets[TRUST_ASSET] = staging / TRUST_ASSET
        module = CarClassifier(model, classes, view_shape(model), assets, trust)
        target = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=export_dir))
        tf.saved_model.save(
            module, str(target),
            signatures={"serving_default": module.serve, "gradcam": module.gradcam},
        )
    write_warmup(target)
    target.chmod(0o755)  # mkdtemp makes it owner-only; a non-root TF Serving must read it
    final = export_dir / str(version)
    if final.exists():
        shutil.rmtree(final)
    target.rename(final)
    return final


def view_shape(model: keras.Model) -> preprocess.Shape:
    """The view a built classifier takes."""
    return preprocess.Shape(*model.input.shape[1:3])


def load_trained(version_dir: Path, variant: str, shape: preprocess.Shape,
                 num_classes: int) -> keras.Model:
    """The Keras classifier with the weights of an existing export, to re-export it (say,
    after a signature change) without training again."""
    model = build_classifier(variant, num_classes, shape)
    conv = model.get_layer(GRADCAM_LAYER).output
    checkpoint = tf.train.Checkpoint(features=keras.Model(model.input, conv),
                                     top=keras.Model(conv, model.output))
    checkpoint.read(str(Path(version_dir) / "variables" / "variables")).expect_partial() \
        .assert_existing_objects_matched()
    return model


def recorded_build(training_args: dict[str, str]) -> tuple[str, preprocess.Shape]:
    """(backbone, view) of a training record (``metrics.json``'s ``training.args``)."""
    if "input" not in training_args:
        raise SystemExit("this version was trained on squashed square photos, before views "
                         "(model/preprocess.py); re-export it with the code it came from "
                         "(versions 1 and 2: commit 9f9c61e)")
    return training_args["variant"], preprocess.Shape.parse(training_args["input"])


def main() -> None:
    p = argparse.ArgumentParser(description="Re-export the newest trained model (version 3 on: "
                                            "a landscape view) with the current signatures "
                                            "(no training).")
    p.add_argument("--version-dir", type=Path, default=newest_version())
    args = p.parse_args()
    source = args.version_dir
    classes = dataset.read_classes(source / "assets")
    split = dataset.read_split(source / "assets" / SPLIT_ASSET)
    recorded = json.loads((source.parent / METRICS_FILE).read_text())
    model = load_trained(source, *recorded_build(recorded["training"]["args"]), len(classes))
    trust = source / "assets" / TRUST_ASSET
    print(export(model, classes, split, source.parent, int(source.name),
                 Trust.load(trust) if trust.exists() else None))


if __name__ == "__main__":
    main()
