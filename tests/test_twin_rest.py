"""Contract tests: the local model server's REST API as TF Serving 2.x answers it.

Each test names the TF Serving behaviour it pins (tensorflow/serving ``g3doc/api_rest.md``,
``model_servers/http_rest_api_handler.cc``, ``util/json_tensor.cc``). Requests go over real
HTTP to ``python -m model.serving`` on a loopback port, over the committed SavedModel.
"""
from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import time
from collections.abc import Iterator

import aiohttp
import numpy as np
import pytest
from google.protobuf import json_format
from pydantic import ValidationError
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import get_model_metadata_pb2

from devtools.ports import free_port
from devtools.servers import start, stop
from model.serving.settings import Settings
from tests.data import FIRST_VERSION, first_version_only, photo_bytes
from tests.hostile import cpu_seconds

pytestmark = pytest.mark.slow  # one real TensorFlow model server for the module

MODEL = "/v1/models/car_classifier"
TIMEOUT_MS = 2000
CONCURRENT = 10  # 64-photo Grad-CAM requests sent at once past the timeout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[subprocess.Popen, str]]:
    """One server with version labels (version 2 is named but never loaded) and a short REST
    timeout: (process, base URL)."""
    models = first_version_only(tmp_path_factory.mktemp("models"))
    port = free_port()
    proc = start("model.serving", {"MODEL_SERVER_HOST": "127.0.0.1",
                                   "MODEL_SERVER_REST_PORT": str(port),
                                   "MODEL_SERVER_GRPC_PORT": "0",
                                   "MODEL_SERVER_VERSION_LABELS": "stable=1,canary=2",
                                   "MODEL_SERVER_MODEL_BASE_PATH": str(models),
                                   "MODEL_SERVER_REST_API_TIMEOUT_IN_MS": str(TIMEOUT_MS)},
                 MODEL, port)
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def url(server) -> str:
    return server[1]


@pytest.fixture(scope="module")
def photos(data_root, test_split) -> list[bytes]:
    return photo_bytes(data_root, test_split[:64])


async def call(method: str, url: str, body=None) -> tuple[int, dict, str]:
    async with aiohttp.ClientSession() as s, s.request(method, url, json=body) as r:
        text = await r.text()
        assert r.content_type == "application/json", text
        return r.status, json.loads(text), text


def b64(blob: bytes) -> dict:
    return {"b64": base64.b64encode(blob).decode()}


# --- 1. base64 as absl's Base64Unescape reads it ------------------------------------------------

@pytest.mark.parametrize("encode", [
    pytest.param(lambda b: base64.encodebytes(b).decode(), id="encodebytes line breaks"),
    pytest.param(lambda b: base64.b64encode(b).decode().rstrip("="), id="no padding"),
    pytest.param(lambda b: " " + base64.encodebytes(b).decode().replace("\n", "\r\n\t"),
                 id="CRLF, tabs, spaces"),
])
async def test_lenient_base64_gives_the_strict_answer(url, photos, encode):
    """TF Serving decodes ``{"b64": ...}`` with ``absl::Base64Unescape``, which skips
    whitespace and accepts missing padding (what ``base64`` and ``encodebytes`` write)."""
    photo = next(p for p in photos if len(p) % 3)  # one whose strict form has padding
    strict = await call("POST", url + MODEL + ":predict", {"instances": [b64(photo)]})
    lenient = await call("POST", url + MODEL + ":predict",
                         {"instances": [{"b64": encode(photo)}]})
    assert strict[0] == lenient[0] == 200
    assert lenient[1] == strict[1]


@pytest.mark.parametrize("text", ["***", "aGVsb", "aGVs=bG8=", "aGVsbG8===", "aGVs-bG8"])
async def test_invalid_base64_stays_a_400(url, text):
    """Characters outside the alphabet, a length no padding can fix, padding mid-string: an
    ``INVALID_ARGUMENT`` (400) in TF Serving too."""
    status, body, _ = await call("POST", url + MODEL + ":predict",
                                 {"instances": [{"b64": text}]})
    assert status == 400 and "base64" in body["error"]


