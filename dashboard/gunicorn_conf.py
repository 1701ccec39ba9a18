"""gunicorn settings for the dashboard: ``gunicorn -c python:dashboard.gunicorn_conf``.

The bind address comes from the command line (``--bind``), the worker count from
``DASHBOARD_WORKERS`` (dashboard/settings.py); everything else is here, in one place, for
``make play``, the tests and the Docker image alike.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import struct
from pathlib import Path

from gunicorn import util

from common.process import die_with_parent
from dashboard.settings import Settings

worker_class = "dashboard.overload.QueueTimedWorker"  # gthread, with overload shedding
workers = Settings().workers  # DASHBOARD_WORKERS
threads = 8
graceful_timeout = 10
# A player thinks 1-3 s between clicks; gunicorn's default 2 s keep-alive closed connections
# just as their next request came, and the client saw "connection reset by peer". An idle
# connection costs a gthread worker no thread (it waits in the poller), so keep it longer than
# any think time and longer than a proxy's own upstream keep-alive (nginx: 60 s), so that the
# side that closes is always the client's.
keepalive = Settings().keepalive  # DASHBOARD_KEEPALIVE
worker_connections = 1000  # per worker; more wait in the listen backlog, never reset
backlog = 2048
timeout = 20  # a worker that stops answering its heartbeat (hung, SIGSTOPped) is replaced
control_socket_disable = True  # gunicorn 25+: no control socket to leave behind
# A client may take this long between two packets of its request (or of reading our answer).
SOCKET_TIMEOUT_S = float(os.environ.get("DASHBOARD_SOCKET_TIMEOUT", "15"))


def when_ready(server) -> None:
    """Bound every blocking read and write on a connection: a client that announces more bytes
    than it sends, or sends its headers a byte at a time, frees its thread within
    SOCKET_TIMEOUT_S instead of holding it forever. Accepted sockets inherit the listener's
    SO_RCVTIMEO/SO_SNDTIMEO on Linux, so this covers the headers gunicorn parses as well as the
    bodies the app reads."""
    seconds = int(SOCKET_TIMEOUT_S)
    timeval = struct.pack("ll", seconds, int((SOCKET_TIMEOUT_S - seconds) * 1e6))
    for listener in server.LISTENERS:
        for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
            listener.sock.setsockopt(socket.SOL_SOCKET, option, timeval)


# --- /metrics over every worker (prometheus-client's multiprocess mode) ---------------------
# Each worker writes its values to files in one folder, and /metrics sums them. The folder is
# named in the master's environment before any worker starts (workers import the app, and so
# prometheus_client, after the fork: hence no preload_app), one per start of the master, emptied
# then, so that a restart starts from zero as a single process would and a second dashboard on
# the machine never mixes its numbers in. Hooks, not module code: tests import this module.
preload_app = False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def metrics_dir(base: Path, pid: int) -> Path:
    """This start's folder, emptied; those of masters no longer running are removed."""
    base.mkdir(parents=True, exist_ok=True)
    for old in base.iterdir():
        if old.name.isdigit() and int(old.name) != pid and not _alive(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    folder = base / str(pid)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


def on_starting(server) -> None:
    """The metrics folder, before the first worker is forked."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir(Settings().metrics_dir, os.getpid()))
    server.log.info("metrics in %s", os.environ["PROMETHEUS_MULTIPROC_DIR"])


def child_exit(server, worker) -> None:  # noqa: ARG001 - gunicorn's hook signature
    """A worker that is gone: its live gauges drop out (its counters still count)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:  # noqa: ARG001 - gunicorn's hook signature
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def post_fork(server, worker) -> None:  # noqa: ARG001 - gunicorn's hook signature
    """A worker dies with its master, even when the master is SIGKILLed."""
    die_with_parent(parent=server.pid)


def _write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:  # noqa: ARG001
    """gunicorn's own answers to unparsable requests, as JSON like every other error, and
    without echoing the request back (its HTML page quotes the request line)."""
    body = json.dumps({"error": reason}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin1") + body)


util.write_error = _write_json_error
