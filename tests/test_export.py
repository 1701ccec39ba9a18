"""The SavedModel contract: signatures, Grad-CAM, warm-up, and agreement with Keras."""
from __future__ import annotations

import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from model import preprocess
from model.classifier import build_classifier
from model.export import export, load_trained, synthetic_photo
from model.trust import Trust
from model_api import dataset
from model_api.contract import MODEL_NAME, TOP_K, TRUST_ASSET, WARMUP_FILE
from tests.data import COMMITTED_VERSION, committed_build, photo_bytes

NUM_CLASSES = 196
VIEW = preprocess.Shape(192, 352)  # a landscape view, as trained from version 3 on


@pytest.fixture(scope="module")
def fresh_export(tmp_path_factory, data_root, classes):
    """A freshly built (untrained head, seeded) classifier and its export."""
    keras.utils.set_random_seed(7)
    model = build_classifier("lite0", len(classes), VIEW)
    photos = dataset.read_photos(data_root)
    split = dataset.stratified_split(photos)
    version_dir = export(model, classes, split, tmp_path_factory.mktemp("export"), 3)
    return model, version_dir


@pytest.mark.slow
def test_export_reloaded_in_a_fresh_process_agrees_with_keras(fresh_export, data_root, tmp_path):
    model, version_dir = fresh_export
    photos = dataset.read_photos(data_root)[:3]
    blobs = photo_bytes(data_root, photos)
    # One photo as PNG: the served graph decodes PNG as well as JPEG.
    blobs[2] = tf.io.encode_png(tf.io.decode_jpeg(blobs[2], channels=3)).numpy()
    inputs = tmp_path / "inputs.npy"
    np.save(inputs, np.array(blobs, dtype=object), allow_pickle=True)
    script = (
        "import sys, numpy as np, tensorflow as tf\n"
        "serve = tf.saved_model.load(sys.argv[1]).signatures['serving_default']\n"
        "blobs = np.load(sys.argv[2], allow_pickle=True).tolist()\n"
        "out = serve(image_bytes=tf.constant(blobs))\n"
        "np.save(sys.argv[3], out['probabilities'].numpy())\n"
    )
    result = tmp_path / "probabilities.npy"
    subprocess.run([sys.executable, "-c", script, str(version_dir), str(inputs), str(result)],
                   check=True, timeout=300)
    served = np.load(result)
    images = tf.stack([preprocess.load(b, VIEW) for b in blobs])
    expected = tf.nn.softmax(model(images, training=False)).numpy()
    assert served.shape == (3, NUM_CLASSES)
    np.testing.assert_allclose(served, expected, atol=1e-5)


def test_signatures_match_the_contract(served):
    for name in ("serving_default", "gradcam"):
        inputs = served.signatures[name].structured_input_signature[1]
        assert list(inputs) == ["image_bytes"]
        assert inputs["image_bytes"].dtype == tf.string
        assert inputs["image_bytes"].shape.as_list() == [None]
    outputs = served.signatures["serving_default"].structured_outputs
    assert outputs["probabilities"].dtype == tf.float32
    assert outputs["probabilities"].shape.as_list() == [None, NUM_CLASSES]
    assert outputs["top_k_classes"].dtype == tf.string
    assert outputs["top_k_classes"].shape.as_list() == [None, TOP_K]
    assert outputs["top_k_scores"].shape.as_list() == [None, TOP_K]
    grad = served.signatures["gradcam"].structured_outputs
    assert grad["heatmap"].dtype == tf.float32 and grad["heatmap"].shape.rank == 3
    assert grad["class_index"].dtype == tf.int32
    assert grad["class_name"].dtype == tf.string
    assert grad["top_k_classes"].shape.as_list() == [None, TOP_K]
    assert grad["top_k_scores"].dtype == tf.float32


def test_predictions_and_gradcam_agree_on_real_photos(served, data_root, test_split, classes):
    blobs = tf.constant(photo_bytes(data_root, test_split[:6]))
    pred = served.signatures["serving_default"](image_bytes=blobs)
    grad = served.signatures["gradcam"](image_bytes=blobs)
    probabilities = pred["probabilities"].numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    names = [c.class_name for c in classes]
    top = np.argsort(-probabilities, axis=1)[:, :TOP_K]
    assert [[names[i] for i in row] for row in top] == [
        [c.decode() for c in row] for row in pred["top_k_classes"].numpy()
    ]
    np.testing.assert_allclose(pred["top_k_scores"].numpy(),
                               np.take_along_axis(probabilities, top, axis=1), rtol=1e-5)
    np.testing.assert_array_equal(grad["class_index"].numpy(), top[:, 0])
    assert [n.decode() for n in grad["class_name"].numpy()] == [names[i] for i in top[:, 0]]
    np.testing.assert_array_equal(grad["top_k_classes"].numpy(), pred["top_k_classes"].numpy())
    np.testing.assert_allclose(grad["top_k_scores"].numpy(), pred["top_k_scores"].numpy(),
                               rtol=1e-6)

    heatmap = grad["heatmap"].numpy()
    assert heatmap.shape == (6, preprocess.HEATMAP_GRID, preprocess.HEATMAP_GRID)
    assert heatmap.min() >= 0.0 and heatmap.max() <= 1.0 + 1e-6
    np.testing.assert_allclose(heatmap.max(axis=(1, 2)), 1.0, atol=1e-5)
    assert (heatmap.std(axis=(1, 2)) > 0.05).all(), "heatmaps must not be flat"


def test_undecodable_bytes_are_an_invalid_argument(served):
    with pytest.raises(tf.errors.InvalidArgumentError):
        served.signatures["serving_default"](image_bytes=tf.constant([b"not an image"]))


def test_warmup_records_are_valid_requests_the_model_answers(served):
    from tensorflow_serving.apis import prediction_log_pb2

    path = COMMITTED_VERSION / "assets.extra" / WARMUP_FILE
    logs = [prediction_log_pb2.PredictionLog.FromString(r.numpy())
            for r in tf.data.TFRecordDataset(str(path))]
    assert {log.predict_log.request.model_spec.signature_name for log in logs} == {
        "serving_default", "gradcam"}
    for log in logs:
        request = log.predict_log.request
        assert request.model_spec.name == MODEL_NAME
        blobs = tf.make_ndarray(request.inputs["image_bytes"])
        out = served.signatures[request.model_spec.signature_name](image_bytes=tf.constant(blobs))
        assert next(iter(out.values())).shape[0] == len(blobs)


def test_synthetic_photo_is_a_decodable_jpeg():
    image = tf.io.decode_jpeg(synthetic_photo(seed=3))
    assert image.shape == (224, 224, 3)
    assert synthetic_photo(seed=3) == synthetic_photo(seed=3) != synthetic_photo(seed=4)


def test_reexport_restores_the_trained_weights(served, data_root, test_split, classes):
    """``python -m model.export`` re-exports without training: same weights, same answers."""
    variant, view = committed_build()
    model = load_trained(COMMITTED_VERSION, variant, view, len(classes))
    blobs = photo_bytes(data_root, test_split[:4])
    images = tf.stack([preprocess.load(b, view) for b in blobs])
    expected = served.signatures["serving_default"](image_bytes=tf.constant(blobs))
    trust = COMMITTED_VERSION / "assets" / TRUST_ASSET  # version 2 on: calibrated
    temperature = Trust.load(trust).temperature if trust.exists() else 1.0
    np.testing.assert_allclose(
        tf.nn.softmax(model(images, training=False) / temperature).numpy(),
        expected["probabilities"].numpy(), atol=1e-6)
