"""Request validation and responses; the work itself is in ``explainer.explain``."""
from __future__ import annotations

import asyncio
import base64
import json

import numpy as np
from aiohttp import web

from common.images import PhotoRejected, TooManyPixels
from explainer.explain import Explanation, explain
from explainer.settings import Settings
from model_api.client import ModelClient, ModelError

SETTINGS = web.AppKey("settings", Settings)
MODEL = web.AppKey("model", ModelClient)

# Raw photo bodies; the bytes themselves are checked when decoded, not trusted by type.
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp",
                         "application/octet-stream"})
JSON_SHAPE = ('expected {"b64": "<photo>"} or {"instances": [{"b64": "<photo>"}, ...]}, '
              'each optionally with "heatmap": [[...], ...]')
MAX_HEATMAP_SIDE = 64
MODEL_CHECK_S = 0.5  # how long /health asks the model whether it answers


async def health(request: web.Request) -> web.Response:
    """Always 200, at once, while the explainer runs; says whether the model behind it
    answers. Its liveness never waits on the model: a hung model must not make supervisors
    and the dashboard take the explainer for dead too."""
    try:
        async with asyncio.timeout(MODEL_CHECK_S):
            ready = await request.app[MODEL].ready()
    except TimeoutError:
        ready = False
    return web.json_response({"status": "ok", "model": "ready" if ready else "unavailable"})


async def explain_view(request: web.Request) -> web.Response:
    """``POST /explain``: raw photo → JPEG; ``{"b64"}`` → JSON; ``{"instances"}`` → batch."""
    if request.content_type != "application/json" and request.content_type not in PHOTO_TYPES:
        raise web.HTTPUnsupportedMediaType(
            text=f"unsupported Content-Type {request.content_type!r}: send a photo or JSON")
    body = await request.read()  # 413 beyond client_max_size
    if not body:
        raise web.HTTPBadRequest(text="empty body")
    if request.content_type in PHOTO_TYPES:
        found = await _explain_one(request, body)
        return web.Response(body=found.overlay, content_type="image/jpeg", headers={
            "X-Explained-Class": found.class_name,
            "X-Explained-Class-Index": str(found.class_index),
        })
    payload = _json(body)
    if isinstance(payload, dict) and "instances" in payload:
        batch = _batch(payload["instances"], request.app[SETTINGS])
        return web.json_response({"explanations": [
            {"error": str(e)} if isinstance(e, PhotoRejected) else _as_json(e)
            for e in await _explain(request, [p for p, _ in batch], [h for _, h in batch])
        ]})
    if isinstance(payload, dict) and "b64" in payload:
        return web.json_response(
            _as_json(await _explain_one(request, _photo(payload), _heatmap(payload))))
    raise web.HTTPBadRequest(text=JSON_SHAPE)


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"malformed JSON: {exc}") from exc
    except RecursionError as exc:
        raise web.HTTPBadRequest(text="malformed JSON: nested too deeply") from exc


def _photo(instance: object) -> bytes:
    if not isinstance(instance, dict) or not isinstance(instance.get("b64"), str):
        raise web.HTTPBadRequest(text=JSON_SHAPE)
    try:
        return base64.b64decode(instance["b64"], validate=True)
    except ValueError as exc:  # binascii.Error, or a str that is not ASCII
        raise web.HTTPBadRequest(text=f"invalid base64: {exc}") from exc


def _heatmap(instance: dict) -> np.ndarray | None:
    """The caller's own heatmap, if any: a small 2-D grid of numbers, clipped to [0, 1]."""
    if "heatmap" not in instance:
        return None
    try:
        heatmap = np.asarray(instance["heatmap"], dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise web.HTTPBadRequest(text=f"heatmap must be a 2-D array of numbers: {exc}") from exc
    if (heatmap.ndim != 2 or heatmap.size == 0 or max(heatmap.shape) > MAX_HEATMAP_SIDE
            or not np.isfinite(heatmap).all()):
        raise web.HTTPBadRequest(
            text=f"heatmap must be a finite 2-D array, at most {MAX_HEATMAP_SIDE} per side")
    return np.clip(heatmap, 0.0, 1.0)


def _batch(instances: object, settings: Settings) -> list[tuple[bytes, np.ndarray | None]]:
    if not isinstance(instances, list) or not instances:
        raise web.HTTPBadRequest(text="instances must be a non-empty list")
    if len(instances) > settings.max_batch:
        raise web.HTTPRequestEntityTooLarge(
            settings.max_batch, len(instances),
            text=f"{len(instances)} photos: at most {settings.max_batch} per request")
    return [(_photo(i), _heatmap(i)) for i in instances]


async def _explain(request: web.Request, photos: list[bytes],
                   heatmaps: list[np.ndarray | None]) -> list[Explanation | PhotoRejected]:
    settings = request.app[SETTINGS]
    try:
        return await explain(request.app[MODEL], photos, heatmaps, settings.alpha,
                             settings.jpeg_quality, settings.max_pixels)
    except ModelError as exc:
        # Unreachable (503) and too slow (504) pass through; anything else the model
        # answered is a bad gateway from the caller's point of view.
        error = {503: web.HTTPServiceUnavailable, 504: web.HTTPGatewayTimeout}.get(
            exc.status, web.HTTPBadGateway)
        raise error(text=f"model service: {exc.message}") from exc


async def _explain_one(request: web.Request, photo: bytes,
                       heatmap: np.ndarray | None = None) -> Explanation:
    [found] = await _explain(request, [photo], [heatmap])
    if isinstance(found, TooManyPixels):
        raise web.HTTPRequestEntityTooLarge(request.app[SETTINGS].max_pixels, text=str(found))
    if isinstance(found, PhotoRejected):
        raise web.HTTPUnsupportedMediaType(text=str(found))
    return found


def _as_json(found: Explanation) -> dict:
    model = ({} if found.class_name is None else
             {"class_name": found.class_name, "class_index": found.class_index})
    return {
        **model,
        "overlay": {"b64": base64.b64encode(found.overlay).decode("ascii")},
    }
