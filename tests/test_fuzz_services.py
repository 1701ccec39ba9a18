"""Fuzzing every endpoint of the three back-ends with Hypothesis: bad input never costs a 5xx,
a hang, a non-JSON error or a version banner.

The servers are real (``python -m model.serving`` with gRPC on, ``python -m explainer``,
``python -m image_server``) on loopback, started with a 1 s body timeout so that a request
that announces a body it does not send costs a second, not fifteen. Requests go out as raw
bytes over a socket, so nothing on the client side tidies them up. Examples are derandomized
and no database is kept: every run tries the same inputs.
"""
from __future__ import annotations

import base64
import json
import string
from collections.abc import Iterator

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorflow.core.framework.tensor_pb2 import TensorProto
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from devtools.servers import explainer, free_port, model_server, service
from tests.hostile import raw_request

pytestmark = pytest.mark.slow  # the three back-ends, the TensorFlow model server among them

MODEL = "/v1/models/car_classifier"
SERVER = "beat-the-ai"
FUZZ = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CLIENT_TIMEOUT_S = 10  # a hang fails the test; the servers' own body timeout is 1 s


@pytest.fixture(scope="module")
def grpc_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def services(photo_pool_dir, grpc_port) -> Iterator[dict[str, str]]:
    """Base URL of each service, all three with a 1 s body timeout."""
    with (model_server(MODEL_SERVER_GRPC_PORT=str(grpc_port),
                       MODEL_SERVER_BODY_TIMEOUT="1") as model_url,
          explainer(model_url, EXPLAINER_BODY_TIMEOUT="1") as explainer_url):
        port = free_port()
        env = {"IMAGE_SERVER_HOST": "127.0.0.1", "IMAGE_SERVER_PORT": str(port),
               "IMAGE_SERVER_POOL_DIR": str(photo_pool_dir), "IMAGE_SERVER_BODY_TIMEOUT": "1"}
        with service("image_server", env, "/health", port) as image_url:
            yield {"model": model_url, "explainer": explainer_url, "image": image_url}


@pytest.fixture(scope="module")
def photo_path(photo_pool_dir) -> str:
    return json.loads((photo_pool_dir / "manifest.json").read_text())["photos"][0]["url"]


def check(answer: tuple[int, object, bytes], *, ok: tuple[int, ...] = (),
          method: str = "GET") -> None:
    """No 5xx; an error is JSON ``{"error": ...}`` (a HEAD's has no body to show it); the
    Server header names no version."""
    status, headers, body = answer
    assert status < 500 and (status >= 400 or status in ok), (status, body[:300])
    assert headers["Server"] == SERVER, headers["Server"]
    if status >= 400:
        assert headers.get_content_type() == "application/json", (status, body[:300])
        if method != "HEAD":
            assert isinstance(json.loads(body)["error"], str), body[:300]


def request_bytes(method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: fuzz", *(f"{k}: {v}" for k, v in headers)]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# --- strategies ------------------------------------------------------------------------------

METHODS = st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
                           "PROPFIND", "BREW"])
PATH_CHARS = string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%"
KNOWN_PATHS = [MODEL, MODEL + ":predict", MODEL + "/metadata", MODEL + "/versions/1:predict",
               "/health", "/explain", "/manifest.json", "/photos/", "/"]
PATHS = st.one_of(
    st.sampled_from(KNOWN_PATHS),
    st.tuples(st.sampled_from(KNOWN_PATHS), st.text(PATH_CHARS, max_size=40)).map("".join),
    st.text(PATH_CHARS, max_size=60).map(lambda p: "/" + p),
)
HEADER_VALUE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                     blacklist_characters="\x7f"), max_size=80)
HEADERS = st.lists(st.tuples(st.sampled_from([
    "Content-Type", "Content-Encoding", "Accept", "Accept-Encoding", "Expect", "Range",
    "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since",
    "Connection", "Upgrade", "Cookie", "Origin", "X-Forwarded-For", "X-Fuzz"]), HEADER_VALUE),
    max_size=6)
CONTENT_TYPES = st.sampled_from(["application/json", "image/jpeg", "image/png", "text/plain",
                                 "application/octet-stream", "multipart/form-data", "",
                                 "application/json; charset=utf-16", "image/*"])
B64_JUNK = st.one_of(st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
                     st.text(max_size=20), st.sampled_from(["\u0080", "====", "aGVsbG8", "\x00"]))
JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                        st.integers(min_value=10**30, max_value=10**60), st.text(max_size=20),
                        st.fixed_dictionaries({"b64": B64_JUNK}))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from([
        "instances", "inputs", "signature_name", "b64", "heatmap", "image_bytes", "x"]), inner,
        max_size=4)), max_leaves=20)
JSON_BODIES = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({"instances": st.lists(JSON_VALUES, min_size=1, max_size=5)}),
    st.fixed_dictionaries({"signature_name": st.sampled_from(["gradcam", "serving_default", 7]),
                           "inputs": JSON_VALUES}),
    st.integers(1, 3000).map(lambda depth: json.loads("[" * depth + "]" * depth)
                             if depth < 900 else {"deep": depth}),
).map(lambda v: json.dumps(v).encode())
DEEP_JSON = st.integers(1000, 50_000).map(lambda depth: b"[" * depth + b"]" * depth)
BODIES = st.one_of(JSON_BODIES, DEEP_JSON, st.binary(max_size=512))


# --- every endpoint, structured requests -----------------------------------------------------

