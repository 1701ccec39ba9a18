"""``create_app(settings)``: the explainer's aiohttp application."""
from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from common.web import error_middleware, read_body_within
from explainer.routes import setup_routes
from explainer.settings import Settings
from explainer.views import MODEL, SETTINGS
from model_api.client import ModelClient


async def _model_client(app: web.Application) -> AsyncIterator[None]:
    """One connection pool to the model service per app, closed on shutdown."""
    settings = app[SETTINGS]
    async with aiohttp.ClientSession() as session:
        app[MODEL] = ModelClient(session, settings.model_url, settings.model_name,
                                 settings.model_timeout)
        yield


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[error_middleware, read_body_within(settings.body_timeout)],
                          client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_model_client)
    setup_routes(app)
    return app
