"""A WSGI app that takes ``SLOW_S`` per request, behind ``dashboard.overload.shed``: what
tests/test_overload.py runs under gunicorn with the dashboard's worker class."""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from dashboard.overload import shed

SLOW_S = float(os.environ.get("SLOW_S", "0.5"))


def slow(environ: dict, start_response: Callable) -> Iterable[bytes]:
    time.sleep(SLOW_S)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["PATH_INFO"].encode()]


app = shed(slow, float(os.environ.get("MAX_QUEUE_S", "0.3")))