@pytest.mark.parametrize("name", ["model", "explainer", "image"])
@FUZZ
@given(method=METHODS, path=PATHS, headers=HEADERS, body=st.one_of(st.just(b""), BODIES))
def test_any_request_gets_json_4xx_or_a_normal_answer(services, name, method, path, headers,
                                                      body):
    """Random methods, paths, headers and bodies on each service. A few are good requests (a
    GET of /health, say): those may succeed; everything else is a JSON 4xx."""
    answer = raw_request(services[name], request_bytes(method, path, headers, body),
                         CLIENT_TIMEOUT_S, method)
    check(answer, ok=(200, 204, 206, 304), method=method)


@FUZZ
@given(body=BODIES, content_type=CONTENT_TYPES, path=st.sampled_from(
    [MODEL + ":predict", MODEL + "/versions/1:predict", "/v1/models/nope:predict"]))
def test_predict_refuses_every_malformed_body(services, body, content_type, path):
    answer = raw_request(services["model"], request_bytes(
        "POST", path, [("Content-Type", content_type)], body), CLIENT_TIMEOUT_S)
    check(answer)


@FUZZ
@given(body=BODIES, content_type=CONTENT_TYPES)
def test_explain_refuses_every_malformed_body(services, body, content_type):
    """The batch form answers junk photos with a per-photo error (200); all else is a 4xx."""
    status, headers, answer = raw_request(services["explainer"], request_bytes(
        "POST", "/explain", [("Content-Type", content_type)], body), CLIENT_TIMEOUT_S)
    check((status, headers, answer), ok=(200,))
    if status == 200:
        assert all("error" in e for e in json.loads(answer)["explanations"])


@FUZZ
@given(headers=st.lists(st.tuples(st.sampled_from(
    ["Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since",
     "If-Unmodified-Since", "Accept-Encoding"]), st.one_of(HEADER_VALUE, st.sampled_from([
         "bytes=0-10", "bytes=-5", "bytes=999999999-", "bytes=5-1", "*", '"x"', 'W/"x"',
         "Mon, 01 Jan 1990 00:00:00 GMT", "Fri, 01 Jan 2100 00:00:00 GMT"]))), max_size=4),
    method=st.sampled_from(["GET", "HEAD"]))
def test_photos_answer_any_conditional_or_range_request(services, photo_path, headers, method):
    answer = raw_request(services["image"], request_bytes(method, photo_path, headers, b""),
                         CLIENT_TIMEOUT_S, method)
    check(answer, ok=(200, 206, 304), method=method)


# --- raw, malformed HTTP ------------------------------------------------------------------------

VALID = b"POST /explain HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" \
        b"Content-Length: 2\r\n\r\n{}"


@st.composite
def mutated(draw) -> bytes:
    """A valid request with a few bytes replaced, inserted or cut, or plain junk."""
    if draw(st.booleans()):
        return draw(st.binary(min_size=1, max_size=300).filter(lambda b: b.strip())) \
            + b"\r\n\r\n"
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["replace", "insert", "cut"]))
        junk = draw(st.binary(min_size=1, max_size=8))
        if action == "replace":
            data[at:at + len(junk)] = junk
        elif action == "insert":
            data[at:at] = junk
        else:
            del data[at:at + len(junk)]
    return bytes(data).rstrip(b"\r\n") + b"\r\n\r\n"


@pytest.mark.parametrize("name", ["model", "explainer", "image"])
@FUZZ
@given(raw=st.one_of(mutated(), st.sampled_from([
    b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Long: " + b"a" * 20_000 + b"\r\n\r\n",
    b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(200)) + b"\r\n",
    b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # a TLS ClientHello
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
])))
def test_malformed_http_gets_a_json_4xx(services, name, raw):
    check(raw_request(services[name], raw, CLIENT_TIMEOUT_S), ok=(200, 404, 405))


# --- gRPC ---------------------------------------------------------------------------------------

TENSORS = st.builds(
    TensorProto,
    dtype=st.one_of(st.sampled_from([0, 1, 3, 7, 9, 10, 20, 101]), st.integers(0, 2**31 - 1)),
    tensor_shape=st.fixed_dictionaries({
        "dim": st.lists(st.fixed_dictionaries({"size": st.one_of(
            st.integers(-2, 600), st.integers(2**40, 2**62))}), max_size=3),
        "unknown_rank": st.booleans()}),
    string_val=st.lists(st.binary(max_size=64), max_size=6),
    tensor_content=st.binary(max_size=64),
    float_val=st.lists(st.floats(width=32), max_size=4),
    int_val=st.lists(st.integers(-(2**31), 2**31 - 1), max_size=4),
)


@FUZZ
@given(tensors=st.dictionaries(st.sampled_from(["image_bytes", "x", ""]), TENSORS, max_size=2),
       model=st.sampled_from(["car_classifier", "nope", ""]),
       signature=st.sampled_from(["", "serving_default", "gradcam", "nope"]),
       version=st.one_of(st.none(), st.integers(0, 2)))
def test_grpc_predict_refuses_every_malformed_tensor(services, grpc_port, tensors, model,
                                                     signature, version):
    """Random dtypes (DT_INVALID, unknown ones), shapes (negative, huge, unknown rank) and
    values: INVALID_ARGUMENT, NOT_FOUND or (an unknown signature, as TF Serving's
    predict_util.cc) FAILED_PRECONDITION with a clean message, never UNKNOWN or INTERNAL."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    for name, tensor in tensors.items():
        request.inputs[name].CopyFrom(tensor)
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        with pytest.raises(grpc.RpcError) as err:
            stub.Predict(request, timeout=CLIENT_TIMEOUT_S)
    assert err.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                                grpc.StatusCode.FAILED_PRECONDITION), \
        (err.value.code(), err.value.details())
    assert not any(word in err.value.details() for word in ("Traceback", "Exception", "<class",
                                                             "Graph execution"))
