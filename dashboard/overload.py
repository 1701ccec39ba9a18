"""Overload: answer 503 with ``Retry-After`` instead of letting the queue grow without end.

gunicorn's gthread worker queues every request for one of its threads. Past the machine's
capacity (300 players on 2 cores) that queue grows, every click waits longer, and the stand's
watchdog, whose ``/health`` waits in the same queue, takes the busy dashboard for a hung one and
restarts it, closing every connection. So the worker notes when each request was queued
(``QueueTimedWorker``), and a request that waited longer than ``DASHBOARD_MAX_QUEUE_SECONDS``
for a thread is answered at once with a JSON 503 and ``Retry-After`` (``shed``): it costs a
millisecond, the queue drains, the requests behind it are served in time, and kiosk.js shows
"One moment…" and carries on. ``/health``, ``/metrics`` and static files are always served
(a busy stand is when its owner looks).
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable

from gunicorn.workers.gthread import ThreadWorker

_queued = threading.local()  # seconds the request this thread serves waited for it
ALWAYS = ("/health", "/metrics", "/assets/", "/_dash-component-suites/")
RETRY_AFTER_S = 2
BODY = json.dumps({"error": "the game is very busy: try again in a moment"}).encode()


class QueueTimedWorker(ThreadWorker):
    """gthread, noting how long each request waited in the queue for a thread."""

    def enqueue_req(self, conn) -> None:  # noqa: ANN001 - gunicorn's connection
        conn.queued_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn):  # noqa: ANN001, ANN201 - gunicorn's signature
        _queued.seconds = time.monotonic() - getattr(conn, "queued_at", time.monotonic())
        return super().handle(conn)


def queued_seconds() -> float:
    """How long the request being served waited for a thread (0 outside gunicorn)."""
    return getattr(_queued, "seconds", 0.0)


def shed(app: Callable, max_queue_seconds: float,
         on_shed: Callable[[], None] | None = None) -> Callable:
    """WSGI middleware: a 503 for a request that waited longer than ``max_queue_seconds``.
    ``on_shed`` counts it (the app behind never sees it)."""
    def middleware(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if (queued_seconds() > max_queue_seconds
                and not environ.get("PATH_INFO", "").startswith(ALWAYS)):
            if on_shed is not None:
                on_shed()
            start_response("503 Service Unavailable", [
                ("Content-Type", "application/json"), ("Content-Length", str(len(BODY))),
                ("Retry-After", str(RETRY_AFTER_S))])
            return [BODY]
        return app(environ, start_response)
    return middleware