# --- 2. version labels ---------------------------------------------------------------------------

async def test_a_label_serves_its_version(url, photos):
    """``/v1/models/<name>/labels/<label>`` (api_rest.md) for predict, metadata and status,
    with labels from the config's ``version_labels``."""
    body = {"instances": [b64(photos[0])]}
    latest = await call("POST", url + MODEL + ":predict", body)
    labelled = await call("POST", url + MODEL + "/labels/stable:predict", body)
    assert labelled[:2] == (200, latest[1])
    status, meta, _ = await call("GET", url + MODEL + "/labels/stable/metadata")
    assert status == 200 and meta["model_spec"]["version"] == "1"
    # GetModelStatus looks at no label in TF Serving (get_model_status_impl): every version
    for label in ("stable", "nope"):
        status, answer, _ = await call("GET", url + MODEL + f"/labels/{label}")
        assert status == 200 and [v["version"] for v in answer["model_version_status"]] == ["1"]


async def test_unknown_label_and_unloaded_version(url, photos):
    """TF Serving: an undefined label is INVALID_ARGUMENT (400) "Unrecognized servable version
    label"; a label of a version that is not loaded is NOT_FOUND (404), as the version is."""
    body = {"instances": [b64(photos[0])]}
    status, answer, _ = await call("POST", url + MODEL + "/labels/nope:predict", body)
    assert status == 400 and "Unrecognized servable version label: nope" in answer["error"]
    for path in ("/labels/canary:predict", "/versions/2:predict"):
        status, answer, _ = await call("POST", url + MODEL + path, body)
        assert status == 404
        assert answer["error"] == "Servable not found for request: Specific(car_classifier, 2)"
    status, answer, _ = await call("GET", url + MODEL + "/labels/nope/metadata")
    assert status == 400


# --- 3. status codes and paths -------------------------------------------------------------------

@pytest.mark.parametrize("method, path, body, status", [
    # FAILED_PRECONDITION "signature not found" maps to 400 in TF Serving's ToHTTPStatusCode
    ("POST", MODEL + ":predict", {"signature_name": "nope", "instances": [{"b64": "aGk="}]}, 400),
    # a method its handler does not take: "Malformed request", INVALID_ARGUMENT, 400
    ("DELETE", MODEL, None, 400),
    ("PUT", MODEL + ":predict", {"instances": [{"b64": "aGk="}]}, 400),
    ("GET", MODEL + ":predict", None, 400),
    ("POST", MODEL, {"instances": []}, 400),
    ("POST", MODEL + "/metadata", {}, 400),
    # a path under /v1/ that no expression matches
    ("GET", "/v1/models", None, 400),
    ("GET", MODEL + "/versions/x", None, 400),
    ("POST", MODEL + ":explain", {}, 400),
])
async def test_tf_serving_status_codes(url, method, path, body, status):
    got, answer, _ = await call(method, url + path, body)
    assert got == status and answer["error"], answer


async def test_a_predict_signature_refuses_classify_and_regress(url, photos):
    """``:classify`` and ``:regress`` on a predict signature: 400 (TF Serving checks the
    signature's method_name)."""
    for verb in ("classify", "regress"):
        status, answer, _ = await call("POST", url + MODEL + f":{verb}",
                                       {"instances": [b64(photos[0])]})
        assert status == 400 and f"tensorflow/serving/{verb}" in answer["error"]


async def test_paths_are_case_insensitive(url, photos):
    """TF Serving's RE2 expressions are ``(?i)``: any case of the fixed parts works."""
    status, answer, _ = await call("POST", url + "/V1/Models/car_classifier/VERSIONS/1:PREDICT",
                                   {"instances": [b64(photos[0])]})
    assert status == 200 and len(answer["predictions"]) == 1
    assert (await call("GET", url + "/V1/MODELS/car_classifier/Metadata"))[0] == 200
    assert (await call("GET", url + "/v1/Models/car_classifier/Labels/stable"))[0] == 200


