"""Contract tests of the local model server against TF Serving's REST API (api_rest.md).

Every request goes over real HTTP to ``python -m model.serving`` on a loopback port.
"""
from __future__ import annotations

import asyncio
import base64

import aiohttp
import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from model.client import ModelClient, ModelError
from tests.conftest import photo_bytes
from tests.servers import free_port, model_server, start, stop

MODEL = "/v1/models/car_classifier"


def b64(blob: bytes) -> dict:
    return {"b64": base64.b64encode(blob).decode()}


@pytest.fixture(scope="module")
def photos(data_root, test_split) -> list[bytes]:
    return photo_bytes(data_root, test_split[:5])


@pytest.fixture(scope="module")
def expected(served, photos):
    """What the SavedModel itself says about the photos."""
    out = served.signatures["serving_default"](image_bytes=tf.constant(photos))
    return [[c.decode() for c in row] for row in out["top_k_classes"].numpy()]


async def post(url: str, body, raw: bool = False) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as s:
        kwargs = {"data": body} if raw else {"json": body}
        async with s.post(url, **kwargs) as r:
            return r.status, await r.json(content_type=None)


async def get(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return r.status, await r.json(content_type=None)


async def test_status_lists_the_available_version(model_server_url):
    for path in (MODEL, MODEL + "/versions/1"):
        status, body = await get(model_server_url + path)
        assert status == 200
        assert body == {"model_version_status": [{
            "version": "1", "state": "AVAILABLE",
            "status": {"error_code": "OK", "error_message": ""}}]}


@pytest.mark.parametrize("path, wanted", [
    ("/v1/models/other", "Latest(other)"),
    (MODEL + "/versions/2", "Specific(car_classifier, 2)"),
    ("/v1/models/other/metadata", "Latest(other)"),
])
async def test_unknown_model_or_version_is_404(model_server_url, path, wanted):
    status, body = await get(model_server_url + path)
    assert status == 404
    assert wanted in body["error"]


async def test_metadata_describes_both_signatures(model_server_url):
    status, body = await get(model_server_url + MODEL + "/metadata")
    assert status == 200
    assert body["model_spec"] == {"name": "car_classifier", "signature_name": "", "version": "1"}
    defs = body["metadata"]["signature_def"]["signature_def"]
    assert set(defs) == {"serving_default", "gradcam"}
    image = defs["serving_default"]["inputs"]["image_bytes"]
    assert image["dtype"] == "DT_STRING"
    assert image["tensor_shape"]["dim"] == [{"size": "-1", "name": ""}]
    outputs = defs["serving_default"]["outputs"]
    assert outputs["probabilities"]["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in outputs["probabilities"]["tensor_shape"]["dim"]] == ["-1", "196"]
    assert outputs["top_k_classes"]["dtype"] == "DT_STRING"
    assert set(defs["gradcam"]["outputs"]) == {"heatmap", "class_index", "class_name",
                                                "top_k_classes", "top_k_scores"}
    assert defs["gradcam"]["outputs"]["class_index"]["dtype"] == "DT_INT32"


async def test_row_format_with_b64(model_server_url, photos, expected):
    for n in (1, 5):
        status, body = await post(model_server_url + MODEL + ":predict",
                                  {"instances": [b64(p) for p in photos[:n]]})
        assert status == 200
        rows = body["predictions"]
        assert len(rows) == n
        assert set(rows[0]) == {"probabilities", "top_k_classes", "top_k_scores"}
        assert [r["top_k_classes"] for r in rows] == expected[:n]
        assert len(rows[0]["probabilities"]) == 196
        assert abs(sum(rows[0]["probabilities"]) - 1) < 1e-3


async def test_named_instances_and_explicit_version(model_server_url, photos, expected):
    status, body = await post(
        model_server_url + MODEL + "/versions/1:predict",
        {"signature_name": "serving_default",
         "instances": [{"image_bytes": b64(p)} for p in photos[:2]]})
    assert status == 200
    assert [r["top_k_classes"] for r in body["predictions"]] == expected[:2]


async def test_columnar_format(model_server_url, photos, expected):
    for inputs in ({"image_bytes": [b64(p) for p in photos[:3]]}, [b64(p) for p in photos[:3]]):
        status, body = await post(model_server_url + MODEL + ":predict", {"inputs": inputs})
        assert status == 200
        outputs = body["outputs"]
        assert outputs["top_k_classes"] == expected[:3]
        assert np.asarray(outputs["probabilities"]).shape == (3, 196)


async def test_gradcam_signature(model_server_url, photos, expected):
    status, body = await post(model_server_url + MODEL + ":predict",
                              {"signature_name": "gradcam", "instances": [b64(p) for p in photos]})
    assert status == 200
    rows = body["predictions"]
    assert [r["class_name"] for r in rows] == [e[0] for e in expected]
    heatmaps = np.asarray([r["heatmap"] for r in rows])
    assert heatmaps.shape == (5, 7, 7)
    assert heatmaps.min() >= 0 and np.allclose(heatmaps.max(axis=(1, 2)), 1, atol=1e-5)


@pytest.mark.parametrize("body, status, fragment", [
    (b"{not json", 400, "JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (b'{"instances": [], "inputs": []}', 400, "exactly one"),
    (b'{"signature_name": "serving_default"}', 400, "exactly one"),
    (b'{"instances": []}', 400, "non-empty"),
    (b'{"instances": [{"b64": "***"}]}', 400, "base64"),
    (b'{"instances": [{"b64": "aGVsbG8="}]}', 400, "image"),
    (b'{"instances": [{"photo": {"b64": "aGVsbG8="}}]}', 400, "image_bytes"),
    (b'{"instances": [1.5]}', 400, "string"),
    (b'{"signature_name": "nope", "instances": [{"b64": "aGVsbG8="}]}', 404, "nope"),
    (b'{"signature_name": 7, "instances": [1]}', 400, "signature_name"),
])
async def test_bad_requests_get_json_errors_and_the_server_keeps_serving(
        model_server_url, body, status, fragment):
    got, answer = await post(model_server_url + MODEL + ":predict", body, raw=True)
    assert got == status
    assert fragment in answer["error"]
    assert (await get(model_server_url + MODEL))[0] == 200


async def test_unknown_model_predict_is_404(model_server_url, photos):
    status, body = await post(model_server_url + "/v1/models/nope:predict",
                              {"instances": [b64(photos[0])]})
    assert status == 404 and "Latest(nope)" in body["error"]


async def test_concurrent_requests_are_batched_and_isolated(model_server_url, photos, expected):
    """Five requests at once (one of them corrupt): each gets its own, correct answer."""
    bodies = [{"instances": [b64(p)]} for p in photos] + [{"instances": [{"b64": "aGVsbG8="}]}]
    results = await asyncio.gather(*(post(model_server_url + MODEL + ":predict", b)
                                     for b in bodies))
    for (status, body), classes in zip(results[:5], expected, strict=True):
        assert status == 200
        assert body["predictions"][0]["top_k_classes"] == classes
    assert results[5][0] == 400


async def test_the_shared_client_works_against_it(model_server_url, photos, expected):
    async with aiohttp.ClientSession() as session:
        client = ModelClient(session, model_server_url)
        assert await client.ready()
        predictions = await client.predict(photos)
        assert [p.classes for p in predictions] == expected
        assert all(abs(p.scores[0] - max(p.scores)) < 1e-9 for p in predictions)
        cams = await client.gradcam(photos[:2])
        assert [c.class_name for c in cams] == [e[0] for e in expected[:2]]
        assert [c.prediction.classes for c in cams] == expected[:2]
        np.testing.assert_allclose([c.prediction.scores for c in cams],
                                   [p.scores for p in predictions[:2]], rtol=1e-4)
        with pytest.raises(ModelError) as err:
            await client.predict([b"not a photo"])
        assert err.value.status == 400
        down = ModelClient(session, f"http://127.0.0.1:{free_port()}", timeout=2)
        assert not await down.ready()
        with pytest.raises(ModelError) as err:
            await down.predict(photos[:1])
        assert err.value.status == 503


def test_grpc_prediction_service_and_clean_shutdown(photos, expected):
    grpc_port = free_port()
    with model_server(MODEL_SERVER_GRPC_PORT=str(grpc_port)) as url:
        assert url
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            request = predict_pb2.PredictRequest()
            request.model_spec.name = "car_classifier"
            request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto(photos[:2]))
            response = stub.Predict(request, timeout=60)
            classes = tf.make_ndarray(response.outputs["top_k_classes"])
            assert [[c.decode() for c in row] for row in classes] == expected[:2]
            assert response.model_spec.version.value == 1
            request.model_spec.name = "nope"
            with pytest.raises(grpc.RpcError) as err:
                stub.Predict(request, timeout=60)
            assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_sigterm_stops_the_server_cleanly():
    port = free_port()
    proc = start("model.serving", {"MODEL_SERVER_REST_PORT": str(port),
                                   "MODEL_SERVER_HOST": "127.0.0.1",
                                   "MODEL_SERVER_GRPC_PORT": "0"}, MODEL, port)
    assert stop(proc) == 0


async def test_the_client_reports_a_slow_model_as_504(aiohttp_server):
    async def slow(request):
        await asyncio.sleep(5)
        return aiohttp.web.json_response({})

    app = aiohttp.web.Application()
    app.router.add_get(MODEL, slow)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        client = ModelClient(session, str(server.make_url("/")), timeout=0.3)
        with pytest.raises(ModelError) as err:
            await client.status()
        assert err.value.status == 504
