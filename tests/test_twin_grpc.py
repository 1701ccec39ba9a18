"""Contract tests: the local model server over gRPC, read as TF Serving's clients read it.

Derived from tensorflow/serving's ``example/resnet_client_grpc.py`` (build the request with
``tf.make_tensor_proto``, ``stub.Predict(request, 10.0)``, read ``float_val``), its gRPC API
(``prediction_service.proto``, ``model_service.proto``) and the status codes of its sources.
One real server (``python -m model.serving``) on loopback ports for the whole module.
"""
from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator

import grpc
import numpy as np
import pytest
import tensorflow as tf
from prometheus_client.parser import text_string_to_metric_families
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from devtools.servers import free_port, start, stop
from tests.data import FIRST_VERSION, first_version_only, photo_bytes

pytestmark = pytest.mark.slow  # one real TensorFlow model server for the module

MODEL = "car_classifier"
StatusCode = grpc.StatusCode


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(gRPC target, REST URL) of a model server whose config labels version 1 "stable"
    (the only one there)."""
    port, grpc_port = free_port(), free_port()
    models = first_version_only(tmp_path_factory.mktemp("models"))
    proc = start("model.serving", {"MODEL_SERVER_HOST": "127.0.0.1",
                                   "MODEL_SERVER_REST_PORT": str(port),
                                   "MODEL_SERVER_GRPC_PORT": str(grpc_port),
                                   "MODEL_SERVER_MODEL_BASE_PATH": str(models),
                                   "MODEL_SERVER_VERSION_LABELS": "stable=1"},
                 f"/v1/models/{MODEL}", port)
    try:
        yield f"127.0.0.1:{grpc_port}", f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def channel(server) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server[0]) as channel:
        yield channel


@pytest.fixture(scope="module")
def stub(channel) -> prediction_service_pb2_grpc.PredictionServiceStub:
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


@pytest.fixture(scope="module")
def photos(data_root, test_split) -> list[bytes]:
    return photo_bytes(data_root, test_split[:5])


@pytest.fixture(scope="module")
def truth(photos) -> dict[str, dict[str, np.ndarray]]:
    """What the SavedModel this server serves (version 1) answers for the photos, per
    signature."""
    images = tf.constant(photos)
    served = tf.saved_model.load(str(FIRST_VERSION))
    return {name: {k: v.numpy() for k, v in served.signatures[name](image_bytes=images).items()}
            for name in ("serving_default", "gradcam")}


def predict_request(photos: list[bytes], signature: str = "serving_default",
                    **spec) -> predict_pb2.PredictRequest:
    """The request as ``resnet_client_grpc.py`` builds it."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.model_spec.signature_name = signature
    for key, value in spec.items():
        if key == "version":
            request.model_spec.version.value = value
        else:
            setattr(request.model_spec, key, value)
    request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto(photos, shape=[len(photos)]))
    return request


def refused(call, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call(request, 10.0)
    return err.value


# --- Predict: typed value fields, as TF Serving fills them -------------------------------------

def test_resnet_client_reads_float_val(server, photos, truth):
    """resnet_client_grpc.py, step by step: its channel, stub, request and 10 s timeout, and
    ``np.argmax(result.outputs[...].float_val)``."""
    data = photos[0]
    channel = grpc.insecure_channel(server[0])
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.model_spec.signature_name = "serving_default"
    request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto(data, shape=[1]))
    result = stub.Predict(request, 10.0)  # 10 secs timeout
    channel.close()
    scores = result.outputs["probabilities"].float_val
    assert np.argmax(scores) == np.argmax(truth["serving_default"]["probabilities"][0])
    assert np.argmax(result.outputs["top_k_scores"].float_val) == 0
    assert (result.model_spec.name, result.model_spec.version.value,
            result.model_spec.signature_name) == (MODEL, 1, "serving_default")


