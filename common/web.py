"""What every aiohttp service shares: JSON errors and a clean start/stop."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from common.logs import AccessLogger

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_error(status: int, message: str) -> web.Response:
    """Errors cross service boundaries as ``{"error": "..."}`` (TF Serving does the same)."""
    return web.json_response({"error": message}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every HTTP error, and any crash, into a JSON body; the server keeps serving."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        return json_error(exc.status, message)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal server error")


def run(app: web.Application, host: str, port: int) -> None:
    """Serve until SIGINT/SIGTERM, then finish in-flight requests and run cleanup hooks."""
    web.run_app(app, host=host, port=port, access_log_class=AccessLogger,
                shutdown_timeout=10, print=None)