# --- 4. metadata -------------------------------------------------------------------------------

async def test_metadata_is_the_saved_models_signature_def_map(url):
    """``GetModelMetadata`` over REST (api_rest.md): the SavedModel's own SignatureDefMap,
    ``__saved_model_init_op`` included, with the graph's tensor names, every field printed,
    and no ``"@type"`` (TF Serving writes the map itself, not an ``Any``)."""
    status, body, _ = await call("GET", url + MODEL + "/metadata")
    assert status == 200
    assert list(body) == ["model_spec", "metadata"]
    assert body["model_spec"] == {"name": "car_classifier", "signature_name": "", "version": "1"}
    assert list(body["metadata"]) == ["signature_def"]
    defs = body["metadata"]["signature_def"]
    assert list(defs) == ["signature_def"]
    signatures = defs["signature_def"]
    assert set(signatures) == {"__saved_model_init_op", "serving_default", "gradcam"}
    default = signatures["serving_default"]
    assert default["inputs"]["image_bytes"]["name"] == "serving_default_image_bytes:0"
    assert default["inputs"]["image_bytes"]["tensor_shape"] == {
        "dim": [{"size": "-1", "name": ""}], "unknown_rank": False}
    assert {k: v["name"] for k, v in default["outputs"].items()} == {
        "probabilities": "StatefulPartitionedCall_1:0",
        "top_k_classes": "StatefulPartitionedCall_1:1",
        "top_k_scores": "StatefulPartitionedCall_1:2"}
    assert default["method_name"] == "tensorflow/serving/predict"
    assert default["defaults"] == {}
    init = signatures["__saved_model_init_op"]["outputs"]["__saved_model_init_op"]
    assert init["name"] == "NoOp" and init["tensor_shape"]["unknown_rank"] is True
    assert "@type" not in json.dumps(body)
    # Parsed back as TF Serving's proto, it is exactly what saved_model.pb holds.
    saved = saved_model_pb2.SavedModel.FromString(
        (FIRST_VERSION / "saved_model.pb").read_bytes())
    expected = get_model_metadata_pb2.SignatureDefMap(
        signature_def=saved.meta_graphs[0].signature_def)
    assert json_format.ParseDict(defs, get_model_metadata_pb2.SignatureDefMap()) == expected


# --- 5. float32 formatting ---------------------------------------------------------------------

async def test_floats_are_written_in_float32_shortest_form(url, photos):
    """json_tensor.cc writes a DT_FLOAT value in float32's shortest round-trip form: ``0.1``,
    never the double ``0.10000000149011612``."""
    status, body, text = await call("POST", url + MODEL + ":predict",
                                    {"instances": [b64(p) for p in photos[:2]]})
    assert status == 200
    numbers = re.findall(r"-?\d+\.\d+(?:e-?\d+)?|\d+e-?\d+", text)
    assert len(numbers) >= 2 * 201
    for literal in numbers:
        single = np.float32(float(literal))
        assert literal == repr(float(str(single))), literal  # nothing shorter, nothing longer
    assert max(len(n.lstrip("-0.").split("e")[0].replace(".", "")) for n in numbers) <= 9


# --- 7. Prometheus metrics ---------------------------------------------------------------------