def test_every_output_comes_in_its_typed_field_with_dtype_and_shape(stub, photos, truth):
    result = stub.Predict(predict_request(photos), 10.0)
    expected = truth["serving_default"]
    assert set(result.outputs) == set(expected)
    for name, proto in result.outputs.items():
        assert proto.tensor_content == b"", name
        assert tf.dtypes.as_dtype(proto.dtype) == tf.as_dtype(expected[name].dtype) or (
            proto.dtype == tf.string.as_datatype_enum and expected[name].dtype == object)
        assert [d.size for d in proto.tensor_shape.dim] == list(expected[name].shape)
    np.testing.assert_allclose(np.reshape(result.outputs["probabilities"].float_val, (5, 196)),
                               expected["probabilities"], rtol=1e-5, atol=1e-7)
    assert list(result.outputs["top_k_classes"].string_val) == list(
        expected["top_k_classes"].ravel())
    np.testing.assert_array_equal(tf.make_ndarray(result.outputs["top_k_scores"]),
                                  expected["top_k_scores"])


def test_gradcam_int_val_and_heatmap_float_val(stub, photos, truth):
    """Five Grad-CAM heatmaps in one call: ``class_index.int_val``, ``heatmap.float_val``."""
    stub.Predict(predict_request(photos[:1], "gradcam"), 10.0)  # warm
    started = time.monotonic()
    result = stub.Predict(predict_request(photos, "gradcam"), 10.0)
    elapsed = time.monotonic() - started
    expected = truth["gradcam"]
    assert list(result.outputs["class_index"].int_val) == expected["class_index"].tolist()
    assert result.outputs["class_index"].dtype == tf.int32.as_datatype_enum
    heatmap = result.outputs["heatmap"]
    assert [d.size for d in heatmap.tensor_shape.dim] == [5, 7, 7]
    np.testing.assert_allclose(np.reshape(heatmap.float_val, (5, 7, 7)), expected["heatmap"],
                               atol=1e-5)
    assert list(result.outputs["class_name"].string_val) == expected["class_name"].tolist()
    assert elapsed < 5, f"5 Grad-CAM heatmaps took {elapsed:.2f} s"


# --- output_filter -----------------------------------------------------------------------------

def test_output_filter_returns_only_the_named_outputs(stub, photos, truth):
    request = predict_request(photos[:2], "gradcam")
    request.output_filter.extend(["class_index", "top_k_scores"])
    result = stub.Predict(request, 10.0)
    assert set(result.outputs) == {"class_index", "top_k_scores"}
    assert list(result.outputs["class_index"].int_val) == (
        truth["gradcam"]["class_index"][:2].tolist())


@pytest.mark.parametrize("names, wanted", [
    (["nope"], "output tensor alias not found in signature: nope"),
    (["probabilities", "probabilities"], "duplicate output tensor alias: probabilities"),
])
def test_an_unknown_or_repeated_output_is_invalid_argument(stub, photos, names, wanted):
    request = predict_request(photos[:1])
    request.output_filter.extend(names)
    err = refused(stub.Predict, request)
    assert err.code() == StatusCode.INVALID_ARGUMENT and wanted in err.details()


# --- model_spec: version, version_label, model, signature --------------------------------------

def test_version_and_label_that_exist_are_served(stub, photos, truth):
    top = truth["serving_default"]["top_k_classes"][0].tolist()
    for spec in ({"version": 1}, {"version_label": "stable"}):
        result = stub.Predict(predict_request(photos[:1], **spec), 10.0)
        assert list(result.outputs["top_k_classes"].string_val) == top
        assert result.model_spec.version.value == 1


@pytest.mark.parametrize("spec, code, wanted", [
    ({"version": 2}, StatusCode.NOT_FOUND, "Specific(car_classifier, 2)"),
    ({"version_label": "canary"}, StatusCode.INVALID_ARGUMENT,
     "Unrecognized servable version label: canary"),
    ({"name": "nope"}, StatusCode.NOT_FOUND, "Latest(nope)"),
    ({"signature": "nope"}, StatusCode.FAILED_PRECONDITION,
     'Serving signature key "nope" not found.'),
])
def test_what_the_model_spec_names_and_is_not_there(stub, photos, spec, code, wanted):
    """TF Serving's codes: NOT_FOUND (server_core.cc), INVALID_ARGUMENT for an unknown label,
    FAILED_PRECONDITION for an unknown signature in Predict (predict_util.cc)."""
    err = refused(stub.Predict, predict_request(photos[:1], **spec))
    assert err.code() == code and wanted in err.details(), err.details()


