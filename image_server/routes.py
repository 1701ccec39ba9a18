"""The URL table, in one place (nginx.conf serves the same URLs in Docker)."""
from __future__ import annotations

from aiohttp import web

from image_server import views
from image_server.pool import MANIFEST, MODEL_CARD, PHOTO_URL


def setup_routes(app: web.Application) -> None:
    app.router.add_get(f"/{MANIFEST}", views.manifest, name="manifest")
    app.router.add_get(f"/{MODEL_CARD}", views.model_card, name="model_card")
    app.router.add_get(PHOTO_URL, views.photo, name="photo")
    app.router.add_get("/health", views.health, name="health")
