"""The URL table: TF Serving's REST paths, matched as TF Serving matches them.

TF Serving matches ``/v1/...`` paths with case-insensitive RE2 expressions rather than a
router, so ``/V1/Models/x:PREDICT`` works, and anything else under ``/v1/`` (an unknown path, a
wrong method) is a 400 "Malformed request", not a 404 or 405. Prometheus metrics live at TF
Serving's ``/monitoring/prometheus/metrics``.
"""
from __future__ import annotations

from aiohttp import web

from model.serving import views

METRICS_PATH = "/monitoring/prometheus/metrics"


def setup_routes(app: web.Application) -> None:
    app.router.add_get(METRICS_PATH, views.prometheus_metrics)
    app.router.add_route("*", "/{path:.*}", views.dispatch)
