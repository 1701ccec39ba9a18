"""Overload shedding (dashboard/overload.py) in real gunicorn with the dashboard's worker class:
requests that waited too long for a thread get a JSON 503 with Retry-After at once, the
others are served, /health and /metrics always are, and no connection is reset."""
from __future__ import annotations

import concurrent.futures
import http.client
import json
import sys

from devtools.servers import free_port, service


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_a_request_that_queued_too_long_gets_a_503_not_a_reset():
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "--worker-class",
            "dashboard.overload.QueueTimedWorker", "--threads", "1", "--bind",
            f"127.0.0.1:{port}", "tests.slow_wsgi:app"]
    with service(argv, {"SLOW_S": "0.5", "MAX_QUEUE_S": "0.3"}, "/health", port):
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: get(port, f"/click/{i}"), range(8)))
        served = [a for a in answers if a[0] == 200]
        shed = [a for a in answers if a[0] == 503]
        assert len(served) + len(shed) == 8  # every request answered: none reset or lost
        assert served and shed, [a[0] for a in answers]
        for _status, headers, body in shed:
            assert int(headers["Retry-After"]) > 0
            assert set(json.loads(body)) == {"error"}
        # /health and /metrics are never shed, even behind a queue (a busy stand is when its
        # owner looks)
        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            clicks = [pool.submit(get, port, f"/click/{i}") for i in range(4)]
            assert get(port, "/health")[0] == 200
            assert get(port, "/metrics")[0] == 200
            assert all(c.result()[0] in (200, 503) for c in clicks)
