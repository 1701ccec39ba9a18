"""REST handlers: TF Serving's model status, metadata and predict endpoints."""
from __future__ import annotations

import json

from aiohttp import web

from common.web import json_error
from model.serving import rest_json
from model.serving.batching import Batcher
from model.serving.limits import Limits
from model.serving.servable import Servable, ServingError

SERVABLE = web.AppKey("servable", Servable)
BATCHER = web.AppKey("batcher", Batcher)
LIMITS = web.AppKey("limits", Limits)


def _resolve(request: web.Request) -> Servable:
    servable = request.app[SERVABLE]
    servable.resolve(request.match_info["name"], request.match_info.get("version"))
    return servable


async def status(request: web.Request) -> web.Response:
    try:
        return web.json_response(_resolve(request).status())
    except ServingError as exc:
        return json_error(exc.status, exc.message)


async def metadata(request: web.Request) -> web.Response:
    try:
        return web.json_response(_resolve(request).metadata())
    except ServingError as exc:
        return json_error(exc.status, exc.message)


async def predict(request: web.Request) -> web.Response:
    """Parse, convert and measure the request (``Limits``) before the model sees it."""
    try:
        servable = _resolve(request)
        try:
            body = json.loads(await request.read())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ServingError(400, f"JSON Parse error: {exc}") from exc
        signature = servable.signature(rest_json.signature_name(body))
        inputs, row_format = rest_json.parse_inputs(body, signature)
        tensors = signature.convert_inputs(inputs)
        request.app[LIMITS].check(signature, tensors)
        outputs = await request.app[BATCHER].run(signature, tensors)
        return web.json_response(rest_json.format_outputs(outputs, row_format))
    except ServingError as exc:
        return json_error(exc.status, exc.message)
    except RecursionError:  # parsing or walking thousands of nested arrays
        return json_error(400, "the request's JSON is nested too deeply")
