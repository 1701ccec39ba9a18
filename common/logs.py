"""Structured logs: one JSON object per line, one line per request with its latency."""
from __future__ import annotations

import logging
import sys

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from pythonjsonlogger.json import JsonFormatter


def setup_logging(service: str, level: str = "INFO") -> None:
    """Send every logger's records to stderr as JSON tagged with the service name."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class AccessLogger(AbstractAccessLogger):
    """aiohttp access log as structured fields instead of an Apache-style string."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "latency_ms": round(time * 1000, 2),
                "bytes_out": response.body_length,
                "remote": request.remote,
            },
        )
