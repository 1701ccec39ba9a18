"""The URL table: TF Serving's REST paths (``/v1/models/<name>[/versions/<v>][:predict]``)."""
from __future__ import annotations

from aiohttp import web

from model.serving import views

_MODEL = "/v1/models/{name:[^/:]+}"
_VERSION = _MODEL + "/versions/{version:[0-9]+}"


def setup_routes(app: web.Application) -> None:
    for base in (_MODEL, _VERSION):
        app.router.add_get(base, views.status)
        app.router.add_get(base + "/metadata", views.metadata)
        app.router.add_post(base + ":predict", views.predict)
