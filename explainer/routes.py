"""The explainer's URL table, in one place."""
from __future__ import annotations

from aiohttp import web

from explainer import views


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/health", views.health)
    app.router.add_post("/explain", views.explain_view)