def test_a_request_without_model_spec_is_invalid_argument(stub, photos):
    request = predict_request(photos[:1])
    request.ClearField("model_spec")
    err = refused(stub.Predict, request)
    assert (err.code(), err.details()) == (StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")


# --- GetModelMetadata --------------------------------------------------------------------------

def metadata_request(**spec) -> get_model_metadata_pb2.GetModelMetadataRequest:
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = MODEL
    for key, value in spec.items():
        setattr(request.model_spec, key, value)
    return request


def test_metadata_is_the_saved_models_signature_def_map_in_an_any(stub):
    result = stub.GetModelMetadata(metadata_request(), 10.0)
    assert (result.model_spec.name, result.model_spec.version.value) == (MODEL, 1)
    packed = result.metadata["signature_def"]
    assert packed.type_url == "type.googleapis.com/tensorflow.serving.SignatureDefMap"
    defs = get_model_metadata_pb2.SignatureDefMap()
    assert packed.Unpack(defs)
    saved = saved_model_pb2.SavedModel.FromString(
        (FIRST_VERSION / "saved_model.pb").read_bytes())
    assert dict(defs.signature_def) == dict(saved.meta_graphs[0].signature_def)
    assert set(defs.signature_def) == {"serving_default", "gradcam", "__saved_model_init_op"}
    image = defs.signature_def["serving_default"].inputs["image_bytes"]
    assert image.name == "serving_default_image_bytes:0"


@pytest.mark.parametrize("change, code, wanted", [
    (lambda r: r.ClearField("metadata_field"), StatusCode.INVALID_ARGUMENT,
     "must specify at least one metadata_field"),
    (lambda r: r.metadata_field.append("nope"), StatusCode.INVALID_ARGUMENT,
     "Metadata field nope is not supported"),
    (lambda r: setattr(r.model_spec, "name", "nope"), StatusCode.NOT_FOUND, "Latest(nope)"),
    (lambda r: setattr(r.model_spec.version, "value", 2), StatusCode.NOT_FOUND,
     "Specific(car_classifier, 2)"),
    (lambda r: setattr(r.model_spec, "version_label", "canary"), StatusCode.INVALID_ARGUMENT,
     "Unrecognized servable version label"),
    (lambda r: r.ClearField("model_spec"), StatusCode.INVALID_ARGUMENT, "Missing ModelSpec"),
])
def test_metadata_refusals(stub, change, code, wanted):
    request = metadata_request()
    change(request)
    err = refused(stub.GetModelMetadata, request)
    assert err.code() == code and wanted in err.details(), err.details()


# --- ModelService.GetModelStatus ---------------------------------------------------------------

def test_model_status_as_tf_serving_reports_it(channel):
    """By name, by version, and with a label, which TF Serving's GetModelStatus ignores."""
    status = model_service_pb2_grpc.ModelServiceStub(channel)
    for spec in ({}, {"version": {"value": 1}}, {"version_label": "canary"}):
        request = get_model_status_pb2.GetModelStatusRequest(model_spec={"name": MODEL, **spec})
        (only,) = status.GetModelStatus(request, 5).model_version_status
        assert only.version == 1
        assert only.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
        assert (only.status.error_code, only.status.error_message) == (0, "")


@pytest.mark.parametrize("version, name, wanted", [
    (2, MODEL, "Could not find version 2 of model car_classifier"),
    (None, "nope", "Could not find any versions of model nope"),
])
def test_status_of_what_was_never_loaded_is_not_found(channel, version, name, wanted):
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = name
    if version:
        request.model_spec.version.value = version
    err = refused(model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus, request)
    assert (err.code(), err.details()) == (StatusCode.NOT_FOUND, wanted)


# --- Classify, Regress, MultiInference on predict signatures -----------------------------------

def _task(method: str, name: str = MODEL, signature: str = "") -> inference_pb2.InferenceTask:
    task = inference_pb2.InferenceTask(method_name=f"tensorflow/serving/{method}")
    task.model_spec.name, task.model_spec.signature_name = name, signature
    return task


@pytest.mark.parametrize("call, request_, code, wanted", [
    ("Classify", classification_pb2.ClassificationRequest(), StatusCode.INVALID_ARGUMENT,
     "Expected classification signature method_name to be tensorflow/serving/classify. "
     "Was: tensorflow/serving/predict"),
    ("Regress", regression_pb2.RegressionRequest(), StatusCode.INVALID_ARGUMENT,
     "Expected regression signature method_name to be tensorflow/serving/regress"),
    ("Classify", classification_pb2.ClassificationRequest(model_spec={"name": MODEL,
     "signature_name": "nope"}), StatusCode.INVALID_ARGUMENT,
     "No signature was found with the name: nope"),
    ("Regress", regression_pb2.RegressionRequest(model_spec={"name": "nope"}),
     StatusCode.NOT_FOUND, "Latest(nope)"),
    ("MultiInference", inference_pb2.MultiInferenceRequest(tasks=[_task("classify")]),
     StatusCode.INVALID_ARGUMENT, "Expected classification signature method_name"),
    ("MultiInference", inference_pb2.MultiInferenceRequest(
        tasks=[_task("regress", signature="gradcam")]),
     StatusCode.INVALID_ARGUMENT, "Expected regression signature method_name"),
    ("MultiInference", inference_pb2.MultiInferenceRequest(
        tasks=[_task("classify", signature="nope")]),
     StatusCode.INVALID_ARGUMENT, "Requested signature not found in model graph: nope"),
    ("MultiInference", inference_pb2.MultiInferenceRequest(tasks=[_task("predict")]),
     StatusCode.UNIMPLEMENTED, "Unsupported signature method_name: tensorflow/serving/predict"),
    ("MultiInference", inference_pb2.MultiInferenceRequest(tasks=[_task("classify", "nope")]),
     StatusCode.NOT_FOUND, "Latest(nope)"),
])
def test_classify_regress_multi_inference_are_refused_as_tf_serving_does(
        stub, call, request_, code, wanted):
    if call != "MultiInference" and not request_.model_spec.name:
        request_.model_spec.name = MODEL
    err = refused(getattr(stub, call), request_)
    assert err.code() == code and wanted in err.details(), err.details()


# --- metrics -----------------------------------------------------------------------------------

def _samples(url: str) -> dict[tuple[str, frozenset], float]:
    """The server's metrics: (sample name, its labels) -> value."""
    with urllib.request.urlopen(url + "/monitoring/prometheus/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_grpc_requests_are_counted_with_entrypoint_grpc(server, stub, photos):
    """TF Serving's metric names, API and entrypoint labels, and the status counted."""
    _, url = server
    before = _samples(url)
    stub.Predict(predict_request(photos[:1]), 10.0)
    stub.GetModelMetadata(metadata_request(), 10.0)
    refused(stub.Predict, predict_request(photos[:1], version=2))
    refused(stub.Predict, predict_request(photos[:1], name="nope"))
    after = _samples(url)

    def grew(name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return after.get(key, 0) - before.get(key, 0)

    latency = ":tensorflow:serving:request_latency_count"
    assert grew(latency, model_name=MODEL, API="Predict", entrypoint="GRPC") == 2
    assert grew(latency, model_name=MODEL, API="GetModelMetadata", entrypoint="GRPC") == 1
    count = ":tensorflow:serving:request_count"
    assert grew(count, model_name=MODEL, status="OK") == 2
    assert grew(count, model_name=MODEL, status="NOT_FOUND") == 1
    # a client's own model names never become label values
    assert grew(count, model_name="<unknown>", status="NOT_FOUND") == 1
    assert not any(dict(labels).get("model_name") == "nope" for _, labels in after)
