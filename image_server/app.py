"""The local image server: a tiny aiohttp app over a prepared photo pool."""
from __future__ import annotations

import logging

from aiohttp import web

from common.web import error_middleware, read_body_within
from image_server.pool import load_pool
from image_server.routes import setup_routes
from image_server.settings import Settings
from image_server.views import POOL, SETTINGS

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> web.Application:
    """Load and check the pool first: raises ``PoolError`` (with the fix) if it is not ready."""
    pool = load_pool(settings.pool_dir)
    log.info("photo pool loaded", extra={
        "pool_dir": str(settings.pool_dir), "photos": len(pool.files),
        "model_version": pool.model_version,
    })
    app = web.Application(middlewares=[error_middleware, read_body_within(settings.body_timeout)])
    app[SETTINGS] = settings
    app[POOL] = pool
    setup_routes(app)
    return app
