"""App factory. ``gunicorn 'dashboard.app:create_server()'`` serves it (one worker, threads)."""
from __future__ import annotations

import atexit
import logging
import time
from pathlib import Path

import dash
import flask

from common.logs import setup_logging
from dashboard import callbacks, layout
from dashboard.runtime import Runtime
from dashboard.settings import Settings

log = logging.getLogger("dashboard.access")


def create_app(settings: Settings) -> dash.Dash:
    runtime = Runtime(settings)
    atexit.register(runtime.close)
    app = dash.Dash(
        __name__,
        title=layout.TITLE,
        update_title=None,
        assets_folder=str(Path(__file__).parent / "assets"),  # Bootstrap CSS: no CDN at the fair
        serve_locally=True,
        suppress_callback_exceptions=True,  # page components come and go with the URL
    )
    app.layout = layout.shell
    callbacks.register(app, runtime)

    @app.server.get("/health")
    def health() -> flask.Response:
        return flask.jsonify(status="ok", ready_games=runtime.ready_games())

    @app.server.before_request
    def clock_in() -> None:
        flask.g.started = time.perf_counter()

    @app.server.after_request
    def log_request(response: flask.Response) -> flask.Response:
        """One JSON line per request with its latency, like the aiohttp services."""
        log.info("request", extra={
            "method": flask.request.method, "path": flask.request.path,
            "status": response.status_code, "bytes_out": response.content_length,
            "latency_ms": round((time.perf_counter() - flask.g.started) * 1000, 2),
        })
        return response

    return app


def create_server() -> flask.Flask:
    settings = Settings()
    setup_logging("dashboard", settings.log_level)
    return create_app(settings).server
