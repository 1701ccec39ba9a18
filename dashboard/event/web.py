"""``GET /event/logo/<digest>.png``: the exhibitor's logo for the visitors' pages. Its URL
names its content (a new logo is a new URL), so browsers keep it; it is only ever the PNG the
console re-encoded, sent as an image that no browser may take for anything else."""
from __future__ import annotations

import re

import flask
from sqlalchemy.exc import SQLAlchemyError

from dashboard.errors import json_error
from dashboard.event.config import EventConfig

DIGEST = re.compile(r"[0-9a-f]{64}")
YEAR_S = 365 * 24 * 3600


def blueprint(event: EventConfig) -> flask.Blueprint:
    routes = flask.Blueprint("event", __name__)

    @routes.get("/event/logo/<name>.png")
    def logo(name: str) -> flask.Response:
        if not DIGEST.fullmatch(name):
            return json_error(404, "no such logo")
        try:
            png = event.logo(name)
        except SQLAlchemyError:
            return json_error(503, "the logo cannot be read just now")
        if png is None:
            return json_error(404, "no such logo")
        response = flask.Response(png, mimetype="image/png")
        response.headers["Cache-Control"] = f"public, max-age={YEAR_S}, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    return routes