def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from the exposition text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            got = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if all(got.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_prometheus_metrics_under_tf_serving_names(url, photos):
    """``/monitoring/prometheus/metrics`` (TF Serving's path): ``:tensorflow:serving:
    request_count{model_name,status}`` counts each REST request by its status, the
    ``request_latency`` histogram (microseconds) has ``API``/``entrypoint`` labels, and the
    warm-up and load of the version are recorded."""
    metrics = url + "/monitoring/prometheus/metrics"

    async def scrape() -> str:
        async with aiohttp.ClientSession() as s, s.get(metrics) as r:
            assert r.status == 200 and r.content_type == "text/plain"
            return await r.text()

    before = await scrape()
    for _ in range(3):
        assert (await call("POST", url + MODEL + ":predict",
                           {"instances": [b64(photos[0])]}))[0] == 200
    assert (await call("POST", url + MODEL + ":predict", {"instances": []}))[0] == 400
    after = await scrape()
    count = ":tensorflow:serving:request_count"
    # TF Serving's series names (prometheus-client can only write a counter as ``_total``)
    assert "# TYPE :tensorflow:serving:request_count untyped" in after
    assert "_total" not in after and "_created" not in after
    for status, added in (("OK", 3), ("INVALID_ARGUMENT", 1)):
        assert (sample(after, count, model_name="car_classifier", status=status)
                - sample(before, count, model_name="car_classifier", status=status)) == added
    latency = ":tensorflow:serving:request_latency_count"
    labels = {"model_name": "car_classifier", "API": "Predict", "entrypoint": "REST"}
    assert sample(after, latency, **labels) - sample(before, latency, **labels) == 4
    assert sample(after, ":tensorflow:serving:model_warmup_latency_count", status="OK") == 1
    assert sample(after, ":tensorflow:cc:saved_model:load_attempt_count",
                  status="success") == 1


# --- 8. REST timeout ---------------------------------------------------------------------------

async def test_requests_past_the_rest_timeout_get_504_and_the_worker_goes_on(server, photos):
    """``--rest_api_timeout_in_ms``: a request that takes longer ends with DEADLINE_EXCEEDED,
    which TF Serving's ToHTTPStatusCode makes a 504. Ten 64-photo Grad-CAM requests at once
    queue behind each other on the one model thread: those still queued at the timeout are
    answered then and dropped, so at most the few that started in time are computed (one
    under load, three or four on an idle machine). Counted in the server's CPU time, which
    the suite's other workers do not stretch."""
    proc, url = server
    gradcam = {"signature_name": "gradcam", "instances": [b64(p) for p in photos]}

    async def timed() -> tuple[int, dict, float]:
        started = time.monotonic()
        status, answer, _ = await call("POST", url + MODEL + ":predict", gradcam)
        return status, answer, time.monotonic() - started

    async def served_soon() -> None:
        """Once the batch under way ends, the next Grad-CAM request, queued behind whatever
        is left, is answered (a try that waits past the timeout gets a 504 and is tried
        again)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, answer, _ = await call("POST", url + MODEL + ":predict",
                                           {**gradcam, "instances": [b64(photos[0])]})
            if status == 200:
                assert len(answer["predictions"]) == 1
                return
            assert status == 504, answer
        pytest.fail("the model server answered nothing within 60 s")

    cpu = cpu_seconds(proc.pid)
    await timed()
    await served_soon()
    one = cpu_seconds(proc.pid) - cpu

    cpu = cpu_seconds(proc.pid)
    results = await asyncio.gather(*(timed() for _ in range(CONCURRENT)))
    late = [(answer, elapsed) for status, answer, elapsed in results if status == 504]
    assert {status for status, _, _ in results} <= {200, 504} and late, results
    for answer, elapsed in late:
        assert "Deadline Exceeded" in answer["error"]
        assert TIMEOUT_MS / 1000 <= elapsed < TIMEOUT_MS / 1000 + 1.5, elapsed
    await served_soon()
    ran = (cpu_seconds(proc.pid) - cpu) / one  # in 64-photo batches
    assert ran < CONCURRENT / 2, ran


def test_version_labels_setting(monkeypatch):
    """``MODEL_SERVER_VERSION_LABELS`` as TF Serving's ``version_labels`` map; a malformed one
    stops the server at start, not at the first request."""
    monkeypatch.setenv("MODEL_SERVER_VERSION_LABELS", " stable=1, canary=2 ")
    assert Settings().version_labels == {"stable": 1, "canary": 2}
    for bad in ("stable", "stable=one", "=2"):
        monkeypatch.setenv("MODEL_SERVER_VERSION_LABELS", bad)
        with pytest.raises(ValidationError, match="label=version"):
            Settings()
