"""REST handlers: TF Serving's model status, metadata and predict endpoints, each timed and
counted, and bounded by TF Serving's REST timeout."""
from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from common.web import json_error
from model.serving import metrics, rest_json
from model.serving.batching import Batcher
from model.serving.limits import Limits
from model.serving.servable import Servable, ServingError
from model.serving.versions import ModelVersions

VERSIONS = web.AppKey("versions", ModelVersions)
BATCHER = web.AppKey("batcher", Batcher)
LIMITS = web.AppKey("limits", Limits)
TIMEOUT = web.AppKey("timeout", float)

# TF Serving's expressions (http_rest_api_handler.cc), case-insensitive like its RE2 ones.
_SPEC = r"/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
_PREDICT = re.compile(_SPEC + r":(?P<verb>classify|regress|predict)", re.IGNORECASE)
_STATUS = re.compile(_SPEC + r"(?P<metadata>/metadata)?", re.IGNORECASE)

Work = Callable[[web.Request, re.Match], Awaitable[dict]]


def _spec(match: re.Match) -> tuple[str, int | None, str | None]:
    version = match["version"]
    return match["name"], None if version is None else int(version), match["label"]


def _servable(request: web.Request, match: re.Match) -> Servable:
    name, version, label = _spec(match)
    return request.app[VERSIONS].resolve(name, version, label)


async def status(request: web.Request, match: re.Match) -> dict:
    name, version, _ = _spec(match)  # a label is not looked at, as in TF Serving
    return request.app[VERSIONS].status(name, version)


async def metadata(request: web.Request, match: re.Match) -> dict:
    return _servable(request, match).metadata()


async def predict(request: web.Request, match: re.Match) -> dict:
    """Parse, convert and measure the request (``Limits``) before the model sees it."""
    servable = _servable(request, match)
    try:
        body = json.loads(await request.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ServingError(400, f"JSON Parse error: {exc}") from exc
    signature = servable.signature(rest_json.signature_name(body))
    verb = match["verb"].lower()
    if verb != "predict":  # every signature here is a predict one, as TF Serving checks
        raise ServingError(400, f"Expected {verb} signature method_name to be "
                                f"tensorflow/serving/{verb}. Was: tensorflow/serving/predict")
    inputs, row_format = rest_json.parse_inputs(body, signature)
    tensors = signature.convert_inputs(inputs)
    request.app[LIMITS].check(signature, tensors)
    outputs = await request.app[BATCHER].run(signature, tensors)
    return rest_json.format_outputs(outputs, row_format)


def _route(request: web.Request) -> tuple[str, Work, re.Match] | None:
    if request.method == "POST" and (match := _PREDICT.fullmatch(request.path)):
        return "Predict", predict, match
    if request.method == "GET" and (match := _STATUS.fullmatch(request.path)):
        if match["metadata"]:
            return "GetModelMetadata", metadata, match
        return "GetModelStatus", status, match
    return None


async def _answer(request: web.Request, work: Work, match: re.Match) -> web.Response:
    """TF Serving's statuses: its REST timeout is DEADLINE_EXCEEDED (504); the model's worker
    finishes the abandoned batch and goes on with the next."""
    try:
        async with asyncio.timeout(request.app[TIMEOUT]):
            return web.json_response(await work(request, match))
    except ServingError as exc:
        return json_error(exc.status, exc.message)
    except TimeoutError:
        return json_error(504, f"Deadline Exceeded: the request took longer than "
                               f"{request.app[TIMEOUT]:g} s")
    except RecursionError:  # parsing or walking thousands of nested arrays
        return json_error(400, "the request's JSON is nested too deeply")


async def dispatch(request: web.Request) -> web.Response:
    """Every path but the metrics': matched against TF Serving's expressions."""
    route = _route(request)
    if route is None:
        if request.path.lower().startswith("/v1/"):
            return json_error(400, f"Malformed request: {request.method} {request.path[:200]}")
        return json_error(404, "not found")
    api, work, match = route
    started = time.perf_counter()
    response = await _answer(request, work, match)
    # Only this server's model is a label value: client-chosen names would grow the metrics.
    name = match["name"] if match["name"] == request.app[VERSIONS].name else "<unknown>"
    metrics.observe(api, "REST", name, metrics.status_name(response.status),
                    time.perf_counter() - started)
    return response


async def prometheus_metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(metrics.REGISTRY),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})
