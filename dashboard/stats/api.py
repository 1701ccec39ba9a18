"""``GET /api/stats``: the Humans vs AI totals as JSON, for the wall's neighbours and the
stand's own scripts."""
from __future__ import annotations

import logging
import re
from datetime import date

from flask import Blueprint, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from dashboard import metrics
from dashboard.stats.queries import Stats

log = logging.getLogger("dashboard.stats")


DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def api(stats: Stats) -> Blueprint:
    """``GET /api/stats[?day=YYYY-MM-DD]``: the Humans vs AI totals as JSON, from the database,
    with how visitors judged the AI on their own photos (``upload_verdicts``) and the crowd
    shows' totals (``crowd_vs_ai``)."""
    blueprint = Blueprint("stats_api", __name__)

    @blueprint.get("/api/stats")
    def totals():  # noqa: ANN202 (a Flask view)
        raw = request.args.get("day")
        day = None
        if raw is not None:
            try:
                if not DAY.fullmatch(raw):
                    raise ValueError(raw)
                day = date.fromisoformat(raw)
            except ValueError:
                return jsonify(error="day must be a date as YYYY-MM-DD"), 400
        try:
            body = {**stats.totals(day), "upload_verdicts": stats.upload_verdicts(day),
                    "crowd_vs_ai": stats.show_totals(day)}
        except SQLAlchemyError:
            log.exception("statistics unavailable")
            metrics.database_errors.inc()
            return jsonify(error="statistics unavailable"), 503, {"Retry-After": "5"}
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response

    return blueprint
