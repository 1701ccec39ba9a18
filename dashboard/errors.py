"""Every error the dashboard answers itself, as JSON ``{"error": ...}`` (like the back-ends
and TF Serving), never an HTML page or exception text: written once for the request guard,
the console and the event's logo."""
from __future__ import annotations

import flask


def json_error(status: int, message: str, **extra: str) -> flask.Response:
    response = flask.jsonify(error=message, **extra)
    response.status_code = status
    return response
