"""App factory: load the model's versions, keep polling for new ones, serve REST (and gRPC),
stop cleanly."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import suppress
from functools import partial

from aiohttp import web

from common.web import error_middleware, read_body_within
from model.serving.batching import Batcher
from model.serving.grpc_service import start_grpc
from model.serving.limits import Limits
from model.serving.routes import setup_routes
from model.serving.settings import Settings
from model.serving.versions import ModelVersions
from model.serving.views import BATCHER, LIMITS, TIMEOUT, VERSIONS

log = logging.getLogger(__name__)


async def _model_context(settings: Settings, app: web.Application) -> AsyncIterator[None]:
    batcher = Batcher(settings.max_batch_size, settings.batch_timeout_ms)
    versions = ModelVersions(settings.model_name, settings.model_base_path,
                             settings.version_labels,
                             on_unload=lambda old: batcher.retire(old.signatures.values()))
    await asyncio.to_thread(versions.poll)
    app[VERSIONS], app[BATCHER] = versions, batcher
    watcher = asyncio.create_task(versions.watch(settings.file_system_poll_wait_seconds))
    grpc_server = None
    if settings.grpc_port:
        grpc_server = await start_grpc(versions, batcher, app[LIMITS], settings.host,
                                       settings.grpc_port, settings.max_body_bytes)
    log.info("model server ready", extra={"model": settings.model_name,
                                          "rest_port": settings.rest_port,
                                          "grpc_port": settings.grpc_port})
    yield
    watcher.cancel()
    with suppress(asyncio.CancelledError):
        await watcher
    if grpc_server is not None:
        # Not while the model runs a call whose REST request is gone already: gRPC's teardown
        # beside a running TensorFlow call crashed the process (SIGSEGV) in one busy stop in two.
        await batcher.settle()
        await grpc_server.stop(grace=5)
    await batcher.close()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[error_middleware, read_body_within(settings.body_timeout)],
                          client_max_size=settings.max_body_bytes)
    app[LIMITS] = Limits(settings.max_photos, settings.max_pixels)
    app[TIMEOUT] = settings.rest_api_timeout_in_ms / 1000
    app.cleanup_ctx.append(partial(_model_context, settings))
    setup_routes(app)
    return app
