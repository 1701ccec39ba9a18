"""App factory: load the model once per process, serve REST (and gRPC), stop cleanly."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from functools import partial

from aiohttp import web

from common.web import error_middleware, read_body_within
from model.serving.batching import Batcher
from model.serving.grpc_service import start_grpc
from model.serving.limits import Limits
from model.serving.routes import setup_routes
from model.serving.servable import Servable
from model.serving.settings import Settings
from model.serving.views import BATCHER, LIMITS, SERVABLE

log = logging.getLogger(__name__)


async def _model_context(settings: Settings, app: web.Application) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    servable = await loop.run_in_executor(
        None, Servable, settings.model_name, settings.model_base_path)
    batcher = Batcher(settings.max_batch_size, settings.batch_timeout_ms)
    app[SERVABLE], app[BATCHER] = servable, batcher
    grpc_server = None
    if settings.grpc_port:
        grpc_server = await start_grpc(servable, batcher, app[LIMITS], settings.host,
                                       settings.grpc_port, settings.max_body_bytes)
    log.info("model server ready", extra={"model": servable.name, "version": servable.version,
                                          "rest_port": settings.rest_port,
                                          "grpc_port": settings.grpc_port})
    yield
    if grpc_server is not None:
        await grpc_server.stop(grace=5)
    await batcher.close()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[error_middleware, read_body_within(settings.body_timeout)],
                          client_max_size=settings.max_body_bytes)
    app[LIMITS] = Limits(settings.max_photos, settings.max_pixels)
    app.cleanup_ctx.append(partial(_model_context, settings))
    setup_routes(app)
    return app
