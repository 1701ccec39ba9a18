"""Request handlers: check the request, answer from the pool loaded at startup."""
from __future__ import annotations

from aiohttp import web

from common.web import json_error
from image_server.conditions import refusal
from image_server.pool import FILE_PATTERN, Pool
from image_server.settings import Settings

POOL = web.AppKey("pool", Pool)
SETTINGS = web.AppKey("settings", Settings)


async def manifest(request: web.Request) -> web.Response:
    """The manifest, revalidated on every use: a restart on a new pool is seen at once."""
    pool = request.app[POOL]
    headers = {"Cache-Control": "no-cache"}
    if any(tag.value in (pool.etag, "*") for tag in request.if_none_match or ()):
        response = web.Response(status=304, headers=headers)
    else:
        response = web.Response(body=pool.manifest, content_type="application/json",
                                charset="utf-8", headers=headers)
    response.etag = pool.etag
    return response


async def model_card(request: web.Request) -> web.Response:
    """The model's evaluation for the model page (read at startup, like the manifest)."""
    card = request.app[POOL].model_card
    if card is None:
        return json_error(404, "no model card: the model was exported without an evaluation")
    return web.Response(body=card, content_type="application/json", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


async def photo(request: web.Request) -> web.StreamResponse:
    """One pool photo; FileResponse adds ETag, Last-Modified, 304s, ranges and HEAD (its
    empty-bodied 412 and 416 are answered in JSON first, by ``refusal``)."""
    pool = request.app[POOL]
    name = request.match_info["file"]
    # Only names listed in the manifest, which are plain file names: no path ever reaches disk.
    if not FILE_PATTERN.fullmatch(name) or name not in pool.files:
        return json_error(404, "no such photo")
    path = pool.photos_dir / name
    try:
        stat = path.stat()  # a local file in the page cache: microseconds
    except OSError:
        return json_error(404, "no such photo")
    if (refused := refusal(request, stat)) is not None:
        return refused
    max_age = request.app[SETTINGS].photo_max_age
    return web.FileResponse(path, headers={
        "Cache-Control": f"public, max-age={max_age}, immutable",
    })


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "photos": len(request.app[POOL].files)})
